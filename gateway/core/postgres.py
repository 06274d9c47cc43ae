"""The PostgreSQL engine for Tortoise: its asyncpg client, fair and without a round trip on
release. Named as the engine of PostgreSQL URLs in `gateway.core.db`.

- asyncpg resets every connection it takes back into its pool with `SELECT
  pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`: one more round trip for every
  statement Tortoise sends outside a transaction (it acquires a connection per statement).
  Switchyard leaves no session state on pooled connections (no SET, advisory lock, LISTEN or
  open cursor), so a connection is reset only when it comes back inside a transaction, which
  only an error path can do.
- Statements are prepared once per connection (asyncpg), and planned once too: left to itself
  PostgreSQL plans a prepared statement afresh for each execution for as long as it guesses a
  custom plan beats the generic one, which for a compiled read (one statement, many
  parameters) cost more than executing it (0.19 of 0.5 ms for W1). Every statement the
  gateway sends is a short keyset-bounded read or a write by key, for which the generic plan
  is the plan; see history/adr/0015-compiled-reads.md.
- asyncpg's pool is not fair: a request arriving as a connection is released takes it before
  the one that has waited longest, which goes to the back of the queue. Under load some
  requests waited 30 times the median (bench p99). Statements outside transactions queue in a
  FIFO semaphore first, so connections are handed out in arrival order.
- With a read replica (`gateway.core.replicas`, ADR 0020), the `default` client hands the reads of
  a request that may read there to the `replica` connection, and notes every write.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Final

import asyncpg
from tortoise.backends.asyncpg.client import AsyncpgDBClient
from tortoise.backends.base.client import (
    BaseDBAsyncClient,
    PoolConnectionWrapper,
    TransactionContext,
)
from tortoise.backends.base.config_generator import expand_db_url

from gateway.core import replicas

SERVER_SETTINGS: Final = {"plan_cache_mode": "force_generic_plan"}


async def _reset(connection: asyncpg.Connection) -> None:
    if connection.is_in_transaction():
        await connection.reset()  # asyncpg's full reset: rolls back, then clears the session


class _InTurn(PoolConnectionWrapper[asyncpg.Connection]):
    """A pooled connection, taken in arrival order (`asyncio.Semaphore` queues newcomers
    behind those already waiting)."""

    __slots__ = ("_turns",)

    def __init__(
        self, client: BaseDBAsyncClient, pool_init_lock: asyncio.Lock, turns: asyncio.Semaphore
    ) -> None:
        super().__init__(client, pool_init_lock)
        self._turns = turns

    async def __aenter__(self) -> asyncpg.Connection:
        await self._turns.acquire()
        try:
            return await super().__aenter__()
        except BaseException:
            self._turns.release()
            raise

    async def __aexit__(self, exc_type: Any, exc_val: Any, exc_tb: Any) -> None:
        try:
            await super().__aexit__(exc_type, exc_val, exc_tb)
        finally:
            self._turns.release()


class Client(AsyncpgDBClient):
    """Tortoise's asyncpg client with a fair queue and no reset query for clean connections."""

    _turns: asyncio.Semaphore | None = None

    async def create_pool(self, **kwargs: Any) -> asyncpg.Pool:
        settings = {**(kwargs.pop("server_settings", None) or {}), **SERVER_SETTINGS}
        return await asyncpg.create_pool(None, reset=_reset, server_settings=settings, **kwargs)

    def acquire_connection(self) -> _InTurn:
        if self._turns is None:
            self._turns = asyncio.Semaphore(int(self.pool_maxsize))
        return _InTurn(self, self._pool_init_lock, self._turns)

    # Read routing (gateway.core.replicas). Statements inside a transaction run on its connection
    # (Tortoise's TransactionWrapper), never through these.
    def _replica(self, query: str) -> BaseDBAsyncClient | None:
        if self.connection_name == replicas.REPLICA:
            return None
        return replicas.client_for(query)

    async def execute_query(self, query: str, values: list[Any] | None = None) -> Any:
        replica = self._replica(query)
        if replica is not None:
            return await replica.execute_query(query, values)
        return await super().execute_query(query, values)

    async def execute_query_dict(self, query: str, values: list[Any] | None = None) -> Any:
        replica = self._replica(query)
        if replica is not None:
            return await replica.execute_query_dict(query, values)
        return await super().execute_query_dict(query, values)

    def _in_transaction(self) -> TransactionContext:
        replicas.wrote()
        return super()._in_transaction()

    async def execute_insert(self, query: str, values: list[Any]) -> Any:
        replicas.wrote()
        return await super().execute_insert(query, values)

    async def execute_many(self, query: str, values: list[Any]) -> None:
        replicas.wrote()
        await super().execute_many(query, values)

    async def execute_script(self, query: str) -> None:
        replicas.wrote()
        await super().execute_script(query)


client_class = Client


@asynccontextmanager
async def replica_connected(replica: replicas.Replica | None) -> AsyncIterator[None]:
    """The replica's client (its pool opened on first use) for the app's lifespan: this
    engine, kept out of Tortoise's registry so that everything naming no connection still
    means the primary."""
    if replica is None:
        yield
        return
    credentials = expand_db_url(replica.url)["credentials"]
    client = Client(connection_name=replicas.REPLICA, **credentials)
    try:
        with replicas.serving(client):
            yield
    finally:
        await client.close()
