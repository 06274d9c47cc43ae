"""GraphQL subscriptions (graphql-transport-ws on `/graphql`): `issueEvents` and
`workspaceEvents`.

Resolvers only translate; the rules (access at subscribe time and as events flow, replay with
`after`, the bounded inbox) live in `gateway.services.streams`. Access is checked before the
stream is handed to Strawberry, so a refusal is the operation's `error` message, with the same
code a query gets.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry
from strawberry.types import Info

from gateway.services import streams
from schema.context import Context
from schema.events import Event


async def _events(context: Context, stream: streams.EventStream) -> AsyncGenerator[Event, None]:
    async for view in stream:
        # Fresh loaders for each event: its fields are read as of this event, not from a cache
        # as old as the subscription.
        context.start_operation()
        yield Event.of(view)


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description=(
            "The events of one project (its issues, comments and labels, and the project"
            " itself) in commit order, as they are committed by any server process. With"
            " `after` (an event of this project), first replays those committed since, so a"
            " client that reconnects misses nothing. Ends with an error when the caller may no"
            " longer read the project, or falls too far behind (resume with `after`)."
        )
    )
    async def issue_events(
        self,
        info: Info[Context, None],
        project: strawberry.ID,
        after: strawberry.ID | None = None,
    ) -> AsyncGenerator[Event, None]:
        stream = await streams.project_stream(
            info.context.viewer, project, after, info.context.settings
        )
        return _events(info.context, stream)

    @strawberry.subscription(
        description=(
            "Every event of a workspace in commit order, as they are committed by any server"
            " process. With `after` (an event of this workspace), first replays those committed"
            " since. Ends with an error when the caller is removed from the workspace, or falls"
            " too far behind (resume with `after`)."
        )
    )
    async def workspace_events(
        self,
        info: Info[Context, None],
        workspace: str,
        after: strawberry.ID | None = None,
    ) -> AsyncGenerator[Event, None]:
        stream = await streams.workspace_stream(
            info.context.viewer, workspace, after, info.context.settings
        )
        return _events(info.context, stream)
