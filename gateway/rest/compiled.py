"""REST reads answered by compiled reads (`gateway.reads`): one statement whose JSON goes out as
bytes. A route tries `compiled` first; None leaves the request to its service code, which
answers as it always has (compiled reads off, a caller without the `read` scope, a missing or
invisible object, a bad cursor: each reported in the services' words).

    body = await compiled(settings, principal, PROJECT_ONE, {"slug": slug, "key": key})
    if body is not None:
        return one_answer(request, body)
    view = await projects.get_project(principal, (slug, key))
    …
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import orjson
from fastapi import Request, Response

from gateway.errors import DomainError
from gateway.reads.reader import dialect_of, read_root
from gateway.reads.roots import Root
from gateway.reads.sql import CannotCompile
from gateway.rest.conditional import etag, names
from gateway.security.principal import Principal, Scope
from gateway.settings import Settings

JSON: Final = "application/json"


async def compiled(
    settings: Settings,
    principal: Principal,
    root: Root,
    arguments: dict[str, object],
    page: Mapping[str, object] | None = None,
) -> bytes | None:
    """The answer read in one statement (`gateway.reads`), or None: the services answer
    instead (compiled reads off, or an error to report in their words). `page`: a list's
    paging arguments (`PageParams.args()`, or GraphQL-like ones with `filter`/`orderBy`)."""
    if not settings.compiled_reads or not principal.allows(Scope.read):
        return None
    try:
        return await read_root(root, dialect_of(settings), principal.user_id, arguments, page)
    except (DomainError, CannotCompile):
        return None


def next_cursor(body: bytes) -> str | None:
    """The page's `next_cursor`, the last key of its JSON, without parsing the items."""
    value = body[body.rfind(b'"next_cursor"') + len(b'"next_cursor"') :]
    value = value.lstrip(b" :").rstrip(b" }")
    return None if value == b"null" else value.strip(b'"').decode()


def link(request: Request, cursor: str | None) -> dict[str, str]:
    """`Link: <this URL with cursor=next>; rel="next"` when there is a next page."""
    if cursor is None:
        return {}
    url = request.url.include_query_params(cursor=cursor)
    return {"Link": f'<{url}>; rel="next"'}


def page_answer(request: Request, body: bytes) -> Response:
    """A compiled page, with its `Link` header."""
    return Response(body, headers=link(request, next_cursor(body)), media_type=JSON)


async def written(
    settings: Settings,
    principal: Principal,
    root: Root,
    arguments: dict[str, object],
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response | None:
    """The answer to a write, read back through the read model (so it shows what a read would
    show, never a stale copy), with its `ETag`; None when compiled reads are off (or the object
    is already gone again): the route answers from the service's view as before."""
    body = await compiled(settings, principal, root, arguments)
    if body is None:
        return None
    return Response(
        body, status, headers={**(headers or {}), "ETag": etag_of(body)}, media_type=JSON
    )


def etag_of(body: bytes) -> str:
    """The strong ETag of a compiled object, from its `version`."""
    return etag(int(orjson.loads(body)["version"]))


def one_answer(request: Request, body: bytes) -> Response:
    """A compiled object with its strong `ETag` (from its `version`); 304 for a matching
    `If-None-Match`."""
    tag = etag_of(body)
    if names(request.headers.get("if-none-match"), tag):
        return Response(status_code=304, headers={"ETag": tag})
    return Response(body, headers={"ETag": tag}, media_type=JSON)
