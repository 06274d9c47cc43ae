"""REST rendering of the error catalogue as RFC 9457 `application/problem+json`.

Every error path of the REST side ends here, including FastAPI's own 404/405 and body
validation, so a client only ever parses one error shape.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse
from tortoise.exceptions import DBConnectionError

from gateway.core.db import AFTERMATH, OUTAGE, is_outage
from gateway.core.errors import (
    STATUS,
    TITLES,
    DomainError,
    ErrorCode,
    FieldError,
    ServiceUnavailable,
)
from gateway.http.docs import GRAPHQL_PATH
from gateway.http.json_body import OrjsonResponse
from gateway.http.middleware.request_id import current_request_id
from gateway.http.middleware.security_headers import api_headers
from gateway.http.rate_headers import current_rate_limit_headers

logger = logging.getLogger("gateway.core.errors")

PROBLEM_JSON = "application/problem+json"
_LOCATIONS = {"body", "query", "path", "header", "cookie"}
_HTTP_CODES = {
    401: ErrorCode.UNAUTHENTICATED,
    403: ErrorCode.FORBIDDEN,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    406: ErrorCode.NOT_ACCEPTABLE,
    409: ErrorCode.CONFLICT,
    412: ErrorCode.PRECONDITION_FAILED,
    413: ErrorCode.PAYLOAD_TOO_LARGE,
    415: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
    422: ErrorCode.VALIDATION_FAILED,
    429: ErrorCode.RATE_LIMITED,
    503: ErrorCode.SERVICE_UNAVAILABLE,
}


def problem(
    code: ErrorCode,
    detail: str,
    *,
    errors: Sequence[FieldError] = (),
    headers: dict[str, str] | None = None,
    status: int | None = None,
) -> JSONResponse:
    """One problem response, with the request id in body and header."""
    request_id = current_request_id()
    body: dict[str, Any] = {
        "type": f"urn:switchyard:problem:{code.lower().replace('_', '-')}",
        "title": TITLES[code],
        "status": status or STATUS[code],
        "detail": detail,
        "code": code.value,
        "request_id": request_id,
        "errors": [{"field": e.field, "message": e.message} for e in errors],
    }
    # The outermost 500 handler answers outside the rate-limit middleware: add its headers here.
    all_headers = {"X-Request-ID": request_id, **current_rate_limit_headers(), **(headers or {})}
    if code is ErrorCode.UNAUTHENTICATED:
        all_headers.setdefault("WWW-Authenticate", "Bearer")
    return OrjsonResponse(
        body, status_code=body["status"], headers=all_headers, media_type=PROBLEM_JSON
    )


def field_path(loc: Sequence[int | str]) -> str:
    """`("body", "labels", 0)` → `labels.0`; a bare location (malformed body) keeps its name."""
    parts = list(loc)
    if len(parts) > 1 and parts[0] in _LOCATIONS:
        parts = parts[1:]
    return ".".join(str(p) for p in parts)


def graphql_request_error(exc: DomainError) -> JSONResponse:
    """A request-level failure at `/graphql` (say, a bad token) in GraphQL's own error shape,
    with the catalogue's status code: GraphQL clients parse `errors`, not problems."""
    headers = {"X-Request-ID": current_request_id(), **exc.headers}
    if exc.code is ErrorCode.UNAUTHENTICATED:
        headers.setdefault("WWW-Authenticate", "Bearer")
    body = {"errors": [{"message": exc.detail, "extensions": {"code": exc.code.value}}]}
    return OrjsonResponse(body, status_code=exc.status, headers=headers)


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    if request.url.path.rstrip("/") == GRAPHQL_PATH:
        return graphql_request_error(exc)
    return problem(exc.code, exc.detail, errors=exc.errors, headers=exc.headers)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        FieldError(field_path(e.get("loc", ())), str(e.get("msg", "invalid"))) for e in exc.errors()
    ]
    names = ", ".join(sorted({e.field for e in errors})) or "request"
    return problem(ErrorCode.VALIDATION_FAILED, f"Invalid input: {names}", errors=errors)


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400:
        # FastAPI's "error parsing the body" (say, bytes that are not UTF-8): bad input like any
        # other, so the catalogue's 422 with the body named.
        return problem(
            ErrorCode.VALIDATION_FAILED,
            "The request body could not be parsed",
            errors=[FieldError("body", "is not valid JSON text")],
        )
    code = _HTTP_CODES.get(exc.status_code, ErrorCode.INTERNAL)
    detail = exc.detail if isinstance(exc.detail, str) else TITLES[code]
    return problem(code, detail, headers=dict(exc.headers or {}), status=exc.status_code)


def database_down(path: str, exc: Exception) -> JSONResponse:
    """503 SERVICE_UNAVAILABLE with `Retry-After`, as a problem or in GraphQL's shape."""
    logger.warning("database unreachable: %s", " ".join(str(exc).split()) or type(exc).__name__)
    error = ServiceUnavailable(
        "The database is unreachable; retry shortly", headers={"Retry-After": "5"}
    )
    if path.rstrip("/") == GRAPHQL_PATH:
        return graphql_request_error(error)
    return problem(error.code, error.detail, headers=error.headers)


async def _database_down(request: Request, exc: Exception) -> JSONResponse:
    return database_down(request.url.path, exc)


async def _maybe_database_down(request: Request, exc: Exception) -> JSONResponse:
    if is_outage(exc):
        return await _database_down(request, exc)
    return await _unexpected(request, exc)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    if is_outage(exc):  # raised in a middleware, outside the handlers above
        return await _database_down(request, exc)
    logger.exception("unhandled error (request %s)", current_request_id(), exc_info=exc)
    # This handler answers outside every middleware, the security headers' one included.
    return problem(
        ErrorCode.INTERNAL,
        "An unexpected error occurred; quote the request id",
        headers=api_headers(request.scope),
    )


def install_problem_handlers(app: FastAPI) -> None:
    """Route every error the REST side can raise through `problem()`."""
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(DBConnectionError, _database_down)
    app.add_exception_handler(ConnectionError, _database_down)
    for raised in (*OUTAGE, *AFTERMATH):
        app.add_exception_handler(raised, _maybe_database_down)
    app.add_exception_handler(Exception, _unexpected)
