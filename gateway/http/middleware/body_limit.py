"""413 PAYLOAD_TOO_LARGE for a request body over `settings.max_body_bytes`.

A declared `Content-Length` over the limit is refused before the app runs; a chunked body is
counted as it streams, and the app's own answer is replaced by the 413 once the count passes
the limit (FastAPI would otherwise turn the read error into a 400).
"""

from __future__ import annotations

import contextlib

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.core.errors import PayloadTooLarge
from gateway.http.docs import GRAPHQL_PATH
from gateway.http.middleware.base import HttpMiddleware
from gateway.http.problems import graphql_request_error, problem


class BodyTooLarge(Exception):
    """Raised from `receive` to stop whoever is reading the body."""


class BodyLimitMiddleware(HttpMiddleware):
    """Caps request bodies; the 413 is problem+json, or GraphQL-shaped at `/graphql`."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        super().__init__(app)
        self.max_body_bytes = max_body_bytes

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            await self._refuse(scope, receive, send)
            return

        received = 0
        exceeded = False
        answered = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            if exceeded:
                raise BodyTooLarge
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    exceeded = True
                    raise BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal answered
            if exceeded and not answered:
                return  # whatever the app made of the interrupted read; the 413 replaces it
            answered = True
            await send(message)

        # The app stopped reading; an answer it had already begun cannot be taken back.
        with contextlib.suppress(BodyTooLarge):
            await self.app(scope, counting_receive, guarded_send)
        if exceeded and not answered:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        error = PayloadTooLarge(
            f"The request body is over the limit of {self.max_body_bytes} bytes"
        )
        if str(scope["path"]).rstrip("/") == GRAPHQL_PATH:
            response = graphql_request_error(error)
        else:
            response = problem(error.code, error.detail)
        await response(scope, receive, send)
