"""Database wiring: the Tortoise configuration and the migration runner.

Migrations run once, before any worker starts (`gateway serve` and `gateway migrate`), never in a
worker's lifespan: workers would race on the same files, and aerich's `Command` closes every
Tortoise connection when it exits.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from aerich import Command
from tortoise import Tortoise
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.exceptions import DBConnectionError

from gateway.core.settings import get_settings

APP = "models"
MIGRATIONS_ROOT = Path(__file__).resolve().parents[2] / "migrations"
MIGRATIONS = MIGRATIONS_ROOT / APP

# What connecting raises when the database cannot be reached: nothing listening, an unknown
# host or database, a timeout, refused credentials.
UNREACHABLE: tuple[type[Exception], ...] = (
    DBConnectionError,
    OSError,
    asyncpg.InvalidAuthorizationSpecificationError,
)


# What a statement raises while the database is away (stopped, restarting, failing over): the
# pool's connections break mid-operation, new ones are refused. Answered 503 with Retry-After
# (gateway.http.problems, schema.http.errors), never 500.
OUTAGE: tuple[type[Exception], ...] = (
    DBConnectionError,
    ConnectionError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,  # shutting down, starting up, terminated
    # asyncpg's protocol left mid-operation ("cannot switch to state 12; another operation
    # is in progress"): what a connection cut under a statement leaves behind.
    asyncpg.exceptions.InternalClientError,
)
# asyncpg's misuse errors: an outage only when they name the lost connection ("cannot call
# Transaction.rollback(): the underlying connection is closed").
AFTERMATH: tuple[type[Exception], ...] = (asyncpg.InterfaceError,)


def is_outage(exc: BaseException) -> bool:
    """Did `exc` come from the database being unreachable (not from a bug or bad input)?"""
    seen: BaseException | None = exc
    for _ in range(6):  # the exception and what it was raised from or while handling
        if seen is None:
            return False
        if isinstance(seen, OUTAGE):
            return True
        if isinstance(seen, AFTERMATH) and "connection" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def tortoise_config(database_url: str) -> dict[str, Any]:
    """The Tortoise configuration for one database URL (our models plus aerich's table).

    SQLite connections use our engine, `gateway.reads.sqlite`: Tortoise's client plus the
    functions the compiled reads call; PostgreSQL ones `gateway.core.postgres`, whose pool skips
    asyncpg's reset query."""
    connection: str | dict[str, Any] = database_url
    if database_url.startswith("sqlite://"):
        if ":memory:" not in database_url:
            Path(database_url.removeprefix("sqlite://")).parent.mkdir(parents=True, exist_ok=True)
        connection = {**expand_db_url(database_url), "engine": "gateway.reads.sqlite"}
    elif urlsplit(database_url).scheme in ("postgres", "asyncpg"):
        connection = {**expand_db_url(database_url), "engine": "gateway.core.postgres"}
    return {
        "connections": {"default": connection},
        "apps": {
            APP: {"models": ["models", "aerich.models"], "default_connection": "default"},
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def redacted(database_url: str) -> str:
    """The URL without its password, fit for a message."""
    parts = urlsplit(database_url)
    if parts.password is None:
        return database_url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))


def __getattr__(name: str) -> Any:
    # `aerich -c aerich.ini` imports gateway.core.db.TORTOISE_ORM; computed on access so that it
    # follows GATEWAY_DATABASE_URL instead of freezing it at import time.
    if name == "TORTOISE_ORM":
        return tortoise_config(get_settings().database_url)
    raise AttributeError(name)


async def migrate(database_url: str) -> list[str]:
    """Apply every pending migration; returns the names of those applied."""
    async with Command(
        tortoise_config(database_url), app=APP, location=str(MIGRATIONS_ROOT)
    ) as cmd:
        await cmd.init()
        applied: list[str] = await cmd.upgrade(run_in_transaction=True)
    return applied


async def pending_migrations() -> list[str]:
    """Migration files not yet recorded in the connected database (Tortoise must be up)."""
    from aerich.models import Aerich

    files = sorted(p.name for p in MIGRATIONS.glob("*.py") if p.name[0].isdigit())
    try:
        done = {str(v) for v in await Aerich.filter(app=APP).values_list("version", flat=True)}
    except Exception:  # the aerich table itself is missing: nothing has been applied
        return files
    return [f for f in files if f not in done]


async def ping() -> None:
    """One round trip to the database; raises when it is unreachable."""
    await Tortoise.get_connection("default").execute_query("SELECT 1")


@asynccontextmanager
async def session(database_url: str) -> AsyncIterator[None]:
    """Tortoise opened for a command-line job, closed afterwards."""
    await Tortoise.init(config=tortoise_config(database_url))
    try:
        yield
    finally:
        await Tortoise.close_connections()
