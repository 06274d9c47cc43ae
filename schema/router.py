"""Strawberry's FastAPI router, adapted to Switchyard: GraphiQL from local assets, and every
answer — request errors included — in GraphQL's error shape with a catalogue code."""

from __future__ import annotations

from typing import Any

from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLHTTPResponse, process_result
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET

from gateway.docs import graphiql_html
from gateway.errors import ErrorCode
from gateway.request_id import current_request_id
from gateway.settings import Settings
from schema import build_schema
from schema.context import Context, get_context
from schema.errors import to_catalogue

# Request-level failures (before any GraphQL runs) by HTTP status.
_REQUEST_ERROR_CODES = {
    400: ErrorCode.VALIDATION_FAILED,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    406: ErrorCode.NOT_ACCEPTABLE,
    413: ErrorCode.PAYLOAD_TOO_LARGE,
    415: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
}


class SwitchyardGraphQLRouter(GraphQLRouter[Context, None]):
    """The `/graphql` endpoint."""

    def __init__(self, settings: Settings, **kwargs: Any) -> None:
        super().__init__(
            build_schema(settings),
            context_getter=get_context,
            graphql_ide="graphiql" if settings.graphiql else None,
            **kwargs,
        )

    @property
    def graphql_ide_html(self) -> str:
        """GraphiQL, loading its scripts and styles from this process (no CDN)."""
        return graphiql_html()

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        """Strawberry answers a bad body or method in plain text; answer in GraphQL's shape."""
        try:
            return await super().run(request, context, root_value)
        except HTTPException as exc:
            code = _REQUEST_ERROR_CODES.get(exc.status_code, ErrorCode.VALIDATION_FAILED)
            body = {"errors": [{"message": exc.reason, "extensions": {"code": code.value}}]}
            headers = {"X-Request-ID": current_request_id()}
            if exc.status_code == 405:
                headers["Allow"] = "GET, POST"
            return JSONResponse(body, status_code=exc.status_code, headers=headers)

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        """Parse and validation errors skip the schema extensions; code them here too."""
        if result.errors:
            result.errors = [to_catalogue(e) for e in result.errors]
        return process_result(result)
