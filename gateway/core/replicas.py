"""Read replicas (ADR 0020): with `GATEWAY_DATABASE_REPLICA_URL`, a request's reads go to a
PostgreSQL streaming replica and everything else to the primary.

The decision is made once per HTTP request, by `gateway.http.middleware.read_routing` (pure
ASGI, outside every other middleware), and carried in a context variable that the PostgreSQL
engine (`gateway.core.postgres`) reads for each statement it is asked to run outside a
transaction:

- a `SELECT` (or `WITH`) goes to the replica when the request may read there, which is why the
  compiled reads (`gateway.reads.run.fetch_json`, one statement on the `default` connection)
  follow the routing without knowing of it;
- anything else (a write, a script, a transaction, and every statement inside it) goes to the
  primary, and marks the request as having written;
- a principal that wrote is sent to the primary for `GATEWAY_READ_YOUR_WRITES_SECONDS`
  afterwards, so it reads its own writes whatever the replica's lag. Principals are told apart
  by a hash of their credentials (`Authorization`, else the session cookie, else the peer
  address). With `GATEWAY_REDIS_URL` the writers are shared by every process (a key that
  expires with the window, set before the writing request's answer starts), so a read sent to
  another process after the answer also goes to the primary; without Redis they are kept in
  this process only (then send a client's requests to the same process).

Readiness (`/readyz`, `/healthz`), subscriptions (websockets) and background work (the webhook
worker, the event hub) never touch the replica.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Final

from redis.asyncio import Redis
from redis.exceptions import RedisError
from tortoise.backends.base.client import BaseDBAsyncClient

from gateway.core.settings import Settings

log = logging.getLogger("gateway.core.replicas")

REPLICA: Final = "replica"
_READS: Final = ("SELECT", "WITH")
# Above this many remembered writers, the ones whose window has passed are forgotten.
_PRUNE_AT: Final = 10_000


@dataclass(slots=True)
class Route:
    """One request's routing: may it read from the replica, and has it written yet?"""

    replica_allowed: bool
    on_write: Callable[[], None]
    wrote: bool = False

    def mark_written(self) -> None:
        # Remembered at once, not when the answer is done: the client may ask again as soon
        # as it has the answer's last byte.
        if not self.wrote:
            self.wrote = True
            self.on_write()


_route: ContextVar[Route | None] = ContextVar("switchyard_read_route", default=None)
# The replica's client: the same engine as the primary's (gateway.core.postgres), kept out of
# Tortoise's registry so that everything naming no connection still means the primary.
_client: BaseDBAsyncClient | None = None


def is_read(sql: str) -> bool:
    return sql.lstrip()[:6].upper().startswith(_READS)


def choose_replica(sql: str) -> bool:
    """Should this statement (outside a transaction) run on the replica? Records a write."""
    route = _route.get()
    if route is None:
        return False
    if not is_read(sql):
        route.mark_written()
        return False
    return route.replica_allowed and not route.wrote


def client_for(sql: str) -> BaseDBAsyncClient | None:
    """The replica's client when this statement should run there, else None."""
    if _client is None or not choose_replica(sql):
        return None
    return _client


@contextmanager
def serving(client: BaseDBAsyncClient) -> Iterator[None]:
    """Route the reads that may go to the replica to `client` (`gateway.core.postgres`'s
    `replica_connected` opens it for the app's lifespan)."""
    global _client
    previous, _client = _client, client
    try:
        yield
    finally:
        _client = previous


@contextmanager
def routed(route: Route) -> Iterator[None]:
    """Route the statements run inside (one HTTP request) by `route`."""
    token = _route.set(route)
    try:
        yield
    finally:
        _route.reset(token)


def wrote() -> None:
    """The request writes (a transaction starts): it reads from the primary from now on."""
    route = _route.get()
    if route is not None:
        route.mark_written()


@dataclass(slots=True)
class Replica:
    """The replica's URL and the writers to keep on the primary for a while (in this process,
    and in Redis for every process when `shared`)."""

    url: str
    read_your_writes_seconds: float
    clock: Callable[[], float] = time.monotonic
    shared: Redis | None = None
    namespace: str = "switchyard:writers:"
    _writers: dict[bytes, float] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Settings) -> Replica | None:
        if settings.database_replica_url is None:
            return None
        shared = None
        if settings.redis_url is not None:
            shared = Redis.from_url(settings.redis_url, socket_timeout=1, socket_connect_timeout=1)
        return cls(settings.database_replica_url, settings.read_your_writes_seconds, shared=shared)

    def may_read_here(self, principal: bytes) -> bool:
        until = self._writers.get(principal)
        return until is None or until <= self.clock()

    async def may_read(self, principal: bytes) -> bool:
        """Whether `principal`'s reads may go to the replica: it wrote nothing lately, through
        this process or (shared) any other."""
        if not self.may_read_here(principal):
            return False
        if self.shared is None:
            return True
        try:
            return not await self.shared.exists(self.namespace + principal.hex())
        except RedisError as exc:  # Redis away: this process's memory still holds
            log.warning("read-your-writes: Redis unreachable (%s)", exc)
            return True

    async def share_write(self, principal: bytes) -> None:
        """Tell every process that `principal` wrote (for the window)."""
        if self.shared is None:
            return
        window = max(1, round(self.read_your_writes_seconds * 1000))
        try:
            await self.shared.set(self.namespace + principal.hex(), b"1", px=window)
        except RedisError as exc:
            log.warning("read-your-writes: Redis unreachable (%s)", exc)

    def remember_write(self, principal: bytes) -> None:
        now = self.clock()
        if len(self._writers) >= _PRUNE_AT:
            self._writers = {k: v for k, v in self._writers.items() if v > now}
        self._writers[principal] = now + self.read_your_writes_seconds
