"""Throwaway PostgreSQL clusters for the fault and replica tests: `initdb` into a temporary
directory, a free loopback port of their own, stopped and deleted afterwards. Never the
machine's main cluster. Tests skip when the server binaries are not installed."""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.environment import free_port

CONF = """
listen_addresses = '127.0.0.1'
port = {port}
unix_socket_directories = '{sockets}'
fsync = off
full_page_writes = off
wal_level = replica
max_wal_senders = 4
hot_standby = on
max_connections = 60
shared_buffers = 16MB
log_statement = 'all'
log_min_messages = warning
"""


def _bin_dir() -> Path | None:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4])
    )
    return Path(found[-1]).parent if found else None


def _owner() -> str | None:
    """The account clusters run as: ourselves, or `postgres` when we are root (initdb
    refuses root)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("postgres").pw_name
    except KeyError:
        pytest.skip("running as root and there is no `postgres` account to run initdb as")


def require_binaries() -> Path:
    """The directory of initdb/pg_ctl/pg_basebackup, or skip the test."""
    found = _bin_dir()
    if found is None:
        pytest.skip("PostgreSQL server binaries (initdb) are not installed")
    return found


@dataclass
class Cluster:
    """One running throwaway cluster."""

    bin_dir: Path
    data: Path
    port: int
    owner: str | None

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str, timeout: float = 60) -> None:
        command: Sequence[str] = [str(self.bin_dir / tool), *args]
        if self.owner is not None:
            command = ["runuser", "-u", self.owner, "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=timeout)

    @property
    def log(self) -> Path:
        return self.data.parent / f"{self.data.name}.log"

    def log_size(self) -> int:
        return self.log.stat().st_size if self.log.exists() else 0

    def statements_since(self, offset: int, marker: str) -> int:
        """Statements logged (`log_statement = 'all'`) since `offset` that mention `marker`."""
        with self.log.open("rb") as log:
            log.seek(offset)
            lines = log.read().decode(errors="replace").splitlines()
        return sum(
            1 for line in lines if marker in line and ("statement:" in line or "execute" in line)
        )

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "30", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "30", "stop")

    def stop_quietly(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
            self.stop("immediate")  # raises when it was not running

    def configure(self) -> None:
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(CONF.format(port=self.port, sockets=self.data.parent))


@contextmanager
def workspace() -> Iterator[tuple[Path, Path, str | None]]:
    """A temporary directory the cluster's account owns; removed afterwards."""
    bin_dir = require_binaries()
    owner = _owner()
    root = Path(tempfile.mkdtemp(prefix="switchyard-pg-"))
    try:
        if owner is not None:
            account = pwd.getpwnam(owner)
            os.chown(root, account.pw_uid, account.pw_gid)
        yield bin_dir, root, owner
    finally:
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def primary(root: Path, bin_dir: Path, owner: str | None) -> Iterator[Cluster]:
    """A fresh primary (trust authentication on loopback, replication allowed)."""
    cluster = Cluster(bin_dir, root / "primary", free_port(), owner)
    cluster._run(
        "initdb", "-D", str(cluster.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
        "--no-sync", "--no-instructions",
    )  # fmt: skip
    cluster.configure()
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop_quietly()


@contextmanager
def standby(source: Cluster) -> Iterator[Cluster]:
    """A streaming replica of `source`, made with pg_basebackup."""
    cluster = Cluster(source.bin_dir, source.data.parent / "standby", free_port(), source.owner)
    cluster._run(
        "pg_basebackup", "-h", "127.0.0.1", "-p", str(source.port), "-U", "postgres",
        "-D", str(cluster.data), "-R", "-X", "stream", "--no-sync",
    )  # fmt: skip
    with (cluster.data / "postgresql.auto.conf").open("a") as conf:
        conf.write(f"port = {cluster.port}\n")
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop_quietly()


def wait_until(check: object, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(check) and check():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")
