"""How an announcement travels from the writing process to every process with subscribers.

- `LocalTransport` (SQLite without Redis): straight to this process's hub, after the commit.
- `PostgresTransport`: `pg_notify` inside the event's own transaction, so PostgreSQL delivers it
  only if and when the transaction commits, in commit order; each process `LISTEN`s on a
  dedicated asyncpg connection of its own (never a pooled one: LISTEN is session state).
- `RedisTransport` (`GATEWAY_REDIS_URL`): published after the commit, in commit order by one
  publisher task per process; each process, itself included, hears it through one subscription.

A transport that loses its connection interrupts every local stream (their clients resume with
`after`, which reads the Event table, so nothing is missed) and reconnects in the background.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, Final, Protocol

import asyncpg
from redis.asyncio import Redis
from redis.exceptions import RedisError
from tortoise.backends.base.client import TransactionalDBClient
from tortoise.backends.base.config_generator import expand_db_url

from gateway.realtime.commit_hooks import after_commit
from gateway.realtime.hub import Hub, Notice

logger = logging.getLogger("gateway.realtime")

PG_CHANNEL: Final = "switchyard_events"
RECONNECT_SECONDS: Final = 1.0
LOST: Final = "the server lost its event feed"
# Announcements waiting to go to Redis; past this Redis is down or far too slow.
PUBLISH_BACKLOG: Final = 10_000


class Transport(Protocol):
    connected: bool

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def announce(self, db: TransactionalDBClient, notice: Notice) -> None:
        """Announce `notice` once `db`'s transaction commits (and never if it rolls back)."""


class LocalTransport:
    """One process: the hub hears what this process commits."""

    def __init__(self, hub: Hub[Any]) -> None:
        self._hub = hub
        self.connected = True

    async def start(self) -> None:
        """Nothing to connect."""

    async def stop(self) -> None:
        """Nothing to close."""

    async def announce(self, db: TransactionalDBClient, notice: Notice) -> None:
        after_commit(db, lambda: self._hub.notify(notice))


class PostgresTransport:
    """`NOTIFY` in the writer's transaction, `LISTEN` on a connection of our own."""

    def __init__(self, hub: Hub[Any], database_url: str) -> None:
        self._hub = hub
        # What asyncpg.connect takes of the URL Tortoise reads (not its pool sizes).
        credentials = expand_db_url(database_url)["credentials"]
        self._connect_args = {
            name: credentials[name]
            for name in ("host", "port", "user", "password", "database", "ssl")
            if name in credentials
        }
        self._connection: asyncpg.Connection | None = None
        self._reconnect: asyncio.Task[None] | None = None
        self.connected = False

    async def start(self) -> None:
        try:
            await self._listen()
        except (OSError, asyncpg.PostgresError) as exc:
            logger.warning("cannot LISTEN for events yet (%s); retrying", exc)
            self._schedule_reconnect()

    async def stop(self) -> None:
        if self._reconnect is not None:
            self._reconnect.cancel()
            await asyncio.gather(self._reconnect, return_exceptions=True)
        connection, self._connection = self._connection, None
        self.connected = False
        if connection is not None and not connection.is_closed():
            connection.remove_termination_listener(self._lost)
            await connection.close(timeout=5)

    async def announce(self, db: TransactionalDBClient, notice: Notice) -> None:
        await db.execute_query("SELECT pg_notify($1, $2)", [PG_CHANNEL, notice.encode()])

    async def _listen(self) -> None:
        connection = await asyncpg.connect(**self._connect_args)
        await connection.add_listener(PG_CHANNEL, self._heard)
        connection.add_termination_listener(self._lost)
        self._connection = connection
        self.connected = True

    def _heard(self, connection: Any, pid: int, channel: str, payload: str) -> None:
        notice = Notice.decode(payload)
        if notice is not None:
            self._hub.notify(notice)

    def _lost(self, connection: Any) -> None:
        self.connected = False
        self._connection = None
        self._hub.interrupt_all(LOST)
        self._schedule_reconnect()

    def _schedule_reconnect(self) -> None:
        if self._reconnect is None or self._reconnect.done():
            self._reconnect = asyncio.create_task(self._reconnect_loop())

    async def _reconnect_loop(self) -> None:
        while self._connection is None:
            await asyncio.sleep(RECONNECT_SECONDS)
            try:
                await self._listen()
            except (OSError, asyncpg.PostgresError) as exc:
                logger.warning("cannot LISTEN for events (%s); retrying", exc)


class RedisTransport:
    """`PUBLISH` after the commit, one `SUBSCRIBE` per process."""

    def __init__(self, hub: Hub[Any], url: str, channel: str) -> None:
        self._hub = hub
        self._client: Redis = Redis.from_url(url)
        self._channel = channel
        self._outgoing: asyncio.Queue[str] = asyncio.Queue(PUBLISH_BACKLOG)
        self._tasks: list[asyncio.Task[None]] = []
        self._subscribed = asyncio.Event()
        self.connected = False

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._publish_loop(), name="realtime-redis-publish"),
            asyncio.create_task(self._listen_loop(), name="realtime-redis-listen"),
        ]
        # Serve at once if Redis is down (streams then answer SERVICE_UNAVAILABLE), but give a
        # healthy Redis the moment it needs, so the first subscriber finds the feed up.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._subscribed.wait(), 5)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self.connected = False
        await self._client.aclose()

    async def announce(self, db: TransactionalDBClient, notice: Notice) -> None:
        after_commit(db, lambda: self._queue(notice.encode()))

    def _queue(self, payload: str) -> None:
        try:
            self._outgoing.put_nowait(payload)
        except asyncio.QueueFull:
            logger.warning("event announcement dropped: Redis is not keeping up")

    async def _publish_loop(self) -> None:
        while True:
            payload = await self._outgoing.get()
            try:
                await self._client.publish(self._channel, payload)
            except (RedisError, OSError) as exc:
                # Subscribers elsewhere miss it live; `after` still finds it in the table.
                logger.warning("event announcement not published (%s)", exc)

    async def _listen_loop(self) -> None:
        while True:
            try:
                await self._listen()
            except (RedisError, OSError) as exc:
                logger.warning("event feed from Redis lost (%s); reconnecting", exc)
            if self.connected:
                self.connected = False
                self._hub.interrupt_all(LOST)
            await asyncio.sleep(RECONNECT_SECONDS)

    async def _listen(self) -> None:
        async with self._client.pubsub() as pubsub:
            await pubsub.subscribe(self._channel)
            self.connected = True
            self._subscribed.set()
            async for message in pubsub.listen():
                if message.get("type") != "message":
                    continue
                notice = Notice.decode(message["data"])
                if notice is not None:
                    self._hub.notify(notice)
