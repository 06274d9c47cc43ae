"""GraphQL projects: the `Project` type (with `workspace`, `labels` and `issues`),
`project(workspace:, key:)`, `Workspace.projects` (via `workspace_projects`), and
`createProject`, `updateProject`, `deleteProject`.

Resolvers only translate; every rule lives in `gateway.services.projects`, shared with REST.
The loaders here (`project_loader`, `workspace_loader`) serve every module whose objects point
at a project or a workspace, so one request loads each project and workspace once.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.dataloader import DataLoader
from strawberry.types import Info

from gateway.core.errors import NotFound
from gateway.core.ids import pk_of
from gateway.core.paging import PageArgs
from gateway.core.validation import validated
from gateway.reads import nouns
from gateway.services import labels, nested_reads, projects, workspaces
from gateway.services.projects import ProjectCreate, ProjectPatch, ProjectView
from gateway.services.workspaces import WorkspaceView
from schema.connection import After, Before, Connection, First, Last, to_connection
from schema.context import Context
from schema.declared import declared, values
from schema.inputs import given
from schema.labels import Label
from schema.loaders import nested_page
from schema.lookup import register_node
from schema.node import Node

if TYPE_CHECKING:
    from schema.issues import Issue, IssueFilter, IssueOrder
    from schema.workspaces import Workspace


def project_loader(info: Info[Context, None]) -> DataLoader[int, ProjectView | None]:
    """Projects by id, unchecked: for objects whose own visibility is already established
    (an event's or label's project lives in the same workspace)."""

    async def batch(ids: list[int]) -> list[ProjectView | None]:
        found = await projects.views_by_ids(ids)
        return [found.get(i) for i in ids]

    return info.context.loaders.loader("projects.by_id", batch)


def workspace_loader(info: Info[Context, None]) -> DataLoader[int, WorkspaceView | None]:
    """Workspaces by id as the caller sees them; None where invisible (the service decides)."""
    principal = info.context.viewer

    async def batch(ids: list[int]) -> list[WorkspaceView | None]:
        return await workspaces.visible_by_pk(principal, ids)

    return info.context.loaders.loader("workspaces.visible", batch)


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
        from schema.workspaces import Workspace

        view = await workspace_loader(info).load(self.workspace_pk)
        if view is None:  # deleted between reading the project and its workspace
            raise NotFound("No such workspace")
        return Workspace.of(view)

    @strawberry.field(description="The project's labels, by name (ignoring case).")
    async def labels(
        self,
        info: Info[Context, None],
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Label]:
        paging = PageArgs(first=first, after=after, last=last, before=before)
        pages = partial(nested_reads.label_pages, info.context.viewer, **paging)
        totals = info.context.loaders.loader("project.labels.count", nested_reads.label_counts)
        page = await nested_page(
            info.context.loaders, "project.labels", self.pk, paging, pages, totals
        )
        return to_connection(page, lambda row: Label.of(labels.row_view(row)))

    @strawberry.field(
        description="The project's issues matching `filter` (open ones when omitted), in"
        " `orderBy` order (by number when omitted)."
    )
    async def issues(
        self,
        info: Info[Context, None],
        filter: Annotated[IssueFilter, strawberry.lazy("schema.issues")] | None = None,
        order_by: Annotated[IssueOrder, strawberry.lazy("schema.issues")] | None = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Annotated[Issue, strawberry.lazy("schema.issues")]]:
        from schema.issues import project_issues

        return await project_issues(
            info, self.pk, filter, order_by, first=first, after=after, last=last, before=before
        )


async def projects_by_pk(info: Info[Context, None], pks: list[int]) -> list[Node | None]:
    """`node(id:)` for projects: null unless the caller may read the project's workspace (the
    service decides)."""
    views = await projects.visible_by_pk(info.context.viewer, pks)
    return [None if view is None else Project.of(view) for view in views]


register_node("Project", projects_by_pk)


async def workspace_projects(
    info: Info[Context, None],
    workspace_id: int,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Connection[Project]:
    """The resolver of `Workspace.projects`: the workspace's projects by key, batched for
    every workspace at this query level."""
    paging = PageArgs(first=first, after=after, last=last, before=before)
    pages = partial(nested_reads.project_pages, info.context.viewer, **paging)
    totals = info.context.loaders.loader("workspace.projects.count", nested_reads.project_counts)
    page = await nested_page(
        info.context.loaders, "workspace.projects", workspace_id, paging, pages, totals
    )
    return to_connection(page, lambda row: Project.of(projects.row_view(row)))


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
    expected_version: int | None = strawberry.field(
        default=None, description="PRECONDITION_FAILED unless the project is at this version."
    )
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
