"""Benchmark Switchyard against the floor on a fresh PostgreSQL database, with wrk.

    .venv/bin/python -m bench.run [--issues 20000] [--seconds 10] [--warmup 2] [--ref REV]

Installs wrk if missing, seeds a fresh database, starts the floor (bench/floor.py) and the API
(one uvicorn worker, production settings, rate limits off) on free loopback ports, checks that
both answer every workload with the same JSON, drives each with wrk, prints a markdown table
and writes it into bench/RESULTS.md. Every process it starts is stopped, also on failure.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from types import FrameType

import asyncpg

from bench import answers, report, source, wrk
from bench.servers import BIN, ROOT, serving
from bench.workloads import WORKLOADS, Call

ADMIN_DSN = os.environ.get("BENCH_ADMIN_DSN", "postgres://postgres@127.0.0.1:5432/postgres")
DATABASE = "switchyard_bench"
DSN = ADMIN_DSN.rsplit("/", 1)[0] + f"/{DATABASE}"


async def recreate_database() -> str:
    """Drop and create the bench database; the server's version, for the report."""
    connection = await asyncpg.connect(ADMIN_DSN)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{DATABASE}"')
        return str(await connection.fetchval("SHOW server_version")).split()[0]
    finally:
        await connection.close()


async def analyze() -> None:
    """Fresh planner statistics, as autovacuum would soon give a production database."""
    connection = await asyncpg.connect(DSN)
    try:
        await connection.execute("ANALYZE")
    finally:
        await connection.close()


def seed(issues: int, env: dict[str, str]) -> str:
    """Seed the dataset; the demo users' password."""
    began = time.monotonic()
    out = subprocess.run(
        [str(BIN / "gateway"), "seed", "--issues", str(issues)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    print(f"seeded {issues} issues in {time.monotonic() - began:.0f} s", flush=True)
    return out.strip().rsplit(" ", 1)[-1]


def measure(
    server: str, floor: str, headers: dict[str, str], seconds: int, warmup: int
) -> list[report.Row]:
    """Each workload on the floor, then on the API: a warm-up, then the measured run."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-") as scripts:

        def drive(base: str, call: Call, name: str) -> wrk.Figures:
            script = wrk.write_script(Path(scripts), name, call, headers)
            wrk.run(base + call.path, script, warmup)
            return wrk.run(base + call.path, script, seconds)

        for i, w in enumerate(WORKLOADS):
            row = report.Row(
                w.name, w.form, drive(floor, w.floor, f"{i}-floor"), drive(server, w.server, f"{i}")
            )
            print(
                f"{w.name} {w.form}: {row.server.rps:.0f} req/s, floor {row.floor.rps:.0f}",
                flush=True,
            )
            rows.append(row)
    return rows


def _stop(signum: int, _: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds through every `serving` block


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--issues", type=int, default=20_000)
    parser.add_argument("--seconds", type=int, default=10, help="measured seconds per run")
    parser.add_argument("--warmup", type=int, default=2, help="unmeasured seconds before each")
    parser.add_argument("--ref", help="serve the API from this git revision, not the working tree")
    parser.add_argument(
        "--pool",
        type=int,
        default=2 * (os.cpu_count() or 2),
        help="database connections of each server (default: twice the cores; more only adds"
        " backends competing with the servers for the same cores)",
    )
    options = parser.parse_args()
    signal.signal(signal.SIGTERM, _stop)

    wrk.ensure_installed()
    postgres = asyncio.run(recreate_database())
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")} | {
        # The same pool size for both servers.
        "GATEWAY_DATABASE_URL": f"{DSN}?minsize={options.pool}&maxsize={options.pool}",
        "GATEWAY_ENVIRONMENT": "production",
        "GATEWAY_JWT_SECRET": secrets.token_urlsafe(48),
        # One principal sends thousands of requests a minute: measure the API, not its 429s.
        "GATEWAY_RATE_LIMIT_ENABLED": "false",
    }
    password = seed(options.issues, env)
    asyncio.run(analyze())

    api = ["gateway.http.app:create_app", "--factory"]
    with (
        source.tree(options.ref) as code,
        serving("api", api, env, code) as server,
        serving(
            "floor", ["bench.floor:app"], env | {"BENCH_DSN": DSN, "BENCH_POOL": str(options.pool)}
        ) as floor,
    ):
        headers = {
            "Authorization": f"Bearer {answers.sign_in(server, password)}",
            "Content-Type": "application/json",
        }
        answers.check_same(server, floor, headers)
        load = os.getloadavg()[0]  # other work on the machine skews every figure
        rows = measure(server, floor, headers, options.seconds, options.warmup)
    setup = report.Setup(
        options.issues,
        options.seconds,
        postgres,
        wrk.version(),
        load,
        source.describe(options.ref),
        options.pool,
    )
    text = report.markdown(rows, setup)
    print(text)
    report.write(ROOT / "bench" / "RESULTS.md", text)


if __name__ == "__main__":
    main()
