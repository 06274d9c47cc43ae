"""GraphQL subscriptions on a real uvicorn server (the session's app): events as they commit,
access as for a query and again as events flow, replay with `after`, bounded inboxes, and the
socket's rate budget and query limits."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI
from tortoise import Tortoise
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from gateway.core.ids import pk_of
from gateway.core.settings import Settings
from gateway.realtime import runtime
from gateway.realtime.hub import Notice
from gateway.realtime.transports import PostgresTransport
from gateway.services.feed import node_id
from models import Event, User, Workspace
from tests.auth_helpers import bearer, join, make_user, use_memory_throttle
from tests.subscription_helpers import (
    ISSUE_EVENTS,
    PROTOCOL,
    WORKSPACE_EVENTS,
    Socket,
    error_code,
    serving,
    settle,
    until_subscribed,
)


@dataclass
class Live:
    address: str
    http: httpx.AsyncClient  # ada's, in-process
    ada: User
    ada_auth: dict[str, str]
    project_id: str
    workspace_pk: int

    async def issue(self, title: str, project: str = "WEB") -> int:
        path = f"/api/v1/workspaces/acme/projects/{project}/issues"
        answer = await self.http.post(path, json={"title": title})
        assert answer.status_code == 201, answer.text
        number: int = answer.json()["number"]
        return number


@pytest.fixture
async def world(app: FastAPI, client: httpx.AsyncClient) -> AsyncIterator[Live]:
    """ada owns workspace `acme` with projects WEB and API, behind a live server."""
    original: Settings = app.state.settings
    use_memory_throttle(app)
    ada = await make_user("ada")
    auth = bearer(app, ada)
    client.headers.update(auth)
    await client.post("/api/v1/workspaces", json={"slug": "acme", "name": "Acme"})
    web = await client.post("/api/v1/workspaces/acme/projects", json={"key": "WEB", "name": "W"})
    await client.post("/api/v1/workspaces/acme/projects", json={"key": "API", "name": "A"})
    workspace_pk = (await Workspace.get(slug="acme")).id
    await settle(workspace_pk)
    async with serving(app) as address:
        yield Live(address, client, ada, auth, web.json()["node_id"], workspace_pk)
    app.state.settings = original


async def test_events_arrive_as_they_commit(world: Live) -> None:
    async with Socket.open(world.address, world.ada_auth) as ws:
        await ws.subscribe("all", WORKSPACE_EVENTS, {"w": "acme"})
        await ws.subscribe("web", ISSUE_EVENTS, {"p": world.project_id})
        await until_subscribed(2)
        await world.issue("first")
        await world.issue("elsewhere", project="API")
        created = await ws.event("all")
        assert created["type"] == "issue.created"
        assert created["actor"] == {"username": "ada"}
        assert created["project"] == {"key": "WEB"}
        assert created["issue"] == {"number": 1, "title": "first"}
        assert (await ws.event("all"))["project"] == {"key": "API"}
        assert (await ws.event("web"))["issue"]["title"] == "first"
        assert await ws.quiet("web")  # the API project's issue is not WEB's


async def test_unknown_or_invisible_is_not_found_like_a_query(app: FastAPI, world: Live) -> None:
    bob = await make_user("bob")
    async with Socket.open(world.address, bearer(app, bob)) as ws:
        await ws.subscribe("1", WORKSPACE_EVENTS, {"w": "acme"})
        await ws.subscribe("2", WORKSPACE_EVENTS, {"w": "nowhere"})
        await ws.subscribe("3", ISSUE_EVENTS, {"p": world.project_id})
        await ws.subscribe("4", ISSUE_EVENTS, {"p": "UHJvamVjdDo5OTk5"})  # Project:9999
        answers = [await ws.message(str(n)) for n in range(1, 5)]
    assert [a["type"] for a in answers] == ["error"] * 4
    assert [error_code(a) for a in answers] == ["NOT_FOUND"] * 4
    query = await world.http.post(
        "/graphql", json={"query": '{ workspace(slug: "acme") { id } }'}, headers=bearer(app, bob)
    )
    assert query.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert answers[0]["payload"][0]["message"] == query.json()["errors"][0]["message"]


@pytest.mark.parametrize("where", ["connection_init", "upgrade"])
async def test_a_bad_token_closes_the_socket_with_4403(world: Live, where: str) -> None:
    bad = {"Authorization": "Bearer not-a-token"}
    headers, payload = (None, bad) if where == "connection_init" else (bad, None)
    url = f"ws://{world.address}/graphql"
    ws = await connect(url, subprotocols=[PROTOCOL], additional_headers=headers)
    init: dict[str, object] = {"type": "connection_init"}
    if payload is not None:
        init["payload"] = payload
    await ws.send(json.dumps(init))
    with pytest.raises(ConnectionClosed):
        await asyncio.wait_for(ws.recv(), 5)
    assert ws.close_code == 4403


async def test_subscribing_before_connection_init_closes_with_4401(world: Live) -> None:
    ws = await connect(f"ws://{world.address}/graphql", subprotocols=[PROTOCOL])
    subscribe = {"query": WORKSPACE_EVENTS, "variables": {"w": "acme"}}
    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": subscribe}))
    with pytest.raises(ConnectionClosed):
        await asyncio.wait_for(ws.recv(), 5)
    assert ws.close_code == 4401


async def test_anonymous_subscribers_must_authenticate(world: Live) -> None:
    async with Socket.open(world.address) as ws:
        await ws.subscribe("1", WORKSPACE_EVENTS, {"w": "acme"})
        assert error_code(await ws.message("1")) == "UNAUTHENTICATED"


async def test_after_must_name_an_event_of_that_stream(world: Live) -> None:
    await world.issue("on WEB")
    await world.issue("on API", project="API")
    api_event = await Event.filter(type="issue.created").order_by("-id").first()  # API's
    assert api_event is not None
    api_event_id = node_id(api_event.id)
    async with Socket.open(world.address, world.ada_auth) as ws:
        await ws.subscribe("1", ISSUE_EVENTS, {"p": world.project_id, "after": api_event_id})
        await ws.subscribe("2", WORKSPACE_EVENTS, {"w": "acme", "after": world.project_id})
        await ws.subscribe("3", WORKSPACE_EVENTS, {"w": "acme", "after": "not an id"})
        await ws.subscribe("4", WORKSPACE_EVENTS, {"w": "acme", "after": node_id(99_999)})
        answers = [await ws.message(str(n)) for n in range(1, 5)]
        assert [error_code(a) for a in answers] == ["VALIDATION_FAILED"] * 4
        assert answers[0]["payload"][0]["extensions"]["fields"][0]["field"] == "after"
        # The same event is fine for the stream it belongs to.
        await ws.subscribe("5", WORKSPACE_EVENTS, {"w": "acme", "after": api_event_id})
        assert await ws.quiet("5")


async def test_after_replays_then_goes_live_without_gap_or_duplicate(world: Live) -> None:
    """A client reads some events, drops, and reconnects with `after` while a writer keeps
    committing: it sees every event once, in commit order."""
    async with Socket.open(world.address, world.ada_auth) as ws:
        await ws.subscribe("1", WORKSPACE_EVENTS, {"w": "acme"})
        await until_subscribed(1)
        await world.issue("seen before the drop")
        last_seen = (await ws.event("1"))["id"]

    async def writer() -> None:
        for n in range(30):
            await world.issue(f"while reconnecting {n}")
            await asyncio.sleep(0.005)

    writing = asyncio.create_task(writer())
    await asyncio.sleep(0.05)  # some commit while disconnected
    received: list[str] = []
    async with Socket.open(world.address, world.ada_auth) as ws:
        await ws.subscribe("2", WORKSPACE_EVENTS, {"w": "acme", "after": last_seen})
        await writing
        expected = await _ids_after(last_seen)
        assert len(expected) == 30
        while len(received) < len(expected):
            received.append((await ws.event("2"))["id"])
        assert await ws.quiet("2")
    assert received == expected


async def _ids_after(event_id: str) -> list[str]:
    """The ids of every event committed after `event_id`, in commit order, from the table."""
    rows = await Event.filter(id__gt=pk_of(event_id, "Event")).order_by("id").values("id")
    return [node_id(row["id"]) for row in rows]


async def test_a_removed_member_gets_an_error_and_the_stream_ends(
    app: FastAPI, world: Live
) -> None:
    bob = await make_user("bob")
    await join("acme", world.ada, bob)
    await settle(world.workspace_pk)
    async with Socket.open(world.address, bearer(app, bob)) as ws:
        await ws.subscribe("all", WORKSPACE_EVENTS, {"w": "acme"})
        await ws.subscribe("web", ISSUE_EVENTS, {"p": world.project_id})
        await until_subscribed(2)
        await world.issue("bob sees this")
        assert (await ws.event("all"))["type"] == "issue.created"
        assert (await ws.event("web"))["type"] == "issue.created"
        removed = await world.http.delete("/api/v1/workspaces/acme/members/bob")
        assert removed.status_code == 204
        await world.issue("bob does not")
        for operation in ("all", "web"):
            ended = await ws.message(operation)
            assert ended["type"] == "next"
            assert error_code(ended) == "NOT_FOUND"
            assert (await ws.message(operation))["type"] == "complete"


async def test_a_subscriber_that_falls_behind_is_told_to_resume_with_after(
    app: FastAPI, world: Live
) -> None:
    app.state.settings = app.state.settings.model_copy(update={"subscription_queue_size": 2})
    for n in range(5):
        await world.issue(f"burst {n}")
    await settle(world.workspace_pk)
    events = await Event.filter(type="issue.created").order_by("id").values("id", "workspace_id")
    broker = runtime.current()
    assert broker is not None
    async with Socket.open(world.address, world.ada_auth) as ws:
        await ws.subscribe("1", WORKSPACE_EVENTS, {"w": "acme"})
        await until_subscribed(1)
        # A burst announced faster than this subscriber drains: five at once, room for two.
        for row in events:
            broker.hub.notify(Notice(row["workspace_id"], row["id"]))
        ended = await ws.message("1")
        assert error_code(ended) == "SERVICE_UNAVAILABLE"
        assert "fell more than 2 events behind" in ended["payload"]["errors"][0]["message"]
        assert "after" in ended["payload"]["errors"][0]["message"]
        assert (await ws.message("1"))["type"] == "complete"
    assert broker.hub.subscribers == 0  # the inbox is gone with its stream


async def test_each_subscription_is_charged_and_limited_like_a_query(
    app: FastAPI, world: Live
) -> None:
    app.state.settings = app.state.settings.model_copy(update={"rate_limit_per_minute": 3})
    use_memory_throttle(app)  # the set-up's requests spent from ada's budget
    aliases = " ".join(f"a{n}: id" for n in range(40))
    too_wide = f'subscription {{ workspaceEvents(workspace: "acme") {{ {aliases} }} }}'
    async with Socket.open(world.address, world.ada_auth) as ws:
        await ws.subscribe("wide", too_wide, {})
        assert error_code(await ws.message("wide")) == "GRAPHQL_VALIDATION_FAILED"
        for n in range(3):  # the refused document spent one point of three already
            await ws.subscribe(str(n), WORKSPACE_EVENTS, {"w": "acme"})
        refused = await ws.message("2")
        assert error_code(refused) == "RATE_LIMITED"
        assert await ws.quiet("1")  # admitted, and live


async def test_an_idle_socket_is_pinged(app: FastAPI, world: Live) -> None:
    app.state.settings = app.state.settings.model_copy(
        update={"subscription_keepalive_seconds": 0.1}
    )
    async with Socket.open(world.address, world.ada_auth) as ws:
        await ws.subscribe("1", WORKSPACE_EVENTS, {"w": "acme"})
        async with asyncio.timeout(5):
            await ws.until_pinged(3)
        await world.issue("still live after the pings")
        assert (await ws.event("1"))["type"] == "issue.created"


async def test_a_lost_feed_ends_the_stream_naming_the_after_to_resume_with(
    world: Live,
) -> None:
    broker = runtime.current()
    assert broker is not None
    async with Socket.open(world.address, world.ada_auth) as ws:
        await ws.subscribe("1", WORKSPACE_EVENTS, {"w": "acme"})
        await until_subscribed(1)
        await world.issue("received")
        last = (await ws.event("1"))["id"]
        broker.hub.interrupt_all("the server lost its event feed")  # as a dropped LISTEN does
        ended = await ws.message("1")
        assert error_code(ended) == "SERVICE_UNAVAILABLE"
        assert f'after: "{last}"' in ended["payload"]["errors"][0]["message"]
        await world.issue("missed live")
        await ws.subscribe("2", WORKSPACE_EVENTS, {"w": "acme", "after": last})
        assert (await ws.event("2"))["issue"]["title"] == "missed live"


async def test_a_dropped_listen_connection_ends_streams_then_comes_back(world: Live) -> None:
    broker = runtime.current()
    assert broker is not None
    if not isinstance(broker.transport, PostgresTransport):
        pytest.skip("LISTEN/NOTIFY needs PostgreSQL (GATEWAY_TEST_DATABASE_URL)")
    async with Socket.open(world.address, world.ada_auth) as ws:
        await ws.subscribe("1", WORKSPACE_EVENTS, {"w": "acme"})
        await until_subscribed(1)
        killed = await Tortoise.get_connection("default").execute_query_dict(
            "SELECT pg_terminate_backend(pid) AS gone FROM pg_stat_activity"
            " WHERE datname = current_database() AND query LIKE 'LISTEN %'"
        )
        assert [row["gone"] for row in killed] == [True]
        ended = await ws.message("1")
        assert error_code(ended) == "SERVICE_UNAVAILABLE"
        assert "lost its event feed" in ended["payload"]["errors"][0]["message"]
        for _ in range(50):  # it listens again within a few seconds
            if broker.transport.connected:
                break
            await asyncio.sleep(0.1)
        await ws.subscribe("2", WORKSPACE_EVENTS, {"w": "acme"})
        await until_subscribed(1)
        await world.issue("heard on the new connection")
        assert (await ws.event("2"))["issue"]["title"] == "heard on the new connection"
