"""GraphQL issues: the `Issue` type, `issue(workspace:, project:, number:)`, `node(id:)` for
issues, and `project_issues` (the resolver of `Project.issues`).

Every relation of an issue (author, assignee, labels, comment count, project) goes through a
per-request DataLoader, so a page costs the same statements whatever its size. A connection of
issues under a list of projects is batched: one DataLoader per (filter, order, paging
arguments) loads the page of every project in one statement (`gateway.repositories.nested`),
with the cursors the keyset path mints. `totalCount` is batched likewise (one GROUP BY per
filter). Rules live in
`gateway.services.issues`, shared with REST.
"""

from __future__ import annotations

from functools import partial
from types import SimpleNamespace
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.dataloader import DataLoader
from strawberry.types import Info

from gateway.core.errors import NotFound
from gateway.core.paging import PageArgs
from gateway.reads import nouns
from gateway.repositories.issues import IssueFilter as DomainFilter
from gateway.services import issue_reads, issues
from gateway.services.issue_views import IssueView, node_id
from gateway.services.labels import LabelView
from schema.connection import After, Before, Connection, First, Last, to_connection
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
from schema.loaders import nested_page
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
    "project_issues",
]


def _labels(info: Info[Context, None]) -> DataLoader[int, list[LabelView]]:
    return info.context.loaders.loader("issues.labels", issue_reads.labels_of)


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
        from schema.labels import Label

        return [Label.of(view) for view in await _labels(info).load(self.pk)]

    @strawberry.field(description="How many comments the issue has.")
    async def comment_count(self, info: Info[Context, None]) -> int:
        from schema.comments import comment_count_loader

        return await comment_count_loader(info).load(self.pk)

    @strawberry.field(description="The project the issue belongs to.")
    async def project(
        self, info: Info[Context, None]
    ) -> Annotated[Project, strawberry.lazy("schema.projects")]:
        from schema.projects import Project, project_loader

        view = await project_loader(info).load(self.project_pk)
        if view is None:  # deleted between reading the issue and its project
            raise NotFound("No such project")
        return Project.of(view)

    @strawberry.field(description="The issue's comments, oldest first.")
    async def comments(
        self,
        info: Info[Context, None],
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Annotated[Comment, strawberry.lazy("schema.comments")]]:
        from schema.comments import issue_comments

        return await issue_comments(
            info, self.pk, first=first, after=after, last=last, before=before
        )


async def _user(
    info: Info[Context, None], pk: int
) -> Annotated[User, strawberry.lazy("schema.users")]:
    from schema.comments import user_loader
    from schema.users import User

    view = await user_loader(info).load(pk)
    if view is None:  # a foreign key: only a concurrent deletion gets here
        raise NotFound("No such user")
    return User.of(view)


def _totals(info: Info[Context, None], where: DomainFilter) -> DataLoader[int, int]:
    """Project id → how many issues match `where`: one GROUP BY per filter and query level."""

    async def batch(project_ids: list[int]) -> list[int]:
        return await issue_reads.count_issues(project_ids, where)

    return info.context.loaders.loader(f"issues.count:{where.scope()}", batch)


async def project_issues(
    info: Info[Context, None],
    project_id: int,
    filter: IssueFilter | None = None,
    order_by: IssueOrder | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Connection[Issue]:
    """The resolver of `Project.issues`: the project's issues matching `filter` (open ones by
    default) in `order_by` order (by number ascending by default), the same list as REST's.

    One statement for the pages of every project at this level (`issue_reads.issue_pages`).
    """
    where = filter.canonical() if filter is not None else issues.make_filter()
    sort = "number" if order_by is None else str(order_by.field.value)
    descending = order_by is not None and order_by.direction is OrderDirection.DESC
    paging = PageArgs(first=first, after=after, last=last, before=before)
    pages = partial(
        issue_reads.issue_pages,
        info.context.viewer,
        where=where,
        sort=sort,
        descending=descending,
        **paging,
    )
    name = f"project.issues:{sort}:{descending}:{where.scope()}"
    page = await nested_page(
        info.context.loaders, name, project_id, paging, pages, _totals(info, where)
    )
    return to_connection(page, Issue.from_row)


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
