"""Benchmark: list 50 open issues of one project with each assignee's username.

Seeds a PostgreSQL database, starts a real `gateway serve` and the bare floor (bench/floor.py)
on loopback ports, drives each with the same concurrency, and reports requests per second and
p50/p99 latency, each as a ratio against the floor measured in the same run.

    .venv/bin/python bench/issues_list.py [--issues 20000] [--requests 2000] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ADMIN_DSN = os.environ.get("BENCH_ADMIN_DSN", "postgres://postgres@127.0.0.1:5432/postgres")
DATABASE = "switchyard_bench"
GRAPHQL = """
query Board($ws: String!, $key: String!) {
  project(workspace: $ws, key: $key) {
    issues(first: 50, filter: {state: OPEN}, orderBy: {field: NUMBER, direction: ASC}) {
      edges { node { number title state assignee { username } } }
    }
  }
}
"""


@dataclass
class Result:
    name: str
    rps: float
    p50_ms: float
    p99_ms: float


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def dsn(database: str) -> str:
    return ADMIN_DSN.rsplit("/", 1)[0] + f"/{database}"


async def _recreate_database() -> None:
    connection = await asyncpg.connect(ADMIN_DSN)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{DATABASE}"')
    finally:
        await connection.close()


def start(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(args, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=None)


def wait_up(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: server exited with {process.returncode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError(f"{url}: did not start")


async def drive(
    name: str,
    call: Callable[[httpx.AsyncClient], Awaitable[httpx.Response]],
    requests: int,
    concurrency: int,
) -> Result:
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        for _ in range(20):  # warm-up: caches, pools, JIT-less but still lazy imports
            (await call(client)).raise_for_status()
        remaining = requests

        async def worker() -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                began = time.perf_counter()
                response = await call(client)
                latencies.append(time.perf_counter() - began)
                response.raise_for_status()

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
    latencies.sort()
    return Result(
        name,
        len(latencies) / elapsed,
        statistics.median(latencies) * 1000,
        latencies[int(len(latencies) * 0.99) - 1] * 1000,
    )


def recreate_database() -> None:
    asyncio.run(_recreate_database())


def analyze() -> None:
    async def run() -> None:
        connection = await asyncpg.connect(dsn(DATABASE))
        try:
            await connection.execute("ANALYZE")
        finally:
            await connection.close()

    asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--issues", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=2_000)
    parser.add_argument("--concurrency", type=int, default=16)
    options = parser.parse_args()

    recreate_database()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    env |= {
        # The same pool size as the floor's, so both may run 16 queries at once.
        "GATEWAY_DATABASE_URL": dsn(DATABASE) + "?minsize=4&maxsize=16",
        "GATEWAY_ENVIRONMENT": "development",
        # The load generator is one principal sending thousands of requests a minute: measure
        # the API, not the limiter's 429s.
        "GATEWAY_RATE_LIMIT_ENABLED": "false",
    }
    began = time.monotonic()
    seeded = subprocess.run(
        [str(BIN / "gateway"), "seed", "--issues", str(options.issues)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    password = seeded.stdout.strip().rsplit(" ", 1)[-1]
    print(f"seeded {options.issues} issues in {time.monotonic() - began:.0f} s", flush=True)
    analyze()  # fresh planner statistics, as autovacuum would soon give a production database

    gateway_port, floor_port = free_port(), free_port()
    servers = [
        start([str(BIN / "gateway"), "serve", "--port", str(gateway_port)], env),
        start(
            [str(BIN / "uvicorn"), "bench.floor:app", "--port", str(floor_port), "--no-access-log"],
            env | {"BENCH_DSN": dsn(DATABASE)},
        ),
    ]
    try:
        base, floor = f"http://127.0.0.1:{gateway_port}", f"http://127.0.0.1:{floor_port}"
        wait_up(f"{base}/healthz", servers[0])
        wait_up(f"{floor}/demo/WEB/issues", servers[1])
        token = httpx.post(
            f"{base}/api/v1/auth/token", data={"username": "demo", "password": password}
        ).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        rest_url = f"{base}/api/v1/workspaces/demo/projects/WEB/issues"
        rest_params = {"limit": "50", "state": "open", "sort": "number", "direction": "asc"}
        body = {"query": GRAPHQL, "variables": {"ws": "demo", "key": "WEB"}}
        n, c = options.requests, options.concurrency
        floor_url = f"{floor}/demo/WEB/issues"

        async def measure() -> list[Result]:
            return [
                await drive("floor", lambda h: h.get(floor_url), n, c),
                await drive(
                    "REST", lambda h: h.get(rest_url, params=rest_params, headers=auth), n, c
                ),
                await drive(
                    "GraphQL", lambda h: h.post(f"{base}/graphql", json=body, headers=auth), n, c
                ),
            ]

        results = asyncio.run(measure())
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=15)
    report(results, options)


def report(results: list[Result], options: argparse.Namespace) -> None:
    floor = results[0]
    lines = [
        f"## issues_list — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"machine: {platform.machine()}, {os.cpu_count()} cores,"
        f" Python {platform.python_version()};"
        f" dataset {options.issues} issues; {options.requests} requests, concurrency"
        f" {options.concurrency}, one server process each, load generator on the same machine",
        "",
        "floor = bare Starlette + asyncpg with fixed SQL",
        "",
        "| endpoint | req/s | p50 ms | p99 ms | req/s ratio to floor |",
        "|---|---|---|---|---|",
    ]
    for r in results:
        ratio = r.rps / floor.rps
        lines.append(f"| {r.name} | {r.rps:.0f} | {r.p50_ms:.1f} | {r.p99_ms:.1f} | {ratio:.2f}x |")
    text = "\n".join(lines) + "\n"
    print(text)
    with (ROOT / "bench" / "RESULTS.md").open("a") as out:
        out.write("\n" + text)


if __name__ == "__main__":
    main()
