"""Authentication: turning a presented bearer credential into a `Principal`.

Every defect is the same `Unauthenticated`, whatever it was, so a client learns nothing about
which part failed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gateway.core.errors import Unauthenticated
from gateway.repositories import tokens, users
from gateway.security.jwt import AccessClaims, JwtCodec
from gateway.security.opaque import digest, is_personal_token
from gateway.security.principal import Principal, Scope, TokenKind

# `last_used_at` is refreshed at most this often, so a busy script does not write on every call.
LAST_USED_GRANULARITY = timedelta(minutes=5)


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer …` header; None when there is no header."""
    if authorization is None:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Expected 'Authorization: Bearer <token>'")
    return token.strip()


async def authenticate(token: str, codec: JwtCodec) -> Principal:
    """The principal behind a bearer token (JWT access token or personal access token)."""
    if is_personal_token(token):
        return await _personal(token)
    return await access_principal(codec.decode(token))


async def access_principal(claims: AccessClaims) -> Principal:
    """The principal of a verified access token: its user, if still active."""
    user = await users.active_caller(claims.user_id)
    if user is None:
        raise Unauthenticated("Invalid or expired access token")
    return Principal(
        user_id=user.id,
        username=user.username,
        is_site_admin=user.is_site_admin,
        kind=TokenKind.access,
        scopes=frozenset(Scope),
    )


async def _personal(token: str) -> Principal:
    record = await tokens.personal_by_digest(digest(token))
    now = datetime.now(UTC)
    if (
        record is None
        or record.revoked_at is not None
        or (record.expires_at is not None and record.expires_at <= now)
        or not record.user.is_active
    ):
        raise Unauthenticated("Invalid, expired or revoked personal access token")
    if record.last_used_at is None or now - record.last_used_at >= LAST_USED_GRANULARITY:
        await tokens.touch_personal(record.id, now)
    return Principal(
        user_id=record.user.id,
        username=record.user.username,
        is_site_admin=record.user.is_site_admin,
        kind=TokenKind.personal,
        scopes=frozenset(Scope(s) for s in record.scopes),
        token_id=record.id,
    )
