"""Drive one URL with `wrk` (compiled, from Debian's packages) and read back req/s, p50, p99.

A generated Lua script sets the method, body and headers, and its `done` hook prints one line
of figures, so nothing is scraped from wrk's human-readable report.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bench.workloads import Call

CONNECTIONS, THREADS = 16, 2
# Every script ends with this hook: one line of figures (errors include every non-2xx/3xx status).
SUMMARY = """
done = function(summary, latency, _)
  local e = summary.errors
  io.write(string.format("FIGURES %d %d %d %d %d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99),
    e.status + e.connect + e.read + e.write + e.timeout))
end
"""
SCRIPT = (
    """wrk.method = {method}
wrk.body = {body}
{headers}
"""
    + SUMMARY
)


@dataclass(frozen=True, slots=True)
class Figures:
    rps: float
    p50_ms: float
    p99_ms: float


@dataclass(frozen=True, slots=True)
class Summary:
    """What a script's `done` hook printed."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int


def ensure_installed() -> None:
    """Install Debian's `wrk` package when `wrk` is missing."""
    if shutil.which("wrk"):
        return
    install = ["apt-get", "install", "-y", "-q", "wrk"]
    if subprocess.run(install, check=False, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], check=True, capture_output=True)
        subprocess.run(install, check=True, capture_output=True)


def version() -> str:
    out = subprocess.run(["wrk", "-v"], check=False, capture_output=True, text=True).stdout
    return out.split("[", 1)[0].strip() or "wrk"


def lua(text: str) -> str:
    """A Lua string literal holding `text`."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def write_script(directory: Path, name: str, call: Call, headers: dict[str, str]) -> Path:
    lines = "\n".join(f"wrk.headers[{lua(k)}] = {lua(v)}" for k, v in headers.items())
    path = directory / f"{name}.lua"
    path.write_text(
        SCRIPT.format(method=lua(call.method), body=lua(call.body.decode()), headers=lines)
    )
    return path


def drive(url: str, script: Path, seconds: int) -> Summary:
    """`seconds` of `wrk` load on `url` with `script` (which ends with `SUMMARY`)."""
    command = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{seconds}s", "--timeout", "10s"]
    out = subprocess.run(
        [*command, "-s", str(script), url], check=True, capture_output=True, text=True
    ).stdout
    line = next(line for line in out.splitlines() if line.startswith("FIGURES "))
    requests, duration_us, p50_us, p99_us, errors = map(int, line.split()[1:])
    return Summary(requests, duration_us / 1e6, p50_us / 1000, p99_us / 1000, errors)


def run(url: str, script: Path, seconds: int) -> Figures:
    """`seconds` of load on `url`; any non-2xx answer or socket error fails the run."""
    summary = drive(url, script, seconds)
    if summary.errors:
        raise RuntimeError(f"{url}: {summary.errors} of {summary.requests} requests failed")
    return Figures(summary.requests / summary.seconds, summary.p50_ms, summary.p99_ms)
