"""OpenTelemetry tracing, with the optional extra `switchyard[otel]` and
`GATEWAY_TRACING_ENABLED`: a server span per request (OpenTelemetry's ASGI middleware, named by
route template), a span per GraphQL operation under it (named `query IssuePage`, by
`ObservabilityMiddleware`), a span per statement on PostgreSQL (asyncpg) and per webhook
delivery (httpx). The exporter follows the standard variables: `OTEL_TRACES_EXPORTER` (otlp,
the default, over HTTP/protobuf; console; none), `OTEL_EXPORTER_OTLP_*`, `OTEL_SERVICE_NAME`,
`OTEL_RESOURCE_ATTRIBUTES`, `OTEL_TRACES_SAMPLER`, `OTEL_BSP_*`.

Nothing here imports OpenTelemetry's SDK or instrumentations unless tracing is on, so the
gateway runs the same without the extra; `Settings` refuses tracing when it is missing.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Final

from starlette.types import Scope

from gateway import __version__
from gateway.core.settings import Settings
from gateway.observability.metrics import RouteTemplates

if TYPE_CHECKING:
    from fastapi import FastAPI
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.trace import Span

    from gateway.observability.graphql import Operation

INSTRUMENTATION: Final = "switchyard"

_provider: TracerProvider | None = None
_instrumented: list[Any] = []


def active(settings: Settings) -> bool:
    return settings.tracing_enabled


def use_provider(provider: TracerProvider) -> None:
    """Trace into `provider` (tests: one with an in-memory exporter) instead of one built
    from the `OTEL_*` variables."""
    global _provider
    _provider = provider


def _from_environment() -> TracerProvider:
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

    attributes = {"service.version": __version__}
    named = "OTEL_SERVICE_NAME" in os.environ
    if not named and "service.name=" not in os.environ.get("OTEL_RESOURCE_ATTRIBUTES", ""):
        attributes["service.name"] = "switchyard"  # else the variables name it
    provider = TracerProvider(resource=Resource.create(attributes))
    names = os.environ.get("OTEL_TRACES_EXPORTER", "otlp").lower().split(",")
    for name in (n.strip() for n in names):
        if name == "otlp":
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        elif name == "console":
            provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
    return provider


def install(app: FastAPI, settings: Settings) -> None:
    """Trace `app`: its ASGI server spans (outermost middleware), and once per process the
    asyncpg and httpx instrumentations."""
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    global _provider
    if _provider is None:
        _provider = _from_environment()
    if not _instrumented:
        instrumentors: list[Any] = [AsyncPGInstrumentor(), HTTPXClientInstrumentor()]  # type: ignore[no-untyped-call]
        for instrumentor in instrumentors:
            instrumentor.instrument(tracer_provider=_provider)
            _instrumented.append(instrumentor)
    app.add_middleware(
        OpenTelemetryMiddleware,
        default_span_details=_span_details,
        tracer_provider=_provider,
        exclude_spans=["receive", "send"],
    )


def uninstrument() -> None:
    """Undo the process-wide instrumentations (tests)."""
    global _provider
    while _instrumented:
        _instrumented.pop().uninstrument()
    _provider = None


def _span_details(scope: Scope) -> tuple[str, dict[str, Any]]:
    """A server span's name: method and route template, never the raw path."""
    app = scope.get("app")
    state = getattr(app, "state", None)
    templates = getattr(state, "route_templates", None)
    if not isinstance(templates, RouteTemplates) and app is not None:
        templates = RouteTemplates(app.router.routes)
        app.state.route_templates = templates
    route = templates.template(scope.get("path", "")) if templates is not None else "unmatched"
    method = scope.get("method", "")
    return (f"{method} {route}".strip(), {"http.route": route})


class OperationSpan:
    """The span of one GraphQL operation, current while the request is served."""

    def __init__(self) -> None:
        from opentelemetry import context, trace

        tracer = trace.get_tracer(INSTRUMENTATION, __version__, tracer_provider=_provider)
        self.span: Span = tracer.start_span("graphql.operation")
        self._token = context.attach(trace.set_span_in_context(self.span))

    def end(self, operation: Operation | None, codes: list[str], status: int) -> None:
        from opentelemetry import context
        from opentelemetry.trace import Status, StatusCode

        if operation is not None:
            if operation.type != "unknown":
                self.span.update_name(f"{operation.type} {operation.name}")
                self.span.set_attribute("graphql.operation.type", operation.type)
            if operation.raw_name is not None:
                self.span.set_attribute("graphql.operation.name", operation.raw_name)
        if codes:
            self.span.set_attribute("graphql.error_codes", sorted(set(codes)))
        if codes or status >= 500:
            self.span.set_status(Status(StatusCode.ERROR))
        self.span.end()
        context.detach(self._token)


def start_operation() -> OperationSpan:
    return OperationSpan()
