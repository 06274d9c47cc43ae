"""OpenAPI documentation of error answers: every 4xx/5xx is an RFC 9457 problem.

Routers list the failures an operation can have with `problem_response(...)`; `install_openapi`
then gives every error response (FastAPI's default 422 included) the `Problem` schema under
`application/problem+json`, which is what `gateway.http.problems` actually sends.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, Field

from gateway.core.errors import ErrorCode
from gateway.http.problems import PROBLEM_JSON
from gateway.rest.openapi_enums import share_enums
from gateway.rest.openapi_headers import document_headers
from gateway.rest.operation_ids import mark_public

_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


class ProblemField(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    """An error (RFC 9457 problem details); `code` is the catalogue code, the same as GraphQL's
    `extensions.code`."""

    type: str
    title: str
    status: int
    detail: str
    code: ErrorCode = Field(description="The catalogue code (GraphQL's `extensions.code`).")
    request_id: str
    errors: list[ProblemField]


def problem_response(description: str) -> dict[str, Any]:
    """An entry for a route's `responses={status: ...}`."""
    return {"description": description, "content": {PROBLEM_JSON: {"schema": _PROBLEM_REF}}}


# Components FastAPI names after an operation id, under the name a client should see.
_RENAMED: dict[str, str] = {"Body_auth-token": "PasswordGrant"}


def _rename_components(schema: dict[str, Any]) -> dict[str, Any]:
    components = schema.get("components", {}).get("schemas", {})
    renamed = {old: new for old, new in _RENAMED.items() if old in components}
    if not renamed:
        return schema
    for old, new in renamed.items():
        components[new] = components.pop(old)
        components[new]["title"] = new
    text = json.dumps(schema)
    for old, new in renamed.items():
        text = text.replace(f'"#/components/schemas/{old}"', f'"#/components/schemas/{new}"')
    renamed_schema: dict[str, Any] = json.loads(text)
    return renamed_schema


def _document_problems(schema: dict[str, Any]) -> dict[str, Any]:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    # Nested models (ProblemField, ErrorCode) become components of their own, not `$defs`.
    components.update(problem.pop("$defs", {}))
    components["Problem"] = problem
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            for status, response in operation.get("responses", {}).items():
                if status[0] in "45":
                    response["content"] = {PROBLEM_JSON: {"schema": _PROBLEM_REF}}
                    if status == "422":
                        response["description"] = "VALIDATION_FAILED: each failing field is listed"
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    return schema


def install_openapi(app: FastAPI) -> None:
    """Generate the OpenAPI document once, with problem responses and headers documented
    truthfully."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            for step in (
                document_headers,
                _document_problems,
                _rename_components,
                share_enums,
                mark_public,
            ):
                schema = step(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
