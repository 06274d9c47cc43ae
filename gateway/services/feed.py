"""The activity feed: a workspace's events, newest first, for anyone who can read it.

Rows are read with the actor's username joined in (`gateway.repositories.events`), so a page is
one statement however many actors it names; `row_view` turns them into `EventView`s, plain data
for both APIs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Unpack

from gateway.core.errors import NotFound, ValidationFailed
from gateway.core.ids import to_global_id
from gateway.core.paging import Page, PageArgs
from gateway.repositories import events as event_repo
from gateway.repositories import projects as project_repo
from gateway.repositories.events import EventFilter, JSONObject
from gateway.security.principal import Principal
from gateway.services import workspaces
from gateway.services.access import Action, WorkspaceRef, authorize
from gateway.services.projects import canonical_key
from gateway.services.recording import EventType

__all__ = ["EventView", "list_events", "node_id", "row_view", "visible_by_pk"]


def node_id(event_id: int) -> str:
    return to_global_id("Event", event_id)


@dataclass(frozen=True, slots=True)
class EventView:
    """One event as the feed shows it; `project_id`/`issue_id` are global IDs, `project_pk`/
    `issue_pk` the keys they name (the objects may be gone: events outlive them)."""

    pk: int
    node_id: str
    workspace_pk: int
    type: str
    actor_id: int | None
    subject_id: str
    project_id: str | None
    issue_id: str | None
    project_pk: int | None
    issue_pk: int | None
    data: JSONObject
    created_at: datetime


def row_view(row: dict[str, Any]) -> EventView:
    """A row of `list_events` as an `EventView`."""
    actor_id: int | None = row["actor_id"]
    project_id: int | None = row["project_id"]
    issue_id: int | None = row["issue_id"]
    return EventView(
        pk=int(row["id"]),
        node_id=node_id(int(row["id"])),
        workspace_pk=int(row["workspace_id"]),
        type=row["type"],
        actor_id=actor_id,
        subject_id=row["subject_id"],
        project_id=None if project_id is None else to_global_id("Project", project_id),
        issue_id=None if issue_id is None else to_global_id("Issue", issue_id),
        project_pk=project_id,
        issue_pk=issue_id,
        data=dict(row["data"] or {}),
        created_at=row["created_at"],
    )


def _event_type(value: str) -> EventType:
    try:
        return EventType(value)
    except ValueError:
        raise ValidationFailed.on("type", f"unknown event type {value!r}") from None


async def list_events(
    principal: Principal,
    workspace: WorkspaceRef,
    *,
    type: str | None = None,
    project: str | None = None,
    **paging: Unpack[PageArgs],
) -> Page:
    """The workspace's events, newest first; rows for `row_view`.

    Any member may read them (NOT_FOUND for anyone else). `type` keeps one event type
    (VALIDATION_FAILED when it is not one); `project` keeps the events of the project with that
    key (NOT_FOUND when the workspace has none, as for the project's own path).
    """
    access = await authorize(principal, workspace, Action.read)
    where = EventFilter(None if type is None else _event_type(type).value)
    project_id = None
    if project is not None:
        key = canonical_key(project)
        found = await project_repo.find_by_key(access.workspace.id, key)
        if found is None:
            raise NotFound(f"No project {project!r} in this workspace")
        where, project_id = replace(where, project=key), found.id
    return await event_repo.page_of_workspace(access.workspace.id, paging, where, project_id)


async def visible_by_pk(principal: Principal, pks: Sequence[int]) -> list[EventView | None]:
    """One view per pk, in order; None where the event does not exist or its workspace is
    invisible to the caller (for `node(id:)`). Three statements, however many pks."""
    rows = await event_repo.by_ids(pks)
    workspace_ids = sorted({int(row["workspace_id"]) for row in rows.values()})
    seen = await workspaces.visible_by_pk(principal, workspace_ids)
    visible = {pk for pk, view in zip(workspace_ids, seen, strict=True) if view is not None}
    return [
        row_view(rows[pk]) if pk in rows and rows[pk]["workspace_id"] in visible else None
        for pk in pks
    ]
