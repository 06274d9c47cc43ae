"""Graceful shutdown (issue 11, item 4), against a real `gateway serve`: SIGTERM during a burst
turns readiness 503 first, every request the server took gets its whole answer, subscriptions
end with a reconnect hint (then close code 1012), and the process exits by itself."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from gateway.core.settings import Settings
from gateway.http import lifecycle
from gateway.realtime.hub import Hub, Interrupted
from gateway.webhooks.worker import DeliveryWorker
from models import DeliveryState, WebhookDelivery
from tests.factories import make_world
from tests.gateway_process import bootstrap, serving
from tests.helpers import create_project, hook
from tests.subscription_helpers import PROTOCOL, WORKSPACE_EVENTS
from tests.webhook_receiver import Receiver, receiving

# Real processes and servers: left out of the inner loop by `pytest -m "not slow"`.
pytestmark = pytest.mark.slow

DRAIN = 1.5
BURST = 20  # answers the burst has had when the signal goes


def test_drain_hooks_run_once_and_late_hooks_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # The session app's hooks stay out of it: its streams must not end.
    monkeypatch.setattr(lifecycle, "_hooks", [])
    calls: list[str] = []
    lifecycle.reset()
    remove = lifecycle.on_drain(lambda: calls.append("a"))
    try:
        lifecycle.begin_drain()
        lifecycle.begin_drain()
        assert lifecycle.draining()
        assert calls == ["a"]
        late = lifecycle.on_drain(lambda: calls.append("b"))
        late()
        assert calls == ["a", "b"]
    finally:
        remove()
        lifecycle.reset()
    assert not lifecycle.draining()


async def test_a_closing_hub_ends_new_streams_with_the_reason() -> None:
    async def load(ids: Any) -> dict[int, Any]:
        return {}

    hub: Hub[Any] = Hub(load)
    before = hub.subscribe(1, lambda row: True, 10)
    hub.close_for_restart("restarting")
    after = hub.subscribe(1, lambda row: True, 10)
    for inbox in (before, after):
        with pytest.raises(Interrupted, match="restarting"):
            await inbox.next(0.1)


async def _subscribe(base: str, token: str, slug: str) -> Any:
    ws = await connect(base.replace("http", "ws") + "/graphql", subprotocols=[PROTOCOL])
    init = {"type": "connection_init", "payload": {"Authorization": token}}
    await ws.send(json.dumps(init))
    assert json.loads(await asyncio.wait_for(ws.recv(), 5))["type"] == "connection_ack"
    payload = {"query": WORKSPACE_EVENTS, "variables": {"w": slug}}
    await ws.send(json.dumps({"id": "s", "type": "subscribe", "payload": payload}))
    return ws


async def _until_closed(ws: Any) -> tuple[list[dict[str, Any]], ConnectionClosed]:
    """Every message until the server closes the socket, and how it closed it."""
    messages: list[dict[str, Any]] = []
    while True:
        try:
            messages.append(json.loads(await asyncio.wait_for(ws.recv(), 10)))
        except ConnectionClosed as closed:
            return messages, closed


async def test_sigterm_during_a_burst(tmp_path: Path, database_url: str) -> None:
    extra = {
        "GATEWAY_SHUTDOWN_DRAIN_SECONDS": str(DRAIN),
        "GATEWAY_SHUTDOWN_GRACE_SECONDS": "10",
    }
    async with serving(database_url, tmp_path / "server.log", extra) as served:
        limits = httpx.Limits(max_keepalive_connections=0)  # one connection a request
        async with httpx.AsyncClient(base_url=served.base, timeout=20, limits=limits) as http:
            writer = await bootstrap(http)
            ws = await _subscribe(served.base, writer.headers["Authorization"], writer.slug)
            answers: list[httpx.Response] = []
            failures: list[str] = []
            flowing = asyncio.Event()  # set once BURST answers came back
            stop_sending = asyncio.Event()

            async def client(n: int) -> None:
                i = 0
                while not stop_sending.is_set():
                    i += 1
                    try:
                        if i % 2:
                            call = http.post(
                                writer.issues, json={"title": f"burst {n}.{i}"},
                                headers=writer.headers,
                            )  # fmt: skip
                        else:
                            call = http.get(writer.issues, headers=writer.headers)
                        answer = await call
                        answer.json()  # a whole body, or this raises
                        answers.append(answer)
                        if len(answers) >= BURST:
                            flowing.set()
                    except (httpx.HTTPError, ValueError) as exc:
                        failures.append(f"{type(exc).__name__}: {exc}")

            burst = [asyncio.create_task(client(n)) for n in range(12)]
            # Signal in full flow, however fast this machine answers (not after a fixed time).
            async with asyncio.timeout(30):
                await flowing.wait()
            served.process.send_signal(signal.SIGTERM)
            signalled = time.monotonic()
            # A load balancer's view: readiness turns 503 while requests are still served.
            while True:
                ready = await http.get("/readyz")
                if ready.status_code == 503:
                    break
                assert time.monotonic() - signalled < DRAIN, "readiness never turned 503"
                await asyncio.sleep(0.05)
            readiness_turned = time.monotonic() - signalled
            stop_sending.set()  # it then sends no more; the requests under way must finish
            await asyncio.gather(*burst)
            messages, closed = await _until_closed(ws)
        served.process.wait(timeout=DRAIN + 15)

    assert failures == [], failures[:5]
    assert readiness_turned < DRAIN
    assert len(answers) > BURST  # and more finished after the signal
    assert {a.status_code for a in answers} <= {200, 201}, {a.status_code for a in answers}
    hints = [m for m in messages if m["type"] == "error" or "errors" in m.get("payload", {})]
    assert len(hints) == 1, messages
    hint = hints[0]
    errors = hint["payload"] if hint["type"] == "error" else hint["payload"]["errors"]
    assert errors[0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert "restarting" in errors[0]["message"]
    assert "after" in errors[0]["message"]
    assert closed.rcvd is not None
    assert closed.rcvd.code == 1012
    assert "timeout graceful shutdown exceeded" not in served.output()


async def test_a_stopping_worker_hands_unfinished_deliveries_back(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings
) -> None:
    """An attempt cut by shutdown is unrecorded and its lease cleared: due again at once."""
    world = await make_world(app, project=False)
    slow = Receiver(hold=True)  # the attempt is under way until the worker gives up
    local = settings.model_copy(
        update={
            "webhook_allow_private": True,
            "webhook_timeout_seconds": 10.0,
            "webhook_poll_seconds": 0.05,
        }
    )
    async with receiving(slow):
        await hook(world, local, slow.url)
        await create_project(client, world, "WEB")
        worker = DeliveryWorker(local)
        worker.start()
        await asyncio.wait_for(slow.arrived.wait(), 5)
        began = time.monotonic()
        await worker.stop(grace=0.2)
        stopped_in = time.monotonic() - began
        slow.release.set()
    row = await WebhookDelivery.get()
    assert stopped_in < 2
    assert (row.state, row.attempts, row.lease_token, row.leased_until) == (
        DeliveryState.pending, 0, None, None,
    )  # fmt: skip
