"""The label aggregate."""

from tortoise import fields

from models.base import TimestampedModel
from models.project import Project


class Label(TimestampedModel):
    """A coloured tag on issues. `name_key` is the lower-cased name, unique per project, so the
    database enforces case-insensitive uniqueness."""

    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name="labels", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=50)
    name_key = fields.CharField(max_length=50)
    color = fields.CharField(max_length=7)
    description = fields.CharField(max_length=200, default="")
    version = fields.IntField(default=1)

    class Meta:
        table = "labels"
        unique_together = (("project", "name_key"),)
