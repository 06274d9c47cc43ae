"""GraphQL events: the `Event` type, `Workspace.events` (via `workspace_events`) and
`node(id:)` for events.

An event outlives what it describes: its project or issue may be gone, so those fields are
nullable, and its actor is null once the account is deleted. Every relation goes through the
request's DataLoaders, shared with the modules that own the related types. Rules live in
`gateway.services.feed`, shared with REST's `GET /workspaces/{slug}/events`.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from gateway.core.paging import PageArgs
from gateway.reads import nouns
from gateway.services import feed, nested_reads
from schema.comments import issue_loader, user_loader
from schema.connection import Connection, to_connection
from schema.context import Context
from schema.declared import declared, values
from schema.loaders import nested_page
from schema.lookup import register_node
from schema.node import Node
from schema.projects import Project, project_loader
from schema.users import User

if TYPE_CHECKING:
    from schema.issues import Issue


@declared(nouns.EVENT, "One committed change in a workspace (the activity feed).")
class Event(Node):
    pk: strawberry.Private[int]
    actor_pk: strawberry.Private[int | None]
    project_pk: strawberry.Private[int | None]
    issue_pk: strawberry.Private[int | None]

    @classmethod
    def of(cls, view: feed.EventView) -> Event:
        return cls(
            **values(cls, view),
            pk=view.pk,
            actor_pk=view.actor_id,
            project_pk=view.project_pk,
            issue_pk=view.issue_pk,
        )

    @strawberry.field(description="Who made the change; null once that account is gone.")
    async def actor(self, info: Info[Context, None]) -> User | None:
        if self.actor_pk is None:
            return None
        view = await user_loader(info).load(self.actor_pk)
        return None if view is None else User.of(view)

    @strawberry.field(
        description="The project concerned; null when none is, or it has since been deleted."
    )
    async def project(self, info: Info[Context, None]) -> Project | None:
        if self.project_pk is None:
            return None
        view = await project_loader(info).load(self.project_pk)
        return None if view is None else Project.of(view)

    @strawberry.field(
        description="The issue concerned; null when none is, or it has since been deleted."
    )
    async def issue(
        self, info: Info[Context, None]
    ) -> Annotated[Issue, strawberry.lazy("schema.issues")] | None:
        from schema.issues import Issue

        if self.issue_pk is None:
            return None
        view = await issue_loader(info).load(self.issue_pk)
        return None if view is None else Issue.of(view)


async def events_by_pk(info: Info[Context, None], pks: list[int]) -> list[Node | None]:
    """`node(id:)` for events: null unless the caller may read the event's workspace."""
    views = await feed.visible_by_pk(info.context.viewer, pks)
    return [None if v is None else Event.of(v) for v in views]


register_node("Event", events_by_pk)


async def workspace_events(
    info: Info[Context, None],
    workspace_id: int,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Connection[Event]:
    """The resolver of `Workspace.events`: the workspace's activity feed, newest first,
    batched for every workspace at this query level."""
    paging = PageArgs(first=first, after=after, last=last, before=before)
    pages = partial(nested_reads.event_pages, info.context.viewer, **paging)
    totals = info.context.loaders.loader("workspace.events.count", nested_reads.event_counts)
    page = await nested_page(
        info.context.loaders, "workspace.events", workspace_id, paging, pages, totals
    )
    return to_connection(page, lambda row: Event.of(feed.row_view(row)))
