"""What an issue write accepts, from both APIs.

`IssueCreate` / `IssuePatch` validate writes (REST bodies directly, GraphQL inputs through
`validated`); `Refs` names the assignee and labels the way the write's API does (REST by
username and label names, GraphQL by primary key), and the service resolves either straight to
rows. The issue view both APIs render is in `issue_views`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, StringConstraints

from gateway.core.errors import ValidationFailed
from gateway.core.validation import InputModel, Omittable

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

    title: Omittable[Title] = None
    body: Omittable[Body] = None
    priority: Omittable[Priority] = None
    assignee: str | None = None
    labels: Omittable[LabelNames] = None
    due_date: DueDate = None
    state: Omittable[State] = None


@dataclass(frozen=True, slots=True)
class Refs:
    """Whom an issue write assigns and which labels it sets, as its API names them: REST by
    username and label names (any case), GraphQL by primary key. `has_assignee` False leaves
    the assignee alone (with it, None unassigns); `labels` None leaves the labels alone."""

    assignee: str | int | None = None
    has_assignee: bool = False
    labels: Sequence[str] | Sequence[int] | None = None


def named_in(data: IssueCreate | IssuePatch) -> Refs:
    """The assignee and labels a REST body names."""
    return Refs(data.assignee, "assignee" in data.model_fields_set, data.labels)
