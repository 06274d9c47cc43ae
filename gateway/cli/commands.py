"""The `gateway` command: serve, migrate, seed, create-user, export-schema, export-openapi,
check-contract, makemigrations."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import click
import uvicorn
from pydantic import ValidationError

from gateway.core import db
from gateway.core.settings import Settings
from gateway.core.settings import get_settings as _read_settings
from gateway.observability.logs import dict_config
from gateway.security import passwords

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema.graphql"
OPENAPI_FILE = SCHEMA_FILE.with_name("openapi.json")

T = TypeVar("T")


def get_settings() -> Settings:
    """The environment's settings; unsafe ones stop the command with the reason, no traceback."""
    try:
        return _read_settings()
    except ValidationError as exc:
        reasons = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())
        raise click.ClickException(f"refusing to start: {reasons}") from exc


def _settings_for_accounts() -> Settings:
    """Settings for a command that hashes passwords, at the Argon2 cost they name."""
    settings = get_settings()
    passwords.use_cost(settings)
    return settings


def on_database(database_url: str, job: Coroutine[Any, Any, T]) -> T:
    """Run a database job; an unreachable database stops the command with one line on stderr
    and exit status 1, not a traceback (retrying is left to whatever restarts the command)."""
    try:
        return asyncio.run(job)
    except db.UNREACHABLE as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise click.ClickException(
            f"cannot reach the database at {db.redacted(database_url)}: {reason}"
        ) from exc


@click.group()
def main() -> None:
    """Switchyard gateway: one issue tracker over GraphQL and REST."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
@click.option("--reload", is_flag=True, help="Restart on code changes (development).")
def serve(host: str, port: int, workers: int, reload: bool) -> None:
    """Apply pending migrations once, then serve with uvicorn."""
    settings = get_settings()  # fails here, with the reason, on unsafe production settings
    if settings.metrics_port is not None and workers > 1:
        # Each worker keeps its own metrics: one listener could show only one worker's.
        raise click.ClickException(
            "refusing to start: GATEWAY_METRICS_PORT serves one process's metrics; use"
            " --workers 1 (one process per container) or scrape /metrics with a token"
        )
    applied = on_database(settings.database_url, db.migrate(settings.database_url))
    if applied:
        click.echo(f"applied migrations: {', '.join(applied)}")
    # uvicorn trusts X-Forwarded-* from 127.0.0.1 unless told otherwise; it gets our list, so
    # it rewrites the client (and scheme) exactly when gateway.http.forwarded would.
    trusted = [str(network) for network in settings.trusted_proxies]
    uvicorn.run(
        "gateway.http.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        reload=reload,
        proxy_headers=bool(trusted),
        forwarded_allow_ips=trusted,
        server_header=False,
        # Operations (ADR 0019): every record in GATEWAY_LOG_FORMAT; the gateway writes one
        # access line per request itself, so uvicorn's is off.
        log_config=dict_config(settings),
        access_log=False,
        # Graceful shutdown (gateway.http.lifecycle): requests in flight get this long to finish.
        timeout_graceful_shutdown=max(1, round(settings.shutdown_grace_seconds)),
    )


@main.command()
def migrate() -> None:
    """Apply every pending migration to GATEWAY_DATABASE_URL."""
    url = get_settings().database_url
    applied = on_database(url, db.migrate(url))
    click.echo(f"applied: {', '.join(applied)}" if applied else "database is up to date")


@main.command()
@click.argument("name")
def makemigrations(name: str) -> None:
    """Write the next migration (SQLite and PostgreSQL renderings) for model changes."""
    from gateway.cli.migration_files import make_migration

    written = asyncio.run(make_migration(name))
    click.echo(f"wrote {written}" if written else "no changes")


@main.command("create-user")
@click.argument("username")
@click.option("--email", required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--display-name", default="")
@click.option("--site-admin", is_flag=True, help="May read and manage every workspace.")
def create_user(
    username: str, email: str, password: str, display_name: str, site_admin: bool
) -> None:
    """Create an account (sign-up need not be enabled)."""
    from gateway.cli.seed import create_account

    url = _settings_for_accounts().database_url

    async def run() -> None:
        async with db.session(url):
            await create_account(username, email, password, display_name, site_admin)

    on_database(url, run())
    click.echo(f"created {username}")


@main.command()
@click.option("--issues", default=300, show_default=True, type=click.IntRange(0, 10_000_000))
@click.option("--seed", "random_seed", default=1, show_default=True, help="Random seed.")
def seed(issues: int, random_seed: int) -> None:
    """Fill the database with a demo: users, a workspace, projects, labels, issues, comments."""
    from gateway.cli.seed import seed_demo

    password = secrets.token_urlsafe(12)

    url = _settings_for_accounts().database_url

    async def run() -> None:
        await db.migrate(url)
        async with db.session(url):
            await seed_demo(password=password, issues=issues, random_seed=random_seed)

    on_database(url, run())
    click.echo(f"password of every demo user: {password}")


@main.command("compress-assets")
def compress_assets() -> None:
    """Write gzip and br copies of the GraphiQL/Swagger UI assets (`make install` runs it)."""
    from gateway.http import docs, precompressed

    node_modules = get_settings().assets_dir or docs.default_assets_dir()
    paths = [
        asset.path(node_modules)
        for asset in docs.ASSETS.values()
        if asset.media_type.startswith(precompressed.COMPRESSIBLE_TYPES)
    ]
    written = precompressed.write_all(paths)
    click.echo(f"compressed {len(written)} asset files" if written else "assets are compressed")


@main.command("export-schema")
@click.option("--output", type=click.Path(path_type=Path), default=SCHEMA_FILE, show_default=True)
def export_schema(output: Path) -> None:
    """Write the GraphQL SDL (schema.graphql)."""
    from gateway.cli.contract.artefacts import render_sdl

    output.write_text(render_sdl())
    click.echo(f"wrote {output}")


@main.command("export-openapi")
@click.option("--output", type=click.Path(path_type=Path), default=OPENAPI_FILE, show_default=True)
def export_openapi(output: Path) -> None:
    """Write the REST API's OpenAPI document (openapi.json)."""
    from gateway.cli.contract.artefacts import render_openapi

    output.write_text(render_openapi(), "utf-8")
    click.echo(f"wrote {output}")


@main.command("check-contract")
def check_contract() -> None:
    """Fail when schema.graphql or openapi.json differs from the code, or when either breaks
    the previous contract without an entry in history/contract-changes.md (ADR 0018)."""
    from gateway.cli.contract.guard import check

    verdict = check()
    click.echo(f"baseline: {verdict.baseline or 'none'}")
    accepted = [c for c in verdict.breaking if c not in verdict.unacknowledged]
    for line in [*verdict.notes, *(f"acknowledged: {c}" for c in accepted)]:
        click.echo(line)
    if verdict.failures:
        raise click.ClickException("\n".join(verdict.failures))
    click.echo("contract ok")
