"""Recording events: one row per committed change, written in the change's own transaction.

The activity feed, the audit log and (later) subscriptions and webhooks all read these rows, so
an event must never exist without its change, nor a change without its event. `record()` takes
the transaction connection (`async with in_transaction() as db:`) as a required argument: the
type checker refuses a plain connection, and the event commits or rolls back with the change.

The webhook outbox is written here too: a pending delivery per matching webhook, in the same
transaction, so no committed event misses its webhooks and no rolled-back one reaches them
(ADR 0017).
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from pydantic import BaseModel
from tortoise.backends.base.client import TransactionalDBClient

from gateway.realtime.runtime import announce
from gateway.repositories import deliveries as delivery_repo
from gateway.repositories import events as event_repo
from gateway.repositories.events import JSONObject, JSONValue

__all__ = ["EventType", "JSONObject", "JSONValue", "changes", "record"]


class EventType(StrEnum):
    """Every event type of domain.md; the stored `type` is the value."""

    workspace_created = "workspace.created"
    workspace_updated = "workspace.updated"
    member_invited = "member.invited"
    member_added = "member.added"
    member_role_changed = "member.role_changed"
    member_removed = "member.removed"
    project_created = "project.created"
    project_updated = "project.updated"
    project_archived = "project.archived"
    project_deleted = "project.deleted"
    label_created = "label.created"
    label_updated = "label.updated"
    label_deleted = "label.deleted"
    issue_created = "issue.created"
    issue_updated = "issue.updated"
    issue_closed = "issue.closed"
    issue_reopened = "issue.reopened"
    issue_assigned = "issue.assigned"
    issue_labeled = "issue.labeled"
    issue_deleted = "issue.deleted"
    comment_created = "comment.created"
    comment_updated = "comment.updated"
    comment_deleted = "comment.deleted"


def changes(current: object, patch: BaseModel) -> JSONObject:
    """What `patch` changes in `current`, as an `*.updated` event's `changes`: `{"from", "to"}`
    for each field of the patch given a value other than the current one (None is not given)."""
    found: JSONObject = {}
    for name in type(patch).model_fields:
        new, old = getattr(patch, name), getattr(current, name)
        if new is not None and new != old:
            found[name] = {"from": old, "to": new}
    return found


async def record(
    workspace_id: int,
    actor_id: int | None,
    type: EventType,
    subject_id: str,
    *,
    db: TransactionalDBClient,
    project_id: int | None = None,
    issue_id: int | None = None,
    data: JSONObject | None = None,
) -> int:
    """Append an event inside the caller's transaction `db`; returns the event's id.

    `subject_id` is the global ID of the object the event is about (it stays meaningful after
    the object is deleted); `data` holds what a reader of the feed needs without another query
    (say, the old and new role).
    """
    event_id = await event_repo.insert(
        db,
        workspace_id=workspace_id,
        actor_id=actor_id,
        type=type.value,
        subject_id=subject_id,
        project_id=project_id,
        issue_id=issue_id,
        data=data or {},
    )
    # Webhooks (ADR 0017): the outbox rows commit or roll back with the event.
    now = datetime.now(UTC)
    await delivery_repo.enqueue(
        db, workspace_id=workspace_id, event_id=event_id, event_type=type.value, now=now
    )
    # Subscriptions (gateway.realtime): heard by every process once `db` commits, never before.
    await announce(db, workspace_id, event_id)
    return event_id
