"""`Idempotency-Key` on REST POSTs: a retry replays the first answer and writes nothing twice;
another body is 422; keys are per principal; a key still in flight is 409; answers survive a
restart and expire."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from gateway.core.settings import Settings
from gateway.http.app import create_app
from gateway.http.middleware.idempotency import IdempotencyMiddleware, fingerprint, scope_digest
from gateway.repositories import idempotency as records
from models import IdempotencyRecord, User, Workspace
from tests.auth_helpers import PASSWORD, bearer, client_at, make_pat, make_user

BASE = "/api/v1/workspaces"


@pytest.fixture(autouse=True)
async def no_keys(app: FastAPI) -> AsyncIterator[None]:
    await IdempotencyRecord.all().delete()
    yield
    await IdempotencyRecord.all().delete()


def keyed(headers: dict[str, str], key: str) -> dict[str, str]:
    return {**headers, "Idempotency-Key": key}


async def test_a_retry_replays_the_first_answer_and_creates_one_workspace(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    ann = await make_user("ann")
    headers = keyed(bearer(app, ann), "create-acme-1")
    body = {"slug": "acme", "name": "Acme"}
    first = await client.post(BASE, json=body, headers=headers)
    second = await client.post(BASE, json=body, headers=headers)

    assert first.status_code == 201, first.text
    assert second.status_code == 201, second.text
    assert second.json() == first.json()
    assert second.headers["location"] == first.headers["location"] == f"{BASE}/acme"
    assert second.headers["content-type"] == first.headers["content-type"]
    assert second.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert second.headers["x-request-id"] != first.headers["x-request-id"]
    assert await Workspace.filter(slug="acme").count() == 1
    assert await IdempotencyRecord.all().count() == 1
    # Without the key the same body really runs again, and the slug is taken by now.
    again = await client.post(BASE, json=body, headers=bearer(app, ann))
    assert again.status_code == 409


async def test_the_same_key_with_another_body_is_422(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    ann = await make_user("ann")
    headers = keyed(bearer(app, ann), "k-1")
    assert (await client.post(BASE, json={"slug": "acme", "name": "A"}, headers=headers)).is_success
    response = await client.post(BASE, json={"slug": "other", "name": "A"}, headers=headers)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "VALIDATION_FAILED"
    assert [e["field"] for e in problem["errors"]] == ["Idempotency-Key"]
    assert not await Workspace.filter(slug="other").exists()


async def test_keys_belong_to_the_user_not_the_credential(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    ann, bob = await make_user("ann"), await make_user("bob")
    first = await client.post(
        BASE, json={"slug": "acme", "name": "A"}, headers=keyed(bearer(app, ann), "shared")
    )
    assert first.status_code == 201
    # Bob's key of the same name is his own: his request runs (another body is no mismatch).
    bobs = await client.post(
        BASE, json={"slug": "bobs", "name": "B"}, headers=keyed(bearer(app, bob), "shared")
    )
    assert bobs.status_code == 201, bobs.text
    assert "idempotent-replayed" not in bobs.headers
    # Ann retrying with another credential (a personal access token) still gets her replay.
    _, pat = await make_pat(ann, ["read", "write", "admin"])
    retry = await client.post(
        BASE, json={"slug": "acme", "name": "A"}, headers=keyed(pat, "shared")
    )
    assert retry.status_code == 201
    assert retry.headers["idempotent-replayed"] == "true"
    assert await Workspace.all().count() == 2


async def test_anonymous_keys_are_per_client_address(app: FastAPI) -> None:
    signup = {"email": "cy@example.com", "username": "cy", "password": PASSWORD}
    headers = {"Idempotency-Key": "signup"}
    async with client_at(app, "10.0.0.1") as here, client_at(app, "10.0.0.2") as there:
        first = await here.post("/api/v1/users", json=signup, headers=headers)
        replay = await here.post("/api/v1/users", json=signup, headers=headers)
        elsewhere = await there.post("/api/v1/users", json=signup, headers=headers)
    assert first.status_code == 201, first.text
    assert (replay.status_code, replay.json()) == (201, first.json())
    assert replay.headers["idempotent-replayed"] == "true"
    assert elsewhere.status_code == 409  # ran for real: the username is taken
    assert await User.filter(username="cy").count() == 1


async def test_client_errors_are_replayed(app: FastAPI, client: httpx.AsyncClient) -> None:
    ann = await make_user("ann")
    headers = keyed(bearer(app, ann), "bad")
    first = await client.post(BASE, json={"slug": "-", "name": "A"}, headers=headers)
    second = await client.post(BASE, json={"slug": "-", "name": "A"}, headers=headers)
    assert first.status_code == second.status_code == 422
    assert second.headers["idempotent-replayed"] == "true"
    assert second.json()["errors"] == first.json()["errors"]


async def test_token_answers_are_never_stored(app: FastAPI, client: httpx.AsyncClient) -> None:
    await make_user("ann")
    form = {"grant_type": "password", "username": "ann", "password": PASSWORD}
    headers = {"Idempotency-Key": "login"}
    first = await client.post("/api/v1/auth/token", data=form, headers=headers)
    second = await client.post("/api/v1/auth/token", data=form, headers=headers)
    assert first.status_code == second.status_code == 200
    assert "idempotent-replayed" not in second.headers
    assert first.json()["refresh_token"] != second.json()["refresh_token"]
    assert await IdempotencyRecord.all().count() == 0


@pytest.mark.parametrize("key", ["", "x" * 256, "caf\u00e9", "tab\there"])
async def test_malformed_keys_are_422(app: FastAPI, client: httpx.AsyncClient, key: str) -> None:
    ann = await make_user("ann")
    headers = [(k.encode(), v.encode()) for k, v in bearer(app, ann).items()]
    headers.append((b"Idempotency-Key", key.encode("latin-1")))
    response = await client.post(BASE, json={"slug": "acme", "name": "A"}, headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "Idempotency-Key"
    assert not await Workspace.exists()


async def test_answers_survive_a_restart(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings
) -> None:
    ann = await make_user("ann")
    headers = keyed(bearer(app, ann), "restart")
    first = await client.post(BASE, json={"slug": "acme", "name": "A"}, headers=headers)
    assert first.status_code == 201
    # A new process: a second app from the same settings (the database is already open).
    restarted = create_app(settings)
    transport = httpx.ASGITransport(app=restarted, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
        replay = await other.post(BASE, json={"slug": "acme", "name": "A"}, headers=headers)
    assert (replay.status_code, replay.json()) == (201, first.json())
    assert replay.headers["location"] == first.headers["location"]
    assert replay.headers["idempotent-replayed"] == "true"
    assert await Workspace.all().count() == 1


async def test_expired_answers_are_ignored_and_purged(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings
) -> None:
    ann = await make_user("ann")
    headers = keyed(bearer(app, ann), "old")
    assert (await client.post(BASE, json={"slug": "one", "name": "A"}, headers=headers)).is_success
    past = datetime.now(UTC) - timedelta(seconds=1)
    await IdempotencyRecord.all().update(expires_at=past)
    stale = await IdempotencyRecord.create(
        scope="0" * 64, key="abandoned", fingerprint="0" * 64, expires_at=past
    )
    # Past its window the key is free again: another body is no mismatch, and it runs.
    response = await client.post(BASE, json={"slug": "two", "name": "A"}, headers=headers)
    assert response.status_code == 201, response.text
    assert "idempotent-replayed" not in response.headers
    assert await Workspace.all().count() == 2
    # A fresh process purges every expired row on its first keyed request.
    restarted = create_app(settings)
    transport = httpx.ASGITransport(app=restarted, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
        ok = await other.post(
            BASE, json={"slug": "three", "name": "A"}, headers=keyed(bearer(app, ann), "new")
        )
    assert ok.status_code == 201
    assert not await IdempotencyRecord.filter(id=stale.id).exists()
    assert await IdempotencyRecord.all().count() == 2
    window = (await IdempotencyRecord.get(key="new")).expires_at - datetime.now(UTC)
    assert timedelta(hours=23, minutes=59) < window <= timedelta(hours=24)


class Gate:
    """An inner app that answers 201 (or the next of `statuses`) once the test opens the gate."""

    def __init__(self, *statuses: int) -> None:
        self.entered = asyncio.Event()
        self.open = asyncio.Event()
        self.statuses = list(statuses)
        self.calls = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.calls += 1
        await receive()
        self.entered.set()
        await self.open.wait()
        status = self.statuses.pop(0) if self.statuses else 201
        body = f'{{"call": {self.calls}}}'.encode()
        headers = [(b"content-type", b"application/json"), (b"location", b"/api/v1/x/1")]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def gated_client(gate: Gate) -> httpx.AsyncClient:
    middleware = IdempotencyMiddleware(gate, ttl_seconds=3600)
    transport = httpx.ASGITransport(app=middleware, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def test_a_key_in_flight_is_409(app: FastAPI) -> None:
    gate = Gate()
    headers = {"Idempotency-Key": "slow"}
    async with gated_client(gate) as http:
        first = asyncio.create_task(http.post("/api/v1/x", json={"a": 1}, headers=headers))
        await asyncio.wait_for(gate.entered.wait(), 5)
        busy = await http.post("/api/v1/x", json={"a": 1}, headers=headers)
        gate.open.set()
        done = await first
        replay = await http.post("/api/v1/x", json={"a": 1}, headers=headers)
    assert busy.status_code == 409
    assert busy.json()["code"] == "CONFLICT"
    assert done.status_code == 201
    assert (replay.status_code, replay.content) == (201, done.content)
    assert replay.headers["location"] == "/api/v1/x/1"
    assert gate.calls == 1


async def test_an_abandoned_reservation_lapses(app: FastAPI) -> None:
    gate = Gate()
    gate.open.set()
    body = b'{"a": 1}'
    where = scope_digest("addr:127.0.0.1", "POST", "/api/v1/x")
    lapsed = datetime.now(UTC) - timedelta(seconds=1)
    reserved = await records.reserve(
        scope=where, key="dead", fingerprint=fingerprint(b"", body), lease_until=lapsed
    )
    assert reserved is not None
    async with gated_client(gate) as http:
        headers = {"Idempotency-Key": "dead", "Content-Type": "application/json"}
        response = await http.post("/api/v1/x", content=body, headers=headers)
    assert response.status_code == 201
    assert gate.calls == 1


async def test_server_errors_are_not_stored(app: FastAPI) -> None:
    gate = Gate(503, 500)
    gate.open.set()
    headers = {"Idempotency-Key": "flaky"}
    async with gated_client(gate) as http:
        statuses = [
            (await http.post("/api/v1/x", json={"a": 1}, headers=headers)).status_code
            for _ in range(4)
        ]
    assert statuses == [503, 500, 201, 201]
    assert gate.calls == 3  # the fourth was a replay of the first success


async def test_other_methods_and_paths_are_untouched(app: FastAPI) -> None:
    gate = Gate()
    gate.open.set()
    async with gated_client(gate) as http:
        for _ in range(2):
            await http.post("/graphql", json={"a": 1}, headers={"Idempotency-Key": "g"})
            await http.patch("/api/v1/x", json={"a": 1}, headers={"Idempotency-Key": "p"})
    assert gate.calls == 4
    assert await IdempotencyRecord.all().count() == 0


async def test_a_bad_credential_is_401_and_reserves_nothing(client: httpx.AsyncClient) -> None:
    headers = {"Authorization": "Bearer nonsense", "Idempotency-Key": "k"}
    for _ in range(2):
        response = await client.post(BASE, json={"slug": "acme", "name": "A"}, headers=headers)
        assert response.status_code == 401
        assert "idempotent-replayed" not in response.headers
    assert await IdempotencyRecord.all().count() == 0
