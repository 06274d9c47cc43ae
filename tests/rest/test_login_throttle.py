"""Throttled sign-in (`gateway.services.login_throttle`): doubling waits per account and
address, an account lock that spares addresses without failures, a per-address block, the same
answers for unknown names; on the memory store and on Redis. Time only moves by hand."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from ipaddress import ip_network

import httpx
import pytest
from fastapi import FastAPI

from gateway.core.counters import MemoryThrottle, Throttle
from gateway.core.settings import Settings
from gateway.services import login_throttle
from gateway.services.login_throttle import POLICY, LoginPolicy
from tests.auth_helpers import (
    PASSWORD,
    FakeClock,
    client_at,
    make_user,
    sign_in,
    throttle_on_redis,
    use_memory_throttle,
    without_request_id,
)


@pytest.fixture
def clock(app: FastAPI) -> FakeClock:
    clock = FakeClock()
    use_memory_throttle(app, clock)
    return clock


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest, app: FastAPI) -> AsyncIterator[Throttle]:
    """The app's throttle: this process's memory, or Redis (skipped when there is none)."""
    if request.param == "memory":
        yield use_memory_throttle(app)
        return
    async with throttle_on_redis() as throttle:
        app.state.throttle = throttle
        try:
            yield throttle
        finally:
            app.state.throttle = MemoryThrottle()


def use(monkeypatch: pytest.MonkeyPatch, **changes: int) -> LoginPolicy:
    """Replace the production policy for one test."""
    chosen = LoginPolicy(**changes)
    monkeypatch.setattr(login_throttle, "POLICY", chosen)
    return chosen


async def attempt(
    app: FastAPI, address: str, name: str, password: str = PASSWORD
) -> httpx.Response:
    async with client_at(app, address) as http:
        return await sign_in(http, name, password)


async def test_strangers_cannot_lock_the_owner_out(app: FastAPI, store: Throttle) -> None:
    await make_user("ada")
    # A botnet: failures up to the account lock, a few from each address.
    for i in range(POLICY.account_lock_after):
        assert (await attempt(app, f"203.0.113.{i % 4}", "ada", "wrong")).status_code == 401
    locked = await attempt(app, "203.0.113.1", "ada")  # the right password, a failed address
    assert locked.status_code == 429
    assert locked.json()["code"] == "RATE_LIMITED"
    assert 0 < int(locked.headers["retry-after"]) <= POLICY.window_seconds
    # The owner, from an address that has not failed on the account, is not locked out.
    assert (await attempt(app, "198.51.100.7", "ada")).status_code == 200
    # A fresh address gets one guess; once it has failed, the lock holds it too.
    assert (await attempt(app, "198.51.100.8", "ada", "wrong")).status_code == 401
    assert (await attempt(app, "198.51.100.8", "ada")).status_code == 429


async def test_unknown_names_answer_like_real_ones(app: FastAPI, store: Throttle) -> None:
    await make_user("ada")

    async def story(name: str, network: str) -> list[tuple[int, dict[str, object], bool]]:
        answers = []
        steps = [("1", "wrong")] * (POLICY.free_failures + 1)  # the last one meets the gate
        steps += [("2", "wrong")] * (POLICY.account_lock_after - POLICY.free_failures)
        steps += [("1", PASSWORD)]  # the account is locked for address 1
        for host, password in steps:
            response = await attempt(app, f"{network}.{host}", name, password)
            answers.append(
                (
                    response.status_code,
                    without_request_id(response.json()),
                    "retry-after" in response.headers,
                )
            )
        return answers

    real, unknown = await story("ada", "198.51.100"), await story("nobody", "192.0.2")
    assert real == unknown
    assert [status for status, _, _ in real] == [401] * 5 + [429] + [401] * 5 + [429]


async def test_each_failure_from_an_address_doubles_its_wait(
    app: FastAPI, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    use(monkeypatch, max_delay=4, account_lock_after=100)
    await make_user("ada")
    for _ in range(5):
        assert (await attempt(app, "203.0.113.5", "ada", "wrong")).status_code == 401
    waits = []
    for _ in range(4):
        refused = await attempt(app, "203.0.113.5", "ada", PASSWORD)
        assert refused.status_code == 429
        waits.append(int(refused.headers["retry-after"]))
        # Knocking meanwhile neither gets in nor makes the wait longer.
        again = await attempt(app, "203.0.113.5", "ada", "wrong")
        assert (again.status_code, int(again.headers["retry-after"])) == (429, waits[-1])
        # Nor does it touch another address.
        assert (await attempt(app, "198.51.100.5", "ada")).status_code == 200
        clock.advance(waits[-1])
        assert (await attempt(app, "203.0.113.5", "ada", "wrong")).status_code == 401
    assert waits == [1, 2, 4, 4]  # doubling, capped at max_delay
    clock.advance(4)
    assert (await attempt(app, "203.0.113.5", "ada")).status_code == 200
    # A success forgets the address's failures: the free ones are free again.
    for _ in range(5):
        assert (await attempt(app, "203.0.113.5", "ada", "wrong")).status_code == 401


async def test_parallel_attempts_cannot_slip_past_the_gate(app: FastAPI, store: Throttle) -> None:
    await make_user("ada")
    async with client_at(app, "203.0.113.9") as http:
        answers = await asyncio.gather(*(sign_in(http, "ada", "wrong") for _ in range(20)))
    statuses = [answer.status_code for answer in answers]
    assert set(statuses) == {401, 429}
    assert statuses.count(401) <= POLICY.free_failures


async def test_an_address_is_blocked_across_accounts(
    app: FastAPI, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    chosen = use(monkeypatch, address_block_after=4)
    await make_user("ada")
    for name in ("u1", "u2", "u3", "u4"):
        assert (await attempt(app, "192.0.2.7", name, "wrong")).status_code == 401
    blocked = await attempt(app, "192.0.2.7", "ada")
    assert blocked.status_code == 429
    assert 0 < int(blocked.headers["retry-after"]) <= chosen.window_seconds
    assert (await attempt(app, "192.0.2.8", "ada")).status_code == 200
    clock.advance(chosen.window_seconds)
    assert (await attempt(app, "192.0.2.7", "ada")).status_code == 200


async def test_successes_count_against_nothing(
    app: FastAPI, store: Throttle, monkeypatch: pytest.MonkeyPatch
) -> None:
    use(monkeypatch, free_failures=1, account_lock_after=1, address_block_after=1)
    await make_user("ada")
    for _ in range(4):
        assert (await attempt(app, "192.0.2.9", "ada")).status_code == 200


async def test_behind_a_trusted_proxy_each_client_has_its_own_wait(
    app: FastAPI, settings: Settings, clock: FakeClock
) -> None:
    await make_user("ada")

    async def through(peer: str, forwarded: str, password: str) -> int:
        async with client_at(app, peer) as http:
            response = await http.post(
                "/api/v1/auth/token",
                data={"grant_type": "password", "username": "ada", "password": password},
                headers={"X-Forwarded-For": forwarded},
            )
        return response.status_code

    app.state.settings = settings.model_copy(
        update={"trusted_proxies": (ip_network("10.0.0.0/8"),)}
    )
    try:
        for _ in range(POLICY.free_failures):
            assert await through("10.0.0.2", "203.0.113.10", "wrong") == 401
        assert await through("10.0.0.2", "203.0.113.10", PASSWORD) == 429
        # Another client behind the same proxy is not held up by the first one's failures.
        assert await through("10.0.0.2", "203.0.113.11", PASSWORD) == 200
        # A client that is not a trusted proxy cannot pick a fresh address with the header.
        for i in range(POLICY.free_failures):
            assert await through("198.51.100.3", f"203.0.113.{20 + i}", "wrong") == 401
        assert await through("198.51.100.3", "203.0.113.99", PASSWORD) == 429
    finally:
        app.state.settings = settings
