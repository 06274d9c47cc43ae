"""GraphiQL (`/graphql`) and Swagger UI (`/docs`), served entirely by this process.

Both pages load their JavaScript and CSS from `/assets/...`, which answers from the npm
packages that `npm ci` (`make install`) puts in `node_modules`: third-party code is never
committed, and no page reaches a CDN, so both work offline. Only the files named in `ASSETS`
are reachable; the rest of `node_modules` is never exposed.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Final

from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import FileResponse, HTMLResponse
from strawberry.http.ides import get_graphql_ide_html

from gateway.core.settings import Settings
from gateway.http import precompressed
from gateway.http.middleware.codings import negotiate

logger = logging.getLogger("gateway.http.docs")

ASSETS_PREFIX: Final = "/assets"
DOCS_URL: Final = "/docs"
GRAPHQL_PATH: Final = "/graphql"  # the GraphQL endpoint, and GraphiQL for browsers
OAUTH2_REDIRECT_URL: Final = "/docs/oauth2-redirect"
REPO_ROOT: Final = Path(__file__).resolve().parents[2]
FETCH_HINT: Final = "run `make install` (or `npm ci` in the repository root)"
# Asset URLs carry their package version (`?v=`), so an upgrade changes the URL and a browser
# may keep a file for a year without ever serving a stale one.
CACHE_HEADERS: Final = MappingProxyType(
    {"Cache-Control": "public, max-age=31536000, immutable", "X-Content-Type-Options": "nosniff"}
)

_JS: Final = "text/javascript; charset=utf-8"
_CSS: Final = "text/css; charset=utf-8"
_PNG: Final = "image/png"


@dataclass(frozen=True, slots=True)
class Asset:
    """One file of one exactly pinned npm package (the pin must match package.json)."""

    package: str
    version: str
    file: str
    media_type: str

    def path(self, node_modules: Path) -> Path:
        return node_modules / self.package / self.file


# URL name under /assets → file. The GraphiQL entries are exactly what Strawberry's template
# loads from unpkg (same packages, versions and files), so its page behaves as upstream.
ASSETS: Final[Mapping[str, Asset]] = MappingProxyType(
    {
        "react/react.production.min.js": Asset(
            "react", "18.2.0", "umd/react.production.min.js", _JS
        ),
        "react-dom/react-dom.production.min.js": Asset(
            "react-dom", "18.2.0", "umd/react-dom.production.min.js", _JS
        ),
        "js-cookie/js.cookie.min.js": Asset("js-cookie", "3.0.5", "dist/js.cookie.min.js", _JS),
        "graphiql/graphiql.min.js": Asset("graphiql", "3.8.3", "graphiql.min.js", _JS),
        "graphiql/graphiql.min.css": Asset("graphiql", "3.8.3", "graphiql.min.css", _CSS),
        "graphiql-explorer/index.umd.js": Asset(
            "@graphiql/plugin-explorer", "1.0.2", "dist/index.umd.js", _JS
        ),
        "graphiql-explorer/style.css": Asset(
            "@graphiql/plugin-explorer", "1.0.2", "dist/style.css", _CSS
        ),
        "swagger-ui/swagger-ui-bundle.js": Asset(
            "swagger-ui-dist", "5.35.0", "swagger-ui-bundle.js", _JS
        ),
        "swagger-ui/swagger-ui.css": Asset("swagger-ui-dist", "5.35.0", "swagger-ui.css", _CSS),
        "swagger-ui/favicon-32x32.png": Asset(
            "swagger-ui-dist", "5.35.0", "favicon-32x32.png", _PNG
        ),
    }
)

_BY_SOURCE: Final = {(a.package, a.version, a.file): name for name, a in ASSETS.items()}
_UNPKG_URL = re.compile(
    r"https://unpkg\.com/(?P<package>(?:@[\w.-]+/)?[\w.-]+)"
    r"@(?P<version>[\w.-]+)/(?P<file>[^\s\"'>]+)"
)
# Subresource-integrity attributes only make sense for a CDN; same-origin files don't need them.
_SRI_ATTRIBUTE = re.compile(r"\s+(?:integrity=\"[^\"]*\"|crossorigin(?:=\"[^\"]*\")?)(?=[\s/>])")
# Any src/href that would leave this origin: absolute (`https://`) or scheme-relative (`//`).
_EXTERNAL_REFERENCE = re.compile(
    r"\b(?:src|href)\s*=\s*[\"']?\s*(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE
)


def asset_url(name: str) -> str:
    """The URL of one allow-listed asset, versioned so it can be cached for good."""
    return f"{ASSETS_PREFIX}/{name}?v={ASSETS[name].version}"


def default_assets_dir() -> Path:
    return REPO_ROOT / "node_modules"


# GraphiQL opens with this in its editor (a JavaScript template literal: no backticks).
EXAMPLE_QUERY: Final = """# Welcome to Switchyard's GraphQL API.
# Ctrl-Enter runs the query; Ctrl-Space completes.
#
# Sign in first, then put your token in the
# Headers tab below:
#
#   {"Authorization": "Bearer <your token>"}
#
# An access token comes from POST /api/v1/auth/token,
# a personal access token (sy_pat_...) from
# POST /api/v1/me/tokens (see /docs).
#
query Viewer {
  viewer {
    username
    workspaces(first: 10) {
      nodes {
        slug
        name
        projects(first: 5) {
          nodes { key name }
        }
      }
    }
  }
}
"""
_STRAWBERRY_EXAMPLE = re.compile(r"const EXAMPLE_QUERY = `[^`]*`;")
_STRAWBERRY_ICON = re.compile(r'<link\s+rel="icon"\s+href="[^"]*"\s*/>')


def _brand(page: str) -> str:
    """Switchyard's title and opening query instead of Strawberry's."""
    branded = page.replace(
        "<title>Strawberry GraphiQL</title>", "<title>Switchyard GraphiQL</title>"
    )
    branded = _STRAWBERRY_ICON.sub("", branded, count=1)
    example = f"const EXAMPLE_QUERY = `{EXAMPLE_QUERY}`;"
    branded = _STRAWBERRY_EXAMPLE.sub(lambda _: example, branded, count=1)
    if "Switchyard GraphiQL" not in branded or example not in branded:
        raise RuntimeError("Strawberry's GraphiQL page changed: its title or example not found")
    return branded


def _localise(match: re.Match[str]) -> str:
    name = _BY_SOURCE.get((match["package"], match["version"], match["file"]))
    if name is None:
        # A Strawberry upgrade changed what its page loads: fail loudly rather than serve a
        # page that silently depends on the internet.
        raise RuntimeError(
            f"Strawberry's GraphiQL page loads {match[0]}, which gateway.http.docs.ASSETS does not"
            " serve; add the file there and its package to package.json"
        )
    return asset_url(name)


@lru_cache(maxsize=1)
def graphiql_html() -> str:
    """Strawberry's own GraphiQL page, branded Switchyard (same fetcher, headers editor,
    explorer plugin and subscriptions URL), with every CDN script and stylesheet loaded from
    `/assets` instead."""
    page = _UNPKG_URL.sub(_localise, _brand(get_graphql_ide_html("graphiql")))
    page = _SRI_ATTRIBUTE.sub("", page)
    external = _EXTERNAL_REFERENCE.search(page)
    if external is not None:
        raise RuntimeError(f"GraphiQL page still references another host: {external[0]!r}")
    return page


def _installed_version(node_modules: Path, package: str) -> str | None:
    try:
        manifest = json.loads((node_modules / package / "package.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None
    version = manifest.get("version") if isinstance(manifest, dict) else None
    return version if isinstance(version, str) else None


def check_assets(node_modules: Path) -> list[str]:
    """Problems with the installed assets, one line each (empty when all is well). Missing
    files are not fatal: the API still works, only the docs pages would be blank."""
    problems: list[str] = []
    missing = sorted(name for name, a in ASSETS.items() if not a.path(node_modules).is_file())
    if missing:
        problems.append(f"missing from {node_modules}: {', '.join(missing)}")
    pins = {(a.package, a.version) for a in ASSETS.values()}
    for package, pinned in sorted(pins):
        installed = _installed_version(node_modules, package)
        if installed is not None and installed != pinned:
            problems.append(f"{package} is {installed} in {node_modules}, expected {pinned}")
    return problems


def _install_assets(app: FastAPI, node_modules: Path) -> None:
    # A plain `def`: FastAPI runs it in the threadpool, so the stat stays off the event loop.
    def serve_asset(name: str, request: Request) -> Response:
        asset = ASSETS.get(name)
        if asset is None or not asset.path(node_modules).is_file():
            raise HTTPException(status_code=404, detail=f"No asset {name!r}")
        path = asset.path(node_modules)
        if not asset.media_type.startswith(precompressed.COMPRESSIBLE_TYPES):
            return FileResponse(path, media_type=asset.media_type, headers=dict(CACHE_HEADERS))
        # Compressed once (ADR 0020): at install, or else on first request.
        headers = {**CACHE_HEADERS, "Vary": "Accept-Encoding"}
        coding = negotiate(request.headers.get("accept-encoding"))
        if coding is None:
            return FileResponse(path, media_type=asset.media_type, headers=headers)
        headers["Content-Encoding"] = coding
        variant = precompressed.encoded(path, coding)
        if isinstance(variant, Path):
            return FileResponse(variant, media_type=asset.media_type, headers=headers)
        return Response(variant, media_type=asset.media_type, headers=headers)

    app.add_api_route(
        f"{ASSETS_PREFIX}/{{name:path}}",
        serve_asset,
        methods=["GET", "HEAD"],
        include_in_schema=False,
    )


def _install_swagger_ui(app: FastAPI, openapi_url: str) -> None:
    # Ours are defaults: parameters given to FastAPI(swagger_ui_parameters=...) still win.
    # `validatorUrl: null` keeps Swagger UI from asking an online validator about the spec.
    parameters = {
        "persistAuthorization": True,
        "validatorUrl": None,
        **(app.swagger_ui_parameters or {}),
    }

    async def swagger_ui(request: Request) -> HTMLResponse:
        # Behind a proxy that mounts us under a prefix, every URL on the page needs it too.
        root = str(request.scope.get("root_path", "")).rstrip("/")
        return get_swagger_ui_html(
            openapi_url=root + openapi_url,
            title=f"{app.title} - Swagger UI",
            swagger_js_url=root + asset_url("swagger-ui/swagger-ui-bundle.js"),
            swagger_css_url=root + asset_url("swagger-ui/swagger-ui.css"),
            swagger_favicon_url=root + asset_url("swagger-ui/favicon-32x32.png"),
            oauth2_redirect_url=root + OAUTH2_REDIRECT_URL,
            init_oauth=app.swagger_ui_init_oauth,
            swagger_ui_parameters=parameters,
        )

    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    app.add_api_route(DOCS_URL, swagger_ui, methods=["GET"], include_in_schema=False)
    app.add_api_route(
        OAUTH2_REDIRECT_URL, swagger_ui_redirect, methods=["GET"], include_in_schema=False
    )


def install_docs(app: FastAPI, settings: Settings) -> None:
    """Mount `/assets/...`, `/docs` and `/docs/oauth2-redirect` (FastAPI's own docs routes
    are off because they load Swagger UI from a CDN)."""
    node_modules = settings.assets_dir or default_assets_dir()
    for problem in check_assets(node_modules):
        logger.warning("GraphiQL/Swagger UI assets: %s; %s", problem, FETCH_HINT)
    if settings.graphiql:
        # Render once now so a Strawberry upgrade that changes its page fails at start-up.
        graphiql_html()
    _install_assets(app, node_modules)
    if app.openapi_url is None:
        logger.info("OpenAPI is disabled, so %s is not served", DOCS_URL)
        return
    _install_swagger_ui(app, app.openapi_url)
