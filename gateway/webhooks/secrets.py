"""Webhook signing secrets: generated when the admin gives none, shown once, and stored
encrypted (Fernet: AES-128-CBC with an HMAC-SHA256 tag), since signing a delivery needs the
secret itself, not a hash of it (ADR 0017).

The key is `GATEWAY_WEBHOOK_SECRET_KEY`; without one it is derived from the JWT secret with
HKDF, so a development server works with no configuration.
"""

from __future__ import annotations

import base64
import secrets
from functools import lru_cache
from typing import Final

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from gateway.core.settings import Settings

SECRET_PREFIX: Final = "whsec_"
_HKDF_INFO: Final = b"switchyard webhook secrets v1"


class UnreadableSecret(Exception):
    """A stored secret the current key cannot decrypt (the key changed)."""


def new_secret() -> str:
    """A fresh signing secret: `whsec_` and 256 random bits."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


@lru_cache(maxsize=8)
def _fernet(key: bytes) -> Fernet:
    return Fernet(key)


def _derived_key(jwt_secret: str) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO)
    return base64.urlsafe_b64encode(hkdf.derive(jwt_secret.encode()))


@lru_cache(maxsize=8)
def _key_of(explicit: str | None, jwt_secret: str) -> bytes:
    return explicit.encode() if explicit is not None else _derived_key(jwt_secret)


def _box(settings: Settings) -> Fernet:
    explicit = settings.webhook_secret_key
    key = _key_of(
        None if explicit is None else explicit.get_secret_value(),
        settings.jwt_secret.get_secret_value(),
    )
    return _fernet(key)


def seal(settings: Settings, secret: str) -> str:
    """The secret as stored: a Fernet token."""
    return _box(settings).encrypt(secret.encode()).decode()


def unseal(settings: Settings, token: str) -> str:
    """The secret a stored token holds; `UnreadableSecret` when the key cannot open it."""
    try:
        return _box(settings).decrypt(token.encode()).decode()
    except InvalidToken:
        raise UnreadableSecret("the webhook secret key has changed since this was stored") from None
