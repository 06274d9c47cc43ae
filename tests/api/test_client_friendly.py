"""What generated clients and a browser app meet first (issue 12): short operation ids, shared
components, a catalogue-typed `Problem`, both Swagger UI schemes, a branded GraphiQL and CORS
open to local dev servers in development only."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest

from gateway.cli.contract.artefacts import openapi_document
from gateway.core.errors import ErrorCode
from gateway.core.settings import Environment, Settings
from gateway.http.app import create_app
from schema import build_schema


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return openapi_document()


def _operations(spec: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {
        op["operationId"]: (method, path)
        for path, item in spec["paths"].items()
        for method, op in item.items()
    }


def test_operation_ids_are_tag_dash_verb_and_unique(spec: dict[str, Any]) -> None:
    operations = _operations(spec)
    assert len(operations) == sum(len(item) for item in spec["paths"].values())
    for operation_id in operations:
        assert re.fullmatch(r"[a-z]+-[a-z]+(-[a-z]+)?", operation_id), operation_id
    issues = "/api/v1/workspaces/{slug}/projects/{key}/issues"
    assert operations["issues-list"] == ("get", issues)
    assert operations["issues-create"] == ("post", issues)
    assert operations["issues-get"] == ("get", issues + "/{number}")
    assert operations["issues-update"] == ("patch", issues + "/{number}")
    assert operations["issues-delete"] == ("delete", issues + "/{number}")
    assert operations["auth-token"] == ("post", "/api/v1/auth/token")


def test_components_have_one_name_each(spec: dict[str, Any]) -> None:
    names = set(spec["components"]["schemas"])
    assert {"IssuePriority", "IssueState", "UserBrief", "IssuePage", "TokenPage"} <= names
    assert {"WebhookPage", "DeliveryPage", "PasswordGrant", "ErrorCode"} <= names
    assert not [n for n in names if "_" in n or n.endswith("Out")], names
    text = json.dumps(spec)
    assert "$defs" not in text
    # Priority is spelled out once, in its component; everything else refers to it.
    assert text.count('"none", "low", "medium", "high", "urgent"') == 1


def test_problem_code_is_the_catalogue(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    assert schemas["Problem"]["properties"]["code"]["$ref"] == "#/components/schemas/ErrorCode"
    assert schemas["ErrorCode"]["enum"] == [code.value for code in ErrorCode]


def test_patch_fields_that_refuse_null_are_not_nullable(spec: dict[str, Any]) -> None:
    patch = spec["components"]["schemas"]["IssuePatch"]["properties"]
    for refuses_null in ("title", "body", "priority", "labels", "state"):
        assert "anyOf" not in patch[refuses_null], refuses_null
    for clears in ("assignee", "due_date"):
        assert {"type": "null"} in patch[clears]["anyOf"], clears


def test_swagger_ui_offers_the_password_flow_and_a_pasted_token(spec: dict[str, Any]) -> None:
    schemes = spec["components"]["securitySchemes"]
    assert schemes["OAuth2PasswordBearer"]["flows"]["password"]["tokenUrl"] == "/api/v1/auth/token"
    assert schemes["BearerToken"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schemes["BearerToken"]["description"],
    }
    me = spec["paths"]["/api/v1/me"]["get"]
    assert {"OAuth2PasswordBearer": []} in me["security"]
    assert {"BearerToken": []} in me["security"]


def test_conditional_and_paging_headers_are_declared(spec: dict[str, Any]) -> None:
    issue = spec["paths"]["/api/v1/workspaces/{slug}/projects/{key}/issues/{number}"]
    assert "If-None-Match" in {p["name"] for p in issue["get"]["parameters"]}
    assert "If-Match" in {p["name"] for p in issue["patch"]["parameters"]}
    assert "ETag" in issue["get"]["responses"]["304"]["headers"]
    listed = spec["paths"]["/api/v1/workspaces/{slug}/projects/{key}/issues"]
    assert "Link" in listed["get"]["responses"]["200"]["headers"]
    assert "Location" in listed["post"]["responses"]["201"]["headers"]
    assert "Retry-After" in listed["get"]["responses"]["429"]["headers"]


async def test_graphiql_is_branded_and_shows_how_to_authenticate(
    client: httpx.AsyncClient,
) -> None:
    page = (await client.get("/graphql", headers={"Accept": "text/html"})).text
    assert "<title>Switchyard GraphiQL</title>" in page
    assert '{"Authorization": "Bearer <your token>"}' in page
    assert "Strawberry" not in page
    assert "🍓" not in page


def test_scalars_are_described_in_our_words() -> None:
    sdl = str(build_schema())
    assert "Date (isoformat)" not in sdl
    assert "A calendar day, ISO 8601 `YYYY-MM-DD`" in sdl
    assert "The `JSON` scalar type represents" not in sdl
    assert "Any JSON value; an event's `data` holds its details" in sdl


def _preflight(settings: Settings, origin: str) -> httpx.Response:
    import asyncio

    async def ask() -> httpx.Response:
        transport = httpx.ASGITransport(app=create_app(settings))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            return await http.options(
                "/graphql",
                headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
            )

    return asyncio.run(ask())


@pytest.mark.parametrize("origin", ["http://localhost:5173", "http://127.0.0.1:3000"])
def test_development_lets_local_dev_servers_in(settings: Settings, origin: str) -> None:
    development = settings.model_copy(update={"environment": Environment.development})
    answer = _preflight(development, origin)
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == origin


@pytest.mark.parametrize(
    "origin", ["http://localhost.evil.example", "https://localhost:5173", "http://evil.example"]
)
def test_development_keeps_other_origins_out(settings: Settings, origin: str) -> None:
    development = settings.model_copy(update={"environment": Environment.development})
    assert "access-control-allow-origin" not in _preflight(development, origin).headers


def test_production_is_closed_unless_configured(settings: Settings) -> None:
    closed = settings.model_copy(update={"environment": Environment.production})
    assert "access-control-allow-origin" not in _preflight(closed, "http://localhost:5173").headers
    opened = closed.model_copy(update={"cors_origins": ["https://app.example"]})
    answer = _preflight(opened, "https://app.example")
    assert answer.headers["access-control-allow-origin"] == "https://app.example"
    assert "access-control-allow-origin" not in _preflight(opened, "http://localhost:5173").headers
