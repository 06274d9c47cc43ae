"""The outbox survives `kill -9`: a real `gateway serve` process is killed while it sends a
delivery, with more pending behind it; after a restart every delivery is sent (the one in
flight again: at least once) and none is lost. The receiver is a real server on loopback."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from gateway.core.settings import Settings
from gateway.services import webhooks
from gateway.services.webhook_inputs import WebhookCreate
from models import DeliveryState, WebhookDelivery
from tests.auth_helpers import principal_of
from tests.environment import STARTUP_SECONDS, TEST_SECRET, child_environment, free_port
from tests.factories import World
from tests.webhook_receiver import Receiver, receiving

# Real processes and servers: left out of the inner loop by `pytest -m "not slow"`.
pytestmark = pytest.mark.slow

GATEWAY = str(Path(sys.executable).parent / "gateway")
PENDING = 4
CONCURRENCY = 8


def _env(database_url: str, timeout: float) -> dict[str, str]:
    env = child_environment()
    return env | {
        "GATEWAY_DATABASE_URL": database_url,
        "GATEWAY_JWT_SECRET": TEST_SECRET,
        "GATEWAY_WEBHOOK_ALLOW_PRIVATE": "true",
        "GATEWAY_WEBHOOK_TIMEOUT_SECONDS": str(timeout),
        "GATEWAY_WEBHOOK_POLL_SECONDS": "0.1",
        "GATEWAY_WEBHOOK_CONCURRENCY": str(CONCURRENCY),
    }


class Server:
    """`gateway serve` on a free port; always stopped by `stop()`."""

    def __init__(self, database_url: str, timeout: float = 1) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [GATEWAY, "serve", "--port", str(self.port)],
            env=_env(database_url, timeout),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    async def ready(self) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        async with httpx.AsyncClient(timeout=2) as http:
            while True:
                try:
                    if (await http.get(f"http://127.0.0.1:{self.port}/readyz")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                assert self.process.poll() is None, "the server exited"
                assert time.monotonic() < deadline, "the server did not start"
                await asyncio.sleep(0.1)

    def kill(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=15)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)


@pytest.fixture
async def servers(database_url: str) -> AsyncIterator[list[Server]]:
    started: list[Server] = []
    yield started
    for server in started:
        server.stop()


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
    settings: Settings,
    database_url: str,
    servers: list[Server],
) -> None:
    local = settings.model_copy(update={"webhook_allow_private": True})
    async with receiving(Receiver(hold=True)) as receiver:
        await webhooks.create_webhook(
            principal_of(empty_world.users["admin"]),
            local,
            "acme",
            WebhookCreate(url=receiver.url, events=["project.created"]),
        )
        for n in range(PENDING):
            made = await client.post(
                "/api/v1/workspaces/acme/projects",
                json={"key": f"P{n}X", "name": f"Project {n}"},
                headers=empty_world.h("admin"),
            )
            assert made.status_code == 201, made.text
        pending = [str(row.guid) for row in await WebhookDelivery.all().order_by("id")]
        assert len(pending) == PENDING

        first = Server(database_url)
        servers.append(first)
        await asyncio.wait_for(receiver.arrived.wait(), timeout=30)
        first.kill()  # mid-send: the attempt is never recorded, its lease never given back
        assert receiver.guids() == pending[:1]  # the rest wait behind it, in order
        head = await WebhookDelivery.get(guid=pending[0])
        assert (head.state, head.attempts, head.lease_token is not None) == (
            DeliveryState.pending,
            0,
            True,
        )

        receiver.hold = False
        receiver.release.set()
        second = Server(database_url)
        servers.append(second)
        await second.ready()
        rows = await _all_sent(time.monotonic() + 30)
        second.stop()

    assert [str(row.guid) for row in rows] == pending
    delivered = receiver.guids()
    assert set(delivered) == set(pending)  # none lost
    assert delivered.count(pending[0]) == 2  # the one in flight, sent again: at least once
    assert delivered[1:] == pending  # in commit order
    assert all(row.attempts == 1 and row.response_status == 200 for row in rows)


async def test_two_processes_on_postgresql_send_each_delivery_once(
    client: httpx.AsyncClient,
    empty_world: World,
    settings: Settings,
    database_url: str,
    servers: list[Server],
) -> None:
    if not database_url.startswith("postgres"):
        pytest.skip("processes share an outbox on PostgreSQL; SQLite runs one process")
    local = settings.model_copy(update={"webhook_allow_private": True})
    # 16 webhooks, so 16 deliveries may be under way at once, but one process sends at most 8
    # (GATEWAY_WEBHOOK_CONCURRENCY): the receiver holds them until 9 arrive, which only two
    # processes sharing the outbox can do.
    async with receiving(Receiver(gather=CONCURRENCY + 1)) as receiver:
        for _ in range(2 * CONCURRENCY):
            await webhooks.create_webhook(
                principal_of(empty_world.users["admin"]),
                local,
                "acme",
                WebhookCreate(url=receiver.url, events=["project.created"]),
            )
        for n in range(2):
            made = await client.post(
                "/api/v1/workspaces/acme/projects",
                json={"key": f"P{n}X", "name": f"Project {n}"},
                headers=empty_world.h("admin"),
            )
            assert made.status_code == 201, made.text
        # The first process's requests wait at the receiver until the second one starts
        # sending: give them time for that start on a busy machine (answered at once after).
        servers.extend([Server(database_url, timeout=10), Server(database_url, timeout=10)])
        rows = await _all_sent(time.monotonic() + 40)
        assert receiver.gathered.is_set(), "the two processes never sent at the same time"
    delivered = receiver.guids()
    assert len(rows) == 4 * CONCURRENCY
    assert sorted(delivered) == sorted(str(row.guid) for row in rows)  # each once, none twice
