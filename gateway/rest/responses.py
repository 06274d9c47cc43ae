"""OpenAPI documentation of error answers: every 4xx/5xx is an RFC 9457 problem.

Routers list the failures an operation can have: the answers many operations share come from
the table below (`UNAUTHENTICATED`, `FORBIDDEN_READ`, `NOT_FOUND_PROJECT`, …), one description
each; a reason only one router has is built there with `problem_response(...)`.
`install_openapi` then adds the 401/413/429 every `/api/` operation may answer and gives every
error response (FastAPI's default 422 included) the `Problem` schema under
`application/problem+json`, which is what `gateway.http.problems` actually sends.
"""

from __future__ import annotations

import copy
import json
from typing import Any, Final

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


Responses = dict[int | str, dict[str, Any]]
"""A route's `responses=`."""

# The answers operations share, one description each.
NOT_MODIFIED: Final = {"description": "Not modified: `If-None-Match` names the current version"}
UNAUTHENTICATED: Final = problem_response("UNAUTHENTICATED: no, bad or expired credentials")
FORBIDDEN_READ: Final = problem_response(
    "FORBIDDEN: a personal access token without the `read` scope"
)
FORBIDDEN_ADMIN_SCOPE: Final = problem_response(
    "FORBIDDEN: a personal access token without the `admin` scope"
)
FORBIDDEN_NOT_ADMIN: Final = problem_response(
    "FORBIDDEN: not an admin, or a token without the `admin` scope"
)
FORBIDDEN_NOT_OWNER: Final = problem_response(
    "FORBIDDEN: not an owner, or a token without the `admin` scope"
)
FORBIDDEN_CONTENT: Final = problem_response(
    "FORBIDDEN: your role or the token's scope does not allow this"
)
NOT_FOUND_WORKSPACE: Final = problem_response(
    "NOT_FOUND: no such workspace, or the caller is not a member of it"
)
NOT_FOUND_PROJECT: Final = problem_response(
    "NOT_FOUND: no such workspace or project, or the caller is not a member"
)
ARCHIVED: Final = problem_response("CONFLICT: the project is archived")
PRECONDITION_FAILED: Final = problem_response(
    "PRECONDITION_FAILED: `If-Match` names an older version"
)
PAYLOAD_TOO_LARGE: Final = problem_response(
    "PAYLOAD_TOO_LARGE: the body is over the server's limit"
)
# Whatever a route lists, a 422 is documented with this one description: its problem lists
# each failing field with its own message.
VALIDATION_FAILED: Final = problem_response("VALIDATION_FAILED: each failing field is listed")
RATE_LIMITED: Final = problem_response(
    "RATE_LIMITED: over the rate limit; retry after `Retry-After` seconds"
)


def problems(
    forbidden: dict[str, Any] | None = None,
    not_found: dict[str, Any] | None = None,
    conflict: dict[str, Any] | None = None,
    *,
    cached: bool = False,
    versioned: bool = False,
    validated: bool = False,
) -> Responses:
    """A route's `responses=`: 304 when `cached` (it answers `If-None-Match`), its 401, the
    403/404/409 given, 412 when `versioned` (it honours `If-Match`), 422 when `validated`; in
    status order, the order the document lists them in."""
    entries: Responses = {304: NOT_MODIFIED} if cached else {}
    entries[401] = UNAUTHENTICATED
    for status, answer in ((403, forbidden), (404, not_found), (409, conflict)):
        if answer is not None:
            entries[status] = answer
    if versioned:
        entries[412] = PRECONDITION_FAILED
    if validated:
        entries[422] = VALIDATION_FAILED
    return entries


# What any `/api/` operation may answer before its route runs: a bad bearer token, a body over
# the limit (operations with a body), the rate limit.
_EVERYWHERE: Final = {"401": UNAUTHENTICATED, "429": RATE_LIMITED}
_WITH_A_BODY: Final = {"413": PAYLOAD_TOO_LARGE}


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
                        response["description"] = VALIDATION_FAILED["description"]
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    return schema


def _document_common_problems(schema: dict[str, Any]) -> dict[str, Any]:
    for path, path_item in schema.get("paths", {}).items():
        if not path.startswith("/api/"):
            continue  # health checks are neither rate limited nor authenticated
        for operation in path_item.values():
            responses: dict[str, Any] = operation.setdefault("responses", {})
            body = _WITH_A_BODY if "requestBody" in operation else {}
            for status, response in {**_EVERYWHERE, **body}.items():
                responses.setdefault(status, copy.deepcopy(response))
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
                _document_common_problems,
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
