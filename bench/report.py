"""The markdown table of a run, and its place in bench/RESULTS.md."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

from bench.wrk import CONNECTIONS, THREADS, Figures

# Everything below this line in RESULTS.md is the latest run; everything above is kept.
MARKER = "<!-- latest run: written by `python -m bench.run`, do not edit below -->"
PACKAGES = ("uvicorn", "starlette", "fastapi", "strawberry-graphql", "tortoise-orm", "asyncpg")


@dataclass(frozen=True, slots=True)
class Row:
    workload: str
    form: str
    floor: Figures
    server: Figures


@dataclass(frozen=True, slots=True)
class Setup:
    issues: int
    seconds: int
    postgres: str
    wrk: str
    load: float
    code: str
    pool: int


def _cpu_model() -> str:
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return platform.processor() or platform.machine()
    return next((ln.split(":", 1)[1].strip() for ln in lines if ln.startswith("model name")), "?")


def _ratio(a: float, b: float, digits: int) -> str:
    return f"{a / b:.{digits}f}" if b else "n/a"


def markdown(rows: list[Row], setup: Setup) -> str:
    versions = ", ".join(f"{name} {version(name)}" for name in PACKAGES)
    lines = [
        f"## {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- code: {setup.code}",
        f"- machine: {os.cpu_count()} cores ({_cpu_model()}), shared by PostgreSQL, the server"
        f" under test and wrk; load average {setup.load:.2f} before the first run",
        f"- PostgreSQL {setup.postgres}, {setup.issues} issues (`gateway seed`); Python"
        f" {platform.python_version()}, {versions}; {setup.wrk}",
        f"- wrk: {CONNECTIONS} connections, {THREADS} threads, {setup.seconds} s per run after a"
        f" warm-up; one uvicorn worker each with {setup.pool} database connections, production"
        " settings, rate limits off",
        "",
        "| workload | form | floor req/s | floor p50 / p99 ms | req/s | p50 ms | p99 ms"
        " | ratio | p99 / p50 |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        f, s = r.floor, r.server
        lines.append(
            f"| {r.workload} | {r.form} | {f.rps:.0f} | {f.p50_ms:.1f} / {f.p99_ms:.1f}"
            f" | {s.rps:.0f} | {s.p50_ms:.1f} | {s.p99_ms:.1f} | {_ratio(s.rps, f.rps, 3)}"
            f" | {_ratio(s.p99_ms, s.p50_ms, 1)} |"
        )
    return "\n".join(lines) + "\n"


def write(path: Path, text: str) -> None:
    """Replace the latest run in `path`, keeping what comes before the marker."""
    kept = path.read_text().split(MARKER, 1)[0].rstrip() if path.exists() else "# Benchmarks"
    path.write_text(f"{kept}\n\n{MARKER}\n{text}")
