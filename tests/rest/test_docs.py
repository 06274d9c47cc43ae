"""GraphiQL and Swagger UI work offline: every script, stylesheet and icon they reference is
served by this process, and nothing outside the allow-list under /assets is."""

from __future__ import annotations

import json
import logging
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI

from gateway.core.settings import Settings
from gateway.http.docs import ASSETS, REPO_ROOT, check_assets, default_assets_dir, install_docs

INSTALL_HINT = "docs assets are not installed: run `npm ci` in the repository root"
MEDIA_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}
# The only absolute URL a page may contain: the SVG namespace inside GraphiQL's `data:` favicon,
# which a browser never fetches.
ANY_URL = re.compile(r"(?:https?:)?//[^\s\"'<>)%]+", re.IGNORECASE)
XML_NAMESPACES = {"//www.w3.org/2000/svg"}


class _References(HTMLParser):
    """Every `src=` and `href=` value of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls.extend(v for k, v in attrs if k in {"src", "href"} and v is not None)


def references(page: str) -> list[str]:
    parser = _References()
    parser.feed(page)
    parser.close()
    return parser.urls


def assert_offline(page: str) -> list[str]:
    """The page's references that this process must serve; fails on any other host."""
    local: list[str] = []
    for url in references(page):
        parts = urlsplit(url.strip())
        assert not parts.netloc, f"external reference {url!r}"
        assert parts.scheme in {"", "data"}, f"external reference {url!r}"
        if not parts.scheme:
            assert url.startswith("/"), f"relative reference {url!r}"
            local.append(url)
    for found in ANY_URL.findall(page):
        assert found.split(":", 1)[-1] in XML_NAMESPACES, f"external URL {found!r} in page"
    for cdn in ("unpkg", "jsdelivr", "cdnjs", "integrity=", "crossorigin"):
        assert cdn not in page
    return local


async def assert_served(client: httpx.AsyncClient, urls: list[str]) -> None:
    assert urls
    for url in urls:
        response = await client.get(url)
        assert response.status_code == 200, f"{url}: {response.status_code} ({INSTALL_HINT})"
        suffix = Path(urlsplit(url).path).suffix
        assert response.headers["content-type"].startswith(MEDIA_TYPES[suffix]), url
        assert "max-age=31536000" in response.headers["cache-control"]
        assert response.content


async def test_swagger_ui_is_served_locally(client: httpx.AsyncClient) -> None:
    response = await client.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "SwaggerUIBundle" in page
    assert "url: '/openapi.json'" in page
    assert '"persistAuthorization": true' in page
    assert "window.location.origin + '/docs/oauth2-redirect'" in page
    local = assert_offline(page)
    assert any("swagger-ui-bundle.js" in url for url in local)
    await assert_served(client, local)


async def test_graphiql_is_served_locally(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    # Strawberry's behaviour is kept: same-URL fetcher, subscriptions, headers, explorer.
    for feature in (
        "GraphiQL.createFetcher",
        "subscriptionUrl",
        "isHeadersEditorEnabled: true",
        "GraphiQLPluginExplorer.explorerPlugin()",
    ):
        assert feature in page
    local = assert_offline(page)
    assert len(local) == 7  # react, react-dom, js-cookie, graphiql js+css, explorer js+css
    await assert_served(client, local)


async def test_oauth2_redirect_and_openapi(client: httpx.AsyncClient) -> None:
    redirect = await client.get("/docs/oauth2-redirect")
    assert redirect.status_code == 200
    assert redirect.headers["content-type"].startswith("text/html")
    assert_offline(redirect.text)
    schema = await client.get("/openapi.json")
    assert schema.status_code == 200
    assert schema.json()["info"]["title"] == "Switchyard"


@pytest.mark.parametrize(
    "path",
    [
        "/assets/nope.js",
        "/assets/../package.json",
        "/assets/%2e%2e/package.json",
        "/assets/graphiql/../../package.json",
        "/assets/graphiql/%2e%2e/%2e%2e/package.json",
        "/assets/react/package.json",
        "/assets/graphiql",
        "/assets/",
    ],
)
async def test_only_allow_listed_assets_are_served(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 404


async def test_asset_pins_match_package_json() -> None:
    manifest = json.loads((REPO_ROOT / "package.json").read_text("utf-8"))
    pinned = manifest["dependencies"]
    for asset in ASSETS.values():
        assert pinned[asset.package] == asset.version, asset.package
    assert check_assets(default_assets_dir()) == [], INSTALL_HINT


async def test_missing_assets_answer_404_and_warn(
    settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = FastAPI(docs_url=None, redoc_url=None)
    with caplog.at_level(logging.WARNING, logger="gateway.http.docs"):
        install_docs(app, settings.model_copy(update={"assets_dir": tmp_path}))
    assert any("npm ci" in r.getMessage() for r in caplog.records)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        assert (await http.get("/assets/graphiql/graphiql.min.js")).status_code == 404
        assert (await http.get("/docs")).status_code == 200
