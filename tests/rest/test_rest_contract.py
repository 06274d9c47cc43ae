"""The REST contract as clients and schemathesis read it (issue 8): a 405 lists every method of
its path, the OpenAPI document declares the headers and error answers the operations really
send, and its constraints are the ones validation enforces."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.auth_helpers import bearer, make_user
from tests.factories import World

METHODS = {"get", "post", "put", "patch", "delete"}


async def _spec(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    spec: dict[str, Any] = response.json()
    return spec


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in spec["paths"].items()
        if path.startswith("/api/")
        for method, operation in item.items()
        if method in METHODS
    ]


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("OPTIONS", "/api/v1/me", "GET, PATCH"),
        ("PUT", "/api/v1/me/tokens", "GET, POST"),
        ("OPTIONS", "/api/v1/workspaces", "GET, POST"),
        ("PUT", "/api/v1/workspaces/acme", "GET, PATCH, DELETE"),
        ("POST", "/api/v1/workspaces/acme/projects/WEB/labels/bug", "GET, PATCH, DELETE"),
        ("GET", "/api/v1/auth/token", "POST"),
    ],
)
async def test_a_405_lists_every_method_of_its_path(
    client: httpx.AsyncClient, method: str, path: str, allowed: str
) -> None:
    response = await client.request(method, path)
    assert response.status_code == 405
    assert response.headers["allow"] == allowed
    assert response.json()["code"] == "METHOD_NOT_ALLOWED"


async def test_every_operation_documents_429_with_retry_after_and_rate_limit_headers(
    client: httpx.AsyncClient,
) -> None:
    for method, path, operation in _operations(await _spec(client)):
        responses = operation["responses"]
        label = f"{method} {path}"
        assert "429" in responses, label
        assert "401" in responses, label
        assert responses["429"]["headers"]["Retry-After"]["required"] is True, label
        for status, response in responses.items():
            assert {"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"} <= set(
                response["headers"]
            ), (label, status)
        if "requestBody" in operation:
            assert "413" in responses, label


async def test_conditional_and_location_headers_are_documented(
    client: httpx.AsyncClient,
) -> None:
    spec = await _spec(client)
    singles = [
        "/api/v1/me",
        "/api/v1/users/{username}",
        "/api/v1/workspaces/{slug}",
        "/api/v1/workspaces/{slug}/members/{username}",
        "/api/v1/workspaces/{slug}/projects/{key}/labels/{name}",
    ]
    for path in singles:
        get = spec["paths"][path]["get"]
        assert "If-None-Match" in {p["name"] for p in get["parameters"]}, path
        assert "ETag" in get["responses"]["200"]["headers"], path
        assert "ETag" in get["responses"]["304"]["headers"], path
        for method in ("patch", "delete"):
            if method in spec["paths"][path]:
                operation = spec["paths"][path][method]
                assert "If-Match" in {p["name"] for p in operation["parameters"]}, (method, path)
                assert "412" in operation["responses"], (method, path)
    for method, path, operation in _operations(spec):
        if "201" in operation["responses"]:
            assert "Location" in operation["responses"]["201"]["headers"], (method, path)
        if "cursor" in {p["name"] for p in operation.get("parameters", [])}:
            assert "Link" in operation["responses"]["200"]["headers"], (method, path)


async def test_a_patch_field_that_may_not_be_null_is_not_nullable_in_the_schema(
    client: httpx.AsyncClient, empty_world: World
) -> None:
    spec = await _spec(client)
    name = spec["components"]["schemas"]["WorkspacePatch"]["properties"]["name"]
    assert name["type"] == "string"
    refused = await client.patch(
        "/api/v1/workspaces/acme", json={"name": None}, headers=empty_world.h("owner")
    )
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["name"]


async def test_a_malformed_if_match_is_a_validation_error_found_with_the_body_errors(
    client: httpx.AsyncClient, empty_world: World
) -> None:
    response = await client.patch(
        "/api/v1/workspaces/acme",
        json={"name": 5},
        headers={**empty_world.h("owner"), "If-Match": "v1"},
    )
    assert response.status_code == 422, response.text
    assert sorted(e["field"] for e in response.json()["errors"]) == ["If-Match", "name"]
    wildcard = await client.patch(
        "/api/v1/workspaces/acme",
        json={"name": "Any"},
        headers={**empty_world.h("owner"), "If-Match": "*"},
    )
    assert wildcard.status_code == 200, wildcard.text


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"username": "a b"}, "username"),
        ({"password": "short"}, "password"),
        ({"email": "no-at-sign"}, "email"),
    ],
)
async def test_sign_up_constraints_are_in_the_schema_and_enforced(
    client: httpx.AsyncClient, body: dict[str, str], field: str
) -> None:
    schema = (await _spec(client))["components"]["schemas"]["SignUpIn"]["properties"]
    assert schema["username"]["pattern"] == "^[A-Za-z0-9-]{2,39}$"
    assert schema["password"]["minLength"] == 8
    assert schema["email"]["format"] == "email"
    good = {"email": "ada@example.com", "username": "ada", "password": "long enough"}
    response = await client.post("/api/v1/users", json={**good, **body})
    assert response.status_code == 422
    assert field in {e["field"] for e in response.json()["errors"]}


async def test_token_lifetime_takes_json_integers_only(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    headers = bearer(app, await make_user("ann"))
    url = "/api/v1/me/tokens"
    whole = await client.post(
        url, json={"name": "ci", "scopes": ["read"], "expires_in_days": 30.0}, headers=headers
    )
    assert whole.status_code == 201, whole.text
    for days in ("30", True, 30.5, 366):
        refused = await client.post(
            url, json={"name": "ci", "scopes": ["read"], "expires_in_days": days}, headers=headers
        )
        assert refused.status_code == 422, days


async def test_an_unknown_project_in_the_feed_filter_is_not_found(
    client: httpx.AsyncClient, empty_world: World
) -> None:
    response = await client.get(
        "/api/v1/workspaces/acme/events?project=NOPE", headers=empty_world.h("viewer")
    )
    assert response.status_code == 404
    assert response.json()["code"] == "NOT_FOUND"
