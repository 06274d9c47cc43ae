"""The PostgreSQL engine for Tortoise: its asyncpg client, without a round trip on release.

asyncpg resets every connection it takes back into its pool with `SELECT
pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`: one more round trip for every
statement Tortoise sends outside a transaction (it acquires a connection per statement).
Switchyard leaves no session state on pooled connections (no SET, advisory lock, LISTEN or
open cursor), so a connection is reset only when it comes back inside a transaction, which
only an error path can do. Named as the engine of PostgreSQL URLs in `gateway.db`.
"""

from __future__ import annotations

from typing import Any

import asyncpg
from tortoise.backends.asyncpg.client import AsyncpgDBClient


async def _reset(connection: asyncpg.Connection) -> None:
    if connection.is_in_transaction():
        await connection.reset()  # asyncpg's full reset: rolls back, then clears the session


class Client(AsyncpgDBClient):
    """Tortoise's asyncpg client whose pool skips the reset query of clean connections."""

    async def create_pool(self, **kwargs: Any) -> asyncpg.Pool:
        return await asyncpg.create_pool(None, reset=_reset, **kwargs)


client_class = Client
