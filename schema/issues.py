"""GraphQL issues: the `Issue` type, `issue(workspace:, project:, number:)` and `node(id:)` for
issues.

Every relation of an issue (author, assignee, labels, comment count, project, comments) goes
through the request's loaders (`schema.loaders`), so a page costs the same statements whatever
its size. Rules live in `gateway.services.issues`, shared with REST.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.types import Info

from gateway.core.errors import NotFound
from gateway.core.paging import PageArgs
from gateway.reads import nouns
from gateway.services import issue_reads, issues
from gateway.services.issue_views import IssueView, node_id
from schema.connection import Connection, Paged
from schema.context import Context
from schema.declared import declared, values
from schema.issue_inputs import (
    IssueFilter,
    IssueOrder,
    IssueOrderField,
    IssuePriority,
    IssueState,
    IssueStateFilter,
    OrderDirection,
)
from schema.lookup import register_node
from schema.node import Node

if TYPE_CHECKING:
    from schema.comments import Comment
    from schema.labels import Label
    from schema.projects import Project
    from schema.users import User

__all__ = [
    "Issue",
    "IssueFilter",
    "IssueOrder",
    "IssueOrderField",
    "IssuePriority",
    "IssueQuery",
    "IssueState",
    "IssueStateFilter",
    "OrderDirection",
]


@declared(
    nouns.ISSUE,
    "A unit of work in a project, numbered per project from 1.",
    {"state": IssueState, "priority": IssuePriority},
)
class Issue(Node):
    pk: strawberry.Private[int]
    author_pk: strawberry.Private[int]
    assignee_pk: strawberry.Private[int | None]
    project_pk: strawberry.Private[int]

    @classmethod
    def of(cls, view: IssueView) -> Issue:
        return cls(
            **values(cls, view),
            pk=view.pk,
            author_pk=view.author.pk,
            assignee_pk=None if view.assignee is None else view.assignee.pk,
            project_pk=view.project_id,
        )

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Issue:
        """An issue from a page row (`gateway.repositories.issues.ISSUE_FIELDS`)."""
        found = SimpleNamespace(**row, node_id=node_id(row["id"]))
        return cls(
            **values(cls, found),
            pk=row["id"],
            author_pk=row["author_id"],
            assignee_pk=row["assignee_id"],
            project_pk=row["project_id"],
        )

    @strawberry.field(description="Who opened the issue.")
    async def author(
        self, info: Info[Context, None]
    ) -> Annotated[User, strawberry.lazy("schema.users")]:
        return await _user(info, self.author_pk)

    @strawberry.field(description="Who the issue is assigned to; null when nobody.")
    async def assignee(
        self, info: Info[Context, None]
    ) -> Annotated[User, strawberry.lazy("schema.users")] | None:
        return None if self.assignee_pk is None else await _user(info, self.assignee_pk)

    @strawberry.field(description="The issue's labels, by name (ignoring case).")
    async def labels(
        self, info: Info[Context, None]
    ) -> list[Annotated[Label, strawberry.lazy("schema.labels")]]:
        return await info.context.loaders.issue_labels.load(self.pk)

    @strawberry.field(description="How many comments the issue has.")
    async def comment_count(self, info: Info[Context, None]) -> int:
        return await info.context.loaders.comment_count.load(self.pk)

    @strawberry.field(description="The project the issue belongs to.")
    async def project(
        self, info: Info[Context, None]
    ) -> Annotated[Project, strawberry.lazy("schema.projects")]:
        project = await info.context.loaders.project.load(self.project_pk)
        if project is None:  # deleted between reading the issue and its project
            raise NotFound("No such project")
        return project

    @strawberry.field(description="The issue's comments, oldest first.", extensions=[Paged()])
    async def comments(
        self, info: Info[Context, None], paging: PageArgs
    ) -> Connection[Annotated[Comment, strawberry.lazy("schema.comments")]]:
        return await info.context.loaders.issue_comments(self.pk, paging)


async def _user(info: Info[Context, None], pk: int) -> User:
    user = await info.context.loaders.user.load(pk)
    if user is None:  # a foreign key: only a concurrent deletion gets here
        raise NotFound("No such user")
    return user


async def issues_by_pk(info: Info[Context, None], pks: list[int]) -> list[Node | None]:
    """`node(id:)` for issues: null unless the caller may read the issue's workspace."""
    views = await issue_reads.visible_by_pk(info.context.viewer, pks)
    return [None if view is None else Issue.of(view) for view in views]


register_node("Issue", issues_by_pk)


@strawberry.type
class IssueQuery:
    @strawberry.field(
        description="An issue by workspace slug, project key and number. Null, with a"
        " NOT_FOUND error, when it does not exist or is invisible to you."
    )
    async def issue(
        self,
        info: Info[Context, None],
        workspace: Annotated[str, strawberry.argument(description="The workspace slug.")],
        project: Annotated[str, strawberry.argument(description="The project key, in any case.")],
        number: Annotated[int, strawberry.argument(description="The issue number.")],
    ) -> Issue | None:
        view = await issues.get_issue(info.context.viewer, (workspace, project, number))
        return Issue.of(view)
