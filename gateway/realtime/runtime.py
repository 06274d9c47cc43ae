"""The process's one broker (a hub and the transport the settings choose), started and stopped
by the app's lifespan, and `announce`, which `gateway.services.recording.record` calls.

Like Tortoise's connections, the broker is process-wide: the services that record events know
no app. A process that runs no broker (a command-line job) announces nothing; its events still
reach late subscribers through `after`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from tortoise.backends.base.client import TransactionalDBClient

from gateway.core.settings import Settings
from gateway.http import lifecycle
from gateway.realtime.hub import Hub, Loader, Notice
from gateway.realtime.transports import (
    LocalTransport,
    PostgresTransport,
    RedisTransport,
    Transport,
)


@dataclass(frozen=True, slots=True)
class Broker:
    hub: Hub[Any]
    transport: Transport
    settings: Settings


_broker: Broker | None = None
RESTART_REASON = "the server is restarting (reconnect, to this address or another)"


def current() -> Broker | None:
    """The running broker, if this process runs one."""
    return _broker


def _transport(hub: Hub[Any], settings: Settings) -> Transport:
    if settings.redis_url:
        return RedisTransport(hub, settings.redis_url, settings.redis_events_channel)
    if urlsplit(settings.database_url).scheme in ("postgres", "asyncpg"):
        return PostgresTransport(hub, settings.database_url)
    return LocalTransport(hub)


@asynccontextmanager
async def running(settings: Settings, load: Loader[Any]) -> AsyncIterator[Broker]:
    """Run the broker for the duration of the block (the app's lifespan)."""
    global _broker
    hub: Hub[Any] = Hub(load)
    broker = Broker(hub, _transport(hub, settings), settings)
    hub.start()
    # Graceful shutdown: streams end before uvicorn closes their sockets (with close code 1012,
    # "service restart"), each with the `after` to resume from on another process.
    stop_hint = lifecycle.on_drain(lambda: hub.close_for_restart(RESTART_REASON))
    try:
        await broker.transport.start()
        previous, _broker = _broker, broker
        try:
            yield broker
        finally:
            _broker = previous
            await broker.transport.stop()
    finally:
        stop_hint()
        await hub.stop()


async def announce(db: TransactionalDBClient, workspace_id: int, event_id: int) -> None:
    """Tell every subscriber, in every process, about an event once `db` commits."""
    if _broker is not None:
        await _broker.transport.announce(db, Notice(workspace_id, event_id))
