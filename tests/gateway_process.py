"""Real `gateway serve` processes for the operations tests (shutdown, outage, replica): started
on a free loopback port, waited for, and always stopped; plus a signed-up user with a
workspace and a project to write into."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

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


async def wait_ready(served: Served, within: float = STARTUP_SECONDS) -> None:
    deadline = time.monotonic() + within
    async with httpx.AsyncClient(timeout=2) as http:
        while True:
            try:
                if (await http.get(f"{served.base}/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert served.process.poll() is None, served.output()
            assert time.monotonic() < deadline, f"server did not start:\n{served.output()}"
            await asyncio.sleep(0.1)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=20)


def _spawn(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as output:
        return subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)


@asynccontextmanager
async def serving(
    database_url: str, log: Path, extra: dict[str, str] | None = None, workers: int = 1
) -> AsyncIterator[Served]:
    """One `gateway serve` (migrating the database first), ready; stopped afterwards."""
    port = free_port()
    command = [GATEWAY, "serve", "--host", "127.0.0.1", "--port", str(port)]
    if workers > 1:
        command += ["--workers", str(workers)]
    process = _spawn(command, environment(database_url, extra), log)
    served = Served(process, f"http://127.0.0.1:{port}", log)
    try:
        await wait_ready(served)
        yield served
    finally:
        stop(process)


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
