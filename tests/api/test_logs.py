"""Structured logs: one line per request with its request id, principal id, route or GraphQL
operation, status, duration and SQL; errors with their stack in the log only; and no
credential in any line, after a sign-in, a personal access token's use and a GraphQL request."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError

from gateway.core.settings import Environment, LogFormat, Settings
from gateway.http.app import create_app
from gateway.observability.logs import JsonFormatter, TextFormatter, dict_config
from tests.auth_helpers import PASSWORD, bearer, make_user, sign_in
from tests.environment import child_environment, free_port
from tests.gateway_process import wait_up

GATEWAY = str(Path(sys.executable).parent / "gateway")
COOKIE = "session-cookie-value-0123456789"


class Captured:
    """Every record the root logger handles while the test runs, as JSON lines."""

    def __init__(self) -> None:
        self.stream = io.StringIO()

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.text.splitlines() if line.startswith("{")]

    def access(self) -> list[dict[str, Any]]:
        return [line for line in self.lines() if line["logger"] == "gateway.access"]


@pytest.fixture
def logged() -> Iterator[Captured]:
    captured = Captured()
    handler = logging.StreamHandler(captured.stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield captured
    finally:
        root.removeHandler(handler)


async def test_one_json_line_per_request_with_its_fields(
    app: FastAPI, client: httpx.AsyncClient, logged: Captured
) -> None:
    user = await make_user("logged")
    sent = {"X-Request-ID": "trace-me-123"}
    answer = await client.get("/api/v1/users/logged", headers=bearer(app, user) | sent)
    assert answer.status_code == 200
    query = "query WhoAmI { viewer { username } }"
    graph = await client.post(
        "/graphql", json={"query": query, "operationName": "WhoAmI"}, headers=bearer(app, user)
    )
    assert graph.status_code == 200
    missing = await client.get("/api/v1/workspaces/nowhere", headers=bearer(app, user))
    assert missing.status_code == 404
    rest, gql, not_found = logged.access()
    assert rest["request_id"] == "trace-me-123"
    assert rest["route"] == "/api/v1/users/{username}"
    assert rest["method"] == "GET"
    assert rest["status"] == 200
    assert rest["principal_id"] == user.id
    assert rest["duration_ms"] > 0
    assert rest["sql_statements"] >= 1
    assert rest["sql_ms"] >= 0
    assert rest["level"] == "info"
    assert gql["request_id"] == graph.headers["X-Request-ID"]
    assert (gql["route"], gql["operation"], gql["operation_type"]) == (
        "/graphql",
        "WhoAmI",
        "query",
    )
    assert gql["principal_id"] == user.id
    assert "error_codes" not in gql
    assert not_found["status"] == 404
    assert not_found["route"] == "/api/v1/workspaces/{slug}"
    assert "nowhere" not in json.dumps(not_found)


async def test_no_credential_reaches_the_log(client: httpx.AsyncClient, logged: Captured) -> None:
    cookie = {"Cookie": f"session={COOKIE}"}
    signed_up = await client.post(
        "/api/v1/users",
        json={"email": "quiet@example.com", "username": "quiet", "password": PASSWORD},
        headers=cookie,
    )
    assert signed_up.status_code == 201, signed_up.text
    assert (await sign_in(client, "quiet", "wrong password, not logged")).status_code == 401
    tokens = (await sign_in(client, "quiet")).json()
    access = {"Authorization": f"Bearer {tokens['access_token']}"} | cookie
    made = await client.post(
        "/api/v1/me/tokens", json={"name": "ci", "scopes": ["read"]}, headers=access
    )
    assert made.status_code == 201, made.text
    pat = made.json()["token"]
    used = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {pat}"})
    assert used.status_code == 200
    graph = await client.post("/graphql", json={"query": "{ viewer { id } }"}, headers=access)
    assert graph.status_code == 200
    refreshed = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert refreshed.status_code == 200
    bad = await client.get("/api/v1/me", headers={"Authorization": "Bearer sy_pat_not-a-real-one"})
    assert bad.status_code == 401
    assert len(logged.access()) == 8
    text = logged.text
    for secret in (
        PASSWORD,
        "wrong password",
        tokens["access_token"],
        tokens["refresh_token"],
        refreshed.json()["access_token"],
        pat,
        "sy_pat_",
        COOKIE,
        "Bearer",
    ):
        assert secret not in text, secret
    assert "authorization" not in text.lower()
    assert "cookie" not in text.lower()


async def test_an_error_keeps_its_stack_in_the_log_only(
    settings: Settings, logged: Captured
) -> None:
    failing = create_app(settings)

    async def explode() -> None:
        raise RuntimeError("kaboom: the stack of this stays in the log")

    failing.add_api_route("/explode", explode)
    transport = httpx.ASGITransport(app=failing, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        answer = await http.get("/explode")
    assert answer.status_code == 500
    assert "kaboom" not in answer.text
    request_id = answer.json()["request_id"]
    [error] = [line for line in logged.lines() if line["level"] == "error"]
    assert error["request_id"] == request_id
    assert "RuntimeError: kaboom" in error["stack"]
    assert "Traceback" in error["stack"]
    [line] = logged.access()
    assert (line["status"], line["request_id"], line["route"]) == (500, request_id, "/explode")


def test_text_in_development_json_in_production() -> None:
    assert Settings().logs_as is LogFormat.text
    production = Settings(
        environment=Environment.production,
        jwt_secret="production-secret-" + "abcdefghijklmnopqrstuvwxyz0123456789",
    )
    assert production.logs_as is LogFormat.json
    assert Settings(log_format="JSON").logs_as is LogFormat.json
    config = dict_config(Settings(log_format="text"))
    assert config["handlers"]["switchyard"]["formatter"] == "text"


def test_a_bad_log_format_is_refused() -> None:
    with pytest.raises(ValidationError, match="GATEWAY_LOG_FORMAT must be json or text"):
        Settings(log_format="xml")
    with pytest.raises(ValidationError, match="GATEWAY_LOG_LEVEL"):
        Settings(log_level="chatty")


def test_text_lines_carry_the_fields() -> None:
    record = logging.LogRecord("gateway.access", logging.INFO, __file__, 1, "GET / 200", (), None)
    record.fields = {"status": 200, "route": "/"}
    record.request_id = "abc"
    line = TextFormatter().format(record)
    assert line.endswith("INFO    gateway.access [abc] GET / 200 status=200 route=/")


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = child_environment()
    env["GATEWAY_DATABASE_URL"] = f"sqlite://{tmp_path / 'logs.sqlite3'}"
    return env | extra


@pytest.mark.slow
def test_serve_refuses_a_bad_log_format_in_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [GATEWAY, "serve"],
        env=_env(tmp_path, GATEWAY_LOG_FORMAT="xml"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    assert line == "Error: refusing to start: GATEWAY_LOG_FORMAT must be json or text, not 'xml'"


@pytest.mark.slow
def test_serve_writes_json_lines(tmp_path: Path) -> None:
    port = free_port()
    server = subprocess.Popen(
        [GATEWAY, "serve", "--port", str(port)],
        env=_env(tmp_path, GATEWAY_LOG_FORMAT="json"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_up(server, f"http://127.0.0.1:{port}/healthz")
    finally:
        server.terminate()
        _, errors = server.communicate(timeout=15)
    lines = [json.loads(line) for line in errors.splitlines() if line.startswith("{")]
    assert lines, errors
    assert len(lines) == len([line for line in errors.splitlines() if line.strip()])
    access = [line for line in lines if line["logger"] == "gateway.access"]
    assert [(a["route"], a["status"]) for a in access] == [("/healthz", 200)]
    assert any(line["logger"].startswith("uvicorn") for line in lines)
