"""Queries on remembered `Idempotency-Key` answers (`models.IdempotencyRecord`).

The unique (scope, key) constraint does the locking: whichever request inserts the row first
owns the key, in this process or any other.
"""

from __future__ import annotations

from datetime import datetime

from tortoise.exceptions import IntegrityError

from models import IdempotencyRecord

Header = tuple[str, str]


async def reserve(
    *, scope: str, key: str, fingerprint: str, lease_until: datetime
) -> IdempotencyRecord | None:
    """A pending row for (scope, key), or None when a row for it already exists."""
    try:
        return await IdempotencyRecord.create(
            scope=scope, key=key, fingerprint=fingerprint, expires_at=lease_until
        )
    except IntegrityError:
        return None


async def find(scope: str, key: str) -> IdempotencyRecord | None:
    return await IdempotencyRecord.filter(scope=scope, key=key).first()


async def complete(
    record_id: int, *, status: int, headers: list[Header], body: bytes, expires_at: datetime
) -> None:
    """Store the answer of a reserved key; it is replayed until `expires_at`."""
    await IdempotencyRecord.filter(id=record_id).update(
        status=status, headers=[list(h) for h in headers], body=body, expires_at=expires_at
    )


async def release(record_id: int) -> None:
    """Forget a reservation whose answer is not to be replayed (so a retry runs again)."""
    await IdempotencyRecord.filter(id=record_id).delete()


async def discard_if_expired(record_id: int, now: datetime) -> None:
    """Delete one row, only if it has expired (another request may have renewed it)."""
    await IdempotencyRecord.filter(id=record_id, expires_at__lte=now).delete()


async def purge_expired(now: datetime) -> int:
    """Delete every expired row (answers past their window, abandoned reservations)."""
    deleted: int = await IdempotencyRecord.filter(expires_at__lte=now).delete()
    return deleted
