"""The webhook aggregate: a workspace's HTTP callbacks and the outbox of their deliveries."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields

from models.base import TimestampedModel
from models.workspace import Workspace


class DeliveryState(StrEnum):
    """Where a delivery stands: `pending` until a 2xx answer (`succeeded`) or the last attempt
    (`failed`); a redelivery makes it `pending` again."""

    pending = "pending"
    succeeded = "succeeded"
    failed = "failed"


class Webhook(TimestampedModel):
    """A URL that receives the workspace's events of the types in `events` (or `["*"]`).

    `secret_token` is the signing secret encrypted with the settings' key (Fernet), since the
    HMAC of every delivery needs the secret itself (ADR 0017)."""

    workspace: fields.ForeignKeyRelation[Workspace] = fields.ForeignKeyField(
        "models.Workspace", related_name="webhooks", on_delete=fields.CASCADE
    )
    url = fields.CharField(max_length=2048)
    events: fields.JSONField[list[str]] = fields.JSONField(default=list)
    secret_token = fields.TextField()
    active = fields.BooleanField(default=True)
    version = fields.IntField(default=1)

    class Meta:
        table = "webhooks"
        indexes = (("workspace", "active"),)


class WebhookDelivery(TimestampedModel):
    """One event to send to one webhook: the outbox row, written in the event's transaction.

    `guid` is the `X-Switchyard-Delivery` header, the same on every attempt. A worker claims a
    due row by setting `lease_token` and `leased_until`; another worker leaves it alone until
    the lease runs out (a crashed worker's claim lapses by itself)."""

    webhook: fields.ForeignKeyRelation[Webhook] = fields.ForeignKeyField(
        "models.Webhook", related_name="deliveries", on_delete=fields.CASCADE
    )
    # A plain reference, as `Event.project_id` is: events go only with their workspace, and
    # the workspace takes its webhooks and their deliveries with it.
    event_id = fields.BigIntField()
    guid = fields.UUIDField(unique=True)
    event_type = fields.CharField(max_length=40)
    state = fields.CharEnumField(DeliveryState, max_length=16, default=DeliveryState.pending)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField(null=True)
    last_attempt_at = fields.DatetimeField(null=True)
    response_status = fields.IntField(null=True)
    duration_ms = fields.IntField(null=True)
    error = fields.CharField(max_length=200, null=True)
    lease_token = fields.UUIDField(null=True)
    leased_until = fields.DatetimeField(null=True)

    class Meta:
        table = "webhook_deliveries"
        indexes = (("webhook", "state", "id"), ("state", "next_attempt_at"))
