"""Soak: sustained load at about half of measured capacity against `gateway serve --workers 2`
on PostgreSQL + Redis, checked for errors, memory growth and p99 drift (issue 11).

    .venv/bin/python -m bench.soak                    # 10 minutes (the issue's figure)
    .venv/bin/python -m bench.soak --minutes 3        # shorter, same checks

It recreates the database `switchyard_soak` (seeded with `gateway seed`), starts the server on
a free loopback port (production settings, a random JWT secret, rate limits off, Redis db
`--redis-db`), measures capacity with 20 s of unpaced wrk over the mix (every bench read plus a
comment write), then runs the soak in windows of `--window` seconds at `--fraction` of that
rate, paced by wrk's `delay()`. After the first (warm-up) window it checks: no errors at all,
resident memory of the server's processes grew by less than 10 %, and no window's p99 is over
twice the first measured window's. Figures go into `bench/RESULTS.md` (its "Soak" block) and
the process stops the server and drops the database however it ends.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import FrameType

import asyncpg

from bench import answers, soak_load, wrk
from bench.servers import BIN, ROOT, free_port, stop, wait_up
from bench.workloads import ISSUES

ADMIN_DSN = os.environ.get("BENCH_ADMIN_DSN", "postgres://postgres@127.0.0.1:5432/postgres")
DATABASE = "switchyard_soak"
DSN = ADMIN_DSN.rsplit("/", 1)[0] + f"/{DATABASE}"
RESULTS = ROOT / "bench" / "RESULTS.md"
BEGIN, END = "<!-- soak: begin (python -m bench.soak) -->", "<!-- soak: end -->"
MAX_RSS_GROWTH, MAX_P99_DRIFT = 0.10, 2.0


async def _admin(sql: str) -> None:
    connection = await asyncpg.connect(ADMIN_DSN)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def _stop(signum: int, _: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds through every `finally`


def _serve(env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    command = [str(BIN / "gateway"), "serve", "--port", str(port), "--workers", "2"]
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=out, stderr=out)
    base = f"http://127.0.0.1:{port}"
    wait_up(f"{base}/readyz", process)
    return process, base


def _verdict(windows: list[soak_load.Window]) -> list[str]:
    """What failed, one line each (empty: the soak passed). The first window is warm-up."""
    measured = windows[1:]
    if not measured:
        return ["too short: no window after the warm-up"]
    failed = [f"{w.errors} errors in window {n}" for n, w in enumerate(windows) if w.errors]
    growth = measured[-1].rss_mib / measured[0].rss_mib - 1
    if growth >= MAX_RSS_GROWTH:
        failed.append(f"RSS grew {growth:.1%} after warm-up (limit {MAX_RSS_GROWTH:.0%})")
    worst = max(w.p99_ms for w in measured)
    if worst > MAX_P99_DRIFT * measured[0].p99_ms:
        failed.append(f"p99 drifted from {measured[0].p99_ms:.1f} ms to {worst:.1f} ms")
    return failed


def _report(windows: list[soak_load.Window], capacity: float, target: float, minutes: float,
            failed: list[str]) -> str:  # fmt: skip
    rows = "\n".join(
        f"| {n} | {w.rps:.0f} | {w.p50_ms:.1f} | {w.p99_ms:.1f} | {w.errors} | {w.rss_mib:.0f} |"
        for n, w in enumerate(windows)
    )
    verdict = "PASS" if not failed else "FAIL: " + "; ".join(failed)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{BEGIN}\n## Soak ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})\n"
        f"`python -m bench.soak --minutes {minutes:g}`: `gateway serve --workers 2` on PostgreSQL"
        f" + Redis, {os.cpu_count()} cores (load average after: {load}). Capacity"
        f" {capacity:.0f} req/s (unpaced wrk, 16 connections, the mix); soak paced at"
        f" {target:.0f} req/s. Window 0 is the warm-up.\n\n"
        "| window | req/s | p50 ms | p99 ms | errors | RSS MiB (all processes) |\n"
        f"|---|---|---|---|---|---|\n{rows}\n\n**{verdict}**\n{END}"
    )


def _write_results(block: str) -> None:
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmarks\n"
    if BEGIN in text and END in text:
        before, rest = text.split(BEGIN, 1)
        text = before + block + rest.split(END, 1)[1]
    else:
        head, marker, tail = text.partition("<!-- latest run:")
        text = f"{head.rstrip()}\n\n{block}\n\n{marker}{tail}" if marker else f"{text}\n{block}\n"
    RESULTS.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--window", type=int, default=30, help="seconds per measured window")
    parser.add_argument("--fraction", type=float, default=0.5, help="of measured capacity")
    parser.add_argument("--issues", type=int, default=5_000)
    parser.add_argument("--redis-db", type=int, default=11)
    options = parser.parse_args()
    signal.signal(signal.SIGTERM, _stop)
    wrk.ensure_installed()
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
    asyncio.run(_admin(f'CREATE DATABASE "{DATABASE}"'))
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")} | {
        "GATEWAY_DATABASE_URL": f"{DSN}?minsize=4&maxsize=8",
        "GATEWAY_REDIS_URL": f"redis://127.0.0.1:6379/{options.redis_db}",
        "GATEWAY_ENVIRONMENT": "production",
        "GATEWAY_JWT_SECRET": secrets.token_urlsafe(48),
        "GATEWAY_RATE_LIMIT_ENABLED": "false",
    }
    seeded = subprocess.run(
        [str(BIN / "gateway"), "seed", "--issues", str(options.issues)],
        env=env, cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    password = seeded.strip().rsplit(" ", 1)[-1]
    log = Path(tempfile.gettempdir()) / "switchyard-soak-server.log"
    process, base = _serve(env, log)
    print(f"server {base} (pid {process.pid}), log {log}", flush=True)
    try:
        headers = {
            "Authorization": f"Bearer {answers.sign_in(base, password)}",
            "Content-Type": "application/json",
        }
        calls = soak_load.mix(f"{ISSUES}/2/comments")
        with tempfile.TemporaryDirectory(prefix="soak-") as scripts:
            unpaced = soak_load.write_script(Path(scripts) / "max.lua", calls, headers, 0)
            capacity = soak_load.run_window(base, unpaced, 20, process.pid).rps
            target = capacity * options.fraction
            # Each connection waits between requests so that together they send about
            # `target`: a request's own time is taken as its time at capacity.
            cycle_ms, busy_ms = (wrk.CONNECTIONS * 1000 / r for r in (target, capacity))
            delay_ms = int(cycle_ms - busy_ms)
            paced = soak_load.write_script(Path(scripts) / "soak.lua", calls, headers, delay_ms)
            print(f"capacity {capacity:.0f} req/s; soak at {target:.0f} req/s", flush=True)
            windows: list[soak_load.Window] = []
            for _ in range(max(2, round(options.minutes * 60 / options.window))):
                windows.append(soak_load.run_window(base, paced, options.window, process.pid))
                w = windows[-1]
                # A request is quicker at half load than at capacity: correct the pause by
                # what the last window missed the target by.
                delay_ms = max(0, int(delay_ms + cycle_ms - wrk.CONNECTIONS * 1000 / w.rps))
                soak_load.write_script(paced, calls, headers, delay_ms)
                print(
                    f"window {len(windows) - 1}: {w.rps:.0f} req/s p50 {w.p50_ms:.1f} ms"
                    f" p99 {w.p99_ms:.1f} ms errors {w.errors} RSS {w.rss_mib:.0f} MiB",
                    flush=True,
                )
        failed = _verdict(windows)
        _write_results(_report(windows, capacity, target, options.minutes, failed))
        print("PASS" if not failed else "FAIL: " + "; ".join(failed), flush=True)
    finally:
        stop(process, timeout=40)
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
