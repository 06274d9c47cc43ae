"""Pages of nested connections for many parents at once (a query level of GraphQL's
resolver path), never a statement per parent: one for the rows of every parent, one or two to
authorize their workspaces, plus one to find those workspaces where the parents are not
workspaces themselves. Each parent gets the page its single-parent service gives
(`list_labels`, `list_projects`, `list_members`, `list_events`), or the error it raises."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Unpack

from gateway.core.errors import DomainError, NotFound, ValidationFailed
from gateway.core.paging import Page, PageArgs
from gateway.repositories import events as event_repo
from gateway.repositories import labels as label_repo
from gateway.repositories import members as member_repo
from gateway.repositories import projects as project_repo
from gateway.security.principal import Principal
from gateway.services import workspaces
from gateway.services.access import Action, authorize, not_found

Pages = Callable[[list[int]], Awaitable[Mapping[int, Page | ValidationFailed]]]


async def checked_pages(
    principal: Principal,
    parent_ids: Sequence[int],
    workspace_of: Mapping[int, int],
    pages: Pages,
    missing: str,
) -> list[Page | DomainError]:
    """For each parent, its page from `pages` (called once, with the readable parents), or
    NOT_FOUND (`missing`) where it is not in `workspace_of` (parent → its workspace), or the
    error reading its workspace raises."""
    denied = await _denials(principal, set(workspace_of.values()))
    readable = [pk for pk in parent_ids if pk in workspace_of and not denied[workspace_of[pk]]]
    found = await pages(readable)
    answers: list[Page | DomainError] = []
    for pk in parent_ids:
        error = denied[workspace_of[pk]] if pk in workspace_of else NotFound(missing)
        answers.append(found[pk] if error is None else error)
    return answers


async def _denials(principal: Principal, workspace_ids: set[int]) -> dict[int, DomainError | None]:
    """Each workspace's read error, None where it may be read: one statement for the usual
    single workspace, two for any number (`workspaces.readable`)."""
    if len(workspace_ids) == 1:
        (only,) = workspace_ids
        try:
            await authorize(principal, only, Action.read)
        except DomainError as exc:
            return {only: exc}
        return {only: None}
    visible = await workspaces.readable(principal, list(workspace_ids))
    return {pk: None if pk in visible else not_found(pk) for pk in workspace_ids}


async def label_pages(
    principal: Principal, project_ids: list[int], **paging: Unpack[PageArgs]
) -> list[Page | DomainError]:
    """`labels.list_labels` for each project."""
    projects = await project_repo.by_ids(project_ids)
    workspace_of = {pk: row.workspace_id for pk, row in projects.items()}

    async def pages(ids: list[int]) -> Mapping[int, Page | ValidationFailed]:
        return await label_repo.pages_of_projects(ids, paging)

    return await checked_pages(principal, project_ids, workspace_of, pages, "No such project")


async def project_pages(
    principal: Principal, workspace_ids: list[int], **paging: Unpack[PageArgs]
) -> list[Page | DomainError]:
    """`projects.list_projects` for each workspace."""

    async def pages(ids: list[int]) -> Mapping[int, Page | ValidationFailed]:
        return await project_repo.pages_of_workspaces(ids, paging)

    itself = {pk: pk for pk in workspace_ids}
    return await checked_pages(principal, workspace_ids, itself, pages, "No such workspace")


async def member_pages(
    principal: Principal, workspace_ids: list[int], **paging: Unpack[PageArgs]
) -> list[Page | DomainError]:
    """`members.list_members` for each workspace."""

    async def pages(ids: list[int]) -> Mapping[int, Page | ValidationFailed]:
        return await member_repo.pages_of_workspaces(ids, paging)

    itself = {pk: pk for pk in workspace_ids}
    return await checked_pages(principal, workspace_ids, itself, pages, "No such workspace")


async def event_pages(
    principal: Principal, workspace_ids: list[int], **paging: Unpack[PageArgs]
) -> list[Page | DomainError]:
    """`feed.list_events` (unfiltered) for each workspace."""

    async def pages(ids: list[int]) -> Mapping[int, Page | ValidationFailed]:
        return await event_repo.pages_of_workspaces(ids, paging)

    itself = {pk: pk for pk in workspace_ids}
    return await checked_pages(principal, workspace_ids, itself, pages, "No such workspace")


async def label_counts(project_ids: list[int]) -> list[int]:
    """How many labels each project has, unchecked: for the `totalCount` of pages that
    `label_pages` authorized."""
    counts = await label_repo.counts_of_projects(project_ids)
    return [counts[pk] for pk in project_ids]


async def project_counts(workspace_ids: list[int]) -> list[int]:
    """How many projects each workspace has, unchecked (as `label_counts`)."""
    counts = await project_repo.counts_of_workspaces(workspace_ids)
    return [counts[pk] for pk in workspace_ids]


async def member_counts(workspace_ids: list[int]) -> list[int]:
    """How many members each workspace has, unchecked (as `label_counts`)."""
    counts = await member_repo.counts_of_workspaces(workspace_ids)
    return [counts[pk] for pk in workspace_ids]


async def event_counts(workspace_ids: list[int]) -> list[int]:
    """How many events each workspace has, unchecked (as `label_counts`)."""
    counts = await event_repo.counts_of_workspaces(workspace_ids)
    return [counts[pk] for pk in workspace_ids]
