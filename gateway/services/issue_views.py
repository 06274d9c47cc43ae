"""The issue view: the plain data both APIs render, built from repository rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from gateway.core.ids import to_global_id
from models import IssuePriority


def node_id(issue_id: int) -> str:
    return to_global_id("Issue", issue_id)


@dataclass(frozen=True, slots=True)
class UserBrief:
    pk: int
    node_id: str
    username: str
    display_name: str


@dataclass(frozen=True, slots=True)
class IssueView:
    """An issue's own values, its author and assignee: what a write hands back and GraphQL's
    `Issue` starts from (its labels and comment count load through DataLoaders, and only when
    selected; REST reads its answers through the read model)."""

    pk: int
    node_id: str
    number: int
    title: str
    body: str
    state: str
    priority: str
    author: UserBrief
    assignee: UserBrief | None
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


def view(row: dict[str, Any]) -> IssueView:
    """An `ISSUE_FIELDS` row as a view."""
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
        due_date=row["due_date"],
        closed_at=row["closed_at"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        version=row["version"],
        project_id=row["project_id"],
        project_key=row["project__key"],
        workspace_id=row["project__workspace_id"],
    )
