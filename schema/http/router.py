"""Strawberry's FastAPI router, adapted to Switchyard: GraphiQL from local assets, the
GraphQL-over-HTTP specification (media types by `Accept`, status codes per media type, GET for
queries only), automatic persisted queries, and every error in GraphQL's shape with a catalogue
code.

Stock Strawberry always answers `application/json`, with 200 and `"data": null` even when the
document did not parse; `_run_http` replaces its HTTP flow (websockets still go through
Strawberry, graphql-transport-ws only, authenticated and metered by `schema.http.socket`). See
history/adr/0008-graphql-over-http-and-persisted-queries.md.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from json import JSONDecodeError
from typing import Any, Final

import orjson
from graphql import GraphQLError
from graphql.language.parser import MAX_NESTING_DEPTH
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLHTTPResponse, process_result
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UNSET, UnsetType

from gateway.core.errors import ErrorCode, GraphQLErrorCode
from gateway.core.settings import Settings
from gateway.http.docs import graphiql_html
from gateway.http.json_body import dumps
from gateway.reads.reader import dialect_of
from schema import build_schema
from schema.compiled import CompiledReads
from schema.context import Context
from schema.http.context import get_context
from schema.http.errors import to_catalogue
from schema.http.persisted import PersistedQueryError, PersistedQueryStore, build_store, resolve
from schema.http.socket import MeteredTransportWSHandler, authenticate_connection

GRAPHQL_RESPONSE_JSON: Final = "application/graphql-response+json"
APPLICATION_JSON: Final = "application/json"
CONTENT_TYPES: Final = {
    GRAPHQL_RESPONSE_JSON: f"{GRAPHQL_RESPONSE_JSON}; charset=utf-8",
    APPLICATION_JSON: APPLICATION_JSON,
}
_ALLOWED: Final = {
    "GET": frozenset({OperationType.QUERY}),
    "POST": frozenset({OperationType.QUERY, OperationType.MUTATION}),
}


class RequestError(Exception):
    """A request refused before any GraphQL runs: answered with `status` in either media type
    (the request was not well-formed, so the legacy "always 200" rule does not apply)."""

    def __init__(
        self,
        status: int,
        message: str,
        code: str = ErrorCode.VALIDATION_FAILED.value,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.headers = headers or {}


def negotiate(accept: str | None) -> str | None:
    """The media type to answer in, or None when `Accept` admits neither of ours. No `Accept`,
    `*/*` and `application/*` get `application/json`, as the spec says for legacy clients; on
    equal quality the explicitly named `application/graphql-response+json` wins."""
    if accept is None or not accept.strip():
        return APPLICATION_JSON
    ranked: list[tuple[float, int, str]] = []
    refused: set[str] = set()
    for item in accept.split(","):
        media, *parameters = (part.strip().lower() for part in item.split(";"))
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value.strip())
                except ValueError:
                    quality = 0.0
        if media in CONTENT_TYPES:
            if quality <= 0:
                refused.add(media)
            else:
                ranked.append((quality, 2 if media == GRAPHQL_RESPONSE_JSON else 1, media))
        elif media in ("*/*", "application/*") and quality > 0:
            ranked.append((quality, 0, APPLICATION_JSON))
            ranked.append((quality, -1, GRAPHQL_RESPONSE_JSON))
    admissible = [entry for entry in ranked if entry[2] not in refused]
    return max(admissible)[2] if admissible else None


@dataclass(frozen=True, slots=True)
class Operation:
    """One well-formed GraphQL-over-HTTP request."""

    query: str | None
    variables: dict[str, Any] | None
    operation_name: str | None
    extensions: dict[str, Any] | None


def nesting(value: object) -> int:
    """How deeply `value` nests arrays and objects, found without recursion."""
    deepest = 0
    pending: list[tuple[object, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        deepest = max(deepest, depth)
        if isinstance(item, dict):
            pending.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            pending.extend((child, depth + 1) for child in item)
    return deepest


def _decode(raw: str | bytes, what: str) -> object:
    """JSON text, refused (400) when it is not JSON or nests deeper than GraphQL documents and
    variable values may (`MAX_NESTING_DEPTH`): deeper still, the decoder itself would exhaust
    the interpreter's stack."""
    too_deep = RequestError(
        400, f"{what} nests arrays and objects more than {MAX_NESTING_DEPTH} levels deep"
    )
    try:
        decoded = orjson.loads(raw)
    except orjson.JSONDecodeError:
        decoded = _decode_slowly(raw, too_deep, what)
    if nesting(decoded) > MAX_NESTING_DEPTH:
        raise too_deep
    return decoded


def _decode_slowly(raw: str | bytes, too_deep: RequestError, what: str) -> object:
    """The standard library's reading of what orjson refused, to tell a document nested too
    deeply (orjson stops at 1,024 levels) from one that is not JSON."""
    try:
        return json.loads(raw)
    except RecursionError:
        raise too_deep from None  # the decoder's frames are not worth keeping
    except ValueError as exc:
        raise RequestError(400, f"{what} is not valid JSON") from exc


def _json_parameter(raw: str | None, name: str) -> object:
    """A GET parameter that carries JSON (`variables`, `extensions`); empty means absent."""
    if not raw:
        return None
    return _decode(raw, f"The `{name}` parameter")


def is_json(content_type: str | None) -> bool:
    """`application/json`, in UTF-8 (the only body GraphQL over HTTP is sent as here)."""
    media, _, rest = (content_type or "").partition(";")
    charset = rest.partition("charset=")[2].strip().strip('"').lower()
    return media.strip().lower() == APPLICATION_JSON and charset in ("", "utf-8", "utf8")


async def _json_body(request: Request) -> dict[str, object]:
    if not is_json(request.headers.get("content-type")):
        raise RequestError(
            415,
            "Send the request as `Content-Type: application/json` (UTF-8)",
            ErrorCode.UNSUPPORTED_MEDIA_TYPE.value,
        )
    try:
        body = await request.body()
    except ClientDisconnect:  # nobody to answer; not a server error worth a traceback
        raise RequestError(400, "The client went away before sending the whole body") from None
    if not body.strip():
        raise RequestError(400, "The request body is empty; send a JSON object")
    decoded = _decode(body, "The request body")
    if isinstance(decoded, list):
        raise RequestError(400, "Batched operations are not supported")
    if not isinstance(decoded, dict):
        raise RequestError(400, "The request body must be a JSON object")
    return decoded


def _checked(params: dict[str, object], name: str, kind: type, label: str) -> Any:
    value = params.get(name)
    if value is not None and not isinstance(value, kind):
        raise RequestError(400, f"`{name}` must be {label} or null")
    return value


async def read_operation(request: Request) -> Operation:
    """The request's parameters, checked: POST takes a JSON object, GET the URL's query."""
    if request.method == "GET":
        query = request.query_params
        params: dict[str, object] = {
            "query": query.get("query"),
            "operationName": query.get("operationName") or None,
            "variables": _json_parameter(query.get("variables"), "variables"),
            "extensions": _json_parameter(query.get("extensions"), "extensions"),
        }
    else:
        params = await _json_body(request)
    return Operation(
        query=_checked(params, "query", str, "a string"),
        variables=_checked(params, "variables", dict, "an object"),
        operation_name=_checked(params, "operationName", str, "a string"),
        extensions=_checked(params, "extensions", dict, "an object"),
    )


def is_request_error(result: ExecutionResult) -> bool:
    """True when the request failed before execution (parse, validation, variable coercion,
    a refused query): no error has a path, so no field was ever resolved."""
    errors = result.errors or []
    return result.data is None and bool(errors) and all(e.path is None for e in errors)


class SwitchyardGraphQLRouter(GraphQLRouter[Context, None]):
    """The `/graphql` endpoint."""

    temporal_response: Response  # set by Strawberry's route handlers before each `run`
    graphql_transport_ws_handler_class = MeteredTransportWSHandler

    def encode_json(self, data: object) -> str:
        """Websocket messages, with orjson (Strawberry's default is `json.dumps`). Text, not
        bytes: Strawberry sends bytes as binary frames, which graphql-transport-ws forbids.
        HTTP answers skip the round trip through `str` (`_respond`)."""
        return dumps(data).decode()

    def decode_json(self, data: str | bytes) -> object:
        """Websocket messages (HTTP bodies go through `_json_body`): one that is not JSON, or
        nests past the limit, closes the socket as malformed (4400) instead of crashing it."""
        try:
            return _decode(data, "The message")
        except RequestError as exc:
            raise JSONDecodeError(exc.message, "", 0) from None

    def __init__(
        self,
        settings: Settings,
        persisted_queries: PersistedQueryStore | None = None,
        **kwargs: Any,
    ) -> None:
        schema = build_schema(settings)
        super().__init__(
            schema,
            context_getter=get_context,
            graphql_ide="graphiql" if settings.graphiql else None,
            # Only the metered protocol: the legacy `graphql-ws` would bypass the rate limit.
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            **kwargs,
        )
        if persisted_queries is None:
            persisted_queries = build_store(settings)
        self.persisted_queries = persisted_queries
        self.compiled = CompiledReads(schema._schema, settings, dialect_of(settings))

    async def on_ws_connect(self, context: Context) -> UnsetType:
        """`connection_init`: its payload may carry the caller's credential."""
        await authenticate_connection(context)
        return UnsetType()  # acknowledged without a payload

    @property
    def graphql_ide_html(self) -> str:
        """GraphiQL, loading its scripts and styles from this process (no CDN)."""
        return graphiql_html()

    def wants_graphql_ide(self, request: Request) -> bool:
        """A browser opening `/graphql` (not a GET query, nor a persisted-query GET)."""
        return (
            self.graphql_ide is not None
            and request.method == "GET"
            and "query" not in request.query_params
            and "extensions" not in request.query_params
            and "text/html" in request.headers.get("accept", "")
        )

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        """Websockets go to Strawberry; HTTP requests follow GraphQL over HTTP here."""
        if self.is_websocket_request(request):
            return await super().run(request, context, root_value)
        # Read before any await: Strawberry keeps the per-request response on the router.
        sub_response: Response = self.temporal_response
        media_type = negotiate(request.headers.get("accept"))
        try:
            if self.wants_graphql_ide(request):
                return await self.render_graphql_ide(request)
            if media_type is None:
                raise RequestError(
                    406,
                    f"Accept {GRAPHQL_RESPONSE_JSON} or {APPLICATION_JSON}",
                    ErrorCode.NOT_ACCEPTABLE.value,
                )
            return await self._run_http(request, context, root_value, media_type, sub_response)
        except RequestError as exc:
            body = {"errors": [{"message": exc.message, "extensions": {"code": exc.code}}]}
            return self._respond(body, exc.status, media_type or APPLICATION_JSON, exc.headers)

    async def _run_http(
        self,
        request: Request,
        context: Context,
        root_value: None,
        media_type: str,
        sub_response: Response,
    ) -> Response:
        operation = await read_operation(request)
        try:
            query, to_remember = await resolve(
                self.persisted_queries, operation.query, operation.extensions
            )
        except PersistedQueryError as exc:
            # Apollo clients retry with the full query on a miss; older ones stop using
            # persisted queries for good after a 400, so the legacy media type gets 200.
            status = 200 if exc.not_found and media_type == APPLICATION_JSON else 400
            # A miss must not be cached, or a CDN would keep answering it after registration.
            headers = {"Cache-Control": "private, no-cache, must-revalidate"}
            raise RequestError(status, exc.message, exc.code, headers) from exc
        if query is None:
            raise RequestError(400, "No GraphQL query found in the request")
        result = await self._execute(request.method, query, operation, context, root_value)
        body = dict(await self.process_result(request, result))
        if is_request_error(result):
            body.pop("data", None)  # execution never started, so there is no data entry
            return self._respond(
                body, 400 if media_type == GRAPHQL_RESPONSE_JSON else 200, media_type
            )
        if to_remember is not None:
            await self.persisted_queries.put(to_remember, query)
        status = sub_response.status_code or 200
        if _outage(body):  # the database went away mid-operation: retry it, as REST's 503 says
            status = 503
            sub_response.headers["Retry-After"] = OUTAGE_RETRY_AFTER
        response = self._respond(body, status, media_type)
        response.headers.raw.extend(sub_response.headers.raw)  # what resolvers set
        return response

    async def _execute(
        self,
        method: str,
        query: str,
        operation: Operation,
        context: Context,
        root_value: None,
    ) -> ExecutionResult:
        try:
            return await self.schema.execute(
                query,
                root_value=root_value,
                variable_values=operation.variables,
                context_value=context,
                operation_name=operation.operation_name,
                allowed_operation_types=_ALLOWED[method],
                operation_extensions=operation.extensions,
            )
        except InvalidOperationTypeError as exc:
            if exc.operation_type is OperationType.MUTATION:
                raise RequestError(
                    405,
                    "Mutations are only allowed over POST",
                    ErrorCode.METHOD_NOT_ALLOWED.value,
                    headers={"Allow": "POST"},
                ) from exc
            raise RequestError(
                400, "Subscriptions are served over a WebSocket (graphql-transport-ws)"
            ) from exc
        except CannotGetOperationTypeError as exc:  # an `operationName` the document lacks
            code = GraphQLErrorCode.GRAPHQL_VALIDATION_FAILED.value
            error = GraphQLError(exc.as_http_error_reason(), extensions={"code": code})
            return ExecutionResult(data=None, errors=[error])

    def _respond(
        self,
        body: dict[str, Any],
        status: int,
        media_type: str,
        headers: dict[str, str] | None = None,
    ) -> Response:
        return Response(dumps(body), status, headers, media_type=CONTENT_TYPES[media_type])

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        """Parse and validation errors skip the schema extensions; code them here too."""
        if result.errors:
            result.errors = [to_catalogue(e) for e in result.errors]
        return process_result(result)


OUTAGE_RETRY_AFTER: Final = "5"


def _outage(body: Mapping[str, Any]) -> bool:
    """Whether an operation's errors say the database was unreachable (`schema.http.errors`)."""
    errors = body.get("errors") or ()
    return any(
        (error.get("extensions") or {}).get("code") == ErrorCode.SERVICE_UNAVAILABLE.value
        for error in errors
        if isinstance(error, dict)
    )
