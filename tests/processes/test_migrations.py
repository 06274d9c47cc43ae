"""Models and committed migrations agree; the SDL file is current."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gateway.core.db import pending_migrations
from schema import build_schema

# Real processes: left out of the inner loop by `pytest -m "not slow"`.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def test_models_match_the_migrations() -> None:
    # In a child process: rendering both dialects swaps Tortoise's global state.
    check = (
        "import asyncio, sys\n"
        "from gateway.cli.migration_files import models_match_migrations\n"
        "sys.exit(0 if asyncio.run(models_match_migrations()) else 1)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", check], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, (
        "models changed without a migration: run `gateway makemigrations <name>`\n"
        + result.stderr[-2000:]
    )


async def test_the_test_database_has_no_pending_migration(app: object) -> None:
    assert await pending_migrations() == []


def test_schema_graphql_is_current() -> None:
    committed = (ROOT / "schema.graphql").read_text()
    assert committed == str(build_schema()) + "\n", "run `gateway export-schema`"
