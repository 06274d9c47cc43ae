"""Sessions: sign-in with a password, refresh-token rotation and sign-out.

A session is a short-lived JWT access token plus an opaque refresh token. Refresh tokens form
families: each use spends the token and issues its successor in the same family, and presenting
a spent one means the chain leaked, so the whole family is revoked.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tortoise.transactions import in_transaction

from gateway.core.counters import Throttle
from gateway.core.errors import Unauthenticated, ValidationFailed
from gateway.core.settings import Settings
from gateway.repositories import tokens, users
from gateway.security.jwt import JwtCodec
from gateway.security.opaque import REFRESH_PREFIX, digest, new_secret
from gateway.security.passwords import hash_password, needs_rehash, verify_password
from gateway.services import login_throttle
from models import User

# One message for unknown user, wrong password and inactive account: nothing to enumerate.
BAD_CREDENTIALS = "Incorrect username, email or password"
BAD_REFRESH = "Invalid, expired or revoked refresh token"


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    expires_in: int
    refresh_token: str


def _account(user: User | None, identifier: str) -> str:
    # By user id when the account exists, so its username and email share one counter; by the
    # (hashed) name otherwise, so unknown names are throttled exactly like real ones.
    if user is not None:
        return f"user:{user.id}"
    return f"name:{digest(identifier.strip().lower())}"


async def login(
    identifier: str,
    password: str,
    *,
    address: str,
    throttle: Throttle,
    codec: JwtCodec,
    settings: Settings,
) -> TokenPair:
    """A new session for a username-or-email and password. Unknown user, wrong password and
    inactive account are the same error after the same work (one Argon2 verification)."""
    user = await users.by_login(identifier)
    attempt = await login_throttle.admit(
        throttle, _account(user, identifier), address, login_throttle.POLICY
    )
    valid = await verify_password(user.password_hash if user else None, password)
    if user is None or not valid or not user.is_active:
        raise Unauthenticated(BAD_CREDENTIALS)
    await attempt.succeeded()
    if needs_rehash(user.password_hash):
        await users.set_password_hash(user.id, await hash_password(password))
    return await _new_pair(user.id, uuid.uuid4(), codec, settings)


async def confirm_password(user: User, password: str, *, throttle: Throttle) -> None:
    """Check the signed-in user's current password before a sensitive change. Guesses are
    throttled like sign-in attempts from an address of their own, so a stolen session cannot
    guess it, and count towards the account's lock."""
    attempt = await login_throttle.admit(throttle, _account(user, ""), None, login_throttle.POLICY)
    if not await verify_password(user.password_hash, password):
        raise ValidationFailed.on("current_password", "is incorrect")
    await attempt.succeeded()


async def _new_pair(
    user_id: int, family_id: uuid.UUID, codec: JwtCodec, settings: Settings
) -> TokenPair:
    secret = new_secret(REFRESH_PREFIX)
    await tokens.create_refresh(
        user_id=user_id,
        family_id=family_id,
        token_digest=digest(secret),
        expires_at=datetime.now(UTC) + timedelta(seconds=settings.refresh_token_ttl_seconds),
    )
    access, _ = codec.issue(user_id)
    return TokenPair(access_token=access, expires_in=codec.ttl, refresh_token=secret)


async def refresh(secret: str, *, codec: JwtCodec, settings: Settings) -> TokenPair:
    """Spend a refresh token for a new pair in the same family, in one transaction. A token
    already spent (now or by a concurrent request) revokes its family; that revocation is
    committed before the 401 goes out."""
    now = datetime.now(UTC)
    pair: TokenPair | None = None
    async with in_transaction():
        record = await tokens.refresh_by_digest(digest(secret))
        if record is None or record.revoked_at is not None or not record.user.is_active:
            pass
        elif record.used_at is not None:
            await tokens.revoke_family(record.family_id, now)
        elif record.expires_at <= now:
            pass
        elif not await tokens.spend_refresh(record.id, now):
            # Lost the race to a concurrent spend of the same token: that is reuse too.
            await tokens.revoke_family(record.family_id, now)
        else:
            pair = await _new_pair(record.user.id, record.family_id, codec, settings)
    if pair is None:
        raise Unauthenticated(BAD_REFRESH)
    return pair


async def logout(secret: str) -> None:
    """Revoke the family of a refresh token, whatever state the token itself is in (signing
    out twice is fine); only a token this server never issued is UNAUTHENTICATED."""
    record = await tokens.refresh_by_digest(digest(secret))
    if record is None:
        raise Unauthenticated(BAD_REFRESH)
    await tokens.revoke_family(record.family_id, datetime.now(UTC))
