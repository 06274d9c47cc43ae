"""Delivering webhooks, with the worker run by hand on an injected clock against real
receivers on loopback: the signature checks out with the README's recipe, the body is the
feed's JSON, retries follow the schedule, a failed delivery can be redelivered, faults are
recorded with their status and duration, each webhook's deliveries keep commit order, the SSRF
guard is asked again at delivery time, and leases keep two workers off one delivery."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from tortoise import Tortoise

from gateway.core.settings import Settings
from gateway.repositories import deliveries as delivery_repo
from gateway.webhooks.schedule import DEFAULT_SCHEDULE
from gateway.webhooks.signing import USER_AGENT
from gateway.webhooks.worker import DeliveryWorker
from models import DeliveryState, Webhook, WebhookDelivery
from tests.factories import World
from tests.helpers import WEBHOOK_SECRET as SECRET
from tests.helpers import UtcClock, create_project, hook
from tests.sql_counter import count_sql
from tests.webhook_receiver import Receiver, hanging_up, receiving


@pytest.fixture
def local(settings: Settings) -> Settings:
    """The suite's settings with loopback targets allowed.

    The timeout is generous: on a loaded machine a local receiver can take longer than a
    short one, and a delivery that times out is retried later, which reorders what a test
    expects. The test of timeouts sets its own short one.
    """
    return settings.model_copy(
        update={"webhook_allow_private": True, "webhook_timeout_seconds": 5.0}
    )


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with receiving(Receiver()) as running:
        yield running


def readme_verify() -> Any:
    """The `verify` function of the README's recipe, run as a reader would copy it."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme[readme.index("### Webhooks") :]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None, "the README has no Python recipe under ### Webhooks"
    namespace: dict[str, Any] = {}
    exec(code.group(1), namespace)
    return namespace["verify"]


async def test_a_delivery_is_signed_and_carries_the_feed_item(
    client: httpx.AsyncClient, empty_world: World, local: Settings, receiver: Receiver
) -> None:
    hook_id = await hook(empty_world, local, receiver.url)
    await create_project(client, empty_world, "WEB")
    worker = DeliveryWorker(local, clock=UtcClock())
    try:
        assert await worker.run_once() == 1
    finally:
        await worker.stop()
    [got] = receiver.received
    assert readme_verify()(SECRET, got.body, got.headers["x-switchyard-signature-256"])
    assert not readme_verify()(
        "another-secret-000000", got.body, got.headers["x-switchyard-signature-256"]
    )
    assert got.headers["x-switchyard-event"] == "project.created"
    assert got.headers["user-agent"] == USER_AGENT
    assert USER_AGENT.startswith("Switchyard/")
    assert got.headers["content-type"] == "application/json"
    feed = await client.get("/api/v1/workspaces/acme/events", headers=empty_world.h("viewer"))
    assert json.loads(got.body) == feed.json()["items"][0]
    sent = await WebhookDelivery.get(webhook_id=hook_id)
    assert got.headers["x-switchyard-delivery"] == str(sent.guid)
    assert (sent.state, sent.attempts, sent.response_status) == (DeliveryState.succeeded, 1, 200)
    assert sent.duration_ms is not None
    assert sent.duration_ms >= 0
    assert sent.lease_token is None


async def test_retries_follow_the_schedule_then_fail_then_redeliver(
    client: httpx.AsyncClient, empty_world: World, local: Settings, receiver: Receiver
) -> None:
    receiver.status = 500
    hook_id = await hook(empty_world, local, receiver.url)
    await create_project(client, empty_world, "WEB")
    clock = UtcClock()
    worker = DeliveryWorker(local, clock=clock, draw=lambda: 1.0)  # the longest waits
    waits: list[timedelta] = []
    try:
        for attempt in range(1, DEFAULT_SCHEDULE.attempts + 1):
            assert await worker.run_once() == 1, attempt
            row = await WebhookDelivery.get(webhook_id=hook_id)
            assert (row.attempts, row.response_status, row.error) == (attempt, 500, "answered 500")
            if attempt == DEFAULT_SCHEDULE.attempts:
                assert row.state is DeliveryState.failed
                assert row.next_attempt_at is None
                break
            assert row.state is DeliveryState.pending
            assert row.next_attempt_at is not None
            wait = row.next_attempt_at - clock.now
            waits.append(wait)
            clock.advance(wait - timedelta(seconds=1))
            assert await worker.run_once() == 0  # not due yet: nothing is sent early
            clock.advance(timedelta(seconds=1))
        expected = [DEFAULT_SCHEDULE.first * 3**n * 1.2 for n in range(6)] + [
            DEFAULT_SCHEDULE.cap * 1.2
        ]
        assert [round(w.total_seconds()) for w in waits] == [
            round(e.total_seconds()) for e in expected
        ]
        assert DEFAULT_SCHEDULE.attempts >= 6
        shortest = sum(
            (
                DEFAULT_SCHEDULE.delay(n, 0.0) or timedelta()
                for n in range(1, DEFAULT_SCHEDULE.attempts)
            ),
            timedelta(),
        )
        assert shortest >= timedelta(hours=1)
        assert len(set(receiver.guids())) == 1  # one delivery id across every attempt

        clock.advance(timedelta(days=1))
        assert await worker.run_once() == 0  # failed: nothing more until redelivered
        receiver.status = 200
        row = await WebhookDelivery.get(webhook_id=hook_id)
        redelivered = await client.post(
            f"/api/v1/workspaces/acme/webhooks/{hook_id}/deliveries/{row.id}/redeliver",
            headers=empty_world.h("admin"),
        )
        assert redelivered.status_code == 202
        assert (redelivered.json()["state"], redelivered.json()["attempts"]) == ("pending", 0)
        assert await worker.run_once() == 1
    finally:
        await worker.stop()
    row = await WebhookDelivery.get(webhook_id=hook_id)
    assert (row.state, row.attempts, row.response_status) == (DeliveryState.succeeded, 1, 200)
    assert len(receiver.received) == DEFAULT_SCHEDULE.attempts + 1
    assert len(set(receiver.guids())) == 1


async def test_timeouts_and_hang_ups_are_recorded_and_retried(
    client: httpx.AsyncClient, empty_world: World, local: Settings
) -> None:
    slow = Receiver(delay=1.0)
    async with receiving(slow), hanging_up() as hangs_up:
        slow_hook = await hook(empty_world, local, slow.url)
        closing_hook = await hook(empty_world, local, hangs_up)
        refused_hook = await hook(empty_world, local, "http://127.0.0.1:9/hook")  # nothing listens
        await create_project(client, empty_world, "WEB")
        short = local.model_copy(update={"webhook_timeout_seconds": 0.5})
        worker = DeliveryWorker(short, clock=UtcClock(), draw=lambda: 0.5)
        try:
            assert await worker.run_once() == 3
        finally:
            await worker.stop()
    hooks = (slow_hook, closing_hook, refused_hook)
    rows = {pk: await WebhookDelivery.get(webhook_id=pk) for pk in hooks}
    for row in rows.values():
        assert (row.state, row.attempts, row.response_status) == (DeliveryState.pending, 1, None)
        assert row.duration_ms is not None
        assert row.error
    assert rows[slow_hook].error == "no answer within 0.5 s"
    assert 450 <= (rows[slow_hook].duration_ms or 0) < 1500
    assert "RemoteProtocolError" in (rows[closing_hook].error or "")
    assert "ConnectError" in (rows[refused_hook].error or "")


async def test_each_webhook_keeps_commit_order(
    client: httpx.AsyncClient, empty_world: World, local: Settings, receiver: Receiver
) -> None:
    receiver.statuses = [503]  # the first attempt fails, every later one succeeds
    ordered = await hook(empty_world, local, receiver.url)
    async with receiving(Receiver()) as other:
        independent = await hook(empty_world, local, other.url)
        for key in ("AAA", "BBB", "CCC"):
            await create_project(client, empty_world, key)
        clock = UtcClock()
        worker = DeliveryWorker(local, clock=clock, draw=lambda: 0.0)
        try:
            assert await worker.run_once() == 2  # each webhook's oldest, and only that
            assert await worker.run_once() == 1  # the other webhook goes on
            assert await worker.run_once() == 1
            assert await worker.run_once() == 0  # AAA waits for its retry; BBB waits for AAA
            clock.advance(timedelta(minutes=1))
            while await worker.run_once():
                pass
        finally:
            await worker.stop()
        keys = [json.loads(r.body)["data"]["key"] for r in receiver.received]
        assert keys == ["AAA", "AAA", "BBB", "CCC"]
        assert [json.loads(r.body)["data"]["key"] for r in other.received] == ["AAA", "BBB", "CCC"]
    states = {d.state for d in await WebhookDelivery.filter(webhook_id__in=[ordered, independent])}
    assert states == {DeliveryState.succeeded}


async def test_the_ssrf_guard_is_asked_again_at_delivery_time(
    client: httpx.AsyncClient,
    empty_world: World,
    local: Settings,
    settings: Settings,
    receiver: Receiver,
) -> None:
    hook_id = await hook(empty_world, local, receiver.url)  # saved while loopback was allowed
    await create_project(client, empty_world, "WEB")
    strict = settings.model_copy(update={"webhook_timeout_seconds": 0.5})
    worker = DeliveryWorker(strict, clock=UtcClock())
    try:
        assert await worker.run_once() == 1
    finally:
        await worker.stop()
    assert receiver.received == []
    row = await WebhookDelivery.get(webhook_id=hook_id)
    assert row.state is DeliveryState.pending
    assert row.response_status is None
    assert (row.error or "").startswith("refused: url host '127.0.0.1' is a private")


async def test_inactive_webhooks_hold_their_deliveries(
    client: httpx.AsyncClient, empty_world: World, local: Settings, receiver: Receiver
) -> None:
    hook_id = await hook(empty_world, local, receiver.url)
    await create_project(client, empty_world, "WEB")
    await Webhook.filter(id=hook_id).update(active=False)
    worker = DeliveryWorker(local, clock=UtcClock())
    try:
        assert await worker.run_once() == 0
        await Webhook.filter(id=hook_id).update(active=True)
        assert await worker.run_once() == 1
    finally:
        await worker.stop()
    assert len(receiver.received) == 1


async def test_a_lapsed_lease_is_taken_over_and_a_held_one_is_not(
    client: httpx.AsyncClient, empty_world: World, local: Settings, receiver: Receiver
) -> None:
    hook_id = await hook(empty_world, local, receiver.url)
    await create_project(client, empty_world, "WEB")
    clock = UtcClock()
    # A worker claims the delivery and dies before recording anything.
    [dead] = await delivery_repo.claim(clock.now, timedelta(seconds=30), 10)
    worker = DeliveryWorker(local, clock=clock)
    try:
        assert await worker.run_once() == 0  # leased: left alone
        clock.advance(timedelta(seconds=31))
        assert await worker.run_once() == 1
    finally:
        await worker.stop()
    row = await WebhookDelivery.get(webhook_id=hook_id)
    assert (row.state, row.attempts) == (DeliveryState.succeeded, 1)
    assert receiver.guids() == [str(dead.guid)]
    # The dead worker's late report changes nothing: its lease is gone.
    assert not await delivery_repo.finish(
        dead,
        now=clock.now,
        state=DeliveryState.failed,
        next_attempt_at=None,
        status=None,
        duration_ms=0,
        error="late",
    )


async def test_two_workers_never_send_one_delivery_at_once(
    client: httpx.AsyncClient, empty_world: World, local: Settings
) -> None:
    slow = Receiver(delay=0.05)
    async with receiving(slow):
        hooks = [await hook(empty_world, local, slow.url) for _ in range(6)]
        for key in ("AAA", "BBB", "CCC"):
            await create_project(client, empty_world, key)
        clock = UtcClock()
        first = DeliveryWorker(local, clock=clock)
        second = DeliveryWorker(local, clock=clock)
        try:
            for _ in range(10):
                sent = await asyncio.gather(first.run_once(), second.run_once())
                if not any(sent):
                    break
        finally:
            await first.stop()
            await second.stop()
    guids = slow.guids()
    assert len(guids) == len(set(guids)) == 18
    states = {d.state for d in await WebhookDelivery.filter(webhook_id__in=hooks)}
    assert states == {DeliveryState.succeeded}


async def test_claims_skip_rows_another_transaction_holds(
    client: httpx.AsyncClient, empty_world: World, local: Settings
) -> None:
    await hook(empty_world, local, "http://127.0.0.1:9/hook")
    await create_project(client, empty_world, "WEB")
    clock = UtcClock()
    with count_sql() as sql:
        [claimed] = await delivery_repo.claim(clock.now, timedelta(seconds=30), 10)
    [select] = [s for s in sql.statements if "webhook_deliveries" in s and "MIN(" in s]
    if Tortoise.get_connection("default").schema_generator.DIALECT == "postgres":
        assert select.rstrip().endswith("FOR UPDATE SKIP LOCKED"), select
    assert await delivery_repo.claim(clock.now, timedelta(seconds=30), 10) == []
    assert claimed.attempts == 0


async def test_the_background_worker_sends_in_order_as_events_commit(
    client: httpx.AsyncClient, empty_world: World, local: Settings, receiver: Receiver
) -> None:
    fast = local.model_copy(update={"webhook_poll_seconds": 0.05})
    await hook(empty_world, fast, receiver.url, ["project.created"])
    worker = DeliveryWorker(fast)
    worker.start()
    try:
        for key in ("AAA", "BBB", "CCC"):
            await create_project(client, empty_world, key)
        async with asyncio.timeout(10):
            while True:
                receiver.arrived.clear()
                if len(receiver.received) >= 3:
                    break
                await receiver.arrived.wait()
    finally:
        await worker.stop()
    assert [json.loads(r.body)["data"]["key"] for r in receiver.received] == ["AAA", "BBB", "CCC"]
