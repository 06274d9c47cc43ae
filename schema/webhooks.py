"""GraphQL webhooks: the `Webhook` and `WebhookDelivery` types, `node(id:)` for both, and the
`createWebhook`, `updateWebhook`, `deleteWebhook` and `redeliverWebhookDelivery` mutations.
`Workspace.webhooks` and `Webhook.deliveries` come from `schema.loaders`.

Resolvers only translate; every rule lives in `gateway.services.webhooks`, shared with REST.
"""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from gateway.core.ids import pk_of
from gateway.core.paging import PageArgs
from gateway.core.validation import validated
from gateway.reads import admin_nouns as nouns
from gateway.services import webhooks
from gateway.services.webhook_inputs import WebhookCreate, WebhookPatch
from gateway.services.webhooks import DeliveryView, WebhookView
from schema.connection import Connection, Paged
from schema.context import Context
from schema.declared import declared, values
from schema.inputs import expected_version_field, given
from schema.lookup import register_node
from schema.node import Node

if TYPE_CHECKING:
    from schema.events import Event


@strawberry.enum(name="WebhookDeliveryState", description="Where a delivery stands.")
class WebhookDeliveryState(Enum):
    PENDING = strawberry.enum_value("pending", description="To be sent, or sent again.")
    SUCCEEDED = strawberry.enum_value("succeeded", description="The URL answered 2xx.")
    FAILED = strawberry.enum_value(
        "failed", description="Every attempt failed; `redeliverWebhookDelivery` tries again."
    )


@declared(
    nouns.WEBHOOK_DELIVERY,
    "One event's delivery to a webhook, with its last attempt.",
    {"state": WebhookDeliveryState},
)
class WebhookDelivery(Node):
    event_pk: strawberry.Private[int]

    @strawberry.field(description="The event delivered.")
    async def event(
        self, info: Info[Context, None]
    ) -> Annotated[Event, strawberry.lazy("schema.events")] | None:
        return await info.context.loaders.event.load(self.event_pk)

    @classmethod
    def of(cls, view: DeliveryView) -> WebhookDelivery:
        return cls(**values(cls, view), event_pk=view.event_id)


@declared(nouns.WEBHOOK, "A URL that receives the workspace's events, signed.")
class Webhook(Node):
    pk: strawberry.Private[int]

    @strawberry.field(description="The webhook's deliveries, newest first.", extensions=[Paged()])
    async def deliveries(
        self, info: Info[Context, None], paging: PageArgs
    ) -> Connection[WebhookDelivery]:
        return await info.context.loaders.webhook_deliveries(self.pk, paging)

    @classmethod
    def of(cls, view: WebhookView) -> Webhook:
        return cls(**values(cls, view), pk=view.pk)


async def webhooks_by_pk(info: Info[Context, None], pks: list[int]) -> list[Node | None]:
    """`node(id:)` for webhooks: null unless the caller is an admin of the workspace."""
    views = await webhooks.visible_by_pk(info.context.viewer, pks)
    return [None if v is None else Webhook.of(v) for v in views]


async def deliveries_by_pk(info: Info[Context, None], pks: list[int]) -> list[Node | None]:
    """`node(id:)` for deliveries: null unless the caller is an admin of the workspace."""
    views = await webhooks.deliveries_visible_by_pk(info.context.viewer, pks)
    return [None if v is None else WebhookDelivery.of(v) for v in views]


register_node("Webhook", webhooks_by_pk)
register_node("WebhookDelivery", deliveries_by_pk)


@strawberry.input(description="A new webhook; the secret is generated unless given.")
class CreateWebhookInput:
    workspace_id: strawberry.ID = strawberry.field(description="The workspace's global ID.")
    url: str = strawberry.field(description="An http(s) URL reaching a public address.")
    events: list[str] = strawberry.field(
        description='Event types to send (e.g. `issue.created`), or `["*"]` for all.'
    )
    secret: str | None = strawberry.field(
        default=strawberry.UNSET, description="16 to 256 printable ASCII characters."
    )
    active: bool | None = strawberry.field(default=strawberry.UNSET, description="True unless set.")


@strawberry.input(description="Changes to a webhook; omitted fields stay as they are.")
class UpdateWebhookInput:
    id: strawberry.ID = strawberry.field(description="The webhook's global ID.")
    expected_version: int | None = expected_version_field("webhook")
    url: str | None = strawberry.field(default=strawberry.UNSET, description="A new URL.")
    events: list[str] | None = strawberry.field(
        default=strawberry.UNSET, description="New event types."
    )
    secret: str | None = strawberry.field(
        default=strawberry.UNSET, description="A new secret, in effect at once."
    )
    active: bool | None = strawberry.field(default=strawberry.UNSET, description="On or off.")


def _fields(input: CreateWebhookInput | UpdateWebhookInput) -> dict[str, object]:
    return given(url=input.url, events=input.events, secret=input.secret, active=input.active)


@strawberry.input(description="The webhook to delete.")
class DeleteWebhookInput:
    id: strawberry.ID = strawberry.field(description="The webhook's global ID.")
    expected_version: int | None = expected_version_field("webhook")


@strawberry.input(description="The delivery to send again.")
class RedeliverWebhookDeliveryInput:
    id: strawberry.ID = strawberry.field(description="The delivery's global ID.")


@strawberry.type(description="The result of `createWebhook`.")
class CreateWebhookPayload:
    webhook: Webhook = strawberry.field(description="The new webhook.")
    secret: str = strawberry.field(
        description="The signing secret: keep it now, no other answer shows it."
    )


@strawberry.type(description="The result of `updateWebhook`.")
class UpdateWebhookPayload:
    webhook: Webhook = strawberry.field(description="The webhook, changed.")


@strawberry.type(description="The result of `deleteWebhook`.")
class DeleteWebhookPayload:
    deleted_id: strawberry.ID = strawberry.field(description="The global ID of the webhook.")


@strawberry.type(description="The result of `redeliverWebhookDelivery`.")
class RedeliverWebhookDeliveryPayload:
    webhook_delivery: WebhookDelivery = strawberry.field(description="The delivery, PENDING.")


@strawberry.type
class WebhookMutation:
    @strawberry.mutation(
        description="Register a webhook (workspace admins). Each matching event is POSTed as"
        " JSON signed with `X-Switchyard-Signature-256`. VALIDATION_FAILED on `url` when it is"
        " not http(s), too long, or reaches a private address."
    )
    async def create_webhook(
        self, info: Info[Context, None], input: CreateWebhookInput
    ) -> CreateWebhookPayload | None:
        data = validated(WebhookCreate, _fields(input))
        workspace = pk_of(input.workspace_id, "Workspace")
        context = info.context
        created = await webhooks.create_webhook(context.viewer, context.settings, workspace, data)
        return CreateWebhookPayload(webhook=Webhook.of(created.webhook), secret=created.secret)

    @strawberry.mutation(
        description="Change a webhook's URL, events, secret or state (workspace admins)."
        " PRECONDITION_FAILED when `expectedVersion` is stale."
    )
    async def update_webhook(
        self, info: Info[Context, None], input: UpdateWebhookInput
    ) -> UpdateWebhookPayload | None:
        patch = validated(WebhookPatch, _fields(input))
        webhook = pk_of(input.id, "Webhook")
        context = info.context
        view = await webhooks.update_webhook(
            context.viewer, context.settings, webhook, patch, input.expected_version
        )
        return UpdateWebhookPayload(webhook=Webhook.of(view))

    @strawberry.mutation(description="Delete a webhook and its delivery log (workspace admins).")
    async def delete_webhook(
        self, info: Info[Context, None], input: DeleteWebhookInput
    ) -> DeleteWebhookPayload | None:
        deleted = await webhooks.delete_webhook(
            info.context.viewer, pk_of(input.id, "Webhook"), input.expected_version
        )
        return DeleteWebhookPayload(deleted_id=strawberry.ID(webhooks.node_id(deleted)))

    @strawberry.mutation(
        description="Send a delivery again (workspace admins): a PENDING one now, a SUCCEEDED"
        " or FAILED one from scratch. It keeps its `guid`."
    )
    async def redeliver_webhook_delivery(
        self, info: Info[Context, None], input: RedeliverWebhookDeliveryInput
    ) -> RedeliverWebhookDeliveryPayload | None:
        view = await webhooks.redeliver(info.context.viewer, pk_of(input.id, "WebhookDelivery"))
        return RedeliverWebhookDeliveryPayload(webhook_delivery=WebhookDelivery.of(view))
