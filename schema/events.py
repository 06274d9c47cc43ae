"""GraphQL events: the `Event` type and `node(id:)` for events. `Workspace.events` is
`schema.loaders.Loaders.workspace_events`.

An event outlives what it describes: its project or issue may be gone, so those fields are
nullable, and its actor is null once the account is deleted. Every relation goes through the
request's loaders. Rules live in `gateway.services.feed`, shared with REST's
`GET /workspaces/{slug}/events`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from gateway.reads import nouns
from gateway.services import feed
from schema.context import Context
from schema.declared import declared, values
from schema.lookup import register_node
from schema.node import Node

if TYPE_CHECKING:
    from schema.issues import Issue
    from schema.projects import Project
    from schema.users import User


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
    async def actor(
        self, info: Info[Context, None]
    ) -> Annotated[User, strawberry.lazy("schema.users")] | None:
        if self.actor_pk is None:
            return None
        return await info.context.loaders.user.load(self.actor_pk)

    @strawberry.field(
        description="The project concerned; null when none is, or it has since been deleted."
    )
    async def project(
        self, info: Info[Context, None]
    ) -> Annotated[Project, strawberry.lazy("schema.projects")] | None:
        if self.project_pk is None:
            return None
        return await info.context.loaders.project.load(self.project_pk)

    @strawberry.field(
        description="The issue concerned; null when none is, or it has since been deleted."
    )
    async def issue(
        self, info: Info[Context, None]
    ) -> Annotated[Issue, strawberry.lazy("schema.issues")] | None:
        if self.issue_pk is None:
            return None
        return await info.context.loaders.issue.load(self.issue_pk)


async def events_by_pk(info: Info[Context, None], pks: list[int]) -> list[Node | None]:
    """`node(id:)` for events: null unless the caller may read the event's workspace."""
    views = await feed.visible_by_pk(info.context.viewer, pks)
    return [None if v is None else Event.of(v) for v in views]


register_node("Event", events_by_pk)
