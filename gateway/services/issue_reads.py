"""Issue reads for GraphQL: rows for connections (a page of many projects' issues in one
statement) and the batch functions behind its DataLoaders."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Unpack

from gateway.core.errors import DomainError, NotFound, ValidationFailed
from gateway.core.paging import Page, PageArgs
from gateway.repositories import comments as comment_repo
from gateway.repositories import issues as repo
from gateway.repositories import projects as project_repo
from gateway.repositories.issues import IssueFilter
from gateway.security.principal import Principal
from gateway.services import labels
from gateway.services.access import Action, authorize
from gateway.services.issue_views import IssueView
from gateway.services.issues import SORTS, views_by_ids
from gateway.services.nested_reads import checked_pages


async def issue_pages(
    principal: Principal,
    project_ids: list[int],
    where: IssueFilter,
    sort: str,
    descending: bool,
    **paging: Unpack[PageArgs],
) -> list[Page | DomainError]:
    """For each project, one page of the project's issues as `ISSUE_FIELDS` rows, in one
    statement for all of them (plus one to find the projects and one or two to authorize
    their workspaces). A project the caller may not read, or whose cursor is refused, gets its error
    instead of a page. GraphQL loads each relation through a DataLoader, and only the relations
    a query selects."""
    if sort not in SORTS:
        raise ValidationFailed.on("sort", f"must be one of {', '.join(SORTS)}")
    projects = await project_repo.by_ids(project_ids)
    workspace_of = {pk: row.workspace_id for pk, row in projects.items()}

    async def pages(ids: list[int]) -> Mapping[int, Page | ValidationFailed]:
        return await repo.pages(ids, where, sort, descending, paging)

    return await checked_pages(principal, project_ids, workspace_of, pages, "No such project")


async def count_issues(project_ids: list[int], where: IssueFilter) -> list[int]:
    """How many issues of each project match `where` (one statement), unchecked: for the
    `totalCount` of connections whose page was authorized."""
    counts = await repo.counts(project_ids, where)
    return [counts[pk] for pk in project_ids]


async def visible_by_pk(principal: Principal, pks: list[int]) -> list[IssueView | None]:
    """Issues by primary key, None where missing or invisible to the caller (`node(id:)`)."""
    found = await views_by_ids(pks)
    readable: set[int] = set()
    for workspace_id in {v.workspace_id for v in found.values()}:
        try:
            await authorize(principal, workspace_id, Action.read)
            readable.add(workspace_id)
        except NotFound:
            continue
    return [found[pk] if pk in found and found[pk].workspace_id in readable else None for pk in pks]


async def labels_of(issue_ids: list[int]) -> list[list[labels.LabelView]]:
    """Each issue's labels, by name, in one statement (unchecked, as `views_by_ids`)."""
    rows = await repo.label_rows_by_issue(issue_ids)
    return [[labels.view(row) for row in rows[pk]] for pk in issue_ids]


async def comment_counts(issue_ids: list[int]) -> list[int]:
    """Each issue's number of comments, in one statement (unchecked)."""
    counts = await repo.comment_counts(issue_ids)
    return [counts[pk] for pk in issue_ids]


async def comment_pages(
    principal: Principal, issue_ids: list[int], **paging: Unpack[PageArgs]
) -> list[Page | DomainError]:
    """For each issue, the page of comments `comments.list_comments` gives, in one statement
    for all of them (plus one to find the issues and one or two to authorize their
    workspaces); an issue that is missing or invisible, or whose cursor is refused, gets its
    error instead."""
    found = await repo.by_ids(issue_ids)
    workspace_of = {pk: int(row["project__workspace_id"]) for pk, row in found.items()}

    async def pages(ids: list[int]) -> Mapping[int, Page | ValidationFailed]:
        return await comment_repo.pages_of_issues(ids, paging)

    return await checked_pages(principal, issue_ids, workspace_of, pages, "No such issue")
