"""GraphQL projects: the `Project` type (with `workspace`, `labels` and `issues`),
`project(workspace:, key:)`, `node(id:)` for projects, and `createProject`, `updateProject`,
`deleteProject`.

Resolvers only translate; every rule lives in `gateway.services.projects`, shared with REST.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from gateway.core.errors import NotFound
from gateway.core.ids import pk_of
from gateway.core.paging import PageArgs
from gateway.core.validation import validated
from gateway.reads import nouns
from gateway.services import issues, projects
from gateway.services.projects import ProjectCreate, ProjectPatch
from schema.connection import Connection, Paged
from schema.context import Context
from schema.declared import declared, values
from schema.inputs import expected_version_field, given
from schema.issue_inputs import IssueFilter, IssueOrder, OrderDirection
from schema.lookup import register_node
from schema.node import Node

if TYPE_CHECKING:
    from schema.issues import Issue
    from schema.labels import Label
    from schema.workspaces import Workspace


@declared(nouns.PROJECT, "A project inside a workspace; it holds labels and issues.")
class Project(Node):
    pk: strawberry.Private[int]
    workspace_pk: strawberry.Private[int]

    @classmethod
    def of(cls, view: projects.ProjectView) -> Project:
        return cls(**values(cls, view), pk=view.pk, workspace_pk=view.workspace_id)

    @strawberry.field(description="The workspace the project belongs to.")
    async def workspace(
        self, info: Info[Context, None]
    ) -> Annotated[Workspace, strawberry.lazy("schema.workspaces")]:
        workspace = await info.context.loaders.workspace.load(self.workspace_pk)
        if workspace is None:  # deleted between reading the project and its workspace
            raise NotFound("No such workspace")
        return workspace

    @strawberry.field(
        description="The project's labels, by name (ignoring case).", extensions=[Paged()]
    )
    async def labels(
        self, info: Info[Context, None], paging: PageArgs
    ) -> Connection[Annotated[Label, strawberry.lazy("schema.labels")]]:
        return await info.context.loaders.project_labels(self.pk, paging)

    @strawberry.field(
        description="The project's issues matching `filter` (open ones when omitted), in"
        " `orderBy` order (by number when omitted).",
        extensions=[Paged()],
    )
    async def issues(
        self,
        info: Info[Context, None],
        paging: PageArgs,
        filter: IssueFilter | None = None,
        order_by: IssueOrder | None = None,
    ) -> Connection[Annotated[Issue, strawberry.lazy("schema.issues")]]:
        # The same list as REST's, in the filter's canonical form (which cursors are bound to).
        where = filter.canonical() if filter is not None else issues.make_filter()
        sort = "number" if order_by is None else str(order_by.field.value)
        descending = order_by is not None and order_by.direction is OrderDirection.DESC
        return await info.context.loaders.project_issues(self.pk, where, sort, descending, paging)


async def projects_by_pk(info: Info[Context, None], pks: list[int]) -> list[Node | None]:
    """`node(id:)` for projects: null unless the caller may read the project's workspace (the
    service decides)."""
    views = await projects.visible_by_pk(info.context.viewer, pks)
    return [None if view is None else Project.of(view) for view in views]


register_node("Project", projects_by_pk)


@strawberry.type
class ProjectQuery:
    @strawberry.field(
        description="A project by workspace slug and key (in any case). Null, with a NOT_FOUND"
        " error, when it does not exist or is invisible to you."
    )
    async def project(self, info: Info[Context, None], workspace: str, key: str) -> Project | None:
        return Project.of(await projects.get_project(info.context.viewer, (workspace, key)))


@strawberry.input(description="A new project in a workspace.")
class CreateProjectInput:
    workspace_id: strawberry.ID = strawberry.field(description="The workspace's global ID.")
    key: str = strawberry.field(description="`[A-Z][A-Z0-9]{1,9}`, unique in the workspace.")
    name: str = strawberry.field(description="1 to 100 characters.")
    description: str | None = strawberry.field(
        default=strawberry.UNSET, description="Up to 10,000 characters."
    )


@strawberry.input(description="Changes to a project; omitted fields stay as they are.")
class UpdateProjectInput:
    id: strawberry.ID = strawberry.field(description="The project's global ID.")
    expected_version: int | None = expected_version_field("project")
    name: str | None = strawberry.field(default=strawberry.UNSET, description="1 to 100.")
    description: str | None = strawberry.field(
        default=strawberry.UNSET, description="Up to 10,000 characters."
    )
    is_archived: bool | None = strawberry.field(
        default=strawberry.UNSET, description="Archive (true) or unarchive (false)."
    )


@strawberry.input(description="The project to delete.")
class DeleteProjectInput:
    id: strawberry.ID = strawberry.field(description="The project's global ID.")


@strawberry.type(description="The result of `createProject`.")
class CreateProjectPayload:
    project: Project = strawberry.field(description="The new project.")


@strawberry.type(description="The result of `updateProject`.")
class UpdateProjectPayload:
    project: Project = strawberry.field(description="The project, changed.")


@strawberry.type(description="The result of `deleteProject`.")
class DeleteProjectPayload:
    deleted_id: strawberry.ID = strawberry.field(description="The global ID of the project.")


@strawberry.type
class ProjectMutation:
    @strawberry.mutation(
        description="Create a project (workspace admins). CONFLICT when the key is taken."
    )
    async def create_project(
        self, info: Info[Context, None], input: CreateProjectInput
    ) -> CreateProjectPayload | None:
        data = validated(
            ProjectCreate, given(key=input.key, name=input.name, description=input.description)
        )
        workspace = pk_of(input.workspace_id, "Workspace")
        view = await projects.create_project(info.context.viewer, workspace, data)
        return CreateProjectPayload(project=Project.of(view))

    @strawberry.mutation(
        description="Rename, describe, archive or unarchive a project (workspace admins)."
        " An archived project only accepts `isArchived: false` (CONFLICT otherwise)."
    )
    async def update_project(
        self, info: Info[Context, None], input: UpdateProjectInput
    ) -> UpdateProjectPayload | None:
        patch = validated(
            ProjectPatch,
            given(name=input.name, description=input.description, is_archived=input.is_archived),
        )
        project = pk_of(input.id, "Project")
        view = await projects.update_project(
            info.context.viewer, project, patch, input.expected_version
        )
        return UpdateProjectPayload(project=Project.of(view))

    @strawberry.mutation(
        description="Delete a project with its labels, issues and comments (workspace owners)."
    )
    async def delete_project(
        self, info: Info[Context, None], input: DeleteProjectInput
    ) -> DeleteProjectPayload | None:
        deleted = await projects.delete_project(info.context.viewer, pk_of(input.id, "Project"))
        return DeleteProjectPayload(deleted_id=strawberry.ID(projects.node_id(deleted)))
