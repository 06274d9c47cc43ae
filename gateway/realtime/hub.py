"""One process's side of the fan-out: announcements in, rows read once, bounded inboxes out.

Transports hand the hub `Notice`s (an event's workspace and id) in commit order. The hub reads
the rows of those a local subscriber cares about, in one statement per batch, and offers each
row to the inboxes registered for its workspace, in the same order. An inbox holds at most
`capacity` rows: a subscriber that falls that far behind is interrupted (it resumes with
`after`), so a slow consumer costs a bounded amount of memory, and so does the hub's own queue.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

logger = logging.getLogger("gateway.realtime")

# Announcements waiting for the hub; past this the hub has fallen behind the database.
BACKLOG = 10_000


class Streamed(Protocol):
    """What the hub needs of a row: its id and its workspace."""

    @property
    def pk(self) -> int: ...

    @property
    def workspace_pk(self) -> int: ...


T = TypeVar("T", bound=Streamed)


@dataclass(frozen=True, slots=True)
class Notice:
    """All a transport carries: event `event_id` of workspace `workspace_id` has committed."""

    workspace_id: int
    event_id: int

    def encode(self) -> str:
        return f"{self.workspace_id}:{self.event_id}"

    @classmethod
    def decode(cls, payload: str | bytes) -> Notice | None:
        """The notice in `payload`, or None when it is not one of ours."""
        text = payload.decode() if isinstance(payload, bytes) else payload
        workspace, _, event = text.partition(":")
        if not (workspace.isdigit() and event.isdigit()):
            return None
        return cls(int(workspace), int(event))


class Interrupted(Exception):
    """The stream cannot go on without a gap; the message says why."""


class Inbox(Generic[T]):
    """The rows waiting for one subscriber, at most `capacity` of them."""

    def __init__(self, workspace_id: int, accepts: Callable[[T], bool], capacity: int) -> None:
        self.workspace_id = workspace_id
        self.accepts = accepts
        self.capacity = capacity
        self._rows: deque[T] = deque()
        self._ready = asyncio.Event()
        self._interruption: Interrupted | None = None

    def offer(self, row: T) -> None:
        if self._interruption is not None or not self.accepts(row):
            return
        if len(self._rows) >= self.capacity:
            self._rows.clear()  # nobody will read them now: free the memory at once
            self.interrupt(f"this subscription fell more than {self.capacity} events behind")
            return
        self._rows.append(row)
        self._ready.set()

    def interrupt(self, reason: str) -> None:
        if self._interruption is None:
            self._interruption = Interrupted(reason)
            self._ready.set()

    async def next(self, idle_seconds: float) -> T | None:
        """The next row; None when none came within `idle_seconds`; `Interrupted` once the
        stream cannot continue without a gap."""
        while not self._rows:
            if self._interruption is not None:
                raise self._interruption
            self._ready.clear()
            try:
                await asyncio.wait_for(self._ready.wait(), idle_seconds)
            except TimeoutError:
                return None
        if self._interruption is not None:
            raise self._interruption
        return self._rows.popleft()


Loader = Callable[[Sequence[int]], Awaitable[Mapping[int, T]]]


class Hub(Generic[T]):
    """Local subscribers by workspace, fed from announcements in commit order."""

    def __init__(self, load: Loader[T]) -> None:
        self._load = load
        self._inboxes: dict[int, set[Inbox[T]]] = {}
        self._notices: asyncio.Queue[Notice] = asyncio.Queue(BACKLOG)
        self._task: asyncio.Task[None] | None = None
        self._closing: str | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="realtime-hub")

    async def stop(self) -> None:
        self.interrupt_all("the server is shutting down")
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    def subscribe(self, workspace_id: int, accepts: Callable[[T], bool], capacity: int) -> Inbox[T]:
        inbox = Inbox(workspace_id, accepts, capacity)
        if self._closing is not None:  # draining: a new stream ends at once, with the hint
            inbox.interrupt(self._closing)
        self._inboxes.setdefault(workspace_id, set()).add(inbox)
        return inbox

    def unsubscribe(self, inbox: Inbox[T]) -> None:
        inboxes = self._inboxes.get(inbox.workspace_id)
        if inboxes is not None:
            inboxes.discard(inbox)
            if not inboxes:
                del self._inboxes[inbox.workspace_id]

    @property
    def subscribers(self) -> int:
        return sum(len(inboxes) for inboxes in self._inboxes.values())

    def notify(self, notice: Notice) -> None:
        """Take one announcement (from a transport callback: never blocks)."""
        if notice.workspace_id not in self._inboxes:
            return  # nobody here listens to that workspace
        try:
            self._notices.put_nowait(notice)
        except asyncio.QueueFull:
            self._drop_backlog()

    def interrupt_all(self, reason: str) -> None:
        """End every local stream (the transport lost announcements, or shutdown)."""
        for inboxes in self._inboxes.values():
            for inbox in inboxes:
                inbox.interrupt(reason)

    def close_for_restart(self, reason: str) -> None:
        """End every stream, present and to come, with `reason` (graceful shutdown)."""
        self._closing = reason
        self.interrupt_all(reason)

    def _drop_backlog(self) -> None:
        while not self._notices.empty():
            self._notices.get_nowait()
        self.interrupt_all("the server fell behind the event stream")

    async def _run(self) -> None:
        while True:
            batch = [await self._notices.get()]
            while not self._notices.empty():
                batch.append(self._notices.get_nowait())
            await self._deliver(batch)

    async def _deliver(self, batch: list[Notice]) -> None:
        wanted = [n for n in batch if n.workspace_id in self._inboxes]
        if not wanted:
            return
        try:
            rows = await self._load([n.event_id for n in wanted])
        except Exception:
            logger.exception("reading announced events failed")
            for workspace_id in {n.workspace_id for n in wanted}:
                for inbox in self._inboxes.get(workspace_id, ()):
                    inbox.interrupt("the server could not read new events")
            return
        for notice in wanted:
            row = rows.get(notice.event_id)
            # Missing: rolled back after all. Another workspace: not an announcement of ours.
            if row is None or row.workspace_pk != notice.workspace_id:
                continue
            for inbox in list(self._inboxes.get(notice.workspace_id, ())):
                inbox.offer(row)
