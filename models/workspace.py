"""The tenant aggregate: a workspace and who belongs to it."""

from enum import StrEnum

from tortoise import fields

from models.base import TimestampedModel
from models.user import User


class Role(StrEnum):
    """Workspace roles, weakest first; `rank` orders them."""

    viewer = "viewer"
    member = "member"
    admin = "admin"
    owner = "owner"

    @property
    def rank(self) -> int:
        return list(Role).index(self)


class Workspace(TimestampedModel):
    """The tenant: every project lives in exactly one workspace."""

    slug = fields.CharField(max_length=39, unique=True)
    name = fields.CharField(max_length=100)
    version = fields.IntField(default=1)

    class Meta:
        table = "workspaces"


class Membership(TimestampedModel):
    """One user's role in one workspace."""

    workspace: fields.ForeignKeyRelation[Workspace] = fields.ForeignKeyField(
        "models.Workspace", related_name="memberships", on_delete=fields.CASCADE
    )
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="memberships", on_delete=fields.CASCADE
    )
    role = fields.CharEnumField(Role, max_length=16)
    version = fields.IntField(default=1)

    class Meta:
        table = "memberships"
        unique_together = (("workspace", "user"),)
        indexes = (("user", "workspace"),)
