"""Queries on users."""

from __future__ import annotations

from models import User


async def get_active(user_id: int) -> User | None:
    return await User.filter(id=user_id, is_active=True).first()
