"""CORS for the browser apps named in `settings.cors_origins`, with Starlette's middleware.

With no origins configured, development allows any port of `http://localhost` and
`http://127.0.0.1` (a dev server such as Vite's on :5173 works at once); test and production
allow none until `GATEWAY_CORS_ORIGINS` names them.

Credentials are bearer tokens in `Authorization`, never cookies, so `allow_credentials` stays
off. A preflight from any other origin is refused (400, no `Access-Control-Allow-Origin`).
"""

from __future__ import annotations

from typing import Final

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

from gateway.core.settings import Environment, Settings

ALLOWED_METHODS: Final = ("GET", "HEAD", "POST", "PATCH", "DELETE", "OPTIONS")
ALLOWED_HEADERS: Final = (
    "Authorization",
    "Content-Type",
    "If-Match",
    "If-None-Match",
    "Idempotency-Key",
    "X-Request-ID",
)
EXPOSED_HEADERS: Final = (
    "X-Request-ID",
    "ETag",
    "Link",
    "Location",
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
    "Retry-After",
    "Idempotent-Replayed",
)
PREFLIGHT_MAX_AGE: Final = 600
LOCAL_ORIGINS: Final = r"http://(localhost|127\.0\.0\.1)(:[0-9]{1,5})?"


def origin_regex(settings: Settings) -> str | None:
    """The pattern of origins allowed beside the configured list: local ones in development
    when none is configured."""
    if settings.cors_origins or settings.environment is not Environment.development:
        return None
    return LOCAL_ORIGINS


def install_cors(app: FastAPI, settings: Settings) -> None:
    """Add the CORS middleware (it wraps whatever was added before it)."""
    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(settings.cors_origins),
        allow_origin_regex=origin_regex(settings),
        allow_methods=list(ALLOWED_METHODS),
        allow_headers=list(ALLOWED_HEADERS),
        expose_headers=list(EXPOSED_HEADERS),
        allow_credentials=False,
        max_age=PREFLIGHT_MAX_AGE,
    )
