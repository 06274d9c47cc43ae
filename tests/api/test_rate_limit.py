"""One rate limit for REST and GraphQL: headers on every answer, one budget per principal
across both APIs, GraphQL charged by node cost before execution, 429 in each API's error shape,
and (with Redis) one budget shared by several server processes."""

from __future__ import annotations

import asyncio
import random
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from ipaddress import ip_network
from pathlib import Path

import httpx
import pytest
import redis
from fastapi import FastAPI
from graphql import parse

from gateway.core.counters import Charge, MemoryThrottle, RedisThrottle
from gateway.core.settings import Settings
from models import Workspace
from schema import build_schema
from schema.http.cost import node_cost
from tests.auth_helpers import (
    REDIS_URL,
    FakeClock,
    bearer,
    client_at,
    make_pat,
    make_user,
    require_redis,
    throttle_on_redis,
    use_memory_throttle,
)
from tests.environment import child_environment, free_port
from tests.gateway_process import stop, wait_up

GATEWAY = str(Path(sys.executable).parent / "gateway")
CHEAP = "{ serverInfo { version } }"
# Two nested connections of 100: dear enough to cost many points whatever the exact formula.
EXPENSIVE = """{ viewer { workspaces(first: 100) { edges { node {
  members(first: 100) { edges { node { id } } } } } } } }"""


def _points(query: str, settings: Settings) -> int:
    cost = node_cost(build_schema(settings), parse(query), {})
    return 1 + cost // settings.rate_limit_node_cost_per_point


def _limits(response: httpx.Response) -> tuple[int, int, int]:
    h = response.headers
    return int(h["RateLimit-Limit"]), int(h["RateLimit-Remaining"]), int(h["RateLimit-Reset"])


@pytest.fixture
def tune(app: FastAPI) -> Iterator[Callable[..., None]]:
    """Change the session app's settings for one test (`monkeypatch.setattr` cannot: Starlette's
    `State` keeps attributes outside `__dict__`, so its undo would delete them)."""
    original: Settings = app.state.settings

    def apply(**changes: object) -> None:
        app.state.settings = original.model_copy(update=changes)

    yield apply
    app.state.settings = original


@pytest.fixture
def standard(tune: Callable[..., None]) -> None:
    """The default budgets, whatever the suite's settings say."""
    tune(rate_limit_per_minute=1000, rate_limit_anonymous_per_minute=100)


@pytest.fixture
def limited(app: FastAPI, tune: Callable[..., None]) -> FakeClock:
    """Small budgets (5 authenticated, 3 anonymous) on a fresh memory store with a hand-moved
    clock."""
    tune(rate_limit_per_minute=5, rate_limit_anonymous_per_minute=3)
    clock = FakeClock()
    use_memory_throttle(app, clock)
    return clock


@pytest.mark.usefixtures("standard")
async def test_rest_answers_carry_headers_errors_included(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings
) -> None:
    anonymous = await client.get("/api/v1/me")
    assert anonymous.status_code == 401
    assert _limits(anonymous) == (100, 99, 60)
    user = await make_user("ada")
    mine = await client.get("/api/v1/me", headers=bearer(app, user))
    assert mine.status_code == 200
    limit, remaining, reset = _limits(mine)
    assert (limit, remaining) == (1000, 999)
    assert 1 <= reset <= 60
    missing = await client.get("/api/v1/no-such-thing", headers=bearer(app, user))
    assert missing.status_code == 404
    assert _limits(missing)[1] == limit - 2


@pytest.mark.usefixtures("standard")
async def test_graphql_answers_carry_headers(client: httpx.AsyncClient) -> None:
    ok = await client.post("/graphql", json={"query": CHEAP})
    assert ok.status_code == 200, ok.text
    assert _limits(ok)[:2] == (100, 99)
    broken = await client.post("/graphql", json={"query": "{ serverInfo { "})
    assert "errors" in broken.json()
    assert _limits(broken)[:2] == (100, 98)  # a parse error costs one point


@pytest.mark.usefixtures("standard")
async def test_health_and_docs_are_exempt(client: httpx.AsyncClient) -> None:
    for path in ("/healthz", "/readyz", "/openapi.json", "/docs"):
        answer = await client.get(path)
        assert "RateLimit-Limit" not in answer.headers, path
    counted = await client.get("/api/v1/me")
    assert _limits(counted)[1] == 99


@pytest.mark.usefixtures("standard")
async def test_one_budget_across_rest_and_graphql(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await make_user("ada")
    headers = bearer(app, user)
    seen = []
    for _ in range(2):
        seen.append(_limits(await client.get("/api/v1/me", headers=headers))[1])
        graphql = await client.post("/graphql", json={"query": CHEAP}, headers=headers)
        assert graphql.status_code == 200
        seen.append(_limits(graphql)[1])
    assert seen == [999, 998, 997, 996]
    # A personal access token of the same user spends the same budget.
    _, pat = await make_pat(user, ["read"])
    assert _limits(await client.get("/api/v1/me", headers=pat))[1] == 995


async def test_anonymous_budget_is_per_address(app: FastAPI, limited: FakeClock) -> None:
    async with client_at(app, "10.1.0.1") as first, client_at(app, "10.1.0.2") as second:
        for expected in (2, 1, 0):
            assert _limits(await first.get("/api/v1/me"))[1] == expected
        assert (await first.get("/api/v1/me")).status_code == 429
        # A made-up credential is not a way out: it is the same address's budget.
        forged = await first.get("/api/v1/me", headers={"Authorization": "Bearer nonsense"})
        assert forged.status_code == 429
        fresh = await second.get("/api/v1/me")
        assert fresh.status_code == 401
        assert _limits(fresh)[1] == 2


async def test_forwarded_for_counts_only_from_trusted_proxies(
    app: FastAPI, tune: Callable[..., None]
) -> None:
    use_memory_throttle(app, FakeClock())

    async def remaining(peer: str, forwarded: str) -> int | None:
        async with client_at(app, peer) as http:
            answer = await http.get("/api/v1/me", headers={"X-Forwarded-For": forwarded})
        return None if answer.status_code == 429 else _limits(answer)[1]

    # By default no proxy is trusted, loopback included: a made-up header changes nothing.
    tune(rate_limit_anonymous_per_minute=3)
    spoofed = [await remaining("127.0.0.1", f"203.0.113.{i}") for i in range(4)]
    assert spoofed == [2, 1, 0, None]
    # A trusted proxy's header names the client: the right-most address it did not write.
    tune(rate_limit_anonymous_per_minute=3, trusted_proxies=(ip_network("10.0.0.0/8"),))
    assert [await remaining("10.0.0.2", "203.0.113.50") for _ in range(4)] == [2, 1, 0, None]
    assert await remaining("10.0.0.3", "203.0.113.50, 10.0.0.9") is None  # the same client
    assert await remaining("10.0.0.2", "203.0.113.50, 203.0.113.51") == 2
    # Connecting directly, that client spends the budget it had behind the proxy.
    assert await remaining("203.0.113.50", "198.51.100.1") is None


async def test_each_user_has_a_budget_of_their_own(
    app: FastAPI, client: httpx.AsyncClient, limited: FakeClock
) -> None:
    ada, bob = await make_user("ada"), await make_user("bob")
    for _ in range(5):
        assert (await client.get("/api/v1/me", headers=bearer(app, ada))).status_code == 200
    assert (await client.get("/api/v1/me", headers=bearer(app, ada))).status_code == 429
    theirs = await client.get("/api/v1/me", headers=bearer(app, bob))
    assert theirs.status_code == 200
    assert _limits(theirs) == (5, 4, 60)
    # Anonymous callers from the same address are counted apart from both.
    assert _limits(await client.get("/api/v1/me"))[:2] == (3, 2)


async def test_rest_over_the_limit_is_a_problem_with_retry_after(
    app: FastAPI, client: httpx.AsyncClient, limited: FakeClock
) -> None:
    for _ in range(3):
        await client.get("/api/v1/me")
    limited.advance(20.5)
    refused = await client.get("/api/v1/me", headers={"X-Request-ID": "rl-1"})
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.headers["Retry-After"] == "40"
    assert refused.headers["X-Request-ID"] == "rl-1"
    assert _limits(refused) == (3, 0, 40)
    body = refused.json()
    assert (body["code"], body["status"], body["request_id"]) == ("RATE_LIMITED", 429, "rl-1")
    limited.advance(40)  # the window closes: a whole budget again
    assert _limits(await client.get("/api/v1/me"))[:2] == (3, 2)


async def test_graphql_over_the_limit_is_a_graphql_error(
    app: FastAPI, client: httpx.AsyncClient, limited: FakeClock
) -> None:
    headers = bearer(app, await make_user("ada"))
    for _ in range(5):
        await client.get("/api/v1/me", headers=headers)
    refused = await client.post("/graphql", json={"query": CHEAP}, headers=headers)
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "60"
    body = refused.json()
    assert body["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert "data" not in body or body["data"] is None


async def test_expensive_graphql_drains_more(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings
) -> None:
    points = _points(EXPENSIVE, settings)
    assert points > 10
    headers = bearer(app, await make_user("ada"))
    answer = await client.post("/graphql", json={"query": EXPENSIVE}, headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["data"]["viewer"]["workspaces"]["edges"] == []
    assert _limits(answer)[1] == settings.rate_limit_per_minute - points
    cheap = await client.post("/graphql", json={"query": CHEAP}, headers=headers)
    assert _limits(cheap)[1] == settings.rate_limit_per_minute - points - 1


async def test_query_dearer_than_what_is_left_never_runs(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings, tune: Callable[..., None]
) -> None:
    points = _points(EXPENSIVE, settings)
    tune(rate_limit_per_minute=points + 2)
    use_memory_throttle(app)
    user = await make_user("ada")
    headers = bearer(app, user)
    for _ in range(4):  # 4 of points + 2 spent: the expensive query no longer fits
        await client.get("/api/v1/me", headers=headers)
    mutation = """mutation { createWorkspace(input: {slug: "acme", name: "Acme"}) {
      workspace { members(first: 100) { edges { node { user { workspaces(first: 100) {
        edges { node { id } } } } } } } } } }"""
    assert _points(mutation, settings) > 3
    refused = await client.post("/graphql", json={"query": mutation}, headers=headers)
    assert refused.status_code == 429, refused.text
    assert refused.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert await Workspace.filter(slug="acme").count() == 0  # refused before execution
    # Only the up-front point was spent; what was left is still there for cheap requests.
    assert _limits(refused)[1] == points + 2 - 5
    after = await client.get("/api/v1/me", headers=headers)
    assert after.status_code == 200
    assert _limits(after)[1] == points + 2 - 6


async def test_an_unreachable_shared_store_fails_closed(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    app.state.throttle = RedisThrottle.from_url("redis://127.0.0.1:1/0")
    try:
        rest = await client.get("/api/v1/me")
        assert rest.status_code == 503
        assert rest.json()["code"] == "SERVICE_UNAVAILABLE"
        graphql = await client.post("/graphql", json={"query": CHEAP})
        assert graphql.status_code == 503
        assert graphql.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    finally:
        await app.state.throttle.aclose()


async def test_switched_off(client: httpx.AsyncClient, tune: Callable[..., None]) -> None:
    tune(rate_limit_enabled=False)
    assert "RateLimit-Limit" not in (await client.get("/api/v1/me")).headers


async def test_memory_take_spends_only_what_fits() -> None:
    clock = FakeClock()
    throttle = MemoryThrottle(clock)
    assert await throttle.take("k", 4, 5, 60) == _charge(True, 4, 60)
    clock.advance(10)
    assert await throttle.take("k", 2, 5, 60) == _charge(False, 4, 50)
    assert await throttle.take("k", 1, 5, 60) == _charge(True, 5, 50)
    assert await throttle.take("fresh", 9, 5, 60) == _charge(False, 0, 60)
    assert "fresh" not in throttle._slots  # a refusal leaves no trace
    clock.advance(50)
    assert await throttle.take("k", 5, 5, 60) == _charge(True, 5, 60)


def _charge(admitted: bool, count: int, retry_after: int) -> Charge:
    return Charge(admitted, count, retry_after)


@pytest.fixture
async def redis_throttle() -> AsyncIterator[RedisThrottle]:
    async with throttle_on_redis() as throttle:
        yield throttle


async def test_redis_take_is_atomic_and_spends_only_what_fits(
    redis_throttle: RedisThrottle,
) -> None:
    charges = await asyncio.gather(*(redis_throttle.take("k", 3, 100, 60) for _ in range(50)))
    admitted = sorted(c.count for c in charges if c.admitted)
    assert admitted == list(range(3, 100, 3))  # 33 admitted, never over 100
    assert all(c.count == 99 for c in charges if not c.admitted)
    refused = await redis_throttle.take("other", 101, 100, 60)
    assert (refused.admitted, refused.count, refused.retry_after) == (False, 0, 60)
    assert (await redis_throttle.take("other", 100, 100, 60)).admitted


# --- two real processes on one Redis -------------------------------------------------------


def _redis_or_skip() -> redis.Redis:
    require_redis()
    return redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)


@pytest.mark.slow
def test_two_processes_share_one_budget(tmp_path: Path) -> None:
    store = _redis_or_skip()
    # A loopback address of our own, so no other run or test can touch this budget.
    address = f"127.{random.randint(1, 254)}.{random.randint(1, 254)}.{random.randint(2, 254)}"
    key = f"switchyard:throttle:rate:addr:{address}"
    env = child_environment()
    env |= {
        "GATEWAY_DATABASE_URL": f"sqlite://{tmp_path / 'shared.sqlite3'}",
        "GATEWAY_REDIS_URL": REDIS_URL,
        "GATEWAY_RATE_LIMIT_ANONYMOUS_PER_MINUTE": "6",
    }
    migrated = subprocess.run(
        [GATEWAY, "migrate"], env=env, capture_output=True, text=True, timeout=120
    )
    assert migrated.returncode == 0, migrated.stderr
    store.delete(key)
    servers: list[subprocess.Popen[bytes]] = []
    try:
        ports = [free_port(), free_port()]
        for port in ports:
            servers.append(
                subprocess.Popen(
                    [GATEWAY, "serve", "--port", str(port)],
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                )
            )
        for server, port in zip(servers, ports, strict=True):
            wait_up(server, f"http://127.0.0.1:{port}/readyz")
        transport = httpx.HTTPTransport(local_address=address)
        with httpx.Client(transport=transport, timeout=5) as http:
            answers = []
            for i in range(8):
                base = f"http://127.0.0.1:{ports[i % 2]}"
                if i % 4 == 1:  # GraphQL spends from the same budget
                    answers.append(http.post(f"{base}/graphql", json={"query": CHEAP}))
                else:
                    answers.append(http.get(f"{base}/api/v1/me"))
        assert [a.status_code for a in answers[:6]] == [401, 200, 401, 401, 401, 200]
        assert [int(a.headers["RateLimit-Remaining"]) for a in answers[:6]] == [5, 4, 3, 2, 1, 0]
        assert [a.status_code for a in answers[6:]] == [429, 429]  # on both processes
        assert answers[7].headers["RateLimit-Limit"] == "6"
        assert 1 <= int(answers[7].headers["Retry-After"]) <= 60
        assert int(store.get(key) or 0) == 6
    finally:
        for server in servers:
            stop(server)
        store.delete(key)
        store.close()
