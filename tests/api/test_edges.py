"""The edges of every request: body limit (413), CORS from settings, security headers (with a
CSP that GraphiQL and Swagger UI run under) and `Cache-Control` on authenticated answers."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator
from html.parser import HTMLParser

import httpx
import pytest
from fastapi import FastAPI

from gateway.core.settings import Settings
from gateway.http.app import create_app
from models import IdempotencyRecord, Workspace
from tests.auth_helpers import bearer, make_user

LIMIT = 1024
ORIGIN = "https://app.example"
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


@pytest.fixture
async def edge_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app with a 1 KiB body limit and one CORS origin (the database is already
    open, so the app needs no lifespan)."""
    edged = create_app(
        settings.model_copy(update={"max_body_bytes": LIMIT, "cors_origins": [ORIGIN]})
    )
    transport = httpx.ASGITransport(app=edged, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def chunks(payload: bytes, size: int = 100) -> AsyncIterator[bytes]:
    for start in range(0, len(payload), size):
        yield payload[start : start + size]


def big_workspace() -> bytes:
    return b'{"slug": "acme", "name": "' + b"x" * LIMIT + b'"}'


# ---- body limit ----


async def test_an_oversized_rest_body_is_413(app: FastAPI, edge_client: httpx.AsyncClient) -> None:
    ann = await make_user("ann")
    headers = {**bearer(app, ann), "Content-Type": "application/json"}
    response = await edge_client.post(
        "/api/v1/workspaces", content=big_workspace(), headers=headers
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "PAYLOAD_TOO_LARGE"
    assert problem["request_id"] == response.headers["x-request-id"]
    assert not await Workspace.exists()


async def test_an_oversized_chunked_rest_body_is_413(
    app: FastAPI, edge_client: httpx.AsyncClient
) -> None:
    ann = await make_user("ann")
    headers = {**bearer(app, ann), "Content-Type": "application/json", "Idempotency-Key": "big"}
    request = edge_client.build_request(
        "POST", "/api/v1/workspaces", content=chunks(big_workspace()), headers=headers
    )
    assert "content-length" not in request.headers
    response = await edge_client.send(request)
    assert response.status_code == 413
    assert response.json()["code"] == "PAYLOAD_TOO_LARGE"
    assert not await Workspace.exists()
    assert not await IdempotencyRecord.exists()


async def test_a_body_within_the_limit_passes(app: FastAPI, edge_client: httpx.AsyncClient) -> None:
    ann = await make_user("ann")
    headers = {**bearer(app, ann), "Content-Type": "application/json"}
    body = b'{"slug": "acme", "name": "' + b"x" * 50 + b'"}'
    response = await edge_client.post("/api/v1/workspaces", content=chunks(body), headers=headers)
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("chunked", [False, True])
async def test_an_oversized_graphql_body_is_a_graphql_error(
    edge_client: httpx.AsyncClient, chunked: bool
) -> None:
    payload = b'{"query": "{ __typename }", "variables": {"pad": "' + b"x" * LIMIT + b'"}}'
    content = chunks(payload) if chunked else payload
    response = await edge_client.post(
        "/graphql", content=content, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    errors = response.json()["errors"]
    assert [e["extensions"]["code"] for e in errors] == ["PAYLOAD_TOO_LARGE"]


# ---- CORS ----


async def test_a_preflight_from_a_configured_origin_is_allowed(
    edge_client: httpx.AsyncClient,
) -> None:
    response = await edge_client.options(
        "/api/v1/workspaces",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert "POST" in response.headers["access-control-allow-methods"]
    allowed = response.headers["access-control-allow-headers"].lower()
    for name in ("authorization", "idempotency-key", "if-match", "x-request-id"):
        assert name in allowed
    assert "access-control-allow-credentials" not in response.headers
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value


async def test_a_preflight_from_another_origin_is_refused(
    edge_client: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    preflight = {"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    response = await edge_client.options("/api/v1/workspaces", headers=preflight)
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers
    # With no origin configured at all, none is allowed.
    response = await client.options("/api/v1/workspaces", headers={**preflight, "Origin": ORIGIN})
    assert "access-control-allow-origin" not in response.headers


async def test_cross_origin_answers_expose_the_protocol_headers(
    edge_client: httpx.AsyncClient,
) -> None:
    response = await edge_client.get("/api/v1/meta", headers={"Origin": ORIGIN})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ORIGIN
    exposed = {
        h.strip().lower() for h in response.headers["access-control-expose-headers"].split(",")
    }
    assert {"x-request-id", "etag", "link", "retry-after", "ratelimit-remaining"} <= exposed


# ---- security headers and CSP ----


class _Scripts(HTMLParser):
    """The text of every inline `<script>` and the `src` of every other."""

    def __init__(self) -> None:
        super().__init__()
        self.inline: list[str] = []
        self.sources: list[str] = []
        self._in_inline = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            src = dict(attrs).get("src")
            if src:
                self.sources.append(src)
            else:
                self._in_inline = True
                self.inline.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_inline = False

    def handle_data(self, data: str) -> None:
        if self._in_inline:
            self.inline[-1] += data


def directives(policy: str) -> dict[str, list[str]]:
    parsed: dict[str, list[str]] = {}
    for part in policy.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


def assert_security_headers(response: httpx.Response) -> dict[str, list[str]]:
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value, name
    policy = directives(response.headers["content-security-policy"])
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["default-src"] == ["'none'"]
    return policy


@pytest.mark.parametrize("path", ["/docs", "/graphql", "/docs/oauth2-redirect"])
async def test_the_html_pages_run_under_their_policy(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path, headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    policy = assert_security_headers(response)
    scripts = _Scripts()
    scripts.feed(response.text)
    assert scripts.inline, "each page boots from one inline script"
    # Every inline script is allowed by its own hash, nothing inline beyond that.
    hashes = {
        f"'sha256-{base64.b64encode(hashlib.sha256(code.encode()).digest()).decode()}'"
        for code in scripts.inline
    }
    assert set(policy["script-src"]) == {"'self'", *hashes}
    # Every other script is same-origin, and so are the stylesheets, fonts and fetches.
    assert all(src.startswith("/assets/") for src in scripts.sources)
    assert policy["connect-src"] == ["'self'"]
    assert policy["style-src"][0] == "'self'"
    assert "data:" in policy["img-src"]
    assert "data:" in policy["font-src"]


async def test_api_answers_get_the_strict_policy(app: FastAPI, client: httpx.AsyncClient) -> None:
    rest = await client.get("/api/v1/meta")
    graphql = await client.post("/graphql", json={"query": "{ __typename }"})
    missing = await client.get("/api/v1/nope")
    for response in (rest, graphql, missing):
        policy = assert_security_headers(response)
        assert "script-src" not in policy
    assert graphql.status_code == 200
    assert missing.status_code == 404


# ---- Cache-Control ----


async def test_authenticated_answers_are_private_and_revalidated(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    ann = await make_user("ann")
    mine = await client.get("/api/v1/me", headers=bearer(app, ann))
    assert mine.status_code == 200
    assert mine.headers["cache-control"] == "private, no-cache"
    denied = await client.get("/api/v1/me", headers={"Authorization": "Bearer nonsense"})
    assert denied.status_code == 401
    assert denied.headers["cache-control"] == "private, no-cache"
    anonymous = await client.get("/api/v1/meta")
    assert "cache-control" not in anonymous.headers


async def test_assets_keep_their_long_cache(app: FastAPI, client: httpx.AsyncClient) -> None:
    ann = await make_user("ann")
    response = await client.get(
        "/assets/swagger-ui/swagger-ui.css?v=5.35.0", headers=bearer(app, ann)
    )
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["x-content-type-options"] == "nosniff"
