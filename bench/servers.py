"""The servers under test: one uvicorn worker each, on a free loopback port."""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_up(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: exited with status {process.returncode}")
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url}: did not start in 60 s")


@contextmanager
def serving(name: str, app: list[str], env: dict[str, str], cwd: Path = ROOT) -> Iterator[str]:
    """Run one uvicorn worker (importing `app` from `cwd`) on a free loopback port for the
    duration of the block; its output goes to a log file in the temp directory."""
    port = free_port()
    args = [str(BIN / "uvicorn"), *app, "--port", str(port), "--no-access-log"]
    log = Path(tempfile.gettempdir()) / f"switchyard-bench-{name}.log"
    print(f"{name}: 127.0.0.1:{port}, log {log}", flush=True)
    with log.open("wb") as out:
        process = subprocess.Popen(args, env=env, cwd=cwd, stdout=out, stderr=out)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_up(f"{base}/healthz", process)
        yield base
    finally:
        stop(process, timeout=15)


def stop(process: subprocess.Popen[bytes], timeout: float) -> None:
    """SIGTERM, then SIGKILL if it has not exited within `timeout` seconds."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
