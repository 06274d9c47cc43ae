"""The comment aggregate."""

from tortoise import fields

from models.base import TimestampedModel
from models.issue import Issue
from models.user import User


class Comment(TimestampedModel):
    """A comment on an issue; `edited_at` is set when its body changes."""

    issue: fields.ForeignKeyRelation[Issue] = fields.ForeignKeyField(
        "models.Issue", related_name="comments", on_delete=fields.CASCADE
    )
    author: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="comments", on_delete=fields.RESTRICT
    )
    body = fields.TextField()
    edited_at = fields.DatetimeField(null=True)
    version = fields.IntField(default=1)

    class Meta:
        table = "comments"
        indexes = (("issue", "id"),)
