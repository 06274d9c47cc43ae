"""Issue input rules and the issue view: what both APIs accept and hand out.

`IssueCreate` / `IssuePatch` validate writes (REST bodies directly, GraphQL inputs through
`parse`); `IssueView` is the plain data both APIs render, built from repository rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, StringConstraints, field_validator

from gateway.core.errors import ValidationFailed
from gateway.core.ids import to_global_id
from gateway.core.validation import InputModel, not_nullable
from models import IssuePriority

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=256)]
Body = Annotated[str, StringConstraints(max_length=65_536)]
Priority = Literal["none", "low", "medium", "high", "urgent"]
State = Literal["open", "closed"]
LabelName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
MAX_LABELS = 20
"""The most labels an issue carries, and the most one issue list filter names."""
LabelNames = Annotated[list[LabelName], Field(max_length=MAX_LABELS)]


def check_label_count(count: int, field: str) -> None:
    """VALIDATION_FAILED on `field` when it names more than `MAX_LABELS` labels."""
    if count > MAX_LABELS:
        raise ValidationFailed.on(field, f"at most {MAX_LABELS} labels")


def _iso_date(value: object) -> object:
    # JSON has no date type: accept only an ISO `YYYY-MM-DD` string (no numbers coerced).
    if value is None or isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise ValueError("must be a date string YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ValueError("must be a date string YYYY-MM-DD") from exc


DueDate = Annotated[date | None, BeforeValidator(_iso_date)]


class IssueCreate(InputModel):
    """A new issue. `assignee` is a username; `labels` are label names of the project."""

    title: Title
    body: Body = ""
    priority: Priority = "none"
    assignee: str | None = None
    labels: LabelNames = []
    due_date: DueDate = None


class IssuePatch(InputModel):
    """A change to an issue: only the fields given change. `assignee` and `due_date` may be
    null (to clear them); the others may be omitted but not null."""

    title: Title | None = Field(default=None, json_schema_extra=not_nullable)
    body: Body | None = Field(default=None, json_schema_extra=not_nullable)
    priority: Priority | None = Field(default=None, json_schema_extra=not_nullable)
    assignee: str | None = None
    labels: LabelNames | None = Field(default=None, json_schema_extra=not_nullable)
    due_date: DueDate = None
    state: State | None = Field(default=None, json_schema_extra=not_nullable)

    @field_validator("title", "body", "priority", "labels", "state", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("may be omitted but not null")
        return value


def node_id(issue_id: int) -> str:
    return to_global_id("Issue", issue_id)


@dataclass(frozen=True, slots=True)
class UserBrief:
    pk: int
    node_id: str
    username: str
    display_name: str


@dataclass(frozen=True, slots=True)
class LabelBrief:
    pk: int
    node_id: str
    name: str
    color: str


@dataclass(frozen=True, slots=True)
class IssueView:
    """An issue with what its representation needs: author, assignee, labels, comment count."""

    pk: int
    node_id: str
    number: int
    title: str
    body: str
    state: str
    priority: str
    author: UserBrief
    assignee: UserBrief | None
    labels: list[LabelBrief]
    comment_count: int
    due_date: date | None
    closed_at: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int
    project_id: int
    project_key: str
    workspace_id: int


def _user(pk: int | None, username: str | None, display_name: str | None) -> UserBrief | None:
    if pk is None or username is None:
        return None
    return UserBrief(pk, to_global_id("User", pk), username, display_name or "")


def view(row: dict[str, Any], labels: list[dict[str, Any]], comment_count: int) -> IssueView:
    """An `ISSUE_FIELDS` row plus its batch-loaded labels and comment count."""
    author = _user(row["author_id"], row["author__username"], row["author__display_name"])
    assert author is not None  # author is a non-null foreign key
    return IssueView(
        pk=row["id"],
        node_id=node_id(row["id"]),
        number=row["number"],
        title=row["title"],
        body=row["body"],
        state=str(row["state"].value if hasattr(row["state"], "value") else row["state"]),
        priority=IssuePriority(row["priority"]).name,
        author=author,
        assignee=_user(
            row["assignee_id"], row["assignee__username"], row["assignee__display_name"]
        ),
        labels=[
            LabelBrief(x["id"], to_global_id("Label", x["id"]), x["name"], x["color"])
            for x in labels
        ],
        comment_count=comment_count,
        due_date=row["due_date"],
        closed_at=row["closed_at"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        version=row["version"],
        project_id=row["project_id"],
        project_key=row["project__key"],
        workspace_id=row["project__workspace_id"],
    )
