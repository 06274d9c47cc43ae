"""`ObservabilityMiddleware`: the outermost pure ASGI middleware, outside even the request id,
so every HTTP request is measured and logged, the compiled fast paths' (which answer before
routing) included. Per request it opens the SQL tally (`sql`), notes the answer's status and,
for GraphQL, the operation the request names and the error codes its answer carries; at the
end it updates the metrics and writes one access line. It reads no body it would not see
anyway, sends no query and costs a few microseconds (ADR 0019).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, Final

from prometheus_client.metrics import MetricWrapperBase
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.core.settings import Settings
from gateway.observability import graphql, metrics, sql, tracing
from gateway.observability.logs import ACCESS_LOGGER
from gateway.security.jwt import AccessClaims
from gateway.security.principal import Principal

GRAPHQL_PATH: Final = "/graphql"
# A GraphQL body or answer is kept for its operation or its error codes only up to this size;
# past it the operation is "unknown", the codes are not read.
MAX_KEPT_BYTES: Final = 1_048_576

access = logging.getLogger(ACCESS_LOGGER)
Child = Any  # a labelled prometheus-client metric (its classes are not generic)


class _Children:
    """Labelled metric children by label values: `labels()` parses its arguments and takes a
    lock on every call; a dict look-up is enough once a child exists."""

    def __init__(self, metric: MetricWrapperBase) -> None:
        self.metric = metric
        self.found: dict[tuple[str, ...], Child] = {}

    def __call__(self, *values: str) -> Child:
        child = self.found.get(values)
        if child is None:
            child = self.found[values] = self.metric.labels(*values)
        return child


_requests = _Children(metrics.HTTP_REQUESTS)
_duration = _Children(metrics.HTTP_DURATION)
_statements = _Children(metrics.SQL_STATEMENTS)
_sql_seconds = _Children(metrics.SQL_DURATION)
_operations = _Children(metrics.GRAPHQL_OPERATIONS)
_errors = _Children(metrics.GRAPHQL_ERRORS)
_refused = _Children(metrics.RATE_LIMITED)


def principal_id(scope: Scope) -> int | None:
    """The user the request authenticated as (by id: never the credential), if it did."""
    state = scope.get("state") or {}
    principal = state.get("principal")
    if isinstance(principal, Principal):
        return principal.user_id
    claims = state.get("access_claims")
    return claims.user_id if isinstance(claims, AccessClaims) else None


class _Exchange:
    """What one request and its answer showed on the way through."""

    __slots__ = ("answer", "body", "operation", "status")

    def __init__(self) -> None:
        self.status = 500  # unless an answer starts: an exception escaped
        self.operation: graphql.Operation | None = None
        self.body: list[bytes] | None = None
        self.answer: list[bytes] | None = None


class ObservabilityMiddleware:
    """Metrics, the access log line and the GraphQL operation span of every HTTP request."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.metrics = settings.metrics
        self.access_log = settings.access_log
        self.tracing = tracing.active(settings)
        self._templates: metrics.RouteTemplates | None = None

    def templates(self, scope: Scope) -> metrics.RouteTemplates:
        if self._templates is None:  # the routes are all there once requests arrive
            self._templates = metrics.RouteTemplates(scope["app"].router.routes)
        return self._templates

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not (self.metrics or self.access_log or self.tracing):
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        tally, token = sql.start()
        exchange = _Exchange()
        is_graphql = scope["path"] == GRAPHQL_PATH
        if is_graphql:
            if scope["method"] == "GET":
                exchange.operation = graphql.from_query_string(scope["query_string"])
            else:
                exchange.body = []
                receive = _reading(receive, exchange)
            exchange.answer = []
        span = tracing.start_operation() if self.tracing and is_graphql else None
        try:
            await self.app(scope, receive, _sending(send, exchange))
        finally:
            sql.stop(token)
            operation = exchange.operation
            if operation is None and is_graphql and scope["method"] != "GET":
                operation = graphql.Operation()  # a POST whose body never came complete
            codes = _codes(exchange.answer) if operation is not None else []
            if span is not None:
                span.end(operation, codes, exchange.status)
            self._record(scope, exchange.status, operation, codes, tally, began)

    def _record(
        self,
        scope: Scope,
        status: int,
        operation: graphql.Operation | None,
        codes: list[str],
        tally: sql.SqlTally,
        began: float,
    ) -> None:
        seconds = time.perf_counter() - began
        route = self.templates(scope).template(scope["path"])
        method = metrics.method_label(scope["method"])
        if self.metrics:
            _requests(route, method, str(status)).inc()
            _duration(route, method).observe(seconds)
            _statements(route).observe(tally.count)
            _sql_seconds(route).observe(tally.seconds)
            if status == 429:
                _refused("graphql" if scope["path"] == GRAPHQL_PATH else "rest").inc()
            if operation is not None:
                _operations(operation.name, operation.type).inc()
                for code in codes:
                    _errors(operation.name, code).inc()
        if self.access_log and access.isEnabledFor(logging.INFO):
            fields: dict[str, object] = {
                "method": scope["method"],
                "route": route,
                "status": status,
                "duration_ms": round(seconds * 1000, 3),
                "sql_statements": tally.count,
                "sql_ms": round(tally.seconds * 1000, 3),
                "principal_id": principal_id(scope),
            }
            if operation is not None:
                fields["operation"] = operation.raw_name
                fields["operation_type"] = operation.type
                if codes:
                    fields["error_codes"] = sorted(set(codes))
            # A record made directly (`Logger.info` would walk the stack for the caller's file and
            # line; `LogRecord()` works out paths, times and names no line shows): the access
            # line's cost is most of what this middleware adds (ADR 0019).
            record = _AccessRecord(f"{scope['method']} {route} {status}", fields)
            access.handle(record)


class _AccessRecord(logging.LogRecord):
    """A record with just what handlers and formatters read."""

    def __init__(self, message: str, fields: dict[str, object]) -> None:
        created = time.time()
        self.__dict__.update(
            name=ACCESS_LOGGER,
            msg=message,
            args=(),
            levelname="INFO",
            levelno=logging.INFO,
            pathname=__file__,
            filename="middleware.py",
            module="middleware",
            lineno=0,
            funcName=None,
            exc_info=None,
            exc_text=None,
            stack_info=None,
            created=created,
            msecs=(created * 1000) % 1000,
            relativeCreated=0.0,
            thread=None,
            threadName=None,
            processName=None,
            process=None,
            taskName=None,
            fields=fields,
        )


def _codes(answer: list[bytes] | None) -> list[str]:
    """The error codes of a GraphQL answer: parsed only when it has errors at all."""
    if not answer or not any(b'"errors"' in part for part in answer):
        return []
    return graphql.error_codes(b"".join(answer))


def _reading(receive: Receive, exchange: _Exchange) -> Receive:
    """`receive`, keeping a GraphQL POST's body to name its operation once it is complete."""
    kept = 0

    async def reading() -> Message:
        nonlocal kept
        message = await receive()
        body = exchange.body
        if message["type"] == "http.request" and body is not None:
            chunk: bytes = message.get("body", b"")
            kept += len(chunk)
            if kept > MAX_KEPT_BYTES:
                exchange.body = None
                exchange.operation = graphql.Operation()
            else:
                body.append(chunk)
                if not message.get("more_body", False):
                    exchange.operation = graphql.from_body(b"".join(body))
                    exchange.body = None
        return message

    return reading


def _sending(send: Send, exchange: _Exchange) -> Callable[[Message], Any]:
    """`send`, noting the status (and keeping a GraphQL answer, for its error codes)."""
    kept = 0

    async def sending(message: Message) -> None:
        nonlocal kept
        if message["type"] == "http.response.start":
            exchange.status = message["status"]
        elif message["type"] == "http.response.body" and exchange.answer is not None:
            chunk: bytes = message.get("body", b"")
            kept += len(chunk)
            if kept > MAX_KEPT_BYTES:
                exchange.answer = None
            else:
                exchange.answer.append(chunk)
        await send(message)

    return sending
