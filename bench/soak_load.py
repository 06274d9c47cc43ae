"""The soak's load: one wrk run per window, a mix of the bench workloads plus writes, paced to
a target rate with wrk's `delay()` (wrk itself is closed-loop), and the server's memory."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from bench.workloads import WORKLOADS, Call
from bench.wrk import _lua

CONNECTIONS, THREADS = 16, 2
# Lua: `requests` cycles through the mix; `delay` paces each connection; `done` prints the
# window's figures on one line (errors include every non-2xx/3xx status).
SCRIPT = """local requests = {{}}
{requests}
local i = 0
request = function()
  i = i + 1
  return requests[(i % #requests) + 1]
end
delay = function()
  return {delay_ms}
end
done = function(summary, latency, _)
  local e = summary.errors
  io.write(string.format("SOAK %d %d %d %d %d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99),
    e.status + e.connect + e.read + e.write + e.timeout))
end
"""


@dataclass(frozen=True, slots=True)
class Window:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int
    rss_mib: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


def mix(write_path: str) -> list[Call]:
    """Every bench read (REST and GraphQL), and one comment written per eight requests."""
    reads = [w.server for w in WORKLOADS]
    write = Call("POST", write_path, b'{"body": "soak comment"}')
    return [*reads, *reads[:1], write]


def write_script(path: Path, calls: list[Call], headers: dict[str, str], delay_ms: int) -> Path:
    header_table = "{" + ", ".join(f"[{_lua(k)}] = {_lua(v)}" for k, v in headers.items()) + "}"
    lines = "\n".join(
        f"requests[{n + 1}] = wrk.format({_lua(c.method)}, {_lua(c.path)}, {header_table},"
        f" {_lua(c.body.decode()) if c.body else 'nil'})"
        for n, c in enumerate(calls)
    )
    path.write_text(SCRIPT.format(requests=lines, delay_ms=max(0, delay_ms)))
    return path


def rss_mib(root_pid: int) -> float:
    """Resident memory of a process and all its descendants (the supervisor and workers)."""
    total_kib = 0
    pending = [root_pid]
    while pending:
        pid = pending.pop()
        try:
            status = Path(f"/proc/{pid}/status").read_text()
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total_kib += int(line.split()[1])
        pending.extend(int(child) for child in children)
    return total_kib / 1024


def run_window(base: str, script: Path, seconds: int, server_pid: int) -> Window:
    """`seconds` of paced load; the figures, and the server's memory right after."""
    command = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{seconds}s", "--timeout", "10s"]
    out = subprocess.run(
        [*command, "-s", str(script), base], check=True, capture_output=True, text=True
    ).stdout
    line = next(line for line in out.splitlines() if line.startswith("SOAK "))
    requests, duration_us, p50_us, p99_us, errors = map(int, line.split()[1:])
    return Window(
        requests, duration_us / 1e6, p50_us / 1000, p99_us / 1000, errors, rss_mib(server_pid)
    )
