"""Queries on webhooks. Rows leave this module as `WebhookRow`s, never ORM instances; the
stored secret stays an opaque token here (`gateway.webhooks.secrets` opens it)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from tortoise.backends.base.client import TransactionalDBClient

from gateway.core.paging import Page, PageArgs, keyset_page, order
from gateway.repositories.rows import Row
from models import Webhook

OLDEST_FIRST = order("id")


@dataclass(frozen=True, slots=True)
class WebhookRow(Row):
    id: int
    workspace_id: int
    url: str
    events: list[str]
    active: bool
    version: int
    created_at: datetime
    updated_at: datetime


FIELDS = WebhookRow.columns()


async def by_ids(ids: Sequence[int]) -> dict[int, WebhookRow]:
    """The webhooks with these ids, by id, in one statement."""
    if not ids:
        return {}
    rows = await Webhook.filter(id__in=list(set(ids))).values(*FIELDS)
    return {int(r["id"]): WebhookRow.of_values(r) for r in rows}


async def find(webhook_id: int, *, workspace_id: int) -> WebhookRow | None:
    """The webhook with this id, if it belongs to the workspace."""
    rows = await Webhook.filter(id=webhook_id, workspace_id=workspace_id).values(*FIELDS)
    return WebhookRow.of_values(rows[0]) if rows else None


async def lock(db: TransactionalDBClient, webhook_id: int) -> WebhookRow | None:
    """The webhook, its row locked until `db` commits."""
    hook = await Webhook.filter(id=webhook_id).select_for_update().using_db(db).first()
    return None if hook is None else WebhookRow.of_model(hook)


async def create(
    db: TransactionalDBClient,
    *,
    workspace_id: int,
    url: str,
    events: list[str],
    secret_token: str,
    active: bool,
) -> WebhookRow:
    hook = await Webhook.create(
        using_db=db,
        workspace_id=workspace_id,
        url=url,
        events=events,
        secret_token=secret_token,
        active=active,
    )
    return WebhookRow.of_model(hook)


async def update(
    db: TransactionalDBClient,
    current: WebhookRow,
    *,
    url: str,
    events: list[str],
    active: bool,
    secret_token: str | None,
) -> WebhookRow:
    """Store new values (a new secret when `secret_token` is given) and bump the version."""
    hook = await Webhook.filter(id=current.id).using_db(db).get()
    hook.url = url
    hook.events = events
    hook.active = active
    hook.version = current.version + 1
    changed = ["url", "events", "active", "version", "updated_at"]
    if secret_token is not None:
        hook.secret_token = secret_token
        changed.append("secret_token")
    await hook.save(using_db=db, update_fields=changed)
    return WebhookRow.of_model(hook)


async def delete(db: TransactionalDBClient, webhook_id: int) -> None:
    """Delete the webhook; the database drops its deliveries."""
    await Webhook.filter(id=webhook_id).using_db(db).delete()


async def page_of_workspace(workspace_id: int, args: PageArgs) -> Page:
    """A page of the workspace's webhooks, oldest first; rows for `WebhookRow.of_values`."""
    return await keyset_page(
        Webhook.filter(workspace_id=workspace_id),
        OLDEST_FIRST,
        **args,
        fields=FIELDS,
        scope=f"webhooks-of:{workspace_id}",
    )


async def secrets_of(ids: Sequence[int]) -> dict[int, tuple[str, str]]:
    """(url, stored secret token) of each of these webhooks, in one statement (the worker)."""
    if not ids:
        return {}
    rows = await Webhook.filter(id__in=list(set(ids))).values("id", "url", "secret_token")
    return {int(r["id"]): (r["url"], r["secret_token"]) for r in rows}
