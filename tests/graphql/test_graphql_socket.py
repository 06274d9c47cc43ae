"""GraphQL over a websocket (graphql-transport-ws) on a real uvicorn server: every operation
is charged to the budget HTTP requests spend, the caller named by the upgrade request's header
or by `connection_init`'s payload, and refused with RATE_LIMITED when over."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from graphql import parse
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from gateway.core.settings import Settings
from models import Workspace
from schema import build_schema
from schema.http.cost import node_cost
from tests.auth_helpers import bearer, make_user, use_memory_throttle
from tests.subscription_helpers import serving

PROTOCOL = Subprotocol("graphql-transport-ws")
CHEAP = "{ serverInfo { version } }"
# Nested connections of 100: hundreds of points.
EXPENSIVE = """{ viewer { workspaces(first: 100) { edges { node {
  members(first: 100) { edges { node { user { workspaces(first: 3) { edges { node { id } } } } } } }
} } } } }"""
CREATE = 'mutation { createWorkspace(input: {slug: "acme", name: "Acme"}) { workspace { id } } }'


def _points(query: str, settings: Settings) -> int:
    cost = node_cost(build_schema(settings), parse(query), {})
    return 1 + cost // settings.rate_limit_node_cost_per_point


@pytest.fixture
def budgets(app: FastAPI) -> Iterator[Settings]:
    """Settings whose budgets a test may change (`app.state.settings = …`), restored after,
    on a fresh memory store."""
    original: Settings = app.state.settings
    use_memory_throttle(app)
    yield original
    app.state.settings = original


@pytest.fixture
async def server(app: FastAPI) -> AsyncIterator[str]:
    """The app behind uvicorn on a free local port (the session's lifespan already runs)."""
    async with serving(app) as address:
        yield address


async def _open(
    url: str, headers: dict[str, str] | None = None, payload: dict[str, str] | None = None
) -> ClientConnection:
    """A socket past `connection_ack`."""
    ws = await connect(f"ws://{url}/graphql", subprotocols=[PROTOCOL], additional_headers=headers)
    init: dict[str, object] = {"type": "connection_init"}
    if payload is not None:
        init["payload"] = payload
    await ws.send(json.dumps(init))
    assert json.loads(await ws.recv())["type"] == "connection_ack"
    return ws


async def _run(ws: ClientConnection, queries: list[str]) -> list[dict[str, Any]]:
    """Send every operation at once; the first answer to each (`next` or `error`), in order."""
    for number, query in enumerate(queries):
        message = {"id": str(number), "type": "subscribe", "payload": {"query": query}}
        await ws.send(json.dumps(message))
    answers: dict[str, dict[str, Any]] = {}
    while len(answers) < len(queries):
        message = json.loads(await ws.recv())
        if message["type"] in ("next", "error"):
            answers.setdefault(message["id"], message)
    return [answers[str(number)] for number in range(len(queries))]


def _codes(answers: list[dict[str, Any]]) -> list[str]:
    """`ok` for data, else the first error's code."""
    codes = []
    for answer in answers:
        errors = answer["payload"] if answer["type"] == "error" else answer["payload"].get("errors")
        codes.append(errors[0]["extensions"]["code"] if errors else "ok")
    return codes


async def test_anonymous_operations_share_the_address_budget(
    app: FastAPI, server: str, budgets: Settings, client: httpx.AsyncClient
) -> None:
    app.state.settings = budgets.model_copy(update={"rate_limit_anonymous_per_minute": 5})
    ws = await _open(server)
    try:
        answers = await _run(ws, [CHEAP] * 8)
    finally:
        await ws.close()
    assert _codes(answers) == ["ok"] * 5 + ["RATE_LIMITED"] * 3
    assert "retry in" in answers[-1]["payload"][0]["message"]
    # The same budget as HTTP from that address (the in-process client is another address).
    async with httpx.AsyncClient(base_url=f"http://{server}") as http:
        refused = await http.post("/graphql", json={"query": CHEAP})
    assert refused.status_code == 429


async def test_node_cost_is_charged_to_the_user_named_in_connection_init(
    app: FastAPI, server: str, budgets: Settings
) -> None:
    points = _points(EXPENSIVE, budgets)
    assert points > 100
    app.state.settings = budgets.model_copy(update={"rate_limit_per_minute": 2 * points})
    ada = await make_user("ada")
    ws = await _open(server, payload=bearer(app, ada))
    try:
        assert _codes(await _run(ws, [EXPENSIVE] * 3)) == ["ok", "ok", "RATE_LIMITED"]
        refused = await _run(ws, [CREATE])
    finally:
        await ws.close()
    assert _codes(refused) == ["RATE_LIMITED"]
    assert await Workspace.filter(slug="acme").count() == 0  # refused before it ran
    async with httpx.AsyncClient(base_url=f"http://{server}") as http:
        theirs = await http.get("/api/v1/me", headers=bearer(app, ada))
        anonymous = await http.get("/api/v1/me")
    assert theirs.status_code == 429  # ada's budget, whichever transport spent it
    assert anonymous.status_code == 401


async def test_the_upgrade_header_names_the_caller_too(
    app: FastAPI, server: str, budgets: Settings
) -> None:
    app.state.settings = budgets.model_copy(
        update={"rate_limit_per_minute": 3, "rate_limit_anonymous_per_minute": 100}
    )
    ws = await _open(server, headers=bearer(app, await make_user("ada")))
    try:
        answers = await _run(ws, ["{ viewer { username } }"] * 4)
    finally:
        await ws.close()
    assert answers[0]["payload"]["data"] == {"viewer": {"username": "ada"}}
    assert _codes(answers) == ["ok"] * 3 + ["RATE_LIMITED"]


async def test_a_bad_credential_in_connection_init_closes_the_socket(
    server: str, budgets: Settings
) -> None:
    ws = await connect(f"ws://{server}/graphql", subprotocols=[PROTOCOL])
    payload = {"Authorization": "Bearer not-a-token"}
    await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
    assert await _close_code(ws) == 4403


async def test_the_unmetered_legacy_protocol_is_refused(server: str, budgets: Settings) -> None:
    ws = await connect(f"ws://{server}/graphql", subprotocols=[Subprotocol("graphql-ws")])
    assert await _close_code(ws) == 4406  # "Subprotocol not acceptable"


async def _close_code(ws: ClientConnection) -> int | None:
    """The code the server closes `ws` with."""
    with pytest.raises(ConnectionClosed) as closed:
        await ws.recv()
    return None if closed.value.rcvd is None else closed.value.rcvd.code


async def test_each_operation_on_a_socket_reads_after_the_ones_before(
    app: FastAPI, server: str, budgets: Settings
) -> None:
    """One socket's context serves all its operations; its DataLoaders must not."""
    ada = await make_user("ada")
    auth = bearer(app, ada)
    async with httpx.AsyncClient(base_url=f"http://{server}", headers=auth) as http:
        await http.post("/api/v1/workspaces", json={"slug": "acme", "name": "Acme"})
        await http.post("/api/v1/workspaces/acme/projects", json={"key": "WEB", "name": "Web"})
        issue = await http.post("/api/v1/workspaces/acme/projects/WEB/issues", json={"title": "t"})
    issue_id = issue.json()["node_id"]
    count = '{ issue(workspace: "acme", project: "WEB", number: 1) { commentCount } }'
    comment = (
        f'mutation {{ addComment(input: {{issueId: "{issue_id}", body: "hi"}}) '
        "{ comment { id } } }"
    )
    ws = await _open(server, payload=auth)
    try:
        before = await _run(ws, [count])
        await _run(ws, [comment])
        after = await _run(ws, [count])
    finally:
        await ws.close()
    assert before[0]["payload"]["data"]["issue"]["commentCount"] == 0
    assert after[0]["payload"]["data"]["issue"]["commentCount"] == 1


async def test_a_message_nested_too_deep_closes_the_socket_as_malformed(server: str) -> None:
    """5,000 nested arrays in a message: the decoder's recursion is caught, not crashed on."""
    ws = await _open(server)
    deep = "[" * 5000 + "]" * 5000
    await ws.send(
        f'{{"id": "1", "type": "subscribe", "payload": {{"query": "{{__typename}}", '
        f'"variables": {{"a": {deep}}}}}}}'
    )
    with pytest.raises(ConnectionClosed):
        await asyncio.wait_for(ws.recv(), 5)
    assert ws.close_code == 4400
