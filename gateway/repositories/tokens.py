"""Queries on personal access tokens and refresh tokens."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from gateway.core.paging import Page, PageArgs, keyset_page, order
from models import PersonalAccessToken, RefreshToken

# What a token listing shows: never `token_hash`.
PERSONAL_FIELDS = (
    "id",
    "name",
    "prefix",
    "scopes",
    "expires_at",
    "last_used_at",
    "created_at",
)
_NEWEST_FIRST = order("-id")

# ---- personal access tokens ----


async def personal_by_digest(token_digest: str) -> PersonalAccessToken | None:
    """The token with this hash, its user joined (one statement)."""
    return await PersonalAccessToken.filter(token_hash=token_digest).select_related("user").first()


async def touch_personal(token_id: int, now: datetime) -> None:
    await PersonalAccessToken.filter(id=token_id).update(last_used_at=now)


async def create_personal(
    *,
    user_id: int,
    name: str,
    token_digest: str,
    prefix: str,
    scopes: list[str],
    expires_at: datetime | None,
) -> PersonalAccessToken:
    return await PersonalAccessToken.create(
        user_id=user_id,
        name=name,
        token_hash=token_digest,
        prefix=prefix,
        scopes=scopes,
        expires_at=expires_at,
    )


async def live_personal_page(user_id: int, args: PageArgs) -> Page:
    """A page of a user's unrevoked tokens, newest first (keyset on the (user_id, id) index,
    so every page costs the same)."""
    return await keyset_page(
        PersonalAccessToken.filter(user_id=user_id, revoked_at__isnull=True),
        _NEWEST_FIRST,
        **args,
        fields=PERSONAL_FIELDS,
        scope=f"user:{user_id}",
    )


async def live_personal(user_id: int, token_id: int) -> PersonalAccessToken | None:
    """One unrevoked token, only if it belongs to `user_id`."""
    return await PersonalAccessToken.filter(
        id=token_id, user_id=user_id, revoked_at__isnull=True
    ).first()


async def revoke_personal(user_id: int, token_id: int, now: datetime) -> bool:
    """Revoke one of the user's live tokens; False when there was none to revoke."""
    updated = await PersonalAccessToken.filter(
        id=token_id, user_id=user_id, revoked_at__isnull=True
    ).update(revoked_at=now)
    return updated > 0


# ---- refresh tokens ----


async def create_refresh(
    *, user_id: int, family_id: UUID, token_digest: str, expires_at: datetime
) -> RefreshToken:
    return await RefreshToken.create(
        user_id=user_id, family_id=family_id, token_hash=token_digest, expires_at=expires_at
    )


async def refresh_by_digest(token_digest: str) -> RefreshToken | None:
    """The refresh token with this hash, its user joined."""
    return await RefreshToken.filter(token_hash=token_digest).select_related("user").first()


async def spend_refresh(token_id: int, now: datetime) -> bool:
    """Mark a live token used. Compare-and-set: of two concurrent spends exactly one gets
    True, on every backend, without relying on row locks."""
    updated = await RefreshToken.filter(
        id=token_id, used_at__isnull=True, revoked_at__isnull=True
    ).update(used_at=now)
    return updated > 0


async def revoke_family(family_id: UUID, now: datetime) -> None:
    await RefreshToken.filter(family_id=family_id, revoked_at__isnull=True).update(revoked_at=now)


async def revoke_all_refresh(user_id: int, now: datetime) -> None:
    """Every refresh token of a user: signs out all their sessions."""
    await RefreshToken.filter(user_id=user_id, revoked_at__isnull=True).update(revoked_at=now)
