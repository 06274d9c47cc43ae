"""Read replicas (issue 11, item 6) with a real streaming replica: a throwaway primary, a
standby made from it with `pg_basebackup`, and `gateway serve` on both. Reads (compiled REST
and GraphQL reads included) go to the replica, writes to the primary, and a principal reads
its own writes right after making them. Plus the routing rules and the settings, in-process."""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path

import asyncpg
import httpx
import pytest
from pydantic import ValidationError
from redis.asyncio import Redis

from gateway.core import replicas
from gateway.core.settings import Settings
from tests import pg_cluster
from tests.environment import child_environment
from tests.gateway_process import GATEWAY, bootstrap, serving

# Real processes and servers: left out of the inner loop by `pytest -m "not slow"`.
pytestmark = pytest.mark.slow

ISSUES = "issues"  # named by every statement that reads or writes issues


def test_an_invalid_replica_url_refuses_to_start() -> None:
    primary = "postgres://u@db:5432/app"
    for bad in ("mysql://u@db/app", "postgres:///nohost", "postgres://u@db:notaport/app"):
        with pytest.raises(ValidationError, match="GATEWAY_DATABASE_REPLICA_URL"):
            Settings(database_url=primary, database_replica_url=bad)
    with pytest.raises(ValidationError, match="on PostgreSQL too"):
        Settings(database_url="sqlite://x.db", database_replica_url=primary)
    assert Settings(database_url=primary, database_replica_url="").database_replica_url is None


def test_serve_refuses_an_invalid_replica_url_in_one_line(tmp_path: Path) -> None:
    env = child_environment() | {
        "GATEWAY_DATABASE_URL": "postgres://postgres@127.0.0.1:1/x",
        "GATEWAY_DATABASE_REPLICA_URL": "postgres://replica:notaport/x",
    }
    result = subprocess.run(
        [GATEWAY, "serve", "--port", "1"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    [line] = result.stderr.splitlines()  # before any connection attempt, no traceback
    assert line == "Error: refusing to start: GATEWAY_DATABASE_REPLICA_URL has an invalid port"


def test_reads_route_to_the_replica_until_the_principal_writes() -> None:
    now = [100.0]
    replica = replicas.Replica("postgres://r/app", 5.0, clock=lambda: now[0])
    principal = b"ada"
    assert replica.may_read_here(principal)
    route = replicas.Route(True, on_write=lambda: replica.remember_write(principal))
    token = replicas._route.set(route)
    try:
        assert replicas.choose_replica("SELECT 1")
        assert replicas.choose_replica("  with x as (select 1) select * from x")
        assert not replicas.choose_replica("INSERT INTO t VALUES (1)")
        assert not replicas.choose_replica("SELECT 1")  # this request wrote: primary now
    finally:
        replicas._route.reset(token)
    assert not replica.may_read_here(principal)  # its next reads too, for a while
    now[0] += 5.1
    assert replica.may_read_here(principal)
    assert not replicas.choose_replica("SELECT 1")  # outside a request: the primary


@pytest.mark.skipif(not os.environ.get("GATEWAY_TEST_REDIS_URL"), reason="needs Redis")
async def test_writers_are_shared_by_every_process_through_redis() -> None:
    """Two processes' `Replica`s on one Redis: a write through one sends the principal's reads
    through the other to the primary for the window, and no one else's."""
    url = os.environ["GATEWAY_TEST_REDIS_URL"]
    namespace = f"test:writers:{os.getpid()}:"
    one, other = (
        replicas.Replica("postgres://r/app", 0.3, shared=Redis.from_url(url), namespace=namespace)
        for _ in range(2)
    )
    try:
        assert await other.may_read(b"ada")
        await one.share_write(b"ada")
        assert not await other.may_read(b"ada")
        assert await other.may_read(b"bob")
        await asyncio.sleep(0.4)  # the window, kept by Redis itself
        assert await other.may_read(b"ada")
    finally:
        for replica in (one, other):
            assert replica.shared is not None
            await replica.shared.aclose()


@pytest.mark.skipif(
    not os.environ.get("GATEWAY_TEST_DATABASE_URL"),
    reason="process-heavy: runs with the PostgreSQL suite (GATEWAY_TEST_DATABASE_URL)",
)
async def test_reads_go_to_a_streaming_replica_writes_to_the_primary(tmp_path: Path) -> None:
    with (
        pg_cluster.workspace() as (bin_dir, root, owner),
        pg_cluster.primary(root, bin_dir, owner) as primary,
        pg_cluster.standby(primary) as standby,
    ):
        extra = {
            "GATEWAY_DATABASE_REPLICA_URL": standby.url,
            "GATEWAY_READ_YOUR_WRITES_SECONDS": "2",
            "GATEWAY_SHUTDOWN_DRAIN_SECONDS": "0",
        }
        async with (
            serving(primary.url, tmp_path / "server.log", extra) as served,
            httpx.AsyncClient(base_url=served.base, timeout=30) as http,
        ):
            writer = await bootstrap(http)
            # Read-your-writes: straight after its write, the writer reads from the primary,
            # however far behind the replica is.
            created = await http.post(
                writer.issues, json={"title": "fresh"}, headers=writer.headers
            )
            assert created.status_code == 201, created.text
            number = created.json()["number"]
            own = await http.get(f"{writer.issues}/{number}", headers=writer.headers)
            assert own.status_code == 200
            assert own.json()["title"] == "fresh"
            # Once the window has passed, its reads go to the replica; the primary sees none.
            await _wait_replayed(primary.url, standby.url)
            await asyncio.sleep(2.1)
            primary_mark, replica_mark = primary.log_size(), standby.log_size()
            for _ in range(10):
                listed = await http.get(writer.issues, headers=writer.headers)
                assert listed.status_code == 200
                assert [i["title"] for i in listed.json()["items"]] == ["fresh"]
                one = await http.get(f"{writer.issues}/{number}", headers=writer.headers)
                assert one.status_code == 200
            query = (
                f'{{ project(workspace: "{writer.slug}", key: "OPS")'
                " { issues(first: 5) { nodes { title } } } }"
            )
            answer = await http.post("/graphql", json={"query": query}, headers=writer.headers)
            assert answer.json()["data"]["project"]["issues"]["nodes"] == [{"title": "fresh"}]
            on_primary = primary.statements_since(primary_mark, ISSUES)
            on_replica = standby.statements_since(replica_mark, ISSUES)
            primary_mark = primary.log_size()
            # A write still goes to the primary (the replica is read-only: it would fail).
            again = await http.post(writer.issues, json={"title": "second"}, headers=writer.headers)
            assert again.status_code == 201, again.text
            listed = await http.get(writer.issues, headers=writer.headers)
            assert sorted(i["title"] for i in listed.json()["items"]) == ["fresh", "second"]
            writes_on_primary = primary.statements_since(primary_mark, 'INSERT INTO "issues"')

    assert on_replica >= 21, on_replica  # 10 lists, 10 details, 1 GraphQL read
    assert on_primary == 0, on_primary
    assert writes_on_primary == 1


async def _wait_replayed(primary_url: str, standby_url: str) -> None:
    """Until the standby has replayed everything the primary has written so far."""
    source = await asyncpg.connect(primary_url)
    target = await asyncpg.connect(standby_url)
    try:
        lsn = await source.fetchval("SELECT pg_current_wal_lsn()::text")
        for _ in range(200):
            replayed = await target.fetchval(
                "SELECT pg_last_wal_replay_lsn() >= $1::text::pg_lsn", lsn
            )
            if replayed:
                return
            await asyncio.sleep(0.05)
        raise AssertionError("the standby did not catch up")
    finally:
        await source.close()
        await target.close()
