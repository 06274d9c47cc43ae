"""The compiled reads' way in: a pure ASGI middleware in front of the GraphQL router.

A `GET` or `POST /graphql` query the compiled reads can answer (`schema.compiled`) is answered
here, with the statement's JSON passed on as bytes: no routing, no dependencies, no Strawberry,
and for an access token no principal lookup (the statement checks the user is active). Everything
else — another method or media type, persisted queries, anonymous or bad credentials, a token
without `read`, any input the resolvers would refuse, a missing or invisible object — goes on
to the router unchanged, its body replayed, and is answered exactly as before. The middlewares
outside (request id, security headers, CORS, rate limit, body limit, idempotency) apply to both.
See history/adr/0015-compiled-reads.md.
"""

from __future__ import annotations

from typing import Any, Final
from urllib.parse import parse_qsl

import orjson
from graphql.language.parser import MAX_NESTING_DEPTH
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.core.settings import Settings
from gateway.http.deps import reader_id
from schema.compiled import CompiledReads
from schema.http.router import CONTENT_TYPES, is_json, negotiate, nesting

GRAPHQL_PATH: Final = "/graphql"


def _settings(scope: Scope) -> Settings:
    settings: Settings = scope["app"].state.settings
    return settings


def _header(scope: Scope, name: bytes) -> str | None:
    value = next((v for k, v in scope["headers"] if k == name), None)
    return None if value is None else value.decode("latin-1")


Operation = tuple[str, str | None, dict[str, Any]]


def _posted(body: bytes) -> Operation | None:
    """(query, operation name, variables) of a plain GraphQL-over-HTTP body, or None."""
    try:
        params = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(params, dict):
        return None
    return _operation(params)


def _queried(query_string: bytes) -> Operation | None:
    """The same from a GET's query string (each parameter at most once, as the router reads
    it: `variables` as JSON, empty ones absent)."""
    pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    params: dict[str, object] = dict(pairs)
    if len(params) != len(pairs):
        return None
    if params.get("operationName") == "":
        params["operationName"] = None
    raw = params.get("variables")
    if raw:
        try:
            params["variables"] = orjson.loads(str(raw))
        except orjson.JSONDecodeError:
            return None
    else:
        params["variables"] = None
    if params.get("extensions") == "":
        params["extensions"] = None
    return _operation(params)


def _operation(params: dict[str, Any]) -> Operation | None:
    if params.get("extensions") is not None:
        return None  # persisted queries: the router's
    query, name = params.get("query"), params.get("operationName")
    variables = params.get("variables")
    if not isinstance(query, str) or not isinstance(name, str | None):
        return None
    if variables is None:
        variables = {}
    if not isinstance(variables, dict) or nesting(variables) > MAX_NESTING_DEPTH:
        return None
    return query, name, variables


class CompiledGraphQL:
    """Answers compiled GraphQL reads before the router; passes everything else on."""

    def __init__(self, app: ASGIApp, reads: CompiledReads) -> None:
        self.app = app
        self.reads = reads

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["path"] != GRAPHQL_PATH
            or scope["method"] not in ("GET", "POST")
            or not _settings(scope).compiled_reads
            or _header(scope, b"authorization") is None
        ):
            await self.app(scope, receive, send)
            return
        media_type = negotiate(_header(scope, b"accept"))
        operation: Operation | None = None
        if scope["method"] == "GET":
            operation = _queried(scope["query_string"])
        elif is_json(_header(scope, b"content-type")):
            body, receive = await _read_body(receive)
            operation = None if body is None else _posted(body)
        answer = None
        if media_type is not None and operation is not None:
            answer = await self._answer(scope, operation)
        if answer is None or media_type is None:
            await self.app(scope, receive, send)
            return
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", CONTENT_TYPES[media_type].encode()),
                    (b"content-length", str(len(answer)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": answer})

    async def _answer(self, scope: Scope, operation: Operation) -> bytes | None:
        user_id = await reader_id(scope)
        if user_id is None:
            return None
        return await self.reads.answer(scope, user_id, *operation)


async def _read_body(receive: Receive) -> tuple[bytes | None, Receive]:
    """The whole request body (None if the client went away), and a `receive` that hands it
    to the router again before anything else."""
    chunks: list[bytes] = []
    messages: list[Message] = []
    replay: list[Message]
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    complete = messages[-1]["type"] == "http.request"
    replay = [{"type": "http.request", "body": b"".join(chunks), "more_body": False}]
    if not complete:
        replay = messages

    async def replayed() -> Message:
        return replay.pop(0) if replay else await receive()

    return (b"".join(chunks) if complete else None), replayed
