"""The error catalogue's shape on both APIs, for failures that exist before any noun does."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from gateway.core.errors import Conflict, ValidationFailed
from gateway.core.settings import Settings
from gateway.http.app import create_app
from schema.http.router import _outage

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


GRAPHQL_RESPONSE = "application/graphql-response+json"


@pytest.mark.parametrize("accept", ["application/json", GRAPHQL_RESPONSE])
@pytest.mark.parametrize(
    ("kwargs", "status", "code"),
    [
        ({"content": b"{bad", "headers": {"content-type": "application/json"}}, 400, None),
        ({"content": b"", "headers": {"content-type": "application/json"}}, 400, None),
        ({"json": {"query": 5}}, 400, None),
        ({"json": {}}, 400, None),
        ({"json": [{"query": "{ __typename }"}]}, 400, None),
        ({"json": {"query": "{ __typename }", "variables": "x"}}, 400, None),
        ({"json": {"query": "{ __typename }", "extensions": [1]}}, 400, None),
        ({"content": b"{ __typename }"}, 415, "UNSUPPORTED_MEDIA_TYPE"),
        (
            {"content": b"{}", "headers": {"content-type": "application/graphql"}},
            415,
            "UNSUPPORTED_MEDIA_TYPE",
        ),
    ],
)
async def test_graphql_request_errors_have_codes(
    client: httpx.AsyncClient,
    kwargs: dict[str, object],
    status: int,
    code: str | None,
    accept: str,
) -> None:
    rest = {k: v for k, v in kwargs.items() if k != "headers"}
    headers = {"accept": accept, **kwargs.get("headers", {})}  # type: ignore[dict-item]
    response = await client.post("/graphql", headers=headers, **rest)  # type: ignore[arg-type]
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(accept)
    body = response.json()
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == (code or "VALIDATION_FAILED")


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("{ serverInfo { ", "GRAPHQL_PARSE_FAILED"),
        ("{ nope }", "GRAPHQL_VALIDATION_FAILED"),
        ("{ serverInfo }", "GRAPHQL_VALIDATION_FAILED"),
        ("query($n: Int!) { __typename }", "GRAPHQL_VALIDATION_FAILED"),
    ],
)
async def test_graphql_syntax_and_validation_errors_have_codes(
    client: httpx.AsyncClient, query: str, code: str
) -> None:
    # Legacy `application/json` (httpx sends `*/*`): 200, as the spec asks for old clients.
    legacy = await client.post("/graphql", json={"query": query})
    assert legacy.status_code == 200
    assert legacy.headers["content-type"] == "application/json"
    # `application/graphql-response+json`: 400, and no `data` since execution never started.
    modern = await client.post(
        "/graphql", json={"query": query}, headers={"accept": GRAPHQL_RESPONSE}
    )
    assert modern.status_code == 400
    assert modern.headers["content-type"] == f"{GRAPHQL_RESPONSE}; charset=utf-8"
    for response in (legacy, modern):
        body = response.json()
        assert "data" not in body
        assert body["errors"]
        assert all(e["extensions"]["code"] == code for e in body["errors"])


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "application/json"),
        ("*/*", "application/json"),
        ("application/json", "application/json"),
        (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE}, application/json;q=0.9", GRAPHQL_RESPONSE),
        (f"application/json, {GRAPHQL_RESPONSE};q=0.5", "application/json"),
        ("text/html, */*;q=0.1", "application/json"),
    ],
)
async def test_graphql_media_type_follows_accept(
    client: httpx.AsyncClient, accept: str | None, expected: str
) -> None:
    headers = {"accept": accept} if accept is not None else {}
    request = client.build_request("POST", "/graphql", json={"query": "{ __typename }"})
    request.headers.update(headers)
    if accept is None:
        del request.headers["accept"]
    response = await client.send(request)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(expected)
    assert response.json() == {"data": {"__typename": "Query"}}


async def test_graphql_unacceptable_accept_is_406(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"accept": "text/xml"}
    )
    assert response.status_code == 406
    assert response.json()["errors"][0]["extensions"]["code"] == "NOT_ACCEPTABLE"


async def test_graphql_field_errors_keep_data_and_200(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", json={"query": "{ viewer { id } }"}, headers={"accept": GRAPHQL_RESPONSE}
    )
    assert response.status_code == 200  # execution started: a field error, not a request error
    body = response.json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize("query", ["mutation { x }", "mutation { __typename }"])
async def test_mutation_over_get_is_refused(client: httpx.AsyncClient, query: str) -> None:
    response = await client.get("/graphql", params={"query": query})
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"


async def test_query_over_get_is_allowed(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/graphql",
        params={
            "query": "query Q($n: String!) { __type(name: $n) { name } }",
            "variables": '{"n": "Query"}',
        },
        headers={"accept": GRAPHQL_RESPONSE},
    )
    assert response.status_code == 200
    assert response.json() == {"data": {"__type": {"name": "Query"}}}


async def test_unknown_operation_name_is_a_request_error(client: httpx.AsyncClient) -> None:
    payload = {"query": "query A { __typename }", "operationName": "B"}
    modern = await client.post("/graphql", json=payload, headers={"accept": GRAPHQL_RESPONSE})
    assert modern.status_code == 400
    body = modern.json()
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert (await client.post("/graphql", json=payload)).status_code == 200  # legacy


async def test_subscription_over_http_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": "subscription { x }"})
    assert response.status_code == 400
    assert "WebSocket" in response.json()["errors"][0]["message"]


def test_an_outage_inside_an_operation_is_a_503_to_retry() -> None:
    """An operation whose errors say the database was unreachable answers 503 with
    Retry-After (`schema.http.router`), as REST's outage answers do; other errors keep 200."""
    unreachable = {"code": "SERVICE_UNAVAILABLE"}
    assert _outage({"data": None, "errors": [{"message": "x", "extensions": unreachable}]})
    assert not _outage({"data": None, "errors": [{"extensions": {"code": "NOT_FOUND"}}]})
    assert not _outage({"data": {"viewer": None}})
