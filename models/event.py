"""The event aggregate: the append-only record of every change."""

from typing import Any

from tortoise import fields
from tortoise.models import Model

from models.user import User
from models.workspace import Workspace


class Event(Model):
    """One committed change. Written in the same transaction as the change; `project_id` and
    `issue_id` are plain references (not foreign keys) so the record survives the deletion of
    what it describes."""

    id = fields.BigIntField(primary_key=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    workspace: fields.ForeignKeyRelation[Workspace] = fields.ForeignKeyField(
        "models.Workspace", related_name="events", on_delete=fields.CASCADE
    )
    actor: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="events", null=True, on_delete=fields.SET_NULL
    )
    type = fields.CharField(max_length=40)
    subject_id = fields.CharField(max_length=100)
    project_id = fields.BigIntField(null=True)
    issue_id = fields.BigIntField(null=True)
    data: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)

    class Meta:
        table = "events"
        indexes = (("workspace", "id"), ("project_id", "id"), ("issue_id", "id"))
