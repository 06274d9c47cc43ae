"""GraphQL rendering of the error catalogue: `errors[].extensions.code` (and `fields`).

Strawberry's `MaskErrors` would hide our own and validation errors too; this subclass masks only
what the catalogue does not know, and gives every error a code.
"""

from __future__ import annotations

import logging

from graphql.error import GraphQLError
from strawberry.extensions import MaskErrors

from gateway.errors import DomainError, ErrorCode
from gateway.request_id import current_request_id

logger = logging.getLogger("gateway.errors")


def _with_extensions(
    error: GraphQLError, message: str, extensions: dict[str, object]
) -> GraphQLError:
    return GraphQLError(
        message=message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=None,
        extensions={**(error.extensions or {}), **extensions},
    )


def to_catalogue(error: GraphQLError) -> GraphQLError:
    """The error as the client should see it."""
    original = error.original_error
    if isinstance(original, DomainError):
        extensions: dict[str, object] = {"code": original.code.value}
        if original.errors:
            extensions["fields"] = [
                {"field": e.field, "message": e.message} for e in original.errors
            ]
        return _with_extensions(error, original.detail, extensions)
    if original is None or isinstance(original, GraphQLError):
        # Parse, validation and variable-coercion errors: the client's query is at fault.
        code = (error.extensions or {}).get("code") or ErrorCode.VALIDATION_FAILED.value
        return _with_extensions(error, error.message, {"code": code})
    request_id = current_request_id()
    logger.error("unhandled GraphQL error (request %s)", request_id, exc_info=original)
    return _with_extensions(
        error,
        "An unexpected error occurred; quote the request id",
        {"code": ErrorCode.INTERNAL.value, "request_id": request_id},
    )


class CatalogueErrors(MaskErrors):
    """Gives every error an `extensions.code` and masks the unexpected ones."""

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        return [to_catalogue(e) for e in errors]
