"""Global object IDs: the same opaque string in both APIs (GraphQL `id`, REST `node_id`).

`base64url("<Type>:<pk>")` without padding, e.g. `Issue:42` → `SXNzdWU6NDI`. Opaque to clients,
cheap to decode, and the type travels with the id so `node(id:)` knows where to look.
"""

from __future__ import annotations

import base64
import binascii

from gateway.core.errors import NotFound

NODE_TYPES = frozenset(
    {
        "User",
        "Workspace",
        "Membership",
        "Invitation",
        "Project",
        "Label",
        "Issue",
        "Comment",
        "Event",
        "Webhook",
        "WebhookDelivery",
    }
)


def to_global_id(type_name: str, pk: int) -> str:
    raw = f"{type_name}:{pk}".encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def from_global_id(global_id: str) -> tuple[str, int]:
    """(type, pk); a malformed or unknown id is simply NOT_FOUND."""
    try:
        padded = global_id + "=" * (-len(global_id) % 4)
        type_name, _, pk = base64.urlsafe_b64decode(padded).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise NotFound(f"No object with id {global_id!r}") from exc
    if type_name not in NODE_TYPES or not (pk.isascii() and pk.isdigit()) or len(pk) > 18:
        raise NotFound(f"No object with id {global_id!r}")
    return type_name, int(pk)


def pk_of(global_id: str, expected_type: str) -> int:
    """The primary key of a global id that must name an `expected_type`."""
    type_name, pk = from_global_id(global_id)
    if type_name != expected_type:
        raise NotFound(f"No {expected_type} with id {global_id!r}")
    return pk
