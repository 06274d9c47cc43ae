"""GraphQL over HTTP conformance: graphql-http's own audit suite (`serverAudits`, every MUST,
SHOULD and MAY) run by node against a real `gateway serve` process on a scratch SQLite file."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.gateway_process import running

REPO_ROOT = Path(__file__).resolve().parents[2]
AUDIT_SCRIPT = REPO_ROOT / "tests" / "graphql_http_audit.mjs"
AUDIT_COUNT = 61  # graphql-http 1.23: every audit it ships, whatever its level

NODE = shutil.which("node")
pytestmark = [pytest.mark.slow, pytest.mark.skipif(NODE is None, reason="node is not on PATH")]


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real server in development mode (introspection on: one audit asks for `__type`).
    The audits measure the protocol, not the budget: rate limiting is off, or their 61
    anonymous requests in one burst would meet the anonymous limit."""
    tmp = tmp_path_factory.mktemp("audit")
    development = {"GATEWAY_ENVIRONMENT": "development", "GATEWAY_RATE_LIMIT_ENABLED": "false"}
    with running(f"sqlite://{tmp / 'audit.sqlite3'}", tmp / "server.log", development) as served:
        yield f"{served.base}/graphql"


def _audit(url: str) -> subprocess.CompletedProcess[str]:
    assert NODE is not None
    return subprocess.run(
        [NODE, str(AUDIT_SCRIPT), url],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_every_graphql_over_http_audit_passes(server_url: str) -> None:
    result = _audit(server_url)
    assert "Cannot find package 'graphql-http'" not in result.stderr, "run `npm ci` first"
    lines = result.stdout.strip().splitlines()
    assert lines, result.stderr
    assert lines[-1] == f"{AUDIT_COUNT} passed, 0 failed", result.stdout + result.stderr
    audits = [line.split("\t") for line in lines[:-1]]
    assert len(audits) == AUDIT_COUNT
    assert all(audit[-1] == "ok" for audit in audits), result.stdout
    levels = {audit[1].split(" ", 1)[0] for audit in audits}
    assert levels == {"MUST", "SHOULD", "MAY"}
    assert result.returncode == 0


def test_audit_script_reports_failures(server_url: str) -> None:
    """The script can fail: against a URL that is not GraphQL, audits fail and it exits 1."""
    result = _audit(server_url.removesuffix("/graphql") + "/healthz")
    assert result.returncode == 1, result.stdout + result.stderr
    last = result.stdout.strip().splitlines()[-1]
    passed, failed = (int(part.split()[0]) for part in last.split(", "))
    assert failed > 0
    assert passed + failed == AUDIT_COUNT
