"""Read routing's decision, once per HTTP request (ADR 0020): may this request's reads go to
the replica (`gateway.core.replicas` carries the answer to the PostgreSQL engine)?

A principal that wrote lately reads from the primary; readiness and liveness always do.
"""

from __future__ import annotations

import hashlib
from typing import Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.core.replicas import Replica, Route, routed

_PRIMARY_ONLY_PATHS: Final = frozenset({"/readyz", "/healthz"})


def principal_key(scope: Scope) -> bytes:
    """Who is asking, as far as read-your-writes cares (never stored in the clear)."""
    credential = b""
    for name, value in scope["headers"]:
        if name == b"authorization":
            credential = b"a:" + value
            break
        if name == b"cookie":
            credential = b"c:" + value
    if not credential:
        client = scope.get("client")
        credential = f"p:{client[0] if client else ''}".encode()
    return hashlib.blake2b(credential, digest_size=16).digest()


class ReadRouting:
    """Decide, per HTTP request, whether its reads may go to the replica."""

    def __init__(self, app: ASGIApp, replica: Replica) -> None:
        self.app = app
        self.replica = replica

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in _PRIMARY_ONLY_PATHS:
            await self.app(scope, receive, send)
            return
        principal = principal_key(scope)
        route = Route(
            replica_allowed=await self.replica.may_read(principal),
            on_write=lambda: self.replica.remember_write(principal),
        )
        if self.replica.shared is not None:
            send = self._sharing(send, route, principal)
        with routed(route):
            await self.app(scope, receive, send)

    def _sharing(self, send: Send, route: Route, principal: bytes) -> Send:
        """`send`, telling the other processes of a write before the answer starts: the client
        cannot ask again before it has the answer."""

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start" and route.wrote:
                await self.replica.share_write(principal)
            await send(message)

        return sending
