"""The `gateway` command, run as a user would: real processes on a scratch SQLite file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.environment import child_environment, free_port
from tests.gateway_process import stop, wait_up

# Real processes and servers: left out of the inner loop by `pytest -m "not slow"`.
pytestmark = pytest.mark.slow

GATEWAY = str(Path(sys.executable).parent / "gateway")


def _env(tmp_path: Path) -> dict[str, str]:
    env = child_environment()
    env["GATEWAY_DATABASE_URL"] = f"sqlite://{tmp_path / 'cli.sqlite3'}"
    return env


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [GATEWAY, *args], env=_env(tmp_path), capture_output=True, text=True, timeout=120
    )


def test_migrate_then_up_to_date(tmp_path: Path) -> None:
    first = _run(tmp_path, "migrate")
    assert first.returncode == 0, first.stderr
    assert "0_init.py" in first.stdout
    again = _run(tmp_path, "migrate")
    assert "up to date" in again.stdout


def test_seed_and_create_user(tmp_path: Path) -> None:
    seeded = _run(tmp_path, "seed", "--issues", "40")
    assert seeded.returncode == 0, seeded.stderr
    assert "password of every demo user" in seeded.stdout
    created = _run(
        tmp_path, "create-user", "zed", "--email", "z@example.com", "--password", "pw-12345678"
    )
    assert created.returncode == 0, created.stderr
    clash = _run(
        tmp_path, "create-user", "zed", "--email", "y@example.com", "--password", "pw-12345678"
    )
    assert clash.returncode != 0


def test_export_schema_writes_sdl(tmp_path: Path) -> None:
    out = tmp_path / "schema.graphql"
    result = _run(tmp_path, "export-schema", "--output", str(out))
    assert result.returncode == 0, result.stderr
    assert "type Query" in out.read_text()


def test_serve_migrates_and_answers(tmp_path: Path) -> None:
    port = free_port()
    server = subprocess.Popen(
        [GATEWAY, "serve", "--port", str(port)],
        env=_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_up(server, f"http://127.0.0.1:{port}/readyz")
        info = httpx.post(
            f"http://127.0.0.1:{port}/graphql",
            json={"query": "{ serverInfo { version environment } }"},
            timeout=5,
        )
        assert info.json()["data"]["serverInfo"]["environment"] == "development"
    finally:
        stop(server)


def test_serve_refuses_unsafe_production(tmp_path: Path) -> None:
    env = _env(tmp_path) | {"GATEWAY_ENVIRONMENT": "production"}
    result = subprocess.run(
        [GATEWAY, "serve", "--port", str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "GATEWAY_JWT_SECRET" in result.stderr


@pytest.mark.parametrize("command", ["serve", "migrate"])
def test_an_unreachable_database_is_one_clear_line(tmp_path: Path, command: str) -> None:
    env = _env(tmp_path) | {"GATEWAY_DATABASE_URL": "postgres://postgres:hunter2@127.0.0.1:1/x"}
    result = subprocess.run([GATEWAY, command], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    [line] = result.stderr.splitlines()  # no traceback, and no password
    assert line.startswith(
        "Error: cannot reach the database at postgres://postgres:***@127.0.0.1:1/x: "
    )
    assert "Connect call failed" in line


def test_serve_believes_forwarded_for_only_from_trusted_proxies(tmp_path: Path) -> None:
    port = free_port()
    env = _env(tmp_path) | {
        "GATEWAY_TRUSTED_PROXIES": "127.0.0.2",
        "GATEWAY_RATE_LIMIT_ANONYMOUS_PER_MINUTE": "2",
    }
    server = subprocess.Popen(
        [GATEWAY, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )

    def statuses(peer: str, *forwarded: str) -> list[int]:
        transport = httpx.HTTPTransport(local_address=peer)
        with httpx.Client(transport=transport, timeout=5) as http:
            return [
                http.get(
                    f"http://127.0.0.1:{port}/api/v1/me", headers={"X-Forwarded-For": address}
                ).status_code
                for address in forwarded
            ]

    try:
        wait_up(server, f"http://127.0.0.1:{port}/healthz")
        # uvicorn would believe any loopback peer by default; an untrusted one is its own client.
        assert statuses("127.0.0.1", "203.0.113.1", "203.0.113.2", "203.0.113.3") == [
            401,
            401,
            429,
        ]
        # The trusted proxy's clients each have a budget of their own.
        assert statuses("127.0.0.2", "203.0.113.1", "203.0.113.2", "203.0.113.3") == [401] * 3
        assert statuses("127.0.0.2", "203.0.113.1", "203.0.113.1") == [401, 429]
    finally:
        stop(server)
