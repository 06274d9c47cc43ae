"""Tracing with the `otel` extra: a server span per request named by route template, a span per
GraphQL operation under it, statement spans on PostgreSQL; and the gateway without it."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError

from gateway.core import settings as settings_module
from gateway.core.settings import Settings
from gateway.http.app import create_app
from gateway.observability import tracing
from tests.auth_helpers import bearer, make_user

pytest.importorskip("opentelemetry.sdk", reason="the otel extra is not installed")

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.use_provider(provider)
    try:
        yield exporter
    finally:
        tracing.uninstrument()
        provider.shutdown()


async def _client(app: FastAPI) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


def _named(found: tuple[ReadableSpan, ...], name: str) -> ReadableSpan:
    matching = [span for span in found if span.name == name]
    assert matching, [span.name for span in found]
    return matching[0]


async def test_spans_per_request_and_per_graphql_operation(
    app: FastAPI, settings: Settings, spans: InMemorySpanExporter
) -> None:
    traced = create_app(settings.model_copy(update={"tracing_enabled": True}))
    user = await make_user("traced")
    async with await _client(traced) as http:
        query = "query TracedViewer { viewer { username } }"
        answer = await http.post(
            "/graphql",
            json={"query": query, "operationName": "TracedViewer"},
            headers=bearer(app, user),
        )
        assert answer.status_code == 200
        refused = await http.post(
            "/graphql", json={"query": query, "operationName": "TracedViewer"}
        )
        assert refused.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert (await http.get("/api/v1/users/traced", headers=bearer(app, user))).is_success
    found = spans.get_finished_spans()
    servers = [span for span in found if span.name == "POST /graphql"]
    assert len(servers) == 2
    operations = [span for span in found if span.name == "query TracedViewer"]
    assert len(operations) == 2
    first = operations[0]
    assert first.attributes is not None
    assert first.attributes["graphql.operation.name"] == "TracedViewer"
    assert first.attributes["graphql.operation.type"] == "query"
    assert first.parent is not None
    assert first.parent.span_id == servers[0].context.span_id
    failed = operations[1]
    assert failed.attributes is not None
    assert list(failed.attributes["graphql.error_codes"]) == ["UNAUTHENTICATED"]  # type: ignore[arg-type]
    assert not failed.status.is_ok
    rest = _named(found, "GET /api/v1/users/{username}")
    assert rest.attributes is not None
    assert rest.attributes["http.route"] == "/api/v1/users/{username}"
    assert not any("traced" in span.name for span in found if span.name != "query TracedViewer")
    if settings.database_url.startswith("postgres"):  # asyncpg's spans, under the operation
        statements = [
            span
            for span in found
            if span.parent is not None and span.parent.span_id == first.context.span_id
        ]
        assert statements, [span.name for span in found]


def test_tracing_is_off_unless_asked_for(settings: Settings) -> None:
    plain = create_app(settings)
    names = [m.cls.__name__ for m in plain.user_middleware]  # type: ignore[attr-defined]
    assert "OpenTelemetryMiddleware" not in names
    # Compression wraps observability (which reads GraphQL answers uncompressed); no tracing.
    assert names[:2] == ["CompressionMiddleware", "ObservabilityMiddleware"]


def test_tracing_without_the_extra_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings_module, "otel_installed", lambda: False)
    with pytest.raises(ValidationError, match=r"switchyard\[otel\]"):
        Settings(tracing_enabled=True)
    assert Settings().tracing_enabled is False  # and without asking, nothing is needed
