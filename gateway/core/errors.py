"""The error catalogue: every failure a client can see, as one exception type per code.

Services raise these; `gateway.http.problems` renders them as RFC 9457 problems for REST and
`schema.http.errors` as `extensions.code` for GraphQL, so both APIs report the same code.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ErrorCode(StrEnum):
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    VALIDATION_FAILED = "VALIDATION_FAILED"
    CONFLICT = "CONFLICT"
    PRECONDITION_FAILED = "PRECONDITION_FAILED"
    RATE_LIMITED = "RATE_LIMITED"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
    INTERNAL = "INTERNAL"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    NOT_ACCEPTABLE = "NOT_ACCEPTABLE"
    UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"


class GraphQLErrorCode(StrEnum):
    """GraphQL-only codes beside the catalogue (api.md, "Malformed documents"): the document
    itself is at fault, so a client can tell a broken query from bad input (VALIDATION_FAILED)."""

    GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"  # the document does not parse
    # it does not validate against the schema, or breaks a depth/alias/token/cost limit
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"


STATUS: dict[ErrorCode, int] = {
    ErrorCode.UNAUTHENTICATED: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.VALIDATION_FAILED: 422,
    ErrorCode.CONFLICT: 409,
    ErrorCode.PRECONDITION_FAILED: 412,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.PAYLOAD_TOO_LARGE: 413,
    ErrorCode.SERVICE_UNAVAILABLE: 503,
    ErrorCode.INTERNAL: 500,
    ErrorCode.METHOD_NOT_ALLOWED: 405,
    ErrorCode.NOT_ACCEPTABLE: 406,
    ErrorCode.UNSUPPORTED_MEDIA_TYPE: 415,
}

TITLES: dict[ErrorCode, str] = {
    ErrorCode.UNAUTHENTICATED: "Authentication required",
    ErrorCode.FORBIDDEN: "Forbidden",
    ErrorCode.NOT_FOUND: "Not found",
    ErrorCode.VALIDATION_FAILED: "Validation failed",
    ErrorCode.CONFLICT: "Conflict",
    ErrorCode.PRECONDITION_FAILED: "Precondition failed",
    ErrorCode.RATE_LIMITED: "Too many requests",
    ErrorCode.PAYLOAD_TOO_LARGE: "Payload too large",
    ErrorCode.SERVICE_UNAVAILABLE: "Service unavailable",
    ErrorCode.INTERNAL: "Internal error",
    ErrorCode.METHOD_NOT_ALLOWED: "Method not allowed",
    ErrorCode.NOT_ACCEPTABLE: "Not acceptable",
    ErrorCode.UNSUPPORTED_MEDIA_TYPE: "Unsupported media type",
}


@dataclass(frozen=True, slots=True)
class FieldError:
    """One failing input field: `field` is a dotted path in the API's own naming."""

    field: str
    message: str


class DomainError(Exception):
    """Base of every error a client may see. `detail` is safe to show."""

    code: ErrorCode = ErrorCode.INTERNAL

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.detail = detail or TITLES[self.code]
        self.errors = errors or []
        self.headers = headers or {}
        super().__init__(self.detail)

    @property
    def status(self) -> int:
        return STATUS[self.code]


class Unauthenticated(DomainError):
    code = ErrorCode.UNAUTHENTICATED


class Forbidden(DomainError):
    code = ErrorCode.FORBIDDEN


class NotFound(DomainError):
    code = ErrorCode.NOT_FOUND


class ValidationFailed(DomainError):
    code = ErrorCode.VALIDATION_FAILED

    @classmethod
    def on(cls, field: str, message: str) -> ValidationFailed:
        """A validation error about one field."""
        return cls(f"{field}: {message}", errors=[FieldError(field, message)])


class Conflict(DomainError):
    code = ErrorCode.CONFLICT


class PreconditionFailed(DomainError):
    code = ErrorCode.PRECONDITION_FAILED


class RateLimited(DomainError):
    code = ErrorCode.RATE_LIMITED

    def __init__(self, detail: str | None = None, *, retry_after: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(max(1, retry_after))})
        self.retry_after = max(1, retry_after)


class PayloadTooLarge(DomainError):
    code = ErrorCode.PAYLOAD_TOO_LARGE


class ServiceUnavailable(DomainError):
    code = ErrorCode.SERVICE_UNAVAILABLE
