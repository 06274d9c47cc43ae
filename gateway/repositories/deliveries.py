"""Queries on webhook deliveries: the outbox.

`enqueue` writes one row per matching webhook inside the event's own transaction; `claim` and
`finish` are the delivery worker's half. A worker claims a due row by leasing it (a token and an
expiry) and finishes only the rows it still holds the lease of, so a worker that died mid-send
loses its claim when the lease runs out and another sends the delivery again (at least once).

Order per webhook: only a webhook's oldest pending delivery is ever due (its *head*), so a later
one never overtakes one that is waiting for a retry. `enqueue` locks the webhooks it writes
for, in id order, until the event commits: delivery ids of one webhook then follow commit
order, which a sequence alone does not promise under concurrent transactions.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise.backends.base.client import TransactionalDBClient
from tortoise.expressions import Q, Subquery
from tortoise.functions import Min
from tortoise.transactions import in_transaction

from gateway.core.errors import ValidationFailed
from gateway.core.paging import Page, PageArgs, keyset_page, order
from gateway.repositories.nested import count_per_parent, pages_per_parent
from gateway.repositories.rows import Row
from models import DeliveryState, Webhook, WebhookDelivery

NEWEST_FIRST = order("-id")
WILDCARD = "*"


@dataclass(frozen=True, slots=True)
class DeliveryRow(Row):
    id: int
    webhook_id: int
    event_id: int
    guid: str  # as both APIs print it
    event_type: str
    state: DeliveryState
    attempts: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    response_status: int | None
    duration_ms: int | None
    error: str | None
    created_at: datetime
    updated_at: datetime


FIELDS = DeliveryRow.columns()


@dataclass(frozen=True, slots=True)
class Claim:
    """A delivery a worker holds the lease of: what it needs to send it."""

    id: int
    guid: uuid.UUID
    webhook_id: int
    event_id: int
    event_type: str
    attempts: int  # made before this one
    lease_token: uuid.UUID


def from_values(values: dict[str, Any]) -> DeliveryRow:
    """A `.values(*FIELDS)` dict (a paged row) as a `DeliveryRow`, its guid as text."""
    return DeliveryRow.of_values({**values, "guid": str(values["guid"])})


def matches(events: Sequence[str], event_type: str) -> bool:
    """Does a webhook subscribed to `events` want an event of `event_type`?"""
    return WILDCARD in events or event_type in events


async def enqueue(
    db: TransactionalDBClient,
    *,
    workspace_id: int,
    event_id: int,
    event_type: str,
    now: datetime,
) -> int:
    """Write a pending delivery of the event for every active webhook of the workspace that
    wants it, on the event's transaction `db`; returns how many. One statement when no
    webhook wants it."""
    hooks = (
        await Webhook.filter(workspace_id=workspace_id, active=True)
        .using_db(db)
        .values("id", "events")
    )
    wanted = sorted(int(h["id"]) for h in hooks if matches(h["events"], event_type))
    if not wanted:
        return 0
    # In id order, so that two writers never wait on each other in a cycle.
    await Webhook.filter(id__in=wanted).order_by("id").select_for_update().using_db(db).only("id")
    await WebhookDelivery.bulk_create(
        [
            WebhookDelivery(
                webhook_id=hook_id,
                event_id=event_id,
                guid=uuid.uuid4(),
                event_type=event_type,
                next_attempt_at=now,
            )
            for hook_id in wanted
        ],
        using_db=db,
    )
    return len(wanted)


def _free(now: datetime) -> Q:
    return Q(leased_until__isnull=True) | Q(leased_until__lt=now)


async def claim(now: datetime, lease: timedelta, limit: int) -> list[Claim]:
    """Lease up to `limit` due deliveries, each the head of its (active) webhook, oldest due
    first. On PostgreSQL the candidates are locked with `FOR UPDATE SKIP LOCKED`, so workers
    in other processes pass over them instead of waiting; on every database the lease is only
    taken where none is held, so two workers never hold one delivery at once."""
    heads = (
        WebhookDelivery.filter(state=DeliveryState.pending)
        .group_by("webhook_id")
        .annotate(head=Min("id"))
        .values("head")
    )
    active = Webhook.filter(active=True).values("id")
    token = uuid.uuid4()
    async with in_transaction() as db:
        # Model rows, not `.values()`: Tortoise drops FOR UPDATE from a values query.
        locked = (
            await WebhookDelivery.filter(
                _free(now),
                id__in=Subquery(heads),
                webhook_id__in=Subquery(active),
                next_attempt_at__lte=now,
            )
            .order_by("next_attempt_at", "id")
            .limit(limit)
            .select_for_update(skip_locked=True)
            .using_db(db)
            .only("id")
        )
        candidates = [row.id for row in locked]
        if not candidates:
            return []
        await (
            WebhookDelivery.filter(_free(now), id__in=candidates)
            .using_db(db)
            .update(lease_token=token, leased_until=now + lease)
        )
        rows = (
            await WebhookDelivery.filter(id__in=candidates, lease_token=token)
            .using_db(db)
            .order_by("next_attempt_at", "id")
            .values("id", "guid", "webhook_id", "event_id", "event_type", "attempts")
        )
    return [
        Claim(
            id=int(r["id"]),
            guid=uuid.UUID(str(r["guid"])),
            webhook_id=int(r["webhook_id"]),
            event_id=int(r["event_id"]),
            event_type=r["event_type"],
            attempts=int(r["attempts"]),
            lease_token=token,
        )
        for r in rows
    ]


async def finish(
    claim: Claim,
    *,
    now: datetime,
    state: DeliveryState,
    next_attempt_at: datetime | None,
    status: int | None,
    duration_ms: int,
    error: str | None,
) -> bool:
    """Record an attempt and give the lease back; False when the lease was lost meanwhile
    (it ran out and another worker took the delivery, or the webhook was deleted)."""
    changed = await WebhookDelivery.filter(id=claim.id, lease_token=claim.lease_token).update(
        state=state,
        attempts=claim.attempts + 1,
        next_attempt_at=next_attempt_at,
        last_attempt_at=now,
        response_status=status,
        duration_ms=duration_ms,
        error=error,
        lease_token=None,
        leased_until=None,
        updated_at=now,
    )
    return bool(changed)


async def release(claims: Sequence[Claim]) -> int:
    """Give leases back unrecorded (a worker stopping mid-attempt): the deliveries are due again
    at once for any worker, instead of after their leases run out. Returns how many."""
    released = 0
    for claim in claims:
        released += await WebhookDelivery.filter(id=claim.id, lease_token=claim.lease_token).update(
            lease_token=None, leased_until=None
        )
    return released


async def find(delivery_id: int, *, webhook_id: int) -> DeliveryRow | None:
    """The delivery with this id, if it belongs to the webhook."""
    rows = await WebhookDelivery.filter(id=delivery_id, webhook_id=webhook_id).values(*FIELDS)
    return from_values(rows[0]) if rows else None


async def by_ids(ids: Sequence[int]) -> dict[int, DeliveryRow]:
    """The deliveries with these ids, by id, in one statement."""
    if not ids:
        return {}
    rows = await WebhookDelivery.filter(id__in=list(set(ids))).values(*FIELDS)
    return {int(r["id"]): from_values(r) for r in rows}


async def redeliver(delivery: DeliveryRow, now: datetime) -> DeliveryRow | None:
    """Make the delivery due now: a pending one keeps its attempt count, a finished one
    (succeeded or failed) starts over with the whole retry schedule ahead. None when it is
    gone."""
    restart = delivery.state is not DeliveryState.pending
    values: dict[str, Any] = {"next_attempt_at": now, "updated_at": now}
    if restart:
        values.update(state=DeliveryState.pending, attempts=0)
    changed = await WebhookDelivery.filter(id=delivery.id).update(**values)
    if not changed:
        return None
    found = await by_ids([delivery.id])
    return found.get(delivery.id)


async def page_of_webhook(webhook_id: int, args: PageArgs) -> Page:
    """A page of the webhook's deliveries, newest first; rows for `from_values`."""
    return await keyset_page(
        WebhookDelivery.filter(webhook_id=webhook_id),
        NEWEST_FIRST,
        **args,
        fields=FIELDS,
        scope=f"deliveries-of:{webhook_id}",
    )


async def pages_of_webhooks(
    webhook_ids: Sequence[int], args: PageArgs
) -> dict[int, Page | ValidationFailed]:
    """The page `page_of_webhook` gives for each webhook, in one statement (nested
    connections); a webhook whose cursor is refused gets the error instead."""
    return await pages_per_parent(
        WebhookDelivery.all(),
        "webhook_id",
        webhook_ids,
        NEWEST_FIRST,
        **args,
        fields=FIELDS,
        scope=lambda pk: f"deliveries-of:{pk}",
    )


async def counts_of_webhooks(webhook_ids: Sequence[int]) -> dict[int, int]:
    """How many deliveries each webhook has, in one statement (nested `totalCount`)."""
    return await count_per_parent(WebhookDelivery.all(), "webhook_id", webhook_ids)
