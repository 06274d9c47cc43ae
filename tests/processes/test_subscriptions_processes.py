"""Fan-out between processes: two real `gateway serve` processes on one database; an event
committed through REST in one reaches a subscriber of the other within a second, through
PostgreSQL LISTEN/NOTIFY, or through Redis pub/sub when `GATEWAY_REDIS_URL` is set."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from tests.auth_helpers import bearer, make_user, require_redis
from tests.gateway_process import Served, start, stop, wait_ready
from tests.subscription_helpers import WORKSPACE_EVENTS, Socket

# Real processes and servers: left out of the inner loop by `pytest -m "not slow"`.
pytestmark = pytest.mark.slow

REDIS_URL = os.environ.get("GATEWAY_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")


@asynccontextmanager
async def two_servers(
    database_url: str, tmp_path: Path, extra: dict[str, str] | None = None
) -> AsyncIterator[list[str]]:
    """Two `gateway serve` processes on `database_url`, signing tokens like the suite's app;
    their addresses; both stopped afterwards whatever happens."""
    started: list[Served] = []
    try:
        for name in ("a", "b"):
            started.append(start(database_url, tmp_path / f"{name}.log", extra))
        await asyncio.gather(*(wait_ready(served) for served in started))
        yield [served.base.removeprefix("http://") for served in started]
    finally:
        for served in started:
            stop(served.process)


async def _write_in_a_reaches_b(app: FastAPI, writer: str, reader: str) -> float:
    """Seconds from a REST write on `writer` to its event on a subscriber of `reader`."""
    ada = await make_user("ada")
    auth = bearer(app, ada)
    async with httpx.AsyncClient(base_url=f"http://{writer}", headers=auth, timeout=5) as http:
        made = await http.post("/api/v1/workspaces", json={"slug": "acme", "name": "Acme"})
        assert made.status_code == 201, made.text
        await http.post("/api/v1/workspaces/acme/projects", json={"key": "WEB", "name": "Web"})
        newest = await http.get("/api/v1/workspaces/acme/events", params={"limit": 1})
        after = newest.json()["items"][0]["node_id"]
        async with Socket.open(reader, auth) as ws:
            # With `after`, a write that beat the subscription would still come (replayed);
            # after the pause, the writes below come live, through the fan-out.
            await ws.subscribe("1", WORKSPACE_EVENTS, {"w": "acme", "after": after})
            assert await ws.quiet("1", 0.3)
            timings = []
            for n in range(3):
                began = time.monotonic()
                path = "/api/v1/workspaces/acme/projects/WEB/issues"
                created = await http.post(path, json={"title": f"from the other process {n}"})
                assert created.status_code == 201, created.text
                event = await ws.event("1", within=2)
                timings.append(time.monotonic() - began)
                assert event["type"] == "issue.created"
                assert event["issue"]["number"] == n + 1
                assert event["actor"] == {"username": "ada"}
    return max(timings)


async def test_postgres_notify_carries_events_between_processes(
    app: FastAPI, database_url: str, tmp_path: Path
) -> None:
    if not database_url.startswith("postgres"):
        pytest.skip("LISTEN/NOTIFY needs PostgreSQL (GATEWAY_TEST_DATABASE_URL)")
    async with two_servers(database_url, tmp_path) as (a, b):
        assert await _write_in_a_reaches_b(app, a, b) < 1.0


@pytest.fixture
def redis_channel() -> str:
    require_redis(REDIS_URL)
    return f"switchyard-test:{uuid.uuid4().hex}:events"  # no other run hears this one


async def test_redis_pubsub_carries_events_between_processes(
    app: FastAPI, database_url: str, tmp_path: Path, redis_channel: str
) -> None:
    extra = {"GATEWAY_REDIS_URL": REDIS_URL, "GATEWAY_REDIS_EVENTS_CHANNEL": redis_channel}
    async with two_servers(database_url, tmp_path, extra) as (a, b):
        assert await _write_in_a_reaches_b(app, a, b) < 1.0
