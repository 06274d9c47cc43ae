"""The fan-out's parts on the suite's own database: announcements only once committed (never
for a rolled-back change, in whichever transport the suite runs), rows read once and offered in
commit order, bounded inboxes."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable, Mapping, Sequence

import pytest
from fastapi import FastAPI
from tortoise.transactions import in_transaction

from gateway.realtime import runtime
from gateway.realtime.commit_hooks import after_commit
from gateway.realtime.hub import Hub, Inbox, Interrupted, Notice
from gateway.realtime.transports import RedisTransport
from gateway.services import recording, streams, workspaces
from gateway.services.feed import EventView
from gateway.services.recording import EventType
from models import Event
from tests.auth_helpers import make_user, principal_of, require_redis


class Rollback(Exception):
    pass


@pytest.fixture
async def inbox(app: FastAPI) -> AsyncIterator[tuple[int, Inbox[EventView]]]:
    """Workspace `acme` and an inbox on the running broker's hub for it."""
    ada = await make_user("ada")
    made = await workspaces.create_workspace(
        principal_of(ada), workspaces.WorkspaceCreate(slug="acme", name="Acme")
    )
    broker = runtime.current()
    assert broker is not None
    # Only what the tests record: workspace.created may still be on its way to the hub.
    listening: Inbox[EventView] = broker.hub.subscribe(
        made.pk, lambda view: view.type == EventType.workspace_updated, 10
    )
    yield made.pk, listening
    broker.hub.unsubscribe(listening)


async def _record(workspace_id: int, subject: str, *, commit: bool) -> None:
    try:
        async with in_transaction() as db:
            await recording.record(workspace_id, None, EventType.workspace_updated, subject, db=db)
            if not commit:
                raise Rollback
    except Rollback:
        pass


async def test_only_committed_events_are_announced(inbox: tuple[int, Inbox[EventView]]) -> None:
    workspace_id, listening = inbox
    await _record(workspace_id, "rolled back", commit=False)
    await _record(workspace_id, "first", commit=True)
    first = await listening.next(2)
    assert first is not None
    assert first.subject_id == "first"
    async with in_transaction() as db:
        async with in_transaction() as inner:  # a savepoint: its end is not the commit
            await recording.record(
                workspace_id, None, EventType.workspace_updated, "second", db=inner
            )
        assert await listening.next(0.2) is None  # not before the outer transaction commits
        assert db is not None
    second = await listening.next(2)
    assert second is not None
    assert second.subject_id == "second"
    assert await listening.next(0.2) is None  # the rolled-back one never comes


async def test_after_commit_runs_in_order_and_only_on_commit() -> None:
    ran: list[str] = []
    async with in_transaction() as db:
        after_commit(db, lambda: ran.append("one"))
        after_commit(db, lambda: ran.append("two"))
        assert ran == []
    assert ran == ["one", "two"]
    with pytest.raises(Rollback):
        await _rolled_back(lambda: ran.append("never"))
    assert ran == ["one", "two"]


async def _rolled_back(callback: Callable[[], None]) -> None:
    async with in_transaction() as db:
        after_commit(db, callback)
        raise Rollback


class _Row:
    def __init__(self, pk: int, workspace_pk: int) -> None:
        self.pk = pk
        self.workspace_pk = workspace_pk


async def test_the_hub_reads_a_batch_once_and_keeps_commit_order() -> None:
    reads: list[list[int]] = []

    async def load(ids: Sequence[int]) -> Mapping[int, _Row]:
        reads.append(list(ids))
        return {pk: _Row(pk, 7 if pk != 3 else 8) for pk in ids if pk != 2}

    hub: Hub[_Row] = Hub(load)
    hub.start()
    try:
        listening = hub.subscribe(7, lambda row: True, 10)
        for pk in (4, 2, 3, 1):  # commit order; 2 rolled back, 3 belongs to workspace 8
            hub.notify(Notice(7, pk))
        hub.notify(Notice(9, 5))  # nobody here listens to workspace 9
        got = [await listening.next(1), await listening.next(1)]
        assert [row.pk if row else None for row in got] == [4, 1]
        assert reads == [[4, 2, 3, 1]]
    finally:
        await hub.stop()


async def test_an_inbox_holds_at_most_its_capacity() -> None:
    inbox: Inbox[_Row] = Inbox(1, lambda row: row.pk % 2 == 1, capacity=2)
    for pk in (1, 2, 3):
        inbox.offer(_Row(pk, 1))  # 2 is not wanted, so two rows fit
    assert [(await inbox.next(1)).pk for _ in range(2)] == [1, 3]  # type: ignore[union-attr]
    for pk in (5, 7, 9):
        inbox.offer(_Row(pk, 1))
    with pytest.raises(Interrupted, match="more than 2 events behind"):
        await inbox.next(1)


def test_notices_decode_only_what_they_encode() -> None:
    assert Notice.decode(Notice(3, 42).encode()) == Notice(3, 42)
    assert Notice.decode(b"3:42") == Notice(3, 42)
    assert Notice.decode("hello") is None
    assert Notice.decode("3:-1") is None


async def test_interrupting_wakes_a_waiting_subscriber() -> None:
    inbox: Inbox[_Row] = Inbox(1, lambda row: True, capacity=2)
    waiting = asyncio.create_task(inbox.next(5))
    await asyncio.sleep(0.01)
    inbox.interrupt("the server lost its event feed")
    with pytest.raises(Interrupted, match="lost its event feed"):
        await waiting


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get("GATEWAY_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")
    require_redis(url)
    return url


async def test_redis_carries_only_what_commits(
    inbox: tuple[int, Inbox[EventView]], redis_url: str
) -> None:
    workspace_id, _ = inbox
    await _record(workspace_id, "over redis", commit=True)
    event = await Event.filter(subject_id="over redis").first()
    assert event is not None
    hub: Hub[EventView] = Hub(streams.load_views)
    transport = RedisTransport(hub, redis_url, f"switchyard-test:{uuid.uuid4().hex}")
    hub.start()
    await transport.start()
    try:
        assert transport.connected
        listening = hub.subscribe(workspace_id, lambda view: True, 10)
        with pytest.raises(Rollback):
            await _announce_then_roll_back(transport, Notice(workspace_id, event.id))
        async with in_transaction() as db:
            await transport.announce(db, Notice(workspace_id, event.id))
        heard = await listening.next(2)
        assert heard is not None
        assert heard.subject_id == "over redis"
        assert await listening.next(0.3) is None  # the rolled-back announcement never went
    finally:
        await transport.stop()
        await hub.stop()


async def _announce_then_roll_back(transport: RedisTransport, notice: Notice) -> None:
    async with in_transaction() as db:
        await transport.announce(db, notice)
        raise Rollback
