"""`/api/v1/workspaces/{slug}/webhooks`: a workspace's webhooks (admins), each by id, with its
delivery log and manual redelivery."""

from __future__ import annotations

from typing import Final

import orjson
from fastapi import APIRouter, Response
from pydantic import Field, create_model

from gateway.http.deps import PrincipalDep
from gateway.reads.reader import rest_page
from gateway.reads.roots import Root
from gateway.rest import shapes
from gateway.rest.compiled import JSON, ReadsDep
from gateway.rest.conditional import ExpectedVersion
from gateway.rest.pages import PageParamsDep, page_of
from gateway.rest.params import RowId
from gateway.rest.responses import (
    FORBIDDEN_NOT_ADMIN,
    NOT_FOUND_WORKSPACE,
    problem_response,
    problems,
)
from gateway.services import webhooks
from gateway.services.webhook_inputs import WebhookCreate, WebhookPatch

router = APIRouter(prefix="/workspaces/{slug}/webhooks", tags=["webhooks"])

FORBIDDEN_SEE = problem_response("FORBIDDEN: not an admin, or a token without the `read` scope")
NOT_FOUND_WEBHOOK = problem_response(
    "NOT_FOUND: no such workspace or webhook, or the caller may not see it"
)
NOT_FOUND_DELIVERY = problem_response(
    "NOT_FOUND: no such workspace, webhook or delivery, or the caller may not see it"
)


CreatedWebhook: Final = create_model(
    "CreatedWebhook",
    __base__=shapes.WEBHOOK.model,
    __doc__="A new webhook with its signing secret: keep it now, no other answer shows it.",
    secret=(
        str,
        Field(description="The HMAC-SHA256 key of `X-Switchyard-Signature-256`; shown only here."),
    ),
)
WEBHOOK_ONE: Final = Root("webhook", "r0", obj=shapes.WEBHOOK.read)
DELIVERY_ONE: Final = Root("delivery", "r0", obj=shapes.DELIVERY.read)
_OF_WORKSPACE: Final = Root(
    "workspace", "r0", paged=rest_page("Workspace", "webhooks", shapes.WEBHOOK.read)
)
_DELIVERIES: Final = Root(
    "webhook", "r0", paged=rest_page("Webhook", "deliveries", shapes.DELIVERY.read)
)


@router.get(
    "",
    summary="List webhooks",
    response_model=page_of(shapes.WEBHOOK),
    responses=problems(FORBIDDEN_SEE, NOT_FOUND_WORKSPACE),
)
async def list_webhooks(slug: str, paging: PageParamsDep, reads: ReadsDep) -> Response:
    """The workspace's webhooks, oldest first (admins). Paged with `limit` and `cursor`
    (`next_cursor`, and a `Link: rel="next"` header)."""
    explain = lambda: webhooks.list_webhooks(reads.principal, slug, **paging.args())  # noqa: E731
    return await reads.page(_OF_WORKSPACE, {"slug": slug}, explain, paging.args())


@router.post(
    "",
    status_code=201,
    summary="Create a webhook",
    response_model=CreatedWebhook,
    responses=problems(FORBIDDEN_NOT_ADMIN, NOT_FOUND_WORKSPACE, validated=True),
)
async def create_webhook(slug: str, body: WebhookCreate, reads: ReadsDep) -> Response:
    """Register a URL to receive the workspace's events of the types in `events` (admins).
    Each is POSTed as the JSON of an item of `GET /workspaces/{slug}/events`, signed with
    `X-Switchyard-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>`. The `secret` is
    generated unless given, and this answer is the only one that shows it. Answers 201 with a
    `Location`."""
    created = await webhooks.create_webhook(reads.principal, reads.settings, slug, body)
    pk = created.webhook.pk
    location = str(reads.request.app.url_path_for("webhooks.get", slug=slug, webhook_id=str(pk)))
    answer = await reads.written(WEBHOOK_ONE, {"slug": slug, "pk": pk})
    shown = {**orjson.loads(answer.body), "secret": created.secret}
    headers = {"Location": location, "ETag": answer.headers["ETag"]}
    return Response(orjson.dumps(shown), 201, headers=headers, media_type=JSON)


@router.get(
    "/{webhook_id}",
    name="webhooks.get",
    summary="Get a webhook",
    response_model=shapes.WEBHOOK.model,
    responses=problems(FORBIDDEN_SEE, NOT_FOUND_WEBHOOK, cached=True),
)
async def get_webhook(slug: str, webhook_id: RowId, reads: ReadsDep) -> Response:
    """One webhook (admins), with a strong `ETag`; `If-None-Match` with the current ETag
    answers 304."""
    explain = lambda: webhooks.get_webhook(reads.principal, (slug, webhook_id))  # noqa: E731
    return await reads.one(WEBHOOK_ONE, {"slug": slug, "pk": webhook_id}, explain)


@router.patch(
    "/{webhook_id}",
    summary="Update a webhook",
    response_model=shapes.WEBHOOK.model,
    responses=problems(FORBIDDEN_NOT_ADMIN, NOT_FOUND_WEBHOOK, versioned=True, validated=True),
)
async def update_webhook(
    slug: str,
    webhook_id: RowId,
    body: WebhookPatch,
    reads: ReadsDep,
    version: ExpectedVersion,
) -> Response:
    """Change the URL, the events, the secret (it takes effect at once) or `active` (admins);
    omitted fields stay as they are. Honours `If-Match`."""
    ref = (slug, webhook_id)
    await webhooks.update_webhook(reads.principal, reads.settings, ref, body, version)
    return await reads.written(WEBHOOK_ONE, {"slug": slug, "pk": webhook_id})


@router.delete(
    "/{webhook_id}",
    status_code=204,
    summary="Delete a webhook",
    responses=problems(FORBIDDEN_NOT_ADMIN, NOT_FOUND_WEBHOOK, versioned=True),
)
async def delete_webhook(
    slug: str, webhook_id: RowId, principal: PrincipalDep, version: ExpectedVersion
) -> Response:
    """Delete a webhook and its delivery log (admins). Honours `If-Match`."""
    await webhooks.delete_webhook(principal, (slug, webhook_id), version)
    return Response(status_code=204)


@router.get(
    "/{webhook_id}/deliveries",
    summary="List a webhook's deliveries",
    response_model=page_of(shapes.DELIVERY),
    responses=problems(FORBIDDEN_SEE, NOT_FOUND_WEBHOOK),
)
async def list_deliveries(
    slug: str,
    webhook_id: RowId,
    paging: PageParamsDep,
    reads: ReadsDep,
) -> Response:
    """The webhook's deliveries, newest first, each with its state and last attempt (admins).
    Paged with `limit` and `cursor` (`next_cursor`, and a `Link: rel="next"` header)."""
    explain = lambda: webhooks.list_deliveries(  # noqa: E731
        reads.principal, (slug, webhook_id), **paging.args()
    )
    return await reads.page(_DELIVERIES, {"slug": slug, "pk": webhook_id}, explain, paging.args())


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/redeliver",
    status_code=202,
    summary="Redeliver",
    response_model=shapes.DELIVERY.model,
    responses=problems(FORBIDDEN_NOT_ADMIN, NOT_FOUND_DELIVERY),
)
async def redeliver(
    slug: str,
    webhook_id: RowId,
    delivery_id: RowId,
    reads: ReadsDep,
) -> Response:
    """Send a delivery again (admins): a pending one now, a succeeded or failed one from
    scratch with the whole retry schedule ahead. It keeps its `guid`. Answers 202 with the
    delivery, now pending: the worker sends it in the webhook's order."""
    await webhooks.redeliver(reads.principal, ((slug, webhook_id), delivery_id))
    arguments = {"slug": slug, "parent": webhook_id, "pk": delivery_id}
    return await reads.written(DELIVERY_ONE, arguments, 202)
