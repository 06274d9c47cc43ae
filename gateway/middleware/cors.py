"""CORS for the browser apps named in `settings.cors_origins`, with Starlette's middleware.

Credentials are bearer tokens in `Authorization`, never cookies, so `allow_credentials` stays
off. A preflight from any other origin is refused (400, no `Access-Control-Allow-Origin`).
"""

from __future__ import annotations

from typing import Final

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

from gateway.settings import Settings

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


def install_cors(app: FastAPI, settings: Settings) -> None:
    """Add the CORS middleware (it wraps whatever was added before it)."""
    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(settings.cors_origins),
        allow_methods=list(ALLOWED_METHODS),
        allow_headers=list(ALLOWED_HEADERS),
        expose_headers=list(EXPOSED_HEADERS),
        allow_credentials=False,
        max_age=PREFLIGHT_MAX_AGE,
    )
