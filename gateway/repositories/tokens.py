"""Queries on personal access tokens and refresh tokens."""

from __future__ import annotations

from datetime import datetime

from models import PersonalAccessToken


async def personal_by_digest(token_digest: str) -> PersonalAccessToken | None:
    """The token with this hash, its user joined (one statement)."""
    return await PersonalAccessToken.filter(token_hash=token_digest).select_related("user").first()


async def touch_personal(token_id: int, now: datetime) -> None:
    await PersonalAccessToken.filter(id=token_id).update(last_used_at=now)
