"""The soak's load: one wrk run per window, a mix of the bench workloads plus writes, paced to
a target rate with wrk's `delay()` (wrk itself is closed-loop), and the server's memory."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bench.workloads import WORKLOADS, Call
from bench.wrk import SUMMARY, drive, lua

# Lua: `requests` cycles through the mix; `delay` paces each connection; `done` (the bench's
# `SUMMARY`) prints the window's figures on one line.
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
""" + SUMMARY.replace("{", "{{").replace("}", "}}")


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
    header_table = "{" + ", ".join(f"[{lua(k)}] = {lua(v)}" for k, v in headers.items()) + "}"
    lines = "\n".join(
        f"requests[{n + 1}] = wrk.format({lua(c.method)}, {lua(c.path)}, {header_table},"
        f" {lua(c.body.decode()) if c.body else 'nil'})"
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
    s = drive(base, script, seconds)
    return Window(s.requests, s.seconds, s.p50_ms, s.p99_ms, s.errors, rss_mib(server_pid))
