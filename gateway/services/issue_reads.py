"""Issue reads for GraphQL: rows for connections (one project, or the first page of many
projects in one statement) and the batch functions behind its DataLoaders."""

from __future__ import annotations

from typing import Unpack

from gateway.errors import DomainError, NotFound, ValidationFailed
from gateway.paging import Page, PageArgs
from gateway.repositories import issues as repo
from gateway.repositories import projects as project_repo
from gateway.repositories.issues import IssueFilter
from gateway.security.principal import Principal
from gateway.services import labels
from gateway.services.access import Action, authorize
from gateway.services.issue_rules import IssueView
from gateway.services.issues import SORTS, target_of_project, views_by_ids


async def issue_rows(
    principal: Principal,
    project_id: int,
    where: IssueFilter,
    sort: str = "number",
    descending: bool = False,
    **paging: Unpack[PageArgs],
) -> Page:
    """`list_project_issues` as `ISSUE_FIELDS` rows: GraphQL loads each relation through a
    DataLoader, and only the relations a query selects."""
    target = await target_of_project(principal, project_id, Action.read)
    if sort not in SORTS:
        raise ValidationFailed.on("sort", f"must be one of {', '.join(SORTS)}")
    return await repo.page(target.project.id, where, sort, descending, paging)


async def first_issue_rows(
    principal: Principal,
    project_ids: list[int],
    where: IssueFilter,
    sort: str,
    descending: bool,
    first: int | None,
) -> list[Page | DomainError]:
    """For each project, the page `issue_rows` gives without a cursor, in one statement for
    all of them (plus one to find the projects and one authorization per workspace). A project
    the caller may not read gets its error instead of a page."""
    if sort not in SORTS:
        raise ValidationFailed.on("sort", f"must be one of {', '.join(SORTS)}")
    found = await project_repo.by_ids(project_ids)
    denied: dict[int, DomainError | None] = {}
    for workspace_id in sorted({row.workspace_id for row in found.values()}):
        try:
            await authorize(principal, workspace_id, Action.read)
            denied[workspace_id] = None
        except DomainError as exc:
            denied[workspace_id] = exc
    readable = [pk for pk in project_ids if pk in found and not denied[found[pk].workspace_id]]
    pages = await repo.first_pages(readable, where, sort, descending, first)
    answers: list[Page | DomainError] = []
    for pk in project_ids:
        error = denied[found[pk].workspace_id] if pk in found else NotFound("No such project")
        answers.append(pages[pk] if error is None else error)
    return answers


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
