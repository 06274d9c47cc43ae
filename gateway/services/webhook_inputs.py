"""What a webhook is made of, as both APIs send it: the URL (checked for form here, for where
it leads by `gateway.services.webhooks`), the event types, the secret and the switch."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

from gateway.core.validation import InputModel, Omittable
from gateway.repositories import deliveries as delivery_repo
from gateway.services.recording import EventType
from gateway.webhooks import targets

EVENT_NAMES = (*(t.value for t in EventType), delivery_repo.WILDCARD)


def _url(value: str) -> str:
    targets.parse(value)  # a RefusedTarget is a ValueError: 422 naming `url`
    return value


def _events(value: list[str]) -> list[str]:
    unknown = [name for name in value if name not in EVENT_NAMES]
    if unknown:
        raise ValueError(f"unknown event type {unknown[0]!r}")
    if delivery_repo.WILDCARD in value:
        return [delivery_repo.WILDCARD]
    return sorted(set(value))


Url = Annotated[
    str,
    StringConstraints(min_length=1, max_length=targets.MAX_URL_LENGTH),
    AfterValidator(_url),
    Field(
        description="Where events are POSTed: an http(s) URL reaching a public address.",
        json_schema_extra={"pattern": "^[Hh][Tt][Tt][Pp][Ss]?://[^/@?#]"},
    ),
]
EventName = Annotated[str, Field(json_schema_extra={"enum": list(EVENT_NAMES)})]
Events = Annotated[
    list[EventName],
    Field(
        min_length=1,
        max_length=len(EVENT_NAMES),
        description='Event types to send, or `["*"]` for all of them.',
    ),
    AfterValidator(_events),
]
Secret = Annotated[
    str,
    StringConstraints(min_length=16, max_length=256, pattern=r"^[\x21-\x7e]+$"),
    Field(description="The HMAC key of the signatures: 16 to 256 printable ASCII characters."),
]


class WebhookCreate(InputModel):
    """A new webhook; the secret is generated when none is given."""

    url: Url
    events: Events
    secret: Omittable[Secret] = None
    active: bool = Field(default=True, description="Inactive webhooks receive nothing.")


class WebhookPatch(InputModel):
    """A change to a webhook: only the fields given change; none may be null. A new `secret`
    replaces the old one at once."""

    url: Omittable[Url] = None
    events: Omittable[Events] = None
    secret: Omittable[Secret] = None
    active: Omittable[bool] = None
