"""Event streams (GraphQL subscriptions): what each covers and the rules it keeps.

A stream is a workspace's events, or one project's, in commit order as they are committed.
Opening one checks access exactly as a query would (NOT_FOUND for an unknown or invisible
workspace or project). With `after` (an event of that stream), it first replays what the Event
table holds past that event, then goes live without a gap or a duplicate: the live inbox is
registered *before* the replay reads, and live events the replay already gave are dropped by id.
Access is checked again as events flow: on every removal of a member or deletion of a project,
and at least every `subscription_recheck_seconds`; a caller who may no longer read the stream
gets the same NOT_FOUND and the stream ends. A subscriber that falls behind (a bounded inbox,
`gateway.realtime.hub`) is told to resume with `after`.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from gateway.core.errors import NotFound, ServiceUnavailable, ValidationFailed
from gateway.core.ids import pk_of
from gateway.core.settings import Settings
from gateway.realtime import runtime
from gateway.realtime.hub import Hub, Inbox, Interrupted
from gateway.repositories import events as event_repo
from gateway.security.principal import Principal
from gateway.services import projects
from gateway.services.access import Action, authorize
from gateway.services.feed import EventView, node_id, row_view

__all__ = ["EventStream", "load_views", "project_stream", "workspace_stream"]

REPLAY_PAGE: Final = 100
# Replayed ids kept to drop their live duplicates. Only events committed while the replay ran
# can come both ways, and they are the newest the replay read.
DEDUPE_WINDOW: Final = 10_000
# Events after which the caller's access is checked again before anything else is delivered.
ACCESS_CHANGES: Final = frozenset({"member.removed", "member.role_changed", "project.deleted"})


async def load_views(ids: Sequence[int]) -> Mapping[int, EventView]:
    """The hub's reader: announced events by id, one statement."""
    return {pk: row_view(row) for pk, row in (await event_repo.by_ids(ids)).items()}


@dataclass(frozen=True, slots=True)
class StreamScope:
    """What one stream covers, and how to check that its caller may still read it."""

    workspace_id: int
    project_id: int | None
    recheck: Callable[[], Awaitable[object]]

    def includes(self, view: EventView) -> bool:
        return self.project_id is None or view.project_pk == self.project_id

    def wants(self, view: EventView) -> bool:
        """What the inbox keeps: the stream's events, and what may end the caller's access."""
        return self.includes(view) or view.type in ACCESS_CHANGES


class _RecentIds:
    """A set of the last `size` ids added."""

    def __init__(self, size: int) -> None:
        self._order: deque[int] = deque()
        self._members: set[int] = set()
        self._size = size

    def add(self, pk: int) -> None:
        self._order.append(pk)
        self._members.add(pk)
        if len(self._order) > self._size:
            self._members.discard(self._order.popleft())

    def __contains__(self, pk: object) -> bool:
        return pk in self._members


class EventStream:
    """An opened stream: iterate it once for its events (replay, then live)."""

    def __init__(
        self, scope: StreamScope, after: int | None, hub: Hub[EventView], settings: Settings
    ) -> None:
        self._scope = scope
        self._after = after
        self._hub = hub
        self._settings = settings
        # The global ID to resume from: the last event handed out, else `after` itself.
        self._last = None if after is None else node_id(after)

    async def __aiter__(self) -> AsyncIterator[EventView]:
        settings, hub = self._settings, self._hub
        # Registered before the replay reads: whatever commits from here on is caught live.
        inbox = hub.subscribe(
            self._scope.workspace_id, self._scope.wants, settings.subscription_queue_size
        )
        try:
            replayed = _RecentIds(DEDUPE_WINDOW)
            if self._after is not None:
                async for view in self._replay(self._after):
                    replayed.add(view.pk)
                    yield self._handed_out(view)
            async for view in self._live(inbox):
                if view.pk not in replayed:
                    yield self._handed_out(view)
        finally:
            hub.unsubscribe(inbox)

    async def _live(self, inbox: Inbox[EventView]) -> AsyncIterator[EventView]:
        """The inbox's events of this stream, the caller's access checked again on the way."""
        idle = self._settings.subscription_recheck_seconds
        checked = time.monotonic()
        while True:
            try:
                view = await inbox.next(idle)
            except Interrupted as exc:
                raise self._resume_error(str(exc)) from None
            stale = time.monotonic() - checked >= idle
            if view is None or stale or view.type in ACCESS_CHANGES:
                await self._scope.recheck()
                checked = time.monotonic()
            if view is not None and self._scope.includes(view):
                yield view

    async def _replay(self, after: int) -> AsyncIterator[EventView]:
        scope = self._scope
        while True:
            rows = await event_repo.committed_after(
                scope.workspace_id, after, project_id=scope.project_id, limit=REPLAY_PAGE
            )
            for row in rows:
                yield row_view(row)
            if len(rows) < REPLAY_PAGE:
                return
            after = int(rows[-1]["id"])

    def _handed_out(self, view: EventView) -> EventView:
        self._last = view.node_id
        return view

    def _resume_error(self, reason: str) -> ServiceUnavailable:
        how = (
            f'subscribe again with after: "{self._last}"'
            if self._last is not None
            else "subscribe again with `after` set to the last event received"
        )
        return ServiceUnavailable(f"The stream ended because {reason}; {how} to resume")


def _live_hub() -> Hub[EventView]:
    broker = runtime.current()
    if broker is None or not broker.transport.connected:
        raise ServiceUnavailable("Live events are unavailable right now; retry shortly")
    hub: Hub[EventView] = broker.hub
    return hub


async def _after_pk(after: str | None, scope: StreamScope) -> int | None:
    """The id of `after`, which must name an event of the stream (VALIDATION_FAILED)."""
    if after is None:
        return None
    refused = ValidationFailed.on("after", "is not the ID of an event of this stream")
    try:
        pk = pk_of(after, "Event")
    except NotFound:
        raise refused from None
    row = (await event_repo.by_ids([pk])).get(pk)
    if row is None or int(row["workspace_id"]) != scope.workspace_id:
        raise refused
    if scope.project_id is not None and row["project_id"] != scope.project_id:
        raise refused
    return pk


async def workspace_stream(
    principal: Principal, slug: str, after: str | None, settings: Settings
) -> EventStream:
    """Every event of workspace `slug`; NOT_FOUND when it is invisible to the caller."""
    access = await authorize(principal, slug, Action.read)
    workspace_id = access.workspace.id

    async def recheck() -> object:
        return await authorize(principal, workspace_id, Action.read)

    scope = StreamScope(workspace_id, None, recheck)
    return EventStream(scope, await _after_pk(after, scope), _live_hub(), settings)


async def project_stream(
    principal: Principal, project: str, after: str | None, settings: Settings
) -> EventStream:
    """The events of one project (its issues, comments and labels, and the project itself),
    named by global ID; NOT_FOUND when it does not exist or is invisible to the caller."""
    _, row = await projects.locate(principal, pk_of(project, "Project"), Action.read)
    project_id = row.id

    async def recheck() -> object:
        return await projects.locate(principal, project_id, Action.read)

    scope = StreamScope(row.workspace_id, project_id, recheck)
    return EventStream(scope, await _after_pk(after, scope), _live_hub(), settings)
