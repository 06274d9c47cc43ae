"""The `RateLimit-*` headers of the request being served, for every renderer that answers it.

`RateLimitMiddleware` (`gateway.http.middleware.rate_limit`) sets them once it has charged the
request; the problem renderer (`gateway.http.problems`) reads them for answers made outside
that middleware (the outermost 500 handler). Its own module so that neither imports the other.
"""

from __future__ import annotations

from contextvars import ContextVar

_headers: ContextVar[dict[str, str] | None] = ContextVar("rate_limit_headers", default=None)


def set_rate_limit_headers(headers: dict[str, str]) -> None:
    """Remember the headers of the request being served (its context only)."""
    _headers.set(headers)


def current_rate_limit_headers() -> dict[str, str]:
    """The headers for the request being served ({} outside one, or when it is exempt)."""
    return dict(_headers.get() or {})
