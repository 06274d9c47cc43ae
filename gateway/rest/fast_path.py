"""The compiled issue read's way in: `GET …/issues/{number}` answered before routing.

The busiest REST read (an issue page) answered by one statement whose JSON goes out as bytes,
with its `ETag` (and 304 for a matching `If-None-Match`), without routing or dependencies and,
for an access token, without a principal lookup (the statement checks the user is active).
Only the plainest requests qualify — a well-formed path, no query string, a credential that may
read, a visible issue; anything else goes on to the route, which answers as it always has.
See history/adr/0015-compiled-reads.md.
"""

from __future__ import annotations

import re
from typing import Final

from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.core.errors import DomainError
from gateway.core.settings import Settings
from gateway.http.deps import reader_id
from gateway.reads.reader import dialect_of, read_root
from gateway.reads.sql import CannotCompile
from gateway.rest.compiled import etag_of
from gateway.rest.conditional import names
from gateway.rest.issues import ISSUE_ONE
from gateway.rest.params import MAX_ISSUE_NUMBER

_ISSUE: Final = re.compile(r"/api/v1/workspaces/([^/]+)/projects/([^/]+)/issues/([1-9][0-9]*)")


class CompiledIssueRead:
    """Answers `GET …/issues/{number}` from the compiled read; passes everything else on."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.dialect = dialect_of(settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = (
            _ISSUE.fullmatch(scope["path"])
            if scope["type"] == "http" and scope["method"] == "GET" and not scope["query_string"]
            else None
        )
        body = None if found is None else await self._read(scope, *found.groups())
        if body is None:
            await self.app(scope, receive, send)
            return
        tag = etag_of(body)
        sent = next((v for k, v in scope["headers"] if k == b"if-none-match"), None)
        headers = [(b"etag", tag.encode())]
        if names(None if sent is None else sent.decode("latin-1"), tag):
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        headers += [
            (b"content-length", str(len(body)).encode()),
            (b"content-type", b"application/json"),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _read(self, scope: Scope, slug: str, key: str, number: str) -> bytes | None:
        if "\x00" in slug or "\x00" in key or int(number) > MAX_ISSUE_NUMBER:
            return None  # the route names the parameter in its 422
        user_id = await reader_id(scope)
        if user_id is None:
            return None
        arguments: dict[str, object] = {"slug": slug, "key": key, "number": int(number)}
        try:
            return await read_root(ISSUE_ONE, self.dialect, user_id, arguments)
        except (DomainError, CannotCompile):
            return None
