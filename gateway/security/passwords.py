"""Argon2id password hashing, run in a worker thread so the event loop never blocks.

The cost comes from settings (`use_cost`, called by the app factory and the CLI): RFC 9106's
low-memory profile by default, which production may not lower; tests lower it to run fast.
"""

from __future__ import annotations

import asyncio
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from gateway.core.settings import PASSWORD_HASH_MEMORY_KIB, PASSWORD_HASH_TIME_COST, Settings


@lru_cache
def _hasher(time_cost: int, memory_kib: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)


@lru_cache
def _dummy_hash(chosen: PasswordHasher) -> str:
    return chosen.hash("switchyard-timing-equaliser")


_cost = [PASSWORD_HASH_TIME_COST, PASSWORD_HASH_MEMORY_KIB]


def use_cost(settings: Settings) -> None:
    """Hash (and judge existing hashes) with the Argon2 cost of `settings` from now on."""
    _cost[:] = [settings.password_hash_time_cost, settings.password_hash_memory_kib]


def hasher() -> PasswordHasher:
    """The Argon2id hasher at the configured cost."""
    return _hasher(*_cost)


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(hasher().hash, password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def verify_password(password_hash: str | None, password: str) -> bool:
    """Check a password. With no hash (unknown user) a dummy hash made at today's cost is
    verified instead, so an unknown account costs the same time as a wrong password."""
    if password_hash is None:
        await asyncio.to_thread(_verify, _dummy_hash(hasher()), password)
        return False
    return await asyncio.to_thread(_verify, password_hash, password)


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with other parameters than today's."""
    return hasher().check_needs_rehash(password_hash)
