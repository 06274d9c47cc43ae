"""Queries on events: the append-only record of committed changes.

Rows leave this module as `.values()` dicts (with the actor's username joined in), never ORM
instances, so a page of events is one statement however many actors it names.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

from tortoise.backends.base.client import TransactionalDBClient

from gateway.core.errors import ValidationFailed
from gateway.core.paging import Page, PageArgs, keyset_page, order
from gateway.repositories.nested import count_per_parent, pages_per_parent
from models import Event

JSONValue: TypeAlias = "str | int | float | bool | list[JSONValue] | dict[str, JSONValue] | None"
JSONObject: TypeAlias = dict[str, JSONValue]

# Newest first: ids grow with time, so `id desc` is commit order without a timestamp tie-break.
NEWEST_FIRST = order("-id")
FIELDS = (
    "id",
    "workspace_id",
    "type",
    "actor_id",
    "subject_id",
    "project_id",
    "issue_id",
    "data",
    "created_at",
)


async def insert(
    db: TransactionalDBClient,
    *,
    workspace_id: int,
    actor_id: int | None,
    type: str,
    subject_id: str,
    project_id: int | None,
    issue_id: int | None,
    data: JSONObject,
) -> int:
    """Append one event on the caller's transaction connection; returns its id."""
    event = await Event.create(
        using_db=db,
        workspace_id=workspace_id,
        actor_id=actor_id,
        type=type,
        subject_id=subject_id,
        project_id=project_id,
        issue_id=issue_id,
        data=data,
    )
    return int(event.id)


@dataclass(frozen=True, slots=True)
class EventFilter:
    """Which of a workspace's events a feed shows: of one `type`, of one project."""

    type: str | None = None
    project: str | None = None  # the project's canonical key

    def prefix(self) -> str:
        """What the feed's cursors are bound to, before the workspace's id: a cursor of one
        filtered feed is refused by another (`gateway.core.paging.signature_text`)."""
        given = (("type", self.type), ("project", self.project))
        return "".join(f"{name}={value}|" for name, value in given if value is not None)


async def page_of_workspace(
    workspace_id: int, args: PageArgs, where: EventFilter, project_id: int | None = None
) -> Page:
    """A page of the workspace's events, newest first, those `where` keeps (`project_id`: the
    id of `where.project`); rows with `FIELDS`. One statement."""
    queryset = Event.filter(workspace_id=workspace_id)
    if where.type is not None:
        queryset = queryset.filter(type=where.type)
    if project_id is not None:
        queryset = queryset.filter(project_id=project_id)
    scope = f"{where.prefix()}{workspace_id}"
    return await keyset_page(queryset, NEWEST_FIRST, **args, fields=FIELDS, scope=scope)


async def pages_of_workspaces(
    workspace_ids: Sequence[int], args: PageArgs
) -> dict[int, Page | ValidationFailed]:
    """The page `page_of_workspace` gives (unfiltered) for each workspace, all in one statement
    (nested connections); a workspace whose cursor is refused gets the error instead."""
    return await pages_per_parent(
        Event.all(), "workspace_id", workspace_ids, NEWEST_FIRST, **args, fields=FIELDS, scope=str
    )


async def counts_of_workspaces(workspace_ids: Sequence[int]) -> dict[int, int]:
    """How many events each of `workspace_ids` has, in one statement (nested `totalCount`)."""
    return await count_per_parent(Event.all(), "workspace_id", workspace_ids)


async def by_ids(ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """The events with these ids, by id, rows with `FIELDS`, in one statement."""
    if not ids:
        return {}
    rows = await Event.filter(id__in=list(set(ids))).values(*FIELDS)
    return {int(row["id"]): row for row in rows}


async def committed_after(
    workspace_id: int, after_id: int, *, project_id: int | None, limit: int
) -> list[dict[str, Any]]:
    """Up to `limit` of the workspace's events (of one project when `project_id` is given)
    with an id above `after_id`, oldest first: a subscription's replay. One statement, on the
    (workspace, id) or (project_id, id) index."""
    queryset = Event.filter(workspace_id=workspace_id, id__gt=after_id)
    if project_id is not None:
        queryset = queryset.filter(project_id=project_id)
    rows: list[dict[str, Any]] = await queryset.order_by("id").limit(limit).values(*FIELDS)
    return rows
