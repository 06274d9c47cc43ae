"""Helpers for subscription tests: the session's app behind a real uvicorn on a loopback port,
and a small graphql-transport-ws client."""

from __future__ import annotations

import asyncio
import json
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from fastapi import FastAPI
from tortoise.transactions import in_transaction
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from gateway.realtime import runtime
from gateway.services import recording
from gateway.services.recording import EventType

PROTOCOL = Subprotocol("graphql-transport-ws")
EVENT_FIELDS = "id type subjectId actor { username } project { key } issue { number title }"
WORKSPACE_EVENTS = (
    "subscription($w: String!, $after: ID) { workspaceEvents(workspace: $w, after: $after)"
    f" {{ {EVENT_FIELDS} }} }}"
)
ISSUE_EVENTS = (
    "subscription($p: ID!, $after: ID) { issueEvents(project: $p, after: $after)"
    f" {{ {EVENT_FIELDS} }} }}"
)


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[str]:
    """`app` (its lifespan already running) behind uvicorn on a free loopback port."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    config = uvicorn.Config(app, lifespan="off", log_level="warning", ws="websockets-sansio")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        while not server.started:
            assert not task.done(), "uvicorn did not start"
            await asyncio.sleep(0.01)
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        listener.close()


class Socket:
    """One graphql-transport-ws connection, past `connection_ack`; messages by operation id."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self._inboxes: dict[str, asyncio.Queue[dict[str, Any]]] = {}
        self.pings = 0
        self._pinged = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    @asynccontextmanager
    async def open(
        cls, address: str, payload: dict[str, str] | None = None
    ) -> AsyncIterator[Socket]:
        ws = await connect(f"ws://{address}/graphql", subprotocols=[PROTOCOL])
        init: dict[str, object] = {"type": "connection_init"}
        if payload is not None:
            init["payload"] = payload
        await ws.send(json.dumps(init))
        assert json.loads(await asyncio.wait_for(ws.recv(), 5))["type"] == "connection_ack"
        socket = cls(ws)
        try:
            yield socket
        finally:
            socket._reader.cancel()
            await ws.close()

    async def until_pinged(self, times: int) -> None:
        """Wait until the server has pinged `times` times in all (no fixed sleep)."""
        while self.pings < times:
            self._pinged.clear()
            await self._pinged.wait()

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                message = json.loads(raw)
                if message["type"] == "ping":
                    self.pings += 1
                    self._pinged.set()
                    await self.ws.send(json.dumps({"type": "pong"}))
                elif "id" in message:
                    await self._inbox(message["id"]).put(message)
        except ConnectionClosed:
            return

    def _inbox(self, operation: str) -> asyncio.Queue[dict[str, Any]]:
        return self._inboxes.setdefault(operation, asyncio.Queue())

    async def subscribe(self, operation: str, query: str, variables: dict[str, Any]) -> None:
        payload = {"query": query, "variables": variables}
        message = {"id": operation, "type": "subscribe", "payload": payload}
        await self.ws.send(json.dumps(message))

    async def complete(self, operation: str) -> None:
        await self.ws.send(json.dumps({"id": operation, "type": "complete"}))

    async def message(self, operation: str, within: float = 5) -> dict[str, Any]:
        """The next message of `operation` (`next`, `error` or `complete`)."""
        return await asyncio.wait_for(self._inbox(operation).get(), within)

    async def event(self, operation: str, within: float = 5) -> dict[str, Any]:
        """The next event of `operation`; fails on anything else."""
        message = await self.message(operation, within)
        assert message["type"] == "next", message
        assert "errors" not in message["payload"], message
        event: dict[str, Any] = next(iter(message["payload"]["data"].values()))
        return event

    async def quiet(self, operation: str, seconds: float = 0.3) -> bool:
        """True when `operation` gets nothing for `seconds`."""
        try:
            await asyncio.wait_for(self._inbox(operation).get(), seconds)
        except TimeoutError:
            return True
        return False


def error_code(message: dict[str, Any]) -> str:
    """The code of an `error` message, or of a `next` message's first error."""
    errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
    code: str = errors[0]["extensions"]["code"]
    return code


async def until_subscribed(count: int) -> None:
    """Wait until this process's hub has `count` live subscribers (streams register when the
    server starts running them, a moment after `subscribe` is sent)."""
    broker = runtime.current()
    assert broker is not None
    for _ in range(500):  # 5 s
        if broker.hub.subscribers >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{broker.hub.subscribers} subscribers, expected {count}")


async def settle(workspace_id: int) -> None:
    """Wait until every event of the workspace committed so far has been through this
    process's hub (announcements arrive a moment after the commit, in commit order), so that a
    subscription opened next hears only what commits after: commit a marker and wait for it."""
    broker = runtime.current()
    assert broker is not None
    marker = f"settled-{uuid.uuid4().hex}"
    inbox = broker.hub.subscribe(workspace_id, lambda view: view.subject_id == marker, 1)
    try:
        async with in_transaction() as db:
            await recording.record(workspace_id, None, EventType.workspace_updated, marker, db=db)
        assert await inbox.next(5) is not None, "the marker was not heard"
    finally:
        broker.hub.unsubscribe(inbox)
