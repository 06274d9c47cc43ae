"""503 instead of 500 when the database is away and the failure surfaces in a middleware (the
compiled fast paths, idempotency, rate limits), outside FastAPI's exception handlers.

Without it such an exception reaches Starlette's outermost handler, which answers 500 and then
re-raises, so uvicorn closes the connection: a client that already sent its next request on
that keep-alive connection sees it cut. Here it is answered like any other outage (ADR 0020):
503 SERVICE_UNAVAILABLE with `Retry-After`, a problem or GraphQL's shape, the connection kept.
"""

from __future__ import annotations

from starlette.types import Message, Receive, Scope, Send

from gateway.core.db import is_outage
from gateway.http.middleware.base import HttpMiddleware
from gateway.http.problems import database_down


class OutageMiddleware(HttpMiddleware):
    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception as exc:
            if started or not is_outage(exc):
                raise
            await database_down(scope["path"], exc)(scope, receive, send)
