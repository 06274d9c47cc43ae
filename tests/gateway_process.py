"""Real `gateway serve` processes for the operations tests (shutdown, outage, replica): started
on a free loopback port, waited for, and always stopped; plus a signed-up user with a
workspace and a project to write into."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.environment import STARTUP_SECONDS, TEST_SECRET, child_environment, free_port

GATEWAY = str(Path(sys.executable).parent / "gateway")
PASSWORD = "correct horse battery staple"


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    base: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def environment(database_url: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = child_environment()
    return env | {
        "GATEWAY_ENVIRONMENT": "test",
        "GATEWAY_DATABASE_URL": database_url,
        "GATEWAY_JWT_SECRET": TEST_SECRET,
        "GATEWAY_RATE_LIMIT_PER_MINUTE": "1000000",
        "GATEWAY_RATE_LIMIT_ANONYMOUS_PER_MINUTE": "1000000",
        **(extra or {}),
    }


def wait_up(
    process: subprocess.Popen[Any],
    url: str,
    log: Path | None = None,
    within: float = STARTUP_SECONDS,
) -> None:
    """Poll `url` (a server's `/readyz` or `/healthz`) until it answers 200; fail with the
    server's output (its `log`, or else its pipe) if the process ends or `within` seconds pass."""
    deadline = time.monotonic() + within
    while True:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert process.poll() is None, _output(process, log)
        assert time.monotonic() < deadline, f"server did not start:\n{_output(process, log)}"
        time.sleep(0.1)


def _output(process: subprocess.Popen[Any], log: Path | None) -> str:
    if log is not None:
        return log.read_text(errors="replace")
    stream = process.stdout or process.stderr
    if stream is None or process.poll() is None:  # a live server's pipe never ends
        return ""
    text = stream.read()
    return text if isinstance(text, str) else text.decode(errors="replace")


async def wait_ready(served: Served, within: float = STARTUP_SECONDS) -> None:
    """`wait_up` for `served`, in a thread so that several servers start at once."""
    await asyncio.to_thread(wait_up, served.process, f"{served.base}/readyz", served.log, within)


def stop(process: subprocess.Popen[Any]) -> None:
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=20)


def start(
    database_url: str, log: Path, extra: dict[str, str] | None = None, workers: int = 1
) -> Served:
    """One `gateway serve` (migrating the database first) on a free port, started but not yet
    ready (`wait_ready` waits for it)."""
    port = free_port()
    command = [GATEWAY, "serve", "--host", "127.0.0.1", "--port", str(port)]
    if workers > 1:
        command += ["--workers", str(workers)]
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, env=environment(database_url, extra), stdout=output, stderr=subprocess.STDOUT
        )
    return Served(process, f"http://127.0.0.1:{port}", log)


@contextmanager
def running(database_url: str, log: Path, extra: dict[str, str] | None = None) -> Iterator[Served]:
    """`serving` for synchronous tests and fixtures."""
    served = start(database_url, log, extra)
    try:
        wait_up(served.process, f"{served.base}/readyz", served.log)
        yield served
    finally:
        stop(served.process)


@asynccontextmanager
async def serving(
    database_url: str, log: Path, extra: dict[str, str] | None = None, workers: int = 1
) -> AsyncIterator[Served]:
    """One `gateway serve`, ready; stopped afterwards."""
    served = start(database_url, log, extra, workers)
    try:
        await wait_ready(served)
        yield served
    finally:
        stop(served.process)


@dataclass(frozen=True)
class Writer:
    """A signed-in user with a workspace and a project: where issues get written."""

    headers: dict[str, str]
    issues: str  # the issues collection URL path

    @property
    def slug(self) -> str:
        return self.issues.split("/")[4]


async def bootstrap(http: httpx.AsyncClient) -> Writer:
    """Sign up, sign in, create a workspace and a project (all through REST)."""
    name = f"ops{uuid.uuid4().hex[:8]}"
    signed_up = await http.post(
        "/api/v1/users",
        json={"email": f"{name}@example.com", "username": name, "password": PASSWORD},
    )
    assert signed_up.status_code == 201, signed_up.text
    token = await http.post("/api/v1/auth/token", data={"username": name, "password": PASSWORD})
    assert token.status_code == 200, token.text
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    created = await http.post(
        "/api/v1/workspaces", json={"slug": name, "name": name}, headers=headers
    )
    assert created.status_code == 201, created.text
    project = await http.post(
        f"/api/v1/workspaces/{name}/projects", json={"key": "OPS", "name": "Ops"}, headers=headers
    )
    assert project.status_code == 201, project.text
    return Writer(headers, f"/api/v1/workspaces/{name}/projects/OPS/issues")
