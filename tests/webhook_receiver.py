"""Real webhook receivers for the tests, on loopback ports: an HTTP one (uvicorn in the test's
event loop) that records what it gets and answers as told, and one that closes every
connection without answering."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn

GATHER_WAIT = 15.0


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """An ASGI app recording each POST; answers `statuses` in turn (then `status`), after
    `delay` seconds, or holds each request until `release` is set when `hold` is on, or (with
    `gather`) until that many requests are under way at once (at most `GATHER_WAIT` s)."""

    status: int = 200
    statuses: list[int] = field(default_factory=list)
    delay: float = 0.0
    hold: bool = False
    gather: int = 0
    received: list[Received] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    gathered: asyncio.Event = field(default_factory=asyncio.Event)
    url: str = ""

    def guids(self) -> list[str]:
        return [r.headers["x-switchyard-delivery"] for r in self.received]

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        self.received.append(Received(headers, body))
        self.arrived.set()
        if self.hold:
            await self.release.wait()
        if self.gather:
            if len(self.received) >= self.gather:
                self.gathered.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.gathered.wait(), GATHER_WAIT)
        if self.delay:
            await asyncio.sleep(self.delay)
        status = self.statuses.pop(0) if self.statuses else self.status
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


def listener() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock


@asynccontextmanager
async def receiving(receiver: Receiver) -> AsyncIterator[Receiver]:
    """`receiver` served by uvicorn on a free 127.0.0.1 port until the block ends."""
    sock = listener()
    receiver.url = f"http://127.0.0.1:{sock.getsockname()[1]}/hook"
    config = uvicorn.Config(receiver, lifespan="off", log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        assert not task.done(), "the receiver did not start"
        await asyncio.sleep(0.01)
    try:
        yield receiver
    finally:
        receiver.release.set()
        server.should_exit = True
        await task
        sock.close()


@asynccontextmanager
async def hanging_up() -> AsyncIterator[str]:
    """A URL whose server reads the request and closes the connection without a word."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1024)
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/hook"
    finally:
        server.close()
        await server.wait_closed()
