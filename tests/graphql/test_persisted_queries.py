"""Automatic persisted queries (Apollo's protocol) on `/graphql`, over the in-process store and
over Redis (when one is reachable), plus the stores' own bounds and expiry."""

from __future__ import annotations

import json
import os
import socket
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

import schema.http.router as schema_router
from gateway.core.settings import Settings
from gateway.http.app import create_app
from schema.http.persisted import (
    DEFAULT_TTL_SECONDS,
    MemoryPersistedQueries,
    PersistedQueryStore,
    RedisPersistedQueries,
    build_store,
    sha256_hex,
)

REDIS_URL = os.environ.get("GATEWAY_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
QUERY = "query Info { serverInfo { environment } }"
GRAPHQL_RESPONSE = "application/graphql-response+json"


def _extensions(query: str, version: int = 1) -> dict[str, Any]:
    return {"persistedQuery": {"version": version, "sha256Hash": sha256_hex(query)}}


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[PersistedQueryStore]:
    """Each store, empty; the Redis one under a prefix of its own, removed afterwards."""
    if request.param == "memory":
        yield MemoryPersistedQueries()
        return
    client = Redis.from_url(REDIS_URL, decode_responses=True, socket_timeout=2)
    try:
        await client.ping()
    except (RedisError, OSError):
        await client.aclose()
        pytest.skip(f"no Redis at {REDIS_URL}")
    prefix = f"switchyard-test:apq:{uuid.uuid4().hex}:"
    redis_store = RedisPersistedQueries(client, prefix=prefix)
    try:
        yield redis_store
    finally:
        keys = [key async for key in client.scan_iter(match=prefix + "*")]
        if keys:
            await client.delete(*keys)
        await redis_store.aclose()


@pytest.fixture
async def http(
    settings: Settings, store: PersistedQueryStore, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[httpx.AsyncClient]:
    """The real app, its router given `store`."""
    monkeypatch.setattr(schema_router, "build_store", lambda _settings: store)
    transport = httpx.ASGITransport(app=create_app(settings), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


def _only_error(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert "data" not in body, body
    [error] = body["errors"]
    assert isinstance(error, dict)
    return error


async def test_unknown_hash_is_persisted_query_not_found(http: httpx.AsyncClient) -> None:
    payload = {"extensions": _extensions(QUERY)}
    legacy = await http.post("/graphql", json=payload)
    # Apollo clients look for this message and code, then resend with the query; older ones
    # give up on persisted queries after a 400, so the legacy media type answers 200.
    assert legacy.status_code == 200
    assert legacy.headers["content-type"] == "application/json"
    assert legacy.headers["cache-control"] == "private, no-cache, must-revalidate"
    error = _only_error(legacy)
    assert error["message"] == "PersistedQueryNotFound"
    assert error["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    modern = await http.post("/graphql", json=payload, headers={"Accept": GRAPHQL_RESPONSE})
    assert modern.status_code == 400
    assert modern.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert _only_error(modern)["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


async def test_register_then_run_by_hash_over_post_and_get(
    http: httpx.AsyncClient, store: PersistedQueryStore
) -> None:
    registered = await http.post(
        "/graphql", json={"query": QUERY, "extensions": _extensions(QUERY)}
    )
    assert registered.status_code == 200
    assert registered.json() == {"data": {"serverInfo": {"environment": "test"}}}
    assert await store.get(sha256_hex(QUERY)) == QUERY

    by_post = await http.post("/graphql", json={"extensions": _extensions(QUERY)})
    assert by_post.json() == registered.json()
    by_get = await http.get(
        "/graphql",
        params={"extensions": json.dumps(_extensions(QUERY)), "operationName": "Info"},
        headers={"Accept": f"{GRAPHQL_RESPONSE}, application/json;q=0.9"},
    )
    assert by_get.status_code == 200
    assert by_get.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert by_get.json() == registered.json()


async def test_variables_travel_with_the_hash_over_get(
    http: httpx.AsyncClient, store: PersistedQueryStore
) -> None:
    query = "query Type($name: String!) { __type(name: $name) { name } }"
    await store.put(sha256_hex(query), query)
    response = await http.get(
        "/graphql",
        params={
            "extensions": json.dumps(_extensions(query)),
            "variables": json.dumps({"name": "Query"}),
        },
    )
    assert response.status_code == 200
    assert response.json() == {"data": {"__type": {"name": "Query"}}}


async def test_hash_mismatch_is_refused_and_not_stored(
    http: httpx.AsyncClient, store: PersistedQueryStore
) -> None:
    other = "{ __typename }"
    response = await http.post("/graphql", json={"query": other, "extensions": _extensions(QUERY)})
    assert response.status_code == 400
    error = _only_error(response)
    assert error["extensions"]["code"] == "VALIDATION_FAILED"
    assert "PersistedQueryHashMismatch" in error["message"]
    assert await store.get(sha256_hex(QUERY)) is None
    assert await store.get(sha256_hex(other)) is None


async def test_invalid_query_is_not_stored(
    http: httpx.AsyncClient, store: PersistedQueryStore
) -> None:
    broken = "{ noSuchField }"
    response = await http.post(
        "/graphql", json={"query": broken, "extensions": _extensions(broken)}
    )
    assert response.status_code == 200  # a validation error, legacy media type
    assert _only_error(response)["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert await store.get(sha256_hex(broken)) is None


@pytest.mark.parametrize(
    "persisted",
    [
        "abc",
        {"version": 2, "sha256Hash": sha256_hex(QUERY)},
        {"version": 1, "sha256Hash": "not-a-hash"},
        {"version": 1},
    ],
)
async def test_malformed_persisted_query_extension_is_400(
    http: httpx.AsyncClient, persisted: object
) -> None:
    response = await http.post("/graphql", json={"extensions": {"persistedQuery": persisted}})
    assert response.status_code == 400
    assert _only_error(response)["extensions"]["code"] == "VALIDATION_FAILED"


async def test_persisted_mutation_over_get_is_405(
    http: httpx.AsyncClient, store: PersistedQueryStore
) -> None:
    mutation = "mutation { __typename }"
    await store.put(sha256_hex(mutation), mutation)
    response = await http.get("/graphql", params={"extensions": json.dumps(_extensions(mutation))})
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert _only_error(response)["extensions"]["code"] == "METHOD_NOT_ALLOWED"


async def test_store_round_trip(store: PersistedQueryStore) -> None:
    assert await store.get("0" * 64) is None
    await store.put("0" * 64, "{ a }")
    await store.put("0" * 64, "{ b }")
    assert await store.get("0" * 64) == "{ b }"


async def test_memory_store_evicts_least_recently_used() -> None:
    memory = MemoryPersistedQueries(max_entries=2)
    await memory.put("a", "{ a }")
    await memory.put("b", "{ b }")
    assert await memory.get("a") == "{ a }"  # now b is the least recently used
    await memory.put("c", "{ c }")
    assert len(memory) == 2
    assert await memory.get("b") is None
    assert await memory.get("a") == "{ a }"
    assert await memory.get("c") == "{ c }"


async def test_memory_store_is_bounded_in_bytes() -> None:
    memory = MemoryPersistedQueries(max_entries=100, max_bytes=10)
    await memory.put("a", "x" * 6)
    await memory.put("b", "y" * 6)  # 12 bytes > 10: a goes
    assert await memory.get("a") is None
    assert await memory.get("b") == "y" * 6
    await memory.put("huge", "z" * 11)  # larger than the whole budget: never kept
    assert await memory.get("huge") is None
    assert await memory.get("b") == "y" * 6


async def test_redis_entries_expire_and_reads_renew_them(store: PersistedQueryStore) -> None:
    if not isinstance(store, RedisPersistedQueries):
        pytest.skip("Redis only")
    await store.put("1" * 64, "{ a }")
    key = store.key("1" * 64)
    assert DEFAULT_TTL_SECONDS - 5 <= await store.client.ttl(key) <= DEFAULT_TTL_SECONDS
    await store.client.expire(key, 60)
    assert await store.get("1" * 64) == "{ a }"
    assert await store.client.ttl(key) > 60


async def test_unreachable_redis_degrades_to_misses() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    down = RedisPersistedQueries.from_url(f"redis://127.0.0.1:{port}/0")
    try:
        await down.put("2" * 64, "{ a }")  # logged, not raised
        assert await down.get("2" * 64) is None
    finally:
        await down.aclose()


def test_router_keeps_the_store_it_is_given(settings: Settings) -> None:
    empty = MemoryPersistedQueries()  # falsy (len 0), and still the one to use
    assert schema_router.SwitchyardGraphQLRouter(settings, empty).persisted_queries is empty


async def test_build_store_follows_settings(settings: Settings) -> None:
    assert isinstance(build_store(settings), MemoryPersistedQueries)
    shared = build_store(settings.model_copy(update={"redis_url": REDIS_URL}))
    try:
        assert isinstance(shared, RedisPersistedQueries)
    finally:
        await shared.aclose()
