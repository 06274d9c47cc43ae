"""The issue aggregate: an issue and its label links."""

from enum import IntEnum, StrEnum

from tortoise import fields

from models.base import TimestampedModel
from models.label import Label
from models.project import Project
from models.user import User


class IssueState(StrEnum):
    open = "open"
    closed = "closed"


class IssuePriority(IntEnum):
    """Stored as a small integer so that sorting by priority is an index scan."""

    none = 0
    low = 1
    medium = 2
    high = 3
    urgent = 4


class Issue(TimestampedModel):
    """An issue; `number` is unique per project and never reused, `version` counts changes."""

    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name="issues", on_delete=fields.CASCADE
    )
    number = fields.IntField()
    title = fields.CharField(max_length=256)
    body = fields.TextField(default="")
    state = fields.CharEnumField(IssueState, max_length=8, default=IssueState.open)
    priority = fields.IntEnumField(IssuePriority, default=IssuePriority.none)
    author: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="authored_issues", on_delete=fields.RESTRICT
    )
    assignee: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="assigned_issues", null=True, on_delete=fields.SET_NULL
    )
    due_date = fields.DateField(null=True)
    closed_at = fields.DatetimeField(null=True)
    version = fields.IntField(default=1)

    class Meta:
        table = "issues"
        unique_together = (("project", "number"),)
        indexes = (
            ("project", "state", "number"),
            ("project", "state", "created_at", "id"),
            ("project", "state", "updated_at", "id"),
            ("project", "state", "priority", "id"),
            ("assignee", "project"),
        )


class IssueLabel(TimestampedModel):
    """The link between an issue and one of its project's labels."""

    issue: fields.ForeignKeyRelation[Issue] = fields.ForeignKeyField(
        "models.Issue", related_name="label_links", on_delete=fields.CASCADE
    )
    label: fields.ForeignKeyRelation[Label] = fields.ForeignKeyField(
        "models.Label", related_name="issue_links", on_delete=fields.CASCADE
    )

    class Meta:
        table = "issue_labels"
        unique_together = (("issue", "label"),)
        indexes = (("label", "issue"),)
