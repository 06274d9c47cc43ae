"""GraphQL workspaces: the `Workspace` type, `workspace(slug:)`, `node(id:)` for workspaces,
and `WorkspaceMutation` (workspace and member mutations).

Resolvers only translate; every rule lives in `gateway.services.workspaces` and
`gateway.services.members`, shared with REST.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from gateway.core.ids import pk_of
from gateway.core.paging import PageArgs
from gateway.core.validation import validated
from gateway.reads import nouns
from gateway.services import workspaces
from gateway.services.workspaces import WorkspaceCreate, WorkspacePatch
from schema.connection import Connection, Paged
from schema.context import Context
from schema.declared import declared, values
from schema.inputs import given
from schema.lookup import register_node
from schema.members import MemberMutation, Membership, Role
from schema.node import Node

if TYPE_CHECKING:
    from schema.events import Event
    from schema.invitations import Invitation
    from schema.projects import Project
    from schema.webhooks import Webhook


@declared(nouns.WORKSPACE, "A tenant: it holds projects and has members.", {"viewer_role": Role})
class Workspace(Node):
    pk: strawberry.Private[int]

    @strawberry.field(description="The members, in the order they joined.", extensions=[Paged()])
    async def members(self, info: Info[Context, None], paging: PageArgs) -> Connection[Membership]:
        return await info.context.loaders.workspace_members(self.pk, paging)

    @strawberry.field(
        description="The invitations awaiting an answer, newest first, expired ones included."
        " Null, with FORBIDDEN, unless you are an admin.",
        extensions=[Paged()],
    )
    async def invitations(
        self, info: Info[Context, None], paging: PageArgs
    ) -> Connection[Annotated[Invitation, strawberry.lazy("schema.invitations")]] | None:
        return await info.context.loaders.workspace_invitations(self.pk, paging)

    @strawberry.field(
        description="The webhooks, oldest first. Null, with FORBIDDEN, unless you are an admin.",
        extensions=[Paged()],
    )
    async def webhooks(
        self, info: Info[Context, None], paging: PageArgs
    ) -> Connection[Annotated[Webhook, strawberry.lazy("schema.webhooks")]] | None:
        return await info.context.loaders.workspace_webhooks(self.pk, paging)

    @strawberry.field(description="The workspace's projects, by key.", extensions=[Paged()])
    async def projects(
        self, info: Info[Context, None], paging: PageArgs
    ) -> Connection[Annotated[Project, strawberry.lazy("schema.projects")]]:
        return await info.context.loaders.workspace_projects(self.pk, paging)

    @strawberry.field(
        description="The workspace's activity feed, newest first.", extensions=[Paged()]
    )
    async def events(
        self, info: Info[Context, None], paging: PageArgs
    ) -> Connection[Annotated[Event, strawberry.lazy("schema.events")]]:
        return await info.context.loaders.workspace_events(self.pk, paging)

    @classmethod
    def of(cls, view: workspaces.WorkspaceView) -> Workspace:
        return cls(**values(cls, view), pk=view.pk)


async def workspaces_by_pk(info: Info[Context, None], pks: list[int]) -> list[Node | None]:
    """`node(id:)` for workspaces: visibility is the service's call."""
    views = await workspaces.visible_by_pk(info.context.viewer, pks)
    return [None if v is None else Workspace.of(v) for v in views]


register_node("Workspace", workspaces_by_pk)


@strawberry.type
class WorkspaceQuery:
    @strawberry.field(
        description="A workspace by slug. Null, with a NOT_FOUND error, when it does not exist"
        " or you are not a member (the two are indistinguishable)."
    )
    async def workspace(self, info: Info[Context, None], slug: str) -> Workspace | None:
        return Workspace.of(await workspaces.get_workspace(info.context.viewer, slug))


@strawberry.input(description="A new workspace; you become its owner.")
class CreateWorkspaceInput:
    slug: str = strawberry.field(description="Unique; a-z, 0-9 and `-`, 2 to 39 long.")
    name: str = strawberry.field(description="1 to 100 characters, trimmed.")


@strawberry.input(description="Changes to a workspace; omitted fields stay as they are.")
class UpdateWorkspaceInput:
    id: strawberry.ID = strawberry.field(description="The workspace's global ID.")
    slug: str | None = strawberry.field(default=strawberry.UNSET, description="A new slug.")
    name: str | None = strawberry.field(default=strawberry.UNSET, description="A new name.")


@strawberry.input(description="The workspace to delete.")
class DeleteWorkspaceInput:
    id: strawberry.ID = strawberry.field(description="The workspace's global ID.")


@strawberry.type(description="The result of `createWorkspace`.")
class CreateWorkspacePayload:
    workspace: Workspace = strawberry.field(description="The new workspace.")


@strawberry.type(description="The result of `updateWorkspace`.")
class UpdateWorkspacePayload:
    workspace: Workspace = strawberry.field(description="The workspace, changed.")


@strawberry.type(description="The result of `deleteWorkspace`.")
class DeleteWorkspacePayload:
    deleted_id: strawberry.ID = strawberry.field(description="The workspace's global ID.")


@strawberry.type
class WorkspaceMutation(MemberMutation):
    @strawberry.mutation(
        description="Create a workspace with you as its owner. CONFLICT when the slug is taken."
        " A personal access token needs the `admin` scope."
    )
    async def create_workspace(
        self, info: Info[Context, None], input: CreateWorkspaceInput
    ) -> CreateWorkspacePayload | None:
        data = validated(WorkspaceCreate, {"slug": input.slug, "name": input.name})
        view = await workspaces.create_workspace(info.context.viewer, data)
        return CreateWorkspacePayload(workspace=Workspace.of(view))

    @strawberry.mutation(
        description="Rename a workspace or change its slug (owners only). CONFLICT when the"
        " new slug is taken."
    )
    async def update_workspace(
        self, info: Info[Context, None], input: UpdateWorkspaceInput
    ) -> UpdateWorkspacePayload | None:
        patch = validated(WorkspacePatch, given(slug=input.slug, name=input.name))
        workspace = pk_of(input.id, "Workspace")
        view = await workspaces.update_workspace(info.context.viewer, workspace, patch)
        return UpdateWorkspacePayload(workspace=Workspace.of(view))

    @strawberry.mutation(
        description="Delete a workspace with everything in it (owners only). Cannot be undone."
    )
    async def delete_workspace(
        self, info: Info[Context, None], input: DeleteWorkspaceInput
    ) -> DeleteWorkspacePayload | None:
        deleted = await workspaces.delete_workspace(
            info.context.viewer, pk_of(input.id, "Workspace")
        )
        return DeleteWorkspacePayload(deleted_id=strawberry.ID(workspaces.node_id(deleted)))
