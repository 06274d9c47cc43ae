"""The `/graphql` edge under hostile documents and requests (issue 8, items 1, 6 and 11): fragment
fan-out is measured in linear time and refused by its expanded size, while a real server keeps
answering `/healthz`; deeply nested JSON is a 400; several operations need an `operationName`;
suggestions go with introspection; parse and schema-validation errors carry their GraphQL codes;
an unreachable database is a 503 in GraphQL's shape."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from graphql import GraphQLError
from starlette.types import Message, Scope
from tortoise.exceptions import DBConnectionError

from gateway.core.settings import Settings
from gateway.http.app import create_app
from models import Workspace
from schema.http.errors import to_catalogue
from tests.auth_helpers import bearer, gql, make_user
from tests.environment import child_environment, free_port
from tests.gateway_process import stop, wait_up

GRAPHQL_RESPONSE = "application/graphql-response+json"
BUDGET_SECONDS = 0.1
UVICORN = [sys.executable, "-m", "uvicorn", "gateway.http.app:create_app", "--factory"]


def fan_out(levels: int, prefix: str = "F") -> str:
    """`levels` fragments, each spreading the next twice: 2^(levels-1) `__typename`s expanded."""
    chain = " ".join(
        f"fragment {prefix}{i} on Query{{...{prefix}{i + 1} ...{prefix}{i + 1}}}"
        for i in range(levels - 1)
    )
    last = f"fragment {prefix}{levels - 1} on Query{{__typename}}"
    return f"query{{__typename ...{prefix}0}} {chain} {last}"


def only_error(body: dict[str, Any]) -> dict[str, Any]:
    assert "data" not in body, body
    [error] = body["errors"]
    assert isinstance(error, dict)
    return error


async def timed_gql(client: httpx.AsyncClient, query: str) -> tuple[float, dict[str, Any]]:
    """The answer, and the CPU time this thread (the event loop's, serving the request
    in-process) spent on it: the work the request costs, not how long a busy machine made it
    wait for a core."""
    started = time.thread_time()
    body = await gql(client, query)
    return time.thread_time() - started, body


# --- item 1: fragment fan-out ---------------------------------------------------------------


FAN_OUTS = [
    fan_out(21),
    fan_out(21, "G"),  # one changed character in every name: no cache can help
    fan_out(21).replace("query{", "query Q{"),
    fan_out(32),
    fan_out(40),
]


def within_budget(seconds: list[float]) -> bool:
    """The typical answer within 100 ms and none near the 9-18 s the finding measured. The
    median, not the maximum: the test machine is shared, and one request may wait for a core."""
    return sorted(seconds)[len(seconds) // 2] < BUDGET_SECONDS and max(seconds) < 1


async def test_fragment_fan_out_is_refused_by_its_expanded_size_at_once(
    client: httpx.AsyncClient,
) -> None:
    assert 700 < len(FAN_OUTS[0]) < 800  # the finding's document: 780 bytes, ~130 tokens
    seconds: list[float] = []
    for query in FAN_OUTS:
        elapsed, body = await timed_gql(client, query)
        seconds.append(elapsed)
        error = only_error(body)
        assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        assert error["extensions"]["limit"] == "fields"
        assert error["extensions"]["max"] == 2000
    assert within_budget(seconds), seconds


async def test_fan_out_within_the_limits_is_answered_at_once(client: httpx.AsyncClient) -> None:
    seconds: list[float] = []
    for prefix in "FGH":
        elapsed, body = await timed_gql(client, fan_out(11, prefix))  # 1,025 fields expanded
        seconds.append(elapsed)
        assert body == {"data": {"__typename": "Query"}}
    assert within_budget(seconds), seconds


async def test_depth_and_aliases_count_through_fragments_once_each(
    client: httpx.AsyncClient,
) -> None:
    """Spreads are expanded for every limit: two aliases in a fragment spread 2^4 times are 32,
    and a chain of fragments each nesting one level is as deep as the chain."""
    doubling = " ".join(f"fragment A{i} on Query {{ ...A{i + 1} ...A{i + 1} }}" for i in range(4))
    aliases = f"{{ ...A0 }} {doubling} fragment A4 on Query {{ a: __typename b: __typename }}"
    error = only_error(await gql(client, aliases))
    assert (error["extensions"]["limit"], error["message"]) == (
        "aliases",
        "32 aliases found. Allowed: 30",
    )
    # Seven nested fields per fragment, under `viewer`: 1 + 7 + 7 = 15 levels.
    nesting = " ".join(
        f"fragment D{i} on User {{ workspaces(first: 1) {{ edges {{ node {{ members(first: 1)"
        f" {{ edges {{ node {{ user {{ ...D{i + 1} }} }} }} }} }} }} }} }}"
        for i in range(2)
    )
    deep = f"{{ viewer {{ ...D0 }} }} {nesting} fragment D2 on User {{ id }}"
    error = only_error(await gql(client, deep))
    assert (error["extensions"]["limit"], error["message"]) == (
        "depth",
        "'anonymous' exceeds maximum operation depth of 12",
    )


@contextmanager
def real_server(database_url: str) -> Iterator[str]:
    """uvicorn serving the app in a process of its own on a free 127.0.0.1 port; its base URL
    once `/healthz` answers. Stopped on exit."""
    env = child_environment()
    env["GATEWAY_DATABASE_URL"] = database_url
    env["GATEWAY_RATE_LIMIT_ENABLED"] = "false"
    port = free_port()
    server = subprocess.Popen(
        [*UVICORN, "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_up(server, f"{url}/healthz")
        yield url
    finally:
        stop(server)


LABELS_1000 = [f"l{i}" for i in range(1000)]
LABEL_FILTER = """query($labels: [String!]) { project(workspace: "acme", key: "WEB") {
  issues(filter: {labels: $labels}) { totalCount } } }"""


@pytest.mark.slow
async def test_a_real_server_stays_responsive_under_hostile_requests(
    settings: Settings,
) -> None:
    """Each fan-out document, a 5,000-deep body and a 1,000-label filter on both APIs go to a
    real server with a `/healthz` right behind each; the probe answers within 100 ms (before
    the fixes it waited out 9-18 s, and the label filters were a 500 and a 12 s stall)."""
    deep_body = '{"query": "{ __typename }", "variables": {"v": ' + "[" * 5000 + "]" * 5000 + "}}"
    labels_body = json.dumps({"query": LABEL_FILTER, "variables": {"labels": LABELS_1000}})
    hostile = [json.dumps({"query": query}) for query in FAN_OUTS] + [deep_body, labels_body]
    labels_query = "&".join(f"label={name}" for name in LABELS_1000)
    with real_server(settings.database_url) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            await http.get("/healthz")  # a warm connection for the timed probes

            async def post(content: str) -> httpx.Response:
                headers = {"content-type": "application/json", "accept": GRAPHQL_RESPONSE}
                return await http.post("/graphql", content=content, headers=headers)

            async def health() -> float:
                await asyncio.sleep(0.005)  # the hostile request goes first
                started = time.perf_counter()
                assert (await http.get("/healthz")).status_code == 200
                return time.perf_counter() - started

            answers: list[httpx.Response] = []
            waits: list[float] = []
            for content in hostile:
                answer, waited = await asyncio.gather(post(content), health())
                answers.append(answer)
                waits.append(waited)
            account = {"username": "ada", "email": "ada@example.com", "password": "pw-" + "x" * 12}
            assert (await http.post("/api/v1/users", json=account)).status_code == 201
            signed = await http.post(
                "/api/v1/auth/token", data={"username": "ada", "password": account["password"]}
            )
            token = {"Authorization": f"Bearer {signed.json()['access_token']}"}
            rest, waited = await asyncio.gather(
                http.get(
                    f"/api/v1/workspaces/acme/projects/WEB/issues?{labels_query}", headers=token
                ),
                health(),
            )
            waits.append(waited)
    *fan_outs, deep, labels = answers
    for answer in fan_outs:
        assert answer.status_code == 400, answer.text
        assert only_error(answer.json())["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert deep.status_code == 400, deep.text
    assert only_error(deep.json())["extensions"]["code"] == "VALIDATION_FAILED"
    assert labels.status_code == 400, labels.text  # refused before execution
    assert only_error(labels.json())["extensions"]["code"] == "VALIDATION_FAILED"
    assert only_error(labels.json())["extensions"]["fields"][0]["field"] == "filter.labels"
    assert rest.status_code == 422, rest.text
    assert rest.json()["code"] == "VALIDATION_FAILED"
    assert within_budget(waits), waits


# --- item 6: deeply nested JSON ----------------------------------------------------------------

NESTED = "[" * 5000 + "]" * 5000


@pytest.mark.parametrize("accept", ["application/json", GRAPHQL_RESPONSE])
@pytest.mark.parametrize("depth", [5000, 201])
async def test_deeply_nested_json_body_is_a_400(
    client: httpx.AsyncClient, accept: str, depth: int
) -> None:
    nested = "[" * depth + "]" * depth
    body = '{"query": "{ __typename }", "variables": {"v": ' + nested + "}}"
    response = await client.post(
        "/graphql", content=body, headers={"content-type": "application/json", "accept": accept}
    )
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith(accept)
    error = only_error(response.json())
    assert error["extensions"]["code"] == "VALIDATION_FAILED"
    assert "more than 200 levels deep" in error["message"]


async def test_nesting_up_to_the_limit_is_accepted(client: httpx.AsyncClient) -> None:
    nested = "[" * 199 + "]" * 199
    body = '{"query": "{ __typename }", "variables": {"v": ' + nested + "}}"
    response = await client.post(
        "/graphql", content=body, headers={"content-type": "application/json"}
    )
    assert response.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize("parameter", ["variables", "extensions"])
async def test_deeply_nested_json_in_get_parameters_is_a_400(
    client: httpx.AsyncClient, parameter: str
) -> None:
    response = await client.get(
        "/graphql", params={"query": "{ __typename }", parameter: '{"v": ' + NESTED + "}"}
    )
    assert response.status_code == 400, response.text
    error = only_error(response.json())
    assert error["extensions"]["code"] == "VALIDATION_FAILED"
    assert f"`{parameter}` parameter nests" in error["message"]


# --- item 11: several operations, suggestions, codes, 503 --------------------------------------

TWO_OPERATIONS = (
    'mutation Create { createWorkspace(input: {slug: "acme", name: "Acme"}) { workspace { id } } }'
    " query Read { serverInfo { version } }"
)


async def test_several_operations_without_a_name_are_refused(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    ann = bearer(app, await make_user("ann"))
    body = await gql(client, TWO_OPERATIONS, ann)
    error = only_error(body)
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert error["message"] == "Must provide operation name if query contains multiple operations."
    assert await Workspace.all().count() == 0  # the first operation did not run
    # Named, either operation runs.
    read = await client.post("/graphql", json={"query": TWO_OPERATIONS, "operationName": "Read"})
    assert read.json()["data"]["serverInfo"]["version"]
    create = await client.post(
        "/graphql", json={"query": TWO_OPERATIONS, "operationName": "Create"}, headers=ann
    )
    assert "errors" not in create.json(), create.json()
    assert await Workspace.all().count() == 1


TYPO_FIELD = "{ serverInf { version } }"
TYPO_INPUT = (
    "mutation($input: CreateWorkspaceInput!)"
    " { createWorkspace(input: $input) { workspace { id } } }"
)


async def _typos(app: FastAPI) -> tuple[dict[str, Any], dict[str, Any]]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        field = await gql(http, TYPO_FIELD)
        variables = {"input": {"slug": "acme", "name": "Acme", "nmae": "typo"}}
        value = await gql(http, TYPO_INPUT, variables=variables)
    return only_error(field), value["errors"][0]


async def test_suggestions_go_with_introspection(settings: Settings) -> None:
    field, value = await _typos(create_app(settings))
    assert field["message"].endswith("Did you mean 'serverInfo'?")
    assert "Did you mean 'name'?" in value["message"]
    hidden = settings.model_copy(update={"introspection_enabled": False})
    field, value = await _typos(create_app(hidden))
    assert field["message"] == "Cannot query field 'serverInf' on type 'Query'."
    assert "Did you mean" not in value["message"]
    assert "not to include unknown field 'nmae'. Found:" in value["message"]
    # A broken document and bad input stay told apart.
    assert field["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert value["extensions"]["code"] == "VALIDATION_FAILED"


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("{ serverInfo { version ", "GRAPHQL_PARSE_FAILED"),
        ("{ serverInfo { versions } }", "GRAPHQL_VALIDATION_FAILED"),
        (
            "mutation { createWorkspace(input: {slug: 1}) { workspace { id } } }",
            "GRAPHQL_VALIDATION_FAILED",
        ),
        ("{ serverInfo { " + "version " * 2001 + "} }", "GRAPHQL_VALIDATION_FAILED"),
    ],
    ids=["parse", "unknown-field", "literal-of-wrong-type", "tokens"],
)
async def test_malformed_documents_have_graphql_codes(
    client: httpx.AsyncClient, query: str, code: str
) -> None:
    response = await client.post(
        "/graphql", json={"query": query}, headers={"accept": GRAPHQL_RESPONSE}
    )
    assert response.status_code == 400
    codes = {e["extensions"]["code"] for e in response.json()["errors"]}
    assert codes == {code}


@pytest.fixture(scope="module")
def unreachable() -> Iterator[str]:
    """A real server whose PostgreSQL does not answer (one for both media types)."""
    with real_server("postgres://postgres@127.0.0.1:1/nowhere") as url:
        yield url


@pytest.mark.slow
@pytest.mark.parametrize("accept", ["application/json", GRAPHQL_RESPONSE])
def test_an_unreachable_database_is_a_503_in_graphql_shape(unreachable: str, accept: str) -> None:
    """A real server whose PostgreSQL does not answer: the token lookup fails, and `/graphql`
    says so as GraphQL does, where REST keeps its problem document."""
    token = {"Authorization": "Bearer sy_pat_" + "a" * 40}
    graphql = httpx.post(
        f"{unreachable}/graphql",
        json={"query": "{ viewer { id } }"},
        headers={**token, "accept": accept},
        timeout=30,
    )
    rest = httpx.get(f"{unreachable}/api/v1/me", headers=token, timeout=30)
    assert graphql.status_code == 503, graphql.text
    assert not graphql.headers["content-type"].startswith("application/problem+json")
    assert graphql.headers["Retry-After"] == "5"
    error = only_error(graphql.json())
    assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert rest.status_code == 503
    assert rest.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("lost", [DBConnectionError("gone"), ConnectionResetError("reset")])
def test_a_database_lost_mid_operation_is_service_unavailable(lost: Exception) -> None:
    """A resolver whose connection drops answers SERVICE_UNAVAILABLE, as REST's 503, not
    INTERNAL: the client may retry."""
    error = to_catalogue(GraphQLError("boom", original_error=lost))
    assert error.extensions is not None
    assert error.extensions["code"] == "SERVICE_UNAVAILABLE"
    assert error.message == "The database is unreachable; retry shortly"


async def test_a_client_gone_before_its_body_is_no_server_error(
    app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    """A load generator closing its connections mid-request once logged 'unhandled error'."""
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), (b"content-type", b"application/json")],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
        "state": {},
    }
    with caplog.at_level("ERROR"):
        await app(scope, receive, send)
    assert sent[0]["status"] == 400
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
