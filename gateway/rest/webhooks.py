"""`/api/v1/workspaces/{slug}/webhooks`: a workspace's webhooks (admins), each by id, with its
delivery log and manual redelivery."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from gateway.deps import PrincipalDep, SettingsDep
from gateway.rest.conditional import E412, NOT_MODIFIED, ExpectedVersion, etag, not_modified
from gateway.rest.paging import PageOut, PageParamsDep, page_named, page_out
from gateway.rest.params import RowId
from gateway.rest.responses import problem_response as problem_doc
from gateway.rest.workspaces import E401, E404
from gateway.services import webhooks
from gateway.services.webhook_inputs import WebhookCreate, WebhookPatch
from gateway.services.webhooks import DeliveryView, WebhookView
from models import DeliveryState

router = APIRouter(prefix="/workspaces/{slug}/webhooks", tags=["webhooks"])

E403_SEE = problem_doc("FORBIDDEN: not an admin, or a token without the `read` scope")
E403_MANAGE = problem_doc("FORBIDDEN: not an admin, or a token without the `admin` scope")
E404_WEBHOOK = problem_doc("NOT_FOUND: no such workspace or webhook, or the caller may not see it")
E404_DELIVERY = problem_doc(
    "NOT_FOUND: no such workspace, webhook or delivery, or the caller may not see it"
)
E422_BODY = problem_doc(
    "VALIDATION_FAILED: the body breaks a rule (`errors` lists each field); a `url` that is"
    " not http(s), too long, or reaches a private address"
)


class Webhook(BaseModel):
    """A webhook (its secret is shown only when it is created)."""

    id: int = Field(description="Names the webhook in paths.")
    node_id: str = Field(description="The global ID (GraphQL `Webhook.id`).")
    url: str = Field(description="Where events are POSTed.")
    events: list[str] = Field(description='The event types sent, or `["*"]` for all.')
    active: bool = Field(description="Inactive webhooks receive nothing until reactivated.")
    version: int = Field(description='Grows with every change; the ETag is `"v<version>"`.')
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, view: WebhookView) -> Webhook:
        return cls(
            id=view.pk,
            node_id=view.node_id,
            url=view.url,
            events=view.events,
            active=view.active,
            version=view.version,
            created_at=view.created_at,
            updated_at=view.updated_at,
        )


class CreatedWebhook(Webhook):
    """A new webhook with its signing secret: keep it now, no other answer shows it."""

    secret: str = Field(
        description="The HMAC-SHA256 key of `X-Switchyard-Signature-256`; shown only here."
    )


class Delivery(BaseModel):
    """One event's delivery to a webhook, with its last attempt."""

    id: int = Field(description="Names the delivery in paths.")
    node_id: str = Field(description="The global ID (GraphQL `WebhookDelivery.id`).")
    guid: str = Field(description="`X-Switchyard-Delivery`: the same on every attempt.")
    event_id: str = Field(description="The global ID of the event delivered.")
    event_type: str = Field(description="`X-Switchyard-Event`, e.g. `issue.created`.")
    state: DeliveryState = Field(description="pending, succeeded or failed.")
    attempts: int = Field(description="Attempts made so far.")
    next_attempt_at: datetime | None = Field(description="When a pending one is tried next.")
    last_attempt_at: datetime | None = Field(description="When it was last tried.")
    response_status: int | None = Field(
        description="The HTTP status of the last answer; null when there was none."
    )
    duration_ms: int | None = Field(description="How long the last attempt took.")
    error: str | None = Field(description="What went wrong with the last attempt, if anything.")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, view: DeliveryView) -> Delivery:
        return cls(
            id=view.pk,
            node_id=view.node_id,
            guid=view.guid,
            event_id=view.event_node_id,
            event_type=view.event_type,
            state=view.state,
            attempts=view.attempts,
            next_attempt_at=view.next_attempt_at,
            last_attempt_at=view.last_attempt_at,
            response_status=view.response_status,
            duration_ms=view.duration_ms,
            error=view.error,
            created_at=view.created_at,
            updated_at=view.updated_at,
        )


@router.get(
    "",
    summary="List webhooks",
    response_model=page_named(Webhook),
    responses={401: E401, 403: E403_SEE, 404: E404},
)
async def list_webhooks(
    slug: str,
    paging: PageParamsDep,
    request: Request,
    response: Response,
    principal: PrincipalDep,
) -> PageOut[Webhook]:
    """The workspace's webhooks, oldest first (admins). Paged with `limit` and `cursor`
    (`next_cursor`, and a `Link: rel="next"` header)."""
    page = await webhooks.list_webhooks(principal, slug, **paging.args())
    return page_out(
        page, lambda row: Webhook.of(webhooks.row_view(row)), request=request, response=response
    )


@router.post(
    "",
    status_code=201,
    summary="Create a webhook",
    responses={401: E401, 403: E403_MANAGE, 404: E404, 422: E422_BODY},
)
async def create_webhook(
    slug: str,
    body: WebhookCreate,
    request: Request,
    response: Response,
    principal: PrincipalDep,
    settings: SettingsDep,
) -> CreatedWebhook:
    """Register a URL to receive the workspace's events of the types in `events` (admins).
    Each is POSTed as the JSON of an item of `GET /workspaces/{slug}/events`, signed with
    `X-Switchyard-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>`. The `secret` is
    generated unless given, and this answer is the only one that shows it. Answers 201 with a
    `Location`."""
    created = await webhooks.create_webhook(principal, settings, slug, body)
    view = created.webhook
    response.headers["Location"] = str(
        request.app.url_path_for("webhooks.get", slug=slug, webhook_id=str(view.pk))
    )
    return CreatedWebhook(**Webhook.of(view).model_dump(), secret=created.secret)


@router.get(
    "/{webhook_id}",
    name="webhooks.get",
    summary="Get a webhook",
    responses={304: NOT_MODIFIED, 401: E401, 403: E403_SEE, 404: E404_WEBHOOK},
)
async def get_webhook(
    slug: str,
    webhook_id: RowId,
    request: Request,
    response: Response,
    principal: PrincipalDep,
) -> Webhook:
    """One webhook (admins), with a strong `ETag`; `If-None-Match` with the current ETag
    answers 304."""
    view = await webhooks.get_webhook(principal, (slug, webhook_id))
    unchanged = not_modified(request, response, view.version)
    if unchanged is not None:
        return unchanged  # type: ignore[return-value]
    return Webhook.of(view)


@router.patch(
    "/{webhook_id}",
    summary="Update a webhook",
    responses={401: E401, 403: E403_MANAGE, 404: E404_WEBHOOK, 412: E412, 422: E422_BODY},
)
async def update_webhook(
    slug: str,
    webhook_id: RowId,
    body: WebhookPatch,
    response: Response,
    principal: PrincipalDep,
    settings: SettingsDep,
    version: ExpectedVersion,
) -> Webhook:
    """Change the URL, the events, the secret (it takes effect at once) or `active` (admins);
    omitted fields stay as they are. Honours `If-Match`."""
    view = await webhooks.update_webhook(principal, settings, (slug, webhook_id), body, version)
    response.headers["ETag"] = etag(view.version)
    return Webhook.of(view)


@router.delete(
    "/{webhook_id}",
    status_code=204,
    summary="Delete a webhook",
    responses={401: E401, 403: E403_MANAGE, 404: E404_WEBHOOK, 412: E412},
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
    response_model=page_named(Delivery),
    responses={401: E401, 403: E403_SEE, 404: E404_WEBHOOK},
)
async def list_deliveries(
    slug: str,
    webhook_id: RowId,
    paging: PageParamsDep,
    request: Request,
    response: Response,
    principal: PrincipalDep,
) -> PageOut[Delivery]:
    """The webhook's deliveries, newest first, each with its state and last attempt (admins).
    Paged with `limit` and `cursor` (`next_cursor`, and a `Link: rel="next"` header)."""
    page = await webhooks.list_deliveries(principal, (slug, webhook_id), **paging.args())
    return page_out(
        page,
        lambda row: Delivery.of(webhooks.delivery_row_view(row)),
        request=request,
        response=response,
    )


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/redeliver",
    status_code=202,
    summary="Redeliver",
    responses={401: E401, 403: E403_MANAGE, 404: E404_DELIVERY},
)
async def redeliver(
    slug: str, webhook_id: RowId, delivery_id: RowId, principal: PrincipalDep
) -> Delivery:
    """Send a delivery again (admins): a pending one now, a succeeded or failed one from
    scratch with the whole retry schedule ahead. It keeps its `guid`. Answers 202 with the
    delivery, now pending: the worker sends it in the webhook's order."""
    view = await webhooks.redeliver(principal, ((slug, webhook_id), delivery_id))
    return Delivery.of(view)
