"""Compression (issue 11, item 5): gzip and br for JSON answers over the threshold (compiled
fast paths included), none under it, `Vary` on both, ETags weak only when compressed, 304s
intact; the docs assets compressed once and cached for good."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import brotli
import httpx
import pytest
from fastapi import FastAPI

from gateway.http import precompressed
from gateway.http.docs import ASSETS, asset_url, default_assets_dir
from gateway.http.middleware.codings import negotiate
from tests.auth_helpers import bearer, make_user

ISSUES = "/api/v1/workspaces/acme/projects/ENG/issues"


@pytest.mark.parametrize(
    ("header", "coding"),
    [
        (None, None),
        ("identity", None),
        ("gzip", "gzip"),
        ("gzip, deflate, br", "br"),
        ("br;q=0.5, gzip", "gzip"),
        ("br;q=0, gzip;q=0", None),
        ("*", "br"),
        ("*;q=0, gzip", "gzip"),
        ("deflate", None),
    ],
)
def test_negotiation_honours_q_values(header: str | None, coding: str | None) -> None:
    assert negotiate(header) == coding


async def _seed(client: httpx.AsyncClient, app: FastAPI, issues: int) -> dict[str, str]:
    user = await make_user("ada")
    headers = bearer(app, user)
    assert (
        await client.post("/api/v1/workspaces", json={"slug": "acme", "name": "A"}, headers=headers)
    ).status_code == 201
    assert (
        await client.post(
            "/api/v1/workspaces/acme/projects", json={"key": "ENG", "name": "E"}, headers=headers
        )
    ).status_code == 201
    for n in range(issues):
        body = {"title": f"issue {n} " + "x" * 60}
        assert (await client.post(ISSUES, json=body, headers=headers)).status_code == 201
    return headers


async def _raw(
    client: httpx.AsyncClient, url: str, headers: dict[str, str], encoding: str
) -> tuple[httpx.Response, bytes]:
    """The answer and its body exactly as sent (not decoded by httpx)."""
    request = client.build_request("GET", url, headers={**headers, "Accept-Encoding": encoding})
    answer = await client.send(request, stream=True)
    raw = b"".join([part async for part in answer.aiter_raw()])
    await answer.aclose()
    return answer, raw


async def test_big_json_is_compressed_small_is_not(client: httpx.AsyncClient, app: FastAPI) -> None:
    headers = await _seed(client, app, 12)
    plain, plain_raw = await _raw(client, ISSUES, headers, "identity")
    assert "content-encoding" not in plain.headers
    assert plain.headers["vary"].lower().count("accept-encoding") == 1
    assert len(plain_raw) > 1024
    for coding, decode in (("br", brotli.decompress), ("gzip", gzip.decompress)):
        answer, raw = await _raw(client, ISSUES, headers, coding)
        assert answer.headers["content-encoding"] == coding
        assert "accept-encoding" in answer.headers["vary"].lower()
        assert int(answer.headers["content-length"]) == len(raw) < len(plain_raw) / 2
        assert json.loads(decode(raw)) == json.loads(plain_raw)
    # Under the threshold: sent as it is, still `Vary`.
    small, small_raw = await _raw(client, "/api/v1/workspaces/acme", headers, "br, gzip")
    assert small.status_code == 200
    assert len(small_raw) < 1024
    assert "content-encoding" not in small.headers
    assert "accept-encoding" in small.headers["vary"].lower()


async def test_compiled_graphql_answers_are_compressed(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    headers = await _seed(client, app, 15)
    query = (
        '{ project(workspace: "acme", key: "ENG") { issues(first: 50) '
        "{ nodes { number title body } } } }"
    )
    request = client.build_request(
        "POST", "/graphql", json={"query": query}, headers={**headers, "Accept-Encoding": "br"}
    )
    answer = await client.send(request, stream=True)
    raw = b"".join([part async for part in answer.aiter_raw()])
    await answer.aclose()
    assert answer.status_code == 200
    assert answer.headers["content-encoding"] == "br"
    data = json.loads(brotli.decompress(raw))
    assert "errors" not in data, data
    assert len(data["data"]["project"]["issues"]["nodes"]) == 15


async def test_etags_are_weak_when_compressed_and_304s_still_work(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    headers = await _seed(client, app, 1)
    long_body = "y" * 3000
    url = f"{ISSUES}/1"
    patched = await client.patch(url, json={"body": long_body}, headers=headers)
    assert patched.status_code == 200, patched.text
    identity, _ = await _raw(client, url, headers, "identity")
    strong = identity.headers["etag"]
    assert not strong.startswith("W/")
    compressed, _ = await _raw(client, url, headers, "gzip")
    assert compressed.headers["content-encoding"] == "gzip"
    weak = compressed.headers["etag"]
    assert weak == f"W/{strong}"
    # Weak comparison (If-None-Match): the weak tag names the same representation.
    again = await client.get(
        url, headers={**headers, "Accept-Encoding": "gzip", "If-None-Match": weak}
    )
    assert again.status_code == 304
    assert again.headers["etag"] == weak
    assert "accept-encoding" in again.headers["vary"].lower()
    plain = await client.get(
        url, headers={**headers, "Accept-Encoding": "identity", "If-None-Match": strong}
    )
    assert plain.status_code == 304
    assert plain.headers["etag"] == strong
    # If-Match takes the weak form too, naming the same version.
    written = await client.patch(
        url, json={"title": "renamed"}, headers={**headers, "If-Match": weak}
    )
    assert written.status_code == 200, written.text


async def test_head_and_errors_pass_through(client: httpx.AsyncClient) -> None:
    missing = await client.get("/api/v1/nothing-here", headers={"Accept-Encoding": "br"})
    assert missing.status_code == 404
    assert "content-encoding" not in missing.headers


@pytest.fixture
def assets() -> Path:
    node_modules = default_assets_dir()
    if not ASSETS["graphiql/graphiql.min.js"].path(node_modules).is_file():
        pytest.skip("docs assets are not installed (npm ci)")
    return node_modules


async def test_assets_are_served_compressed_and_immutable(
    client: httpx.AsyncClient, assets: Path
) -> None:
    source = ASSETS["graphiql/graphiql.min.js"].path(assets).read_bytes()
    url = asset_url("graphiql/graphiql.min.js")
    for coding, decode in (("br", brotli.decompress), ("gzip", gzip.decompress)):
        answer, raw = await _raw(client, url, {}, coding)
        assert answer.status_code == 200
        assert answer.headers["content-encoding"] == coding
        assert "Accept-Encoding" in answer.headers["vary"]
        assert answer.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert answer.headers["content-type"].startswith("text/javascript")
        assert len(raw) < len(source) / 4
        assert decode(raw) == source
    plain, raw = await _raw(client, url, {}, "identity")
    assert "content-encoding" not in plain.headers
    assert raw == source
    png, _ = await _raw(client, asset_url("swagger-ui/favicon-32x32.png"), {}, "br")
    assert png.status_code == 200
    assert "content-encoding" not in png.headers


def test_assets_compress_once_without_install_files(tmp_path: Path) -> None:
    source = tmp_path / "app.js"
    source.write_bytes(b"console.log('switchyard');\n" * 200)
    first = precompressed.encoded(source, "br")
    assert isinstance(first, bytes)
    assert brotli.decompress(first) == source.read_bytes()
    assert precompressed.encoded(source, "br") is first  # kept, not compressed again
    written = precompressed.write_all([source])
    assert sorted(p.name for p in written) == ["app.js.br", "app.js.gz"]
    assert precompressed.encoded(source, "gzip") == tmp_path / "app.js.gz"
    assert precompressed.write_all([source]) == []  # fresh: nothing to do
