"""The nouns of a workspace's administration, declared once like the others: invitations,
webhooks and their deliveries. Only admins read them (`gateway.reads.expressions.manages`), and
the addressee their own invitations. Each lists its path id (`pk`, REST's `id`) first, as REST
shows it (`gateway.rest.shapes.whole`)."""

from __future__ import annotations

from typing import Final

from gateway.reads import expressions as sql
from gateway.reads.fields import (
    DELIVERY_STATES,
    INVITATION_STATES,
    ROLES,
    column,
    created,
    node_id,
    nullable,
    path_id,
    updated,
    version,
)
from gateway.reads.model import Connection, Kind, Noun, Scalar, ToOne
from gateway.repositories.deliveries import NEWEST_FIRST as SENT_LAST

_USER_GONE = "null once their account is gone or deactivated"

INVITATION: Final = Noun(
    "Invitation",
    "invitations",
    (
        path_id("invitation"),
        node_id(),
        column("role", Kind.enum, "The role the invitee gets by accepting.", enum=ROLES),
        Scalar(
            "state",
            Kind.enum,
            "Expired once unanswered past `expires_at`.",
            compute=sql.invitation_state,
            enum=INVITATION_STATES,
        ),
        Scalar(
            "email",
            Kind.text,
            "The invited address (lower-cased); null for an invitation by username.",
            column="email_key",
            nullable=True,
        ),
        column("expires_at", Kind.timestamp, "After this it can no longer be accepted."),
        nullable("responded_at", Kind.timestamp, "When it was answered or revoked."),
        version(),
        column("created_at", Kind.timestamp, "When it was sent."),
        updated("invitation"),
    ),
    (
        ToOne(
            "workspace",
            "Workspace",
            "workspace_id",
            "The workspace it invites to.",
            graphql_type="WorkspaceInfo",
        ),
        ToOne(
            "invitee",
            "User",
            "invitee_id",
            f"The invited account; null for an invitation by email, {_USER_GONE}.",
            nullable=True,
            active_only=True,
        ),
        ToOne(
            "inviter",
            "User",
            "inviter_id",
            f"Who sent it; {_USER_GONE}.",
            nullable=True,
            active_only=True,
        ),
    ),
)


WEBHOOK: Final = Noun(
    "Webhook",
    "webhooks",
    (
        path_id("webhook"),
        node_id(),
        column("url", Kind.text, "Where events are POSTed."),
        column("events", Kind.texts, 'The event types sent, or `["*"]` for all.'),
        column("active", Kind.boolean, "Inactive webhooks receive nothing until reactivated."),
        version(),
        created("webhook"),
        updated("webhook"),
    ),
    (
        Connection(
            "deliveries",
            "WebhookDelivery",
            "webhook_id",
            {"newest": SENT_LAST},
            scope_prefix="deliveries-of:",
        ),
    ),
)

WEBHOOK_DELIVERY: Final = Noun(
    "WebhookDelivery",
    "webhook_deliveries",
    (
        path_id("delivery"),
        node_id(),
        column("guid", Kind.text, "`X-Switchyard-Delivery`: the same on every attempt."),
        Scalar(
            "event_id",
            Kind.ref,
            "The global ID of the event delivered.",
            compute=sql.global_id("Event", "event_id"),
            graphql=False,
        ),
        column("event_type", Kind.text, "`X-Switchyard-Event`, e.g. `issue.created`."),
        column("state", Kind.enum, "Pending, succeeded or failed.", enum=DELIVERY_STATES),
        column("attempts", Kind.integer, "Attempts made so far."),
        nullable("next_attempt_at", Kind.timestamp, "When a pending one is tried next."),
        nullable("last_attempt_at", Kind.timestamp, "When it was last tried."),
        nullable(
            "response_status",
            Kind.integer,
            "The HTTP status of the last answer; null when there was none.",
        ),
        nullable("duration_ms", Kind.integer, "How long the last attempt took."),
        nullable("error", Kind.text, "What went wrong with the last attempt, if anything."),
        column("created_at", Kind.timestamp, "When the event was committed."),
        updated("delivery"),
    ),
    (ToOne("event", "Event", "event_id", "The event delivered.", nullable=True),),
)
