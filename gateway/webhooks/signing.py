"""What a receiver checks: `X-Switchyard-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>`
over the raw request body (the README shows the check in Python)."""

from __future__ import annotations

import hashlib
import hmac
from uuid import UUID

from gateway import __version__

USER_AGENT = f"Switchyard/{__version__}"


def signature(secret: str, body: bytes) -> str:
    """The value of `X-Switchyard-Signature-256` for `body`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def delivery_headers(event_type: str, guid: UUID, secret: str, body: bytes) -> dict[str, str]:
    """Every header of a delivery's POST; the same on each attempt but for the signature's
    body, which does not change either."""
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Switchyard-Event": event_type,
        "X-Switchyard-Delivery": str(guid),
        "X-Switchyard-Signature-256": signature(secret, body),
    }
