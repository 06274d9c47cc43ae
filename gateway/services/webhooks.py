"""Webhooks: workspace admins register URLs that receive the workspace's events, signed.

A webhook is named by (workspace, id) (REST paths) or by its id alone (GraphQL IDs); to anyone
who cannot see it, it does not exist. Looking at webhooks and their delivery log needs the
admin role (they say where the workspace's events go); changing them needs a token's `admin`
scope as well. The URL passes the SSRF guard (`gateway.webhooks.targets`) when it is saved;
the signing secret is generated unless given, shown once, and stored encrypted. Deliveries
themselves are written by `gateway.services.recording.record` and sent by
`gateway.webhooks.worker` (ADR 0017).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Unpack

from tortoise.transactions import in_transaction

from gateway.core.errors import DomainError, NotFound, ValidationFailed
from gateway.core.ids import to_global_id
from gateway.core.paging import Page, PageArgs
from gateway.core.settings import Settings
from gateway.repositories import deliveries as delivery_repo
from gateway.repositories import webhooks as webhook_repo
from gateway.repositories import workspaces as workspace_repo
from gateway.repositories.deliveries import DeliveryRow
from gateway.repositories.webhooks import WebhookRow
from gateway.security.principal import Principal
from gateway.services.access import (
    Access,
    Action,
    WorkspaceRef,
    authorize,
    require_scope_of,
    role_allows,
)
from gateway.services.versioning import check_version
from gateway.services.views import RowView, row_fields
from gateway.services.webhook_inputs import WebhookCreate, WebhookPatch
from gateway.webhooks import secrets, targets
from models import DeliveryState

NO_SUCH_WEBHOOK = "No such webhook"
NO_SUCH_DELIVERY = "No such delivery"


@dataclass(frozen=True, slots=True)
class WebhookView(RowView, WebhookRow):
    """A webhook as both APIs show it: its row (never its secret), and its global id."""

    node_id: str


@dataclass(frozen=True, slots=True)
class CreatedWebhook:
    """A new webhook and its secret, which no later answer shows."""

    webhook: WebhookView
    secret: str


@dataclass(frozen=True, slots=True)
class DeliveryView(RowView, DeliveryRow):
    """One delivery of an event to a webhook, with its last attempt: its row, and its global
    id."""

    node_id: str


WebhookRef = tuple[WorkspaceRef, int] | int
"""A webhook named by (workspace, id) (REST paths) or by its id alone (GraphQL IDs)."""
DeliveryRef = tuple[WebhookRef, int] | int
"""A delivery named by (webhook, id) (REST paths) or by its id alone (GraphQL IDs)."""


def node_id(webhook_id: int) -> str:
    return to_global_id("Webhook", webhook_id)


def delivery_node_id(delivery_id: int) -> str:
    return to_global_id("WebhookDelivery", delivery_id)


def view(row: WebhookRow) -> WebhookView:
    return WebhookView(**row_fields(row), node_id=node_id(row.id))


def delivery_view(row: DeliveryRow) -> DeliveryView:
    if row.state is not DeliveryState.pending:
        row = replace(row, next_attempt_at=None)  # only a pending delivery is tried again
    return DeliveryView(**row_fields(row), node_id=delivery_node_id(row.id))


def row_view(row: dict[str, Any]) -> WebhookView:
    """A row of `list_webhooks` as a `WebhookView`."""
    return view(WebhookRow.of_values(row))


def delivery_row_view(row: dict[str, Any]) -> DeliveryView:
    """A row of `list_deliveries` as a `DeliveryView`."""
    return delivery_view(delivery_repo.from_values(row))


async def _reachable(settings: Settings, url: str) -> None:
    """VALIDATION_FAILED naming `url` unless the SSRF guard lets it through."""
    try:
        target = targets.parse(url)
        await targets.addresses(target, allow_private=settings.webhook_allow_private)
    except targets.RefusedTarget as exc:
        raise ValidationFailed.on("url", str(exc)) from None


async def _locate(
    principal: Principal, ref: WebhookRef, action: Action
) -> tuple[Access, WebhookRow]:
    """The webhook and the caller's access to its workspace, which must allow `action`.
    One NOT_FOUND whether the webhook or its workspace is missing or invisible."""
    if isinstance(ref, int):
        found = (await webhook_repo.by_ids([ref])).get(ref)
        if found is None:
            raise NotFound(NO_SUCH_WEBHOOK)
        try:
            access = await authorize(principal, found.workspace_id, action)
        except NotFound:
            raise NotFound(NO_SUCH_WEBHOOK) from None
        return access, found
    workspace, webhook_id = ref
    access = await authorize(principal, workspace, action)
    row = await webhook_repo.find(webhook_id, workspace_id=access.workspace.id)
    if row is None:
        raise NotFound(NO_SUCH_WEBHOOK)
    return access, row


async def _locate_delivery(principal: Principal, ref: DeliveryRef, action: Action) -> DeliveryRow:
    if isinstance(ref, int):
        found = (await delivery_repo.by_ids([ref])).get(ref)
        if found is None:
            raise NotFound(NO_SUCH_DELIVERY)
        try:
            await _locate(principal, found.webhook_id, action)
        except NotFound:
            raise NotFound(NO_SUCH_DELIVERY) from None
        return found
    webhook, delivery_id = ref
    _, hook = await _locate(principal, webhook, action)
    row = await delivery_repo.find(delivery_id, webhook_id=hook.id)
    if row is None:
        raise NotFound(NO_SUCH_DELIVERY)
    return row


async def create_webhook(
    principal: Principal, settings: Settings, workspace: WorkspaceRef, data: WebhookCreate
) -> CreatedWebhook:
    """Register a webhook (admins). VALIDATION_FAILED on `url` when the SSRF guard refuses it.
    The answer carries the secret, generated unless given: no later answer shows it."""
    access = await authorize(principal, workspace, Action.manage_webhooks)
    await _reachable(settings, data.url)
    secret = data.secret if data.secret is not None else secrets.new_secret()
    async with in_transaction() as db:
        row = await webhook_repo.create(
            db,
            workspace_id=access.workspace.id,
            url=data.url,
            events=data.events,
            secret_token=secrets.seal(settings, secret),
            active=data.active,
        )
    return CreatedWebhook(webhook=view(row), secret=secret)


async def list_webhooks(
    principal: Principal, workspace: WorkspaceRef, **paging: Unpack[PageArgs]
) -> Page:
    """The workspace's webhooks, oldest first (admins); rows for `row_view`."""
    access = await authorize(principal, workspace, Action.see_webhooks)
    return await webhook_repo.page_of_workspace(access.workspace.id, paging)


async def get_webhook(principal: Principal, ref: WebhookRef) -> WebhookView:
    """One webhook (admins)."""
    _, row = await _locate(principal, ref, Action.see_webhooks)
    return view(row)


async def update_webhook(
    principal: Principal,
    settings: Settings,
    ref: WebhookRef,
    patch: WebhookPatch,
    expected_version: int | None,
) -> WebhookView:
    """Change a webhook's URL, events, secret or state (admins). PRECONDITION_FAILED when
    `expected_version` is stale; VALIDATION_FAILED on `url` when the guard refuses it."""
    _, found = await _locate(principal, ref, Action.manage_webhooks)
    if patch.url is not None and patch.url != found.url:
        await _reachable(settings, patch.url)
    async with in_transaction() as db:
        current = await webhook_repo.lock(db, found.id)
        if current is None:
            raise NotFound(NO_SUCH_WEBHOOK)
        check_version(current.version, expected_version)
        url = current.url if patch.url is None else patch.url
        events = current.events if patch.events is None else patch.events
        active = current.active if patch.active is None else patch.active
        unchanged = (url, events, active) == (current.url, current.events, current.active)
        if unchanged and patch.secret is None:
            return view(current)
        row = await webhook_repo.update(
            db,
            current,
            url=url,
            events=events,
            active=active,
            secret_token=None if patch.secret is None else secrets.seal(settings, patch.secret),
        )
    return view(row)


async def delete_webhook(
    principal: Principal, ref: WebhookRef, expected_version: int | None = None
) -> int:
    """Delete a webhook and its delivery log (admins); returns its id. Deliveries in flight
    finish, but nothing more is sent."""
    _, found = await _locate(principal, ref, Action.manage_webhooks)
    async with in_transaction() as db:
        current = await webhook_repo.lock(db, found.id)
        if current is None:
            raise NotFound(NO_SUCH_WEBHOOK)
        check_version(current.version, expected_version)
        await webhook_repo.delete(db, current.id)
    return current.id


async def list_deliveries(
    principal: Principal, ref: WebhookRef, **paging: Unpack[PageArgs]
) -> Page:
    """The webhook's deliveries, newest first (admins); rows for `delivery_row_view`."""
    _, hook = await _locate(principal, ref, Action.see_webhooks)
    return await delivery_repo.page_of_webhook(hook.id, paging)


async def redeliver(principal: Principal, ref: DeliveryRef) -> DeliveryView:
    """Send a delivery again now (admins): a pending one at once, a succeeded or failed one
    from scratch, with the whole retry schedule ahead. It keeps its `X-Switchyard-Delivery`
    id, so a receiver can tell a repeat. The worker sends it in the webhook's order."""
    found = await _locate_delivery(principal, ref, Action.manage_webhooks)
    row = await delivery_repo.redeliver(found, datetime.now(UTC))
    if row is None:
        raise NotFound(NO_SUCH_DELIVERY)
    return delivery_view(row)


async def _admin_workspaces(principal: Principal, workspace_ids: set[int]) -> set[int]:
    """Which of these workspaces the caller may see the webhooks of (one statement)."""
    require_scope_of(principal, Action.see_webhooks)
    if principal.is_site_admin:
        return workspace_ids
    roles = await workspace_repo.roles_of(principal.user_id, sorted(workspace_ids))
    return {ws for ws, role in roles.items() if role_allows(role, Action.see_webhooks)}


async def visible_by_pk(principal: Principal, pks: Sequence[int]) -> list[WebhookView | None]:
    """One view per pk, in order (for `node(id:)`); None where the webhook does not exist or
    the caller is not an admin of its workspace. Two statements, however many pks."""
    rows = await webhook_repo.by_ids(pks)
    allowed = await _admin_workspaces(principal, {r.workspace_id for r in rows.values()})
    return [
        view(rows[pk]) if pk in rows and rows[pk].workspace_id in allowed else None for pk in pks
    ]


async def deliveries_visible_by_pk(
    principal: Principal, pks: Sequence[int]
) -> list[DeliveryView | None]:
    """As `visible_by_pk`, for deliveries. Three statements, however many pks."""
    rows = await delivery_repo.by_ids(pks)
    hooks = await webhook_repo.by_ids([r.webhook_id for r in rows.values()])
    allowed = await _admin_workspaces(principal, {h.workspace_id for h in hooks.values()})
    visible = {pk for pk, hook in hooks.items() if hook.workspace_id in allowed}
    return [
        delivery_view(rows[pk]) if pk in rows and rows[pk].webhook_id in visible else None
        for pk in pks
    ]


async def delivery_pages(
    principal: Principal, webhook_ids: list[int], **paging: Unpack[PageArgs]
) -> list[Page | DomainError]:
    """`list_deliveries` for each webhook (the nested `Webhook.deliveries`): the webhooks, their
    workspaces' access, and every page, in a fixed number of statements."""
    hooks = await webhook_repo.by_ids(webhook_ids)
    denied: dict[int, DomainError | None] = {}
    for workspace_id in {h.workspace_id for h in hooks.values()}:
        try:
            await authorize(principal, workspace_id, Action.see_webhooks)
            denied[workspace_id] = None
        except DomainError as exc:
            denied[workspace_id] = exc
    readable = [pk for pk in webhook_ids if pk in hooks and denied[hooks[pk].workspace_id] is None]
    pages = await delivery_repo.pages_of_webhooks(readable, paging)
    answers: list[Page | DomainError] = []
    for pk in webhook_ids:
        if pk not in hooks:
            answers.append(NotFound(NO_SUCH_WEBHOOK))
        else:
            answers.append(denied[hooks[pk].workspace_id] or pages[pk])
    return answers


async def delivery_counts(webhook_ids: list[int]) -> list[int]:
    """How many deliveries each webhook has, unchecked (for `totalCount` of checked pages)."""
    counts = await delivery_repo.counts_of_webhooks(webhook_ids)
    return [counts[pk] for pk in webhook_ids]
