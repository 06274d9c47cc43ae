"""The application factory: one FastAPI process serving REST under `/api/v1` and GraphQL at
`/graphql`, over one Tortoise registration."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Awaitable
from contextlib import AsyncExitStack, asynccontextmanager

from fastapi import FastAPI, Request, Response
from starlette.exceptions import HTTPException
from starlette.routing import Match
from tortoise.contrib.fastapi import RegisterTortoise

from gateway import __version__
from gateway.core import postgres, replicas
from gateway.core.counters import build_throttle
from gateway.core.db import tortoise_config
from gateway.core.settings import Settings, get_settings
from gateway.http import lifecycle
from gateway.http.docs import install_docs
from gateway.http.middleware.body_limit import BodyLimitMiddleware
from gateway.http.middleware.compression import CompressionMiddleware
from gateway.http.middleware.cors import install_cors
from gateway.http.middleware.idempotency import IdempotencyMiddleware
from gateway.http.middleware.outage import OutageMiddleware
from gateway.http.middleware.rate_limit import RateLimitMiddleware
from gateway.http.middleware.read_routing import ReadRouting
from gateway.http.middleware.request_id import RequestIdMiddleware
from gateway.http.middleware.security_headers import SecurityHeadersMiddleware
from gateway.http.problems import install_problem_handlers
from gateway.observability import logs, sql, tracing
from gateway.observability.endpoint import install_endpoint
from gateway.observability.endpoint import listener as metrics_listener
from gateway.observability.middleware import ObservabilityMiddleware
from gateway.realtime import runtime as realtime
from gateway.rest import api_router, health
from gateway.rest.fast_path import CompiledIssueRead
from gateway.rest.operation_ids import operation_id
from gateway.rest.responses import install_openapi
from gateway.security import passwords
from gateway.security.jwt import JwtCodec
from gateway.services.streams import load_views
from gateway.webhooks.worker import DeliveryWorker
from schema.http.fast_path import CompiledGraphQL
from schema.http.router import SwitchyardGraphQLRouter

DESCRIPTION = """
Switchyard serves one issue-tracker data model over two APIs: this REST API for older clients
and GraphQL at [`/graphql`](/graphql) for single-page apps. Both share one service layer, one
permission model and one error catalogue (`application/problem+json` here, `extensions.code`
there).
"""


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _allow_every_method(app: FastAPI) -> None:
    """A 405 names every method of its path in `Allow`. FastAPI has one route per method, and
    Starlette lets the first route that matches the path answer, so by itself `Allow` would
    list only that route's methods (GET where PATCH and DELETE exist too)."""
    answer = app.exception_handlers[HTTPException]

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 405:
            methods = [
                method
                for method in _METHODS
                if any(
                    route.matches({**request.scope, "method": method})[0] is Match.FULL
                    for route in app.router.routes
                )
            ]
            headers = {**(exc.headers or {}), "Allow": ", ".join(methods)}
            exc = HTTPException(405, exc.detail, headers=headers)
        answered = answer(request, exc)
        return await answered if isinstance(answered, Awaitable) else answered

    app.add_exception_handler(HTTPException, http_error)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app. The database is opened in the lifespan; migrations are not applied here
    (`gateway serve` and `gateway migrate` apply them once, before any worker starts)."""
    settings = settings or get_settings()
    replica = replicas.Replica.from_settings(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        lifecycle.reset()
        async with (
            AsyncExitStack() as stack,
            RegisterTortoise(app, config=tortoise_config(settings.database_url)),
            postgres.replica_connected(replica),  # reads to a streaming replica, if any (ADR 0020)
            realtime.running(settings, load_views),  # subscriptions' fan-out (ADR 0016)
        ):
            # Operations (ADR 0019): the metrics' own listener, when configured.
            app.state.metrics_address = stack.enter_context(metrics_listener(settings))
            # What exists now (the schema, the models, the routes) lives as long as the process:
            # out of the collector's sight, a full collection no longer walks it.
            gc.freeze()
            # Webhooks (ADR 0017): this process's delivery worker, sharing the outbox with
            # every other process's through the database.
            worker = DeliveryWorker(settings) if settings.webhook_worker else None
            if worker is not None:
                worker.start()
            try:
                # Graceful shutdown (ADR 0020): SIGTERM turns readiness 503 first.
                with lifecycle.draining_on_signals(settings.shutdown_drain_seconds):
                    yield
            finally:
                if worker is not None:
                    await worker.stop(grace=settings.shutdown_grace_seconds)
                await app.state.throttle.aclose()

    app = FastAPI(
        title="Switchyard",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        generate_unique_id_function=operation_id,
    )
    app.state.settings = settings
    logs.install(settings)  # operations (ADR 0019): the log format, the SQL tally
    sql.install()
    passwords.use_cost(settings)
    app.state.jwt = JwtCodec(settings)
    app.state.throttle = build_throttle(settings)
    install_problem_handlers(app)
    _allow_every_method(app)
    # Added innermost first. Outermost to innermost: tracing (when on), compression, read
    # routing (with a replica), observability (metrics and the access log: outside the rest,
    # the fast paths included, ADR 0019), request id, security headers, outage answers, CORS,
    # rate limit, body limit, idempotency (which reads the body, so the limit must come first),
    # and the compiled reads of GraphQL and of an issue (which answer what they can before
    # routing).
    graphql = SwitchyardGraphQLRouter(settings)
    app.add_middleware(CompiledGraphQL, reads=graphql.compiled)
    app.add_middleware(CompiledIssueRead, settings=settings)
    app.add_middleware(
        IdempotencyMiddleware,
        ttl_seconds=settings.idempotency_ttl_seconds,
        trusted_proxies=settings.trusted_proxies,
    )
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(RateLimitMiddleware)  # inside RequestIdMiddleware: 429s carry the id
    install_cors(app, settings)
    app.add_middleware(OutageMiddleware)  # a database outage is 503 wherever it surfaces
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(RequestIdMiddleware)
    app.add_middleware(ObservabilityMiddleware, settings=settings)
    # Outside observability (which reads GraphQL answers for their error codes), so every
    # answer, the compiled fast paths' and the errors' included, can be compressed, and reads
    # are routed (to a replica, if any) before anything touches the database.
    if replica is not None:
        app.add_middleware(ReadRouting, replica=replica)
    app.add_middleware(CompressionMiddleware, min_bytes=settings.compression_min_bytes)
    if tracing.active(settings):
        tracing.install(app, settings)
    app.include_router(health.router)
    install_endpoint(app, settings)  # GET /metrics (ADR 0019)
    # GraphQL documents itself (introspection, schema.graphql); it is not a REST operation.
    # Included before the REST routes: routing tries routes in order, and `/graphql` is the
    # busiest path.
    app.include_router(graphql, prefix="/graphql", include_in_schema=False)
    app.include_router(api_router)
    install_openapi(app)
    install_docs(app, settings)
    return app
