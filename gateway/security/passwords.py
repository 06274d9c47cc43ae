"""Argon2id password hashing, run in a worker thread so the event loop never blocks."""

from __future__ import annotations

import asyncio
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError


@lru_cache
def hasher() -> PasswordHasher:
    """argon2-cffi's RFC 9106 low-memory profile (Argon2id)."""
    return PasswordHasher()


@lru_cache
def _dummy_hash() -> str:
    return hasher().hash("switchyard-timing-equaliser")


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(hasher().hash, password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def verify_password(password_hash: str | None, password: str) -> bool:
    """Check a password. With no hash (unknown user) a dummy hash is verified instead, so an
    unknown account costs the same time as a wrong password."""
    if password_hash is None:
        await asyncio.to_thread(_verify, _dummy_hash(), password)
        return False
    return await asyncio.to_thread(_verify, password_hash, password)


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with other parameters than today's."""
    return hasher().check_needs_rehash(password_hash)
