"""GraphQL rendering of the error catalogue: `errors[].extensions.code` (and `fields`).

Strawberry's `MaskErrors` would hide our own and validation errors too; this subclass masks only
what the catalogue does not know, and gives every error a code: a document that does not parse
is GRAPHQL_PARSE_FAILED, one that does not validate GRAPHQL_VALIDATION_FAILED, and bad input
values (variables that do not coerce) VALIDATION_FAILED (api.md, "Malformed documents").

With introspection off, messages lose graphql-core's "Did you mean …?" suggestions, which would
otherwise spell the schema out field by field.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

from graphql import GraphQLError, GraphQLSyntaxError, NoSchemaIntrospectionCustomRule
from strawberry.extensions import MaskErrors

from gateway.core.db import is_outage
from gateway.core.errors import DomainError, ErrorCode, GraphQLErrorCode
from gateway.http.middleware.request_id import current_request_id

logger = logging.getLogger("gateway.core.errors")

# graphql-core's `did_you_mean`: " Did you mean 'a', 'b', or 'c'?" (names hold no "?").
_SUGGESTION = re.compile(r" Did you mean [^?]*\?")


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
        # Parse, validation (coded by `CatalogueErrors.on_validate`) and variable-coercion
        # errors: the client's query is at fault.
        default = (
            GraphQLErrorCode.GRAPHQL_PARSE_FAILED
            if isinstance(error, GraphQLSyntaxError)
            else ErrorCode.VALIDATION_FAILED
        )
        code = (error.extensions or {}).get("code") or default.value
        return _with_extensions(error, error.message, {"code": code})
    if is_outage(original):
        # The database went away mid-operation: as REST's 503, the client may retry.
        logger.warning("database unreachable: %s", original)
        return _with_extensions(
            error,
            "The database is unreachable; retry shortly",
            {"code": ErrorCode.SERVICE_UNAVAILABLE.value},
        )
    request_id = current_request_id()
    logger.error("unhandled GraphQL error (request %s)", request_id, exc_info=original)
    return _with_extensions(
        error,
        "An unexpected error occurred; quote the request id",
        {"code": ErrorCode.INTERNAL.value, "request_id": request_id},
    )


def without_suggestions(error: GraphQLError) -> GraphQLError:
    """The error with graphql-core's "Did you mean …?" taken out of its message."""
    message = _SUGGESTION.sub("", error.message)
    return error if message == error.message else _with_extensions(error, message, {})


class CatalogueErrors(MaskErrors):
    """Gives every error an `extensions.code`, masks the unexpected ones, and hides suggestions
    whenever introspection is off (`DisableIntrospection` adds its rule to the operation)."""

    def on_validate(self) -> Iterator[None]:
        yield
        # Every error found by now is the document's: rules that set no code get the GraphQL
        # one. In place, because Strawberry has already put these objects in its result; the
        # ValidationCache may hand them out again, always labelled alike.
        code = GraphQLErrorCode.GRAPHQL_VALIDATION_FAILED.value
        for error in self.execution_context.pre_execution_errors or ():
            if not (error.extensions or {}).get("code"):
                error.extensions = {**(error.extensions or {}), "code": code}

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        hide = NoSchemaIntrospectionCustomRule in self.execution_context.validation_rules
        return [to_catalogue(without_suggestions(e) if hide else e) for e in errors]
