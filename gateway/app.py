"""The application factory: one FastAPI process serving REST under `/api/v1` and GraphQL at
`/graphql`, over one Tortoise registration."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from tortoise.contrib.fastapi import RegisterTortoise

from gateway import __version__
from gateway.db import tortoise_config
from gateway.docs import install_docs
from gateway.problems import install_problem_handlers
from gateway.request_id import RequestIdMiddleware
from gateway.rest import api_router, health
from gateway.security.jwt import JwtCodec
from gateway.settings import Settings, get_settings
from schema.router import SwitchyardGraphQLRouter

DESCRIPTION = """
Switchyard serves one issue-tracker data model over two APIs: this REST API for older clients
and GraphQL at [`/graphql`](/graphql) for single-page apps. Both share one service layer, one
permission model and one error catalogue (`application/problem+json` here, `extensions.code`
there).
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app. The database is opened in the lifespan; migrations are not applied here
    (`gateway serve` and `gateway migrate` apply them once, before any worker starts)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with RegisterTortoise(app, config=tortoise_config(settings.database_url)):
            yield

    app = FastAPI(
        title="Switchyard",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.jwt = JwtCodec(settings)
    install_problem_handlers(app)
    app.add_middleware(RequestIdMiddleware)
    app.include_router(health.router)
    app.include_router(api_router)
    app.include_router(SwitchyardGraphQLRouter(settings), prefix="/graphql", tags=["graphql"])
    install_docs(app, settings)
    return app
