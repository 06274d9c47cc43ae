"""The error catalogue's shape on both APIs, for failures that exist before any noun does."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from gateway.app import create_app
from gateway.errors import Conflict, ValidationFailed
from gateway.settings import Settings

PROBLEM_KEYS = {"type", "title", "status", "detail", "code", "request_id", "errors"}


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, object] = response.json()
    assert set(body) == PROBLEM_KEYS
    assert body["code"] == code
    assert body["status"] == status
    assert body["request_id"] == response.headers["x-request-id"]
    return body


async def test_unknown_path_is_a_not_found_problem(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/api/v1/nothing-here"), 404, "NOT_FOUND")


async def test_wrong_method_is_a_problem(client: httpx.AsyncClient) -> None:
    assert_problem(await client.delete("/api/v1/meta"), 405, "METHOD_NOT_ALLOWED")


async def test_request_id_is_echoed_when_sane(client: httpx.AsyncClient) -> None:
    sane = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert sane.headers["x-request-id"] == "abc-123"
    insane = await client.get("/healthz", headers={"X-Request-ID": "no spaces <script>"})
    assert insane.headers["x-request-id"] != "no spaces <script>"
    assert len(insane.headers["x-request-id"]) == 32


@pytest.fixture
async def faulty_client(settings: Settings) -> httpx.AsyncClient:
    """An app with routes that fail in each way a service can."""
    app: FastAPI = create_app(settings)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("SELECT secret FROM internals")

    @app.get("/conflict")
    async def conflict() -> None:
        raise Conflict("Slug taken")

    @app.post("/typed")
    async def typed(payload: dict[str, int]) -> dict[str, int]:
        return payload

    @app.get("/invalid")
    async def invalid() -> None:
        raise ValidationFailed.on("title", "must not be empty")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def test_unexpected_error_hides_internals(faulty_client: httpx.AsyncClient) -> None:
    response = await faulty_client.get("/boom")
    body = assert_problem(response, 500, "INTERNAL")
    assert "SELECT" not in response.text
    assert "Traceback" not in response.text
    assert isinstance(body["request_id"], str)
    assert len(body["request_id"]) == 32


async def test_domain_errors_map_to_their_status(faulty_client: httpx.AsyncClient) -> None:
    assert_problem(await faulty_client.get("/conflict"), 409, "CONFLICT")
    body = assert_problem(await faulty_client.get("/invalid"), 422, "VALIDATION_FAILED")
    assert body["errors"] == [{"field": "title", "message": "must not be empty"}]


async def test_malformed_json_is_a_validation_problem(faulty_client: httpx.AsyncClient) -> None:
    response = await faulty_client.post(
        "/typed", content=b'{"a": ', headers={"content-type": "application/json"}
    )
    body = assert_problem(response, 422, "VALIDATION_FAILED")
    assert body["errors"]


async def test_wrong_types_list_each_field(faulty_client: httpx.AsyncClient) -> None:
    response = await faulty_client.post("/typed", json={"a": "x", "b": [1]})
    body = assert_problem(response, 422, "VALIDATION_FAILED")
    fields = {e["field"] for e in body["errors"]}  # type: ignore[attr-defined]
    assert {"a", "b"} <= fields


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"content": b"{bad", "headers": {"content-type": "application/json"}}, 400),
        ({"json": {"query": 5}}, 400),
        ({"json": {}}, 400),
    ],
)
async def test_graphql_request_errors_have_codes(
    client: httpx.AsyncClient, kwargs: dict[str, object], status: int
) -> None:
    response = await client.post("/graphql", **kwargs)  # type: ignore[arg-type]
    assert response.status_code == status
    errors = response.json()["errors"]
    assert errors[0]["extensions"]["code"] == "VALIDATION_FAILED"


@pytest.mark.parametrize("query", ["{ serverInfo { ", "{ nope }", "{ serverInfo }"])
async def test_graphql_syntax_and_validation_errors_have_codes(
    client: httpx.AsyncClient, query: str
) -> None:
    response = await client.post("/graphql", json={"query": query})
    errors = response.json()["errors"]
    assert errors
    assert all(e["extensions"]["code"] == "VALIDATION_FAILED" for e in errors)


async def test_mutation_over_get_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", params={"query": "mutation { x }"})
    assert response.status_code in (400, 405)
    assert response.json()["errors"][0]["extensions"]["code"]
