"""The project aggregate."""

from tortoise import fields

from models.base import TimestampedModel
from models.workspace import Workspace


class Project(TimestampedModel):
    """A project inside a workspace. `issue_counter` is the last issue number handed out; it is
    only ever incremented, inside the transaction that creates the issue."""

    workspace: fields.ForeignKeyRelation[Workspace] = fields.ForeignKeyField(
        "models.Workspace", related_name="projects", on_delete=fields.CASCADE
    )
    key = fields.CharField(max_length=10)
    name = fields.CharField(max_length=100)
    description = fields.TextField(default="")
    is_archived = fields.BooleanField(default=False)
    issue_counter = fields.IntField(default=0)
    version = fields.IntField(default=1)

    class Meta:
        table = "projects"
        unique_together = (("workspace", "key"),)
