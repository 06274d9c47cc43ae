"""The outbox survives `kill -9`: a real `gateway serve` process is killed while it sends a
delivery, with more pending behind it; after a restart every delivery is sent (the one in
flight again: at least once) and none is lost. The receiver is a real server on loopback."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from gateway.core.settings import Settings
from models import DeliveryState, WebhookDelivery
from tests.factories import World
from tests.gateway_process import Served, start, stop, wait_ready
from tests.helpers import create_project, hook
from tests.webhook_receiver import Receiver, receiving

# Real processes and servers: left out of the inner loop by `pytest -m "not slow"`.
pytestmark = pytest.mark.slow

PENDING = 4
CONCURRENCY = 8


@pytest.fixture
def local(settings: Settings) -> Settings:
    """The suite's settings, allowing webhooks to the loopback receiver."""
    return settings.model_copy(update={"webhook_allow_private": True})


@pytest.fixture
def serve(database_url: str, tmp_path: Path) -> Iterator[Callable[[float], Served]]:
    """Starts a `gateway serve` (without waiting for it) whose webhook requests time out after
    the seconds given; every one started is stopped afterwards."""
    started: list[Served] = []

    def serve_one(timeout: float) -> Served:
        extra = {
            "GATEWAY_WEBHOOK_WORKER_ENABLED": "true",  # off by default in the test environment
            "GATEWAY_WEBHOOK_ALLOW_PRIVATE": "true",
            "GATEWAY_WEBHOOK_TIMEOUT_SECONDS": str(timeout),
            "GATEWAY_WEBHOOK_POLL_SECONDS": "0.1",
            "GATEWAY_WEBHOOK_CONCURRENCY": str(CONCURRENCY),
        }
        started.append(start(database_url, tmp_path / f"server{len(started)}.log", extra))
        return started[-1]

    yield serve_one
    for served in started:
        stop(served.process)


async def _all_sent(deadline: float) -> list[WebhookDelivery]:
    while True:
        rows = await WebhookDelivery.all().order_by("id")
        if rows and all(row.state is DeliveryState.succeeded for row in rows):
            return rows
        assert time.monotonic() < deadline, [(r.id, r.state, r.error) for r in rows]
        await asyncio.sleep(0.1)


async def test_kill_9_loses_no_pending_delivery(
    client: httpx.AsyncClient,
    empty_world: World,
    local: Settings,
    serve: Callable[[float], Served],
) -> None:
    async with receiving(Receiver(hold=True)) as receiver:
        await hook(empty_world, local, receiver.url, ["project.created"])
        for n in range(PENDING):
            await create_project(client, empty_world, f"P{n}X")
        pending = [str(row.guid) for row in await WebhookDelivery.all().order_by("id")]
        assert len(pending) == PENDING

        first = serve(1)
        await asyncio.wait_for(receiver.arrived.wait(), timeout=30)
        # mid-send: the attempt is never recorded, its lease never given back
        os.kill(first.process.pid, signal.SIGKILL)
        first.process.wait(timeout=15)
        assert receiver.guids() == pending[:1]  # the rest wait behind it, in order
        head = await WebhookDelivery.get(guid=pending[0])
        assert (head.state, head.attempts, head.lease_token is not None) == (
            DeliveryState.pending,
            0,
            True,
        )

        receiver.hold = False
        receiver.release.set()
        second = serve(1)
        await wait_ready(second)
        rows = await _all_sent(time.monotonic() + 30)
        stop(second.process)

    assert [str(row.guid) for row in rows] == pending
    delivered = receiver.guids()
    assert set(delivered) == set(pending)  # none lost
    assert delivered.count(pending[0]) == 2  # the one in flight, sent again: at least once
    assert delivered[1:] == pending  # in commit order
    assert all(row.attempts == 1 and row.response_status == 200 for row in rows)


async def test_two_processes_on_postgresql_send_each_delivery_once(
    client: httpx.AsyncClient,
    empty_world: World,
    local: Settings,
    database_url: str,
    serve: Callable[[float], Served],
) -> None:
    if not database_url.startswith("postgres"):
        pytest.skip("processes share an outbox on PostgreSQL; SQLite runs one process")
    # 16 webhooks, so 16 deliveries may be under way at once, but one process sends at most 8
    # (GATEWAY_WEBHOOK_CONCURRENCY): the receiver holds them until 9 arrive, which only two
    # processes sharing the outbox can do.
    async with receiving(Receiver(gather=CONCURRENCY + 1)) as receiver:
        for _ in range(2 * CONCURRENCY):
            await hook(empty_world, local, receiver.url, ["project.created"])
        for n in range(2):
            await create_project(client, empty_world, f"P{n}X")
        # The first process's requests wait at the receiver until the second one starts
        # sending: give them time for that start on a busy machine (answered at once after).
        serve(10), serve(10)
        rows = await _all_sent(time.monotonic() + 40)
        assert receiver.gathered.is_set(), "the two processes never sent at the same time"
    delivered = receiver.guids()
    assert len(rows) == 4 * CONCURRENCY
    assert sorted(delivered) == sorted(str(row.guid) for row in rows)  # each once, none twice
