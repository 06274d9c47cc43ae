"""REST answers read through the read model (`gateway.reads`): one statement whose JSON goes
out as bytes. When a read finds nothing, the route's service read explains why in the services'
words (a caller without the `read` scope, a missing or invisible object, a bad cursor):

    async def get_project(slug: str, key: str, reads: ReadsDep) -> Response:
        explain = lambda: projects.get_project(reads.principal, (slug, key))
        return await reads.one(PROJECT_ONE, {"slug": slug, "key": key}, explain)

`Reads` (`ReadsDep`) carries what every such answer needs (the request, its principal and the
settings), so a route names only its own parameters.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Final

import orjson
from fastapi import Depends, Request, Response

from gateway.core.errors import DomainError, NotFound, ValidationFailed
from gateway.core.settings import Settings
from gateway.http.deps import PrincipalDep, SettingsDep
from gateway.reads.reader import dialect_of, read_root
from gateway.reads.roots import Root
from gateway.reads.sql import CannotCompile
from gateway.rest.conditional import etag, names
from gateway.security.principal import Principal, Scope

JSON: Final = "application/json"


Explain = Callable[[], Awaitable[object]]
"""The service's own read of the same thing: raises the error the compiled read cannot tell."""


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


async def written(
    settings: Settings,
    user_id: int,
    root: Root,
    arguments: Mapping[str, object],
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """The answer to a write, read back through the read model (so it shows what a read would
    show, never a stale copy), with its `ETag` when the object has a `version` (a webhook
    delivery has none). The writer sees what it wrote, whatever its token's scopes (`user_id`:
    the writer, or the user just signed up)."""
    body = await read_root(root, dialect_of(settings), user_id, arguments)
    if body is None:
        raise NotFound("It was deleted as it was written")
    version = orjson.loads(body).get("version")
    tag = {} if version is None else {"ETag": etag(int(version))}
    return Response(body, status, headers={**(headers or {}), **tag}, media_type=JSON)


def etag_of(body: bytes) -> str:
    """The strong ETag of a compiled object, from its `version`."""
    return etag(int(orjson.loads(body)["version"]))


@dataclass(frozen=True, slots=True)
class Reads:
    """The request's compiled answers, with the request, its principal and the settings
    already in hand."""

    request: Request
    principal: Principal
    settings: Settings

    async def read(
        self,
        root: Root,
        arguments: Mapping[str, object],
        explain: Explain,
        page: Mapping[str, object] | None = None,
    ) -> bytes:
        """The answer read in one statement. `page`: a list's paging arguments
        (`PageParams.args()`, or GraphQL-like ones with `filter`/`orderBy`)."""
        body, unread = None, False
        if self.principal.allows(Scope.read):
            try:
                body = await read_root(
                    root, dialect_of(self.settings), self.principal.user_id, arguments, page
                )
            except DomainError:  # a bad cursor or filter: the service says it in its words
                pass
            except CannotCompile:  # a cursor the read model cannot check (minted before v2)
                unread = True
        if body is None:
            await explain()
            if unread:
                raise ValidationFailed.on(
                    "cursor", "This cursor has expired; start from the first page"
                )
            raise NotFound("It no longer exists")  # deleted between the two reads
        return body

    async def page(
        self,
        root: Root,
        arguments: Mapping[str, object],
        explain: Explain,
        page: Mapping[str, object],
    ) -> Response:
        """A list's page (`page`: its paging arguments), with its `Link` header."""
        body = await self.read(root, arguments, explain, page)
        return Response(body, headers=link(self.request, next_cursor(body)), media_type=JSON)

    async def one(self, root: Root, arguments: Mapping[str, object], explain: Explain) -> Response:
        """One object, with its strong `ETag` (from its `version`); 304 for a matching
        `If-None-Match`."""
        body = await self.read(root, arguments, explain)
        tag = etag_of(body)
        if names(self.request.headers.get("if-none-match"), tag):
            return Response(status_code=304, headers={"ETag": tag})
        return Response(body, headers={"ETag": tag}, media_type=JSON)

    async def written(
        self,
        root: Root,
        arguments: Mapping[str, object],
        status: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        """The caller's write, read back (see `written`)."""
        user_id = self.principal.user_id
        return await written(self.settings, user_id, root, arguments, status, headers)


async def reads(request: Request, principal: PrincipalDep, settings: SettingsDep) -> Reads:
    """`async`, like the getters of `gateway.http.deps`: FastAPI runs a plain `def` dependency in
    its thread pool, a hop per request for building a tuple."""
    return Reads(request, principal, settings)


ReadsDep = Annotated[Reads, Depends(reads)]
