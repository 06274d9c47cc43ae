"""The two committed contract artefacts, rendered from the code."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Final

REPO_ROOT: Final = Path(__file__).resolve().parents[3]
SCHEMA_FILE: Final = "schema.graphql"
OPENAPI_FILE: Final = "openapi.json"


def render_sdl() -> str:
    """The GraphQL SDL, as `schema.graphql` holds it."""
    from schema import build_schema

    return str(build_schema()) + "\n"


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document the REST API serves at `/openapi.json`."""
    from gateway.core.settings import Environment, Settings
    from gateway.http.app import create_app

    document: dict[str, Any] = create_app(Settings(environment=Environment.development)).openapi()
    return document


def render_openapi() -> str:
    """`openapi_document()` as `openapi.json` holds it: stable key order, two-space indent."""
    return json.dumps(openapi_document(), indent=2, ensure_ascii=False) + "\n"


RENDERERS: Final = {SCHEMA_FILE: render_sdl, OPENAPI_FILE: render_openapi}


def stale(root: Path = REPO_ROOT) -> list[str]:
    """The artefacts under `root` that differ from what the code renders."""
    return [
        name
        for name, render in RENDERERS.items()
        if not (root / name).is_file() or (root / name).read_text("utf-8") != render()
    ]
