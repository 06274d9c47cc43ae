"""Test wiring: one freshly migrated database per run (SQLite, or PostgreSQL when
`GATEWAY_TEST_DATABASE_URL` is set), one app on it, a clean slate before every test, and the
worlds of `tests/factories.py` to start from."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from gateway.core.counters import MemoryThrottle
from gateway.core.db import migrate
from gateway.core.settings import Environment, Settings
from gateway.http.app import create_app
from gateway.security import passwords
from tests.database import empty_tables
from tests.environment import HASH_MEMORY_KIB, HASH_TIME_COST, TEST_SECRET
from tests.factories import World, make_world

# The parity runner's fixtures (`rich_world`, `parity_of`), for the parity tests of both APIs;
# the fuzzers' seed (`owned`).
pytest_plugins = ("tests.parity", "tests.fuzz_helpers")


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


async def _admin(url: str, sql: str) -> None:
    connection = await asyncpg.connect(_with_database(url, "postgres"))
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database of its own for this run, migrated to head, dropped afterwards. Nothing in it
    needs to outlive a crash, so no commit waits for the disk: on a busy machine the flush
    after each commit was most of the suite's time (SQLite's `synchronous` pragma, passed on
    to every connection by Tortoise; PostgreSQL's `synchronous_commit`)."""
    base = os.environ.get("GATEWAY_TEST_DATABASE_URL")
    if not base:
        path: Path = tmp_path_factory.mktemp("db") / "test.sqlite3"
        url = f"sqlite://{path}?synchronous=OFF"
        asyncio.run(migrate(url))
        yield url
        return
    name = f"switchyard_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(base, f'CREATE DATABASE "{name}"'))
    asyncio.run(_admin(base, f'ALTER DATABASE "{name}" SET synchronous_commit TO off'))
    url = _with_database(base, name)
    try:
        asyncio.run(migrate(url))
        yield url
    finally:
        asyncio.run(_admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return Settings(
        environment=Environment.test,
        database_url=database_url,
        jwt_secret=TEST_SECRET,
        # Argon2 at production cost takes ~0.3 s a sign-in; tests check logic, not cost.
        password_hash_time_cost=HASH_TIME_COST,
        password_hash_memory_kib=HASH_MEMORY_KIB,
        # Rate limits have tests of their own; the rest of the suite must never hit them.
        rate_limit_per_minute=100_000,
        rate_limit_anonymous_per_minute=100_000,
    )


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    """The app under test, its lifespan running for the whole session."""
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture(autouse=True)
async def clean_database(app: FastAPI) -> None:
    """Every test starts from empty tables (the migration record stays)."""
    await empty_tables()


@pytest.fixture(autouse=True)
def fresh_throttle(app: FastAPI) -> None:
    """Failed sign-ins in one test must not slow down or block another."""
    app.state.throttle = MemoryThrottle()


@pytest.fixture(autouse=True)
def cheap_passwords(settings: Settings) -> None:
    """The Argon2 cost is process-wide and any app a test builds sets it: restore the suite's."""
    passwords.use_cost(settings)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the app in-process."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
async def world(app: FastAPI) -> World:
    """Workspace `acme` with a user in every role, project WEB and its labels."""
    return await make_world(app)


@pytest.fixture
async def empty_world(app: FastAPI) -> World:
    """Workspace `acme` with a user in every role, and no project yet."""
    return await make_world(app, project=False)
