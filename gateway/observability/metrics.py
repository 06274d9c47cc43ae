"""The Prometheus metrics (prometheus-client), in a registry of the gateway's own.

Labels carry route templates, methods, status codes, GraphQL operation names and types and
error codes only, never raw paths or ids, so the number of series is bounded: a path no route
matches is `UNMATCHED`, names are bounded by `gateway.observability.graphql`, and methods
outside HTTP's usual ones are "OTHER". Gauges that describe state (connection pool,
subscriptions) are read when scraped, by `StateCollector`, never on the request path.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Final, Protocol, runtime_checkable

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from tortoise import connections

from gateway import __version__
from gateway.realtime import runtime

UNMATCHED: Final = "unmatched"
METHODS: Final = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
LATENCY_BUCKETS: Final = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)
STATEMENT_BUCKETS: Final = (0, 1, 2, 3, 5, 8, 13, 21, 50, 100)

# `*_created` series (a timestamp per counter and label set) double the output for nothing a
# dashboard uses; this is process-wide in prometheus-client, and this process is the gateway.
disable_created_metrics()  # type: ignore[no-untyped-call]
REGISTRY: Final = CollectorRegistry(auto_describe=True)

HTTP_REQUESTS: Final = Counter(
    "switchyard_http_requests",
    "HTTP requests answered, by route template, method and status.",
    ("route", "method", "status"),
    registry=REGISTRY,
)
HTTP_DURATION: Final = Histogram(
    "switchyard_http_request_duration_seconds",
    "Time from a request's arrival to the end of its answer, by route template and method.",
    ("route", "method"),
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
SQL_STATEMENTS: Final = Histogram(
    "switchyard_http_request_sql_statements",
    "SQL statements one HTTP request sent, by route template.",
    ("route",),
    buckets=STATEMENT_BUCKETS,
    registry=REGISTRY,
)
SQL_DURATION: Final = Histogram(
    "switchyard_http_request_sql_duration_seconds",
    "Time one HTTP request spent waiting for its SQL statements, by route template.",
    ("route",),
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
GRAPHQL_OPERATIONS: Final = Counter(
    "switchyard_graphql_operations",
    "GraphQL operations over HTTP, by operation name and type.",
    ("operation", "type"),
    registry=REGISTRY,
)
GRAPHQL_ERRORS: Final = Counter(
    "switchyard_graphql_errors",
    "Errors in GraphQL answers over HTTP, by operation name and error code.",
    ("operation", "code"),
    registry=REGISTRY,
)
RATE_LIMITED: Final = Counter(
    "switchyard_rate_limit_refusals",
    "Requests refused by the rate limit (429), by API.",
    ("api",),
    registry=REGISTRY,
)
WEBHOOK_DELIVERIES: Final = Counter(
    "switchyard_webhook_delivery_attempts",
    "Webhook delivery attempts recorded, by outcome: succeeded, retrying (another attempt is"
    " scheduled) or failed (no attempt left).",
    ("outcome",),
    registry=REGISTRY,
)
BUILD_INFO: Final = Gauge(
    "switchyard_build_info", "The running build (always 1).", ("version",), registry=REGISTRY
)
BUILD_INFO.labels(version=__version__).set(1)


def method_label(method: str) -> str:
    return method if method in METHODS else "OTHER"


def _flattened(routes: Iterable[BaseRoute], prefix: str = "") -> Iterator[tuple[str, bool]]:
    """Every route's full template (and whether it is a mount, matching below it). FastAPI
    keeps an included router as one route holding the router, under its include prefix."""
    for route in routes:
        included = getattr(route, "original_router", None)
        context = getattr(route, "include_context", None)
        if included is not None and context is not None:
            yield from _flattened(included.routes, prefix + str(getattr(context, "prefix", "")))
        elif isinstance(route, Mount):
            yield prefix + route.path, True
        elif isinstance(route, Route | WebSocketRoute) or hasattr(route, "path"):
            yield prefix + str(getattr(route, "path", "")), False


def _pattern(template: str) -> str:
    parts = re.split(r"(\{[^}]*\})", template)
    return "".join(
        (".+" if part.endswith(":path}") else "[^/]+")
        if part.startswith("{") and part.endswith("}")
        else re.escape(part)
        for part in parts
    )


class RouteTemplates:
    """The route template a path belongs to: one combined regular expression of every route's
    full template, so finding it costs one match whatever the route count (the route in
    `scope["route"]` knows only its path inside its router, and the fast paths answer
    before routing). A path no route matches is `UNMATCHED`."""

    def __init__(self, routes: Iterable[BaseRoute]) -> None:
        self.templates: list[str] = []
        patterns: list[str] = []
        for template, mount in _flattened(routes):
            if template in self.templates:
                continue  # one route a method: the first is enough
            suffix = "(?:/.*)?" if mount else ""
            patterns.append(f"(?P<r{len(patterns)}>{_pattern(template)}{suffix})")
            self.templates.append(template + ("/{path}" if mount else ""))
        self._regex = re.compile("|".join(patterns) or "(?!)")
        # Paths without parameters (`/graphql`, the busiest) by a dict look-up.
        self._exact = {t: t for t in self.templates if "{" not in t}

    def template(self, path: str) -> str:
        exact = self._exact.get(path)
        if exact is not None:
            return exact
        found = self._regex.fullmatch(path)
        if found is None or found.lastgroup is None:
            return UNMATCHED
        return self.templates[int(found.lastgroup[1:])]


class StateCollector(Collector):
    """Gauges read at scrape time: the database pool's connections in use and idle
    (PostgreSQL), and the subscriptions this process serves."""

    def collect(self) -> Iterator[Metric]:
        in_use = GaugeMetricFamily(
            "switchyard_db_pool_connections",
            "Database pool connections of this process, by state (PostgreSQL).",
            labels=("state",),
        )
        pool = _pool()
        if pool is not None:
            size, idle = pool.get_size(), pool.get_idle_size()
            in_use.add_metric(("in_use",), size - idle)
            in_use.add_metric(("idle",), idle)
            in_use.add_metric(("max",), pool.get_max_size())
        yield in_use
        subscriptions = GaugeMetricFamily(
            "switchyard_subscriptions",
            "GraphQL subscriptions this process is serving.",
        )
        broker = runtime.current()
        subscriptions.add_metric((), broker.hub.subscribers if broker is not None else 0)
        yield subscriptions


@runtime_checkable
class _Pool(Protocol):
    def get_size(self) -> int: ...
    def get_idle_size(self) -> int: ...
    def get_max_size(self) -> int: ...


def _pool() -> _Pool | None:
    """The default connection's asyncpg pool (None on SQLite, or before Tortoise is up)."""
    try:
        client = connections.get("default")
    except Exception:  # Tortoise not initialised (or closed): nothing to report
        return None
    pool = getattr(client, "_pool", None)
    return pool if isinstance(pool, _Pool) else None


REGISTRY.register(StateCollector())
