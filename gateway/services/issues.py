"""Issues: listing, reading, creating, changing, closing, reopening and deleting them.

Every operation authorizes through `access.authorize`, runs its writes in one transaction with
their events, and hands out `IssueView`s (plain data). Rules of input live in `issue_rules`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar, Unpack

from pydantic import BaseModel
from tortoise.backends.base.client import TransactionalDBClient
from tortoise.transactions import in_transaction

from gateway.core.errors import NotFound, ValidationFailed
from gateway.core.paging import Page, PageArgs
from gateway.repositories import issues as repo
from gateway.repositories.issues import IssueFilter
from gateway.repositories.projects import ProjectRow
from gateway.security.principal import Principal
from gateway.services import projects, recording
from gateway.services.access import Access, Action, unseen_as
from gateway.services.issue_rules import (
    IssueCreate,
    IssuePatch,
    IssueView,
    check_label_count,
    node_id,
    view,
)
from gateway.services.recording import EventType, JSONObject, JSONValue
from gateway.services.versioning import check_version
from models import IssuePriority, IssueState

SORTS = ("number", "created", "updated", "priority")
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class IssuePage:
    """A page of issues as views, with the page's cursors and flags."""

    items: list[IssueView]
    page: Page


@dataclass(frozen=True, slots=True)
class Refs:
    """The assignee and labels named by primary key (GraphQL global IDs) instead of by name:
    they become names and then follow the very rules of REST (and its error fields). With
    `has_assignee`, `assignee` None unassigns; `labels` None leaves the labels alone."""

    assignee: int | None = None
    has_assignee: bool = False
    labels: list[int] | None = None


@dataclass(frozen=True, slots=True)
class Target:
    """Where an issue write lands: the caller's access and the project."""

    access: Access
    project: ProjectRow


def make_filter(
    state: str | None = "open",
    assignee: str | None = None,
    labels: list[str] | None = None,
    q: str | None = None,
    *,
    labels_field: str = "label",
) -> IssueFilter:
    """A canonical filter; `state` None or "all" means every state. More than `MAX_LABELS`
    labels is VALIDATION_FAILED on `labels_field` (the API's name for them)."""
    check_label_count(len(labels or ()), labels_field)
    text = q.strip() if q else None
    return IssueFilter(
        state=None if state in (None, "all") else state,
        assignee=assignee,
        labels=tuple(sorted({n.strip().lower() for n in labels or []})),
        q=text or None,
    )


async def _project(principal: Principal, slug: str, key: str, action: Action) -> Target:
    access, project = await projects.locate(principal, (slug, key), action)
    return Target(access, project)


async def target_of_project(principal: Principal, project_id: int, action: Action) -> Target:
    access, project = await projects.locate(principal, project_id, action)
    return Target(access, project)


async def _views(rows: list[dict[str, Any]]) -> list[IssueView]:
    ids = [row["id"] for row in rows]
    labels = await repo.labels_by_issue(ids)
    counts = await repo.comment_counts(ids)
    return [view(row, labels[row["id"]], counts[row["id"]]) for row in rows]


async def _one(row: dict[str, Any]) -> IssueView:
    return (await _views([row]))[0]


async def views_by_ids(ids: list[int]) -> dict[int, IssueView]:
    """Issue views by id in three statements, unchecked: for DataLoaders whose callers have
    already authorized the parent."""
    rows = await repo.by_ids(ids)
    return {v.pk: v for v in await _views(list(rows.values()))}


async def list_issues(
    principal: Principal,
    slug: str,
    key: str,
    where: IssueFilter,
    sort: str = "number",
    descending: bool = False,
    **paging: Unpack[PageArgs],
) -> IssuePage:
    """A page of a project's issues matching `where`, in `sort` order."""
    target = await _project(principal, slug, key, Action.read)
    return await _list(target.project.id, where, sort, descending, paging)


async def _list(
    project_id: int, where: IssueFilter, sort: str, descending: bool, paging: PageArgs
) -> IssuePage:
    if sort not in SORTS:
        raise ValidationFailed.on("sort", f"must be one of {', '.join(SORTS)}")
    page = await repo.page(project_id, where, sort, descending, paging)
    return IssuePage(items=await _views(page.rows), page=page)


async def _row(project: ProjectRow, number: int) -> dict[str, Any]:
    row = await repo.by_number(project.id, number)
    if row is None:
        raise NotFound(f"No issue {project.key}-{number}")
    return row


async def get_issue(principal: Principal, slug: str, key: str, number: int) -> IssueView:
    """One issue; NOT_FOUND when it or its project or workspace is invisible."""
    target = await _project(principal, slug, key, Action.read)
    return await _one(await _row(target.project, number))


async def _by_id(
    principal: Principal, issue_id: int, action: Action
) -> tuple[Target, dict[str, Any]]:
    """An issue named by primary key (GraphQL) and where it lives, if the caller may do
    `action`; one NOT_FOUND whether it does not exist or is invisible."""
    with unseen_as("issue"):
        row = (await repo.by_ids([issue_id])).get(issue_id)
        if row is None:
            raise NotFound("No such issue")
        return await target_of_project(principal, row["project_id"], action), row


async def _resolve_assignee(target: Target, username: str | None) -> int | None:
    if username is None:
        return None
    user_id = await repo.member_user_id(target.access.workspace.id, username)
    if user_id is None:
        raise ValidationFailed.on("assignee", f"{username!r} is not a member of this workspace")
    return user_id


async def _resolve_labels(target: Target, names: list[str]) -> list[int]:
    keys = list(dict.fromkeys(n.lower() for n in names))
    found = await repo.labels_named(target.project.id, keys)
    unknown = [k for k in keys if k not in found]
    if unknown:
        raise ValidationFailed.on("labels", f"unknown label(s): {', '.join(unknown)}")
    return [found[k] for k in keys]


async def create_issue(principal: Principal, slug: str, key: str, data: IssueCreate) -> IssueView:
    """Create an issue in a project (member role); its number is the project's next."""
    return await _create(await _project(principal, slug, key, Action.write_content), data)


async def create_issue_in(
    principal: Principal, project_id: int, data: IssueCreate, refs: Refs | None = None
) -> IssueView:
    """`create_issue` for a project named by primary key (GraphQL), `refs` naming the assignee
    and labels by primary key."""
    target = await target_of_project(principal, project_id, Action.write_content)
    return await _create(target, await _named(target, data, refs))


async def _named(target: Target, data: M, refs: Refs | None) -> M:
    """`data` with `refs` turned into the username and label names the rules expect."""
    if refs is None:
        return data
    update: dict[str, Any] = {}
    if refs.has_assignee:
        update["assignee"] = None
        if refs.assignee is not None:
            found = await repo.users_by_id([refs.assignee])
            if refs.assignee not in found:
                raise ValidationFailed.on("assignee", "no such user")
            update["assignee"] = found[refs.assignee]["username"]
    if refs.labels is not None:
        check_label_count(len(refs.labels), "labels")
        wanted = list(dict.fromkeys(refs.labels))
        names = await repo.label_names(target.project.id, wanted)
        unknown = [str(pk) for pk in wanted if pk not in names]
        if unknown:
            raise ValidationFailed.on("labels", f"unknown label id(s): {', '.join(unknown)}")
        update["labels"] = [names[pk] for pk in wanted]
    return data.model_copy(update=update)


async def _create(target: Target, data: IssueCreate) -> IssueView:
    projects.require_writable(target.project)
    assignee_id = await _resolve_assignee(target, data.assignee)
    label_ids = await _resolve_labels(target, data.labels)
    async with in_transaction() as db:
        number = await repo.next_number(db, target.project.id)
        issue_id = await repo.insert(
            db,
            project_id=target.project.id,
            number=number,
            title=data.title,
            body=data.body,
            priority=IssuePriority[data.priority],
            author_id=target.access.principal.user_id,
            assignee_id=assignee_id,
            due_date=data.due_date,
        )
        await repo.set_labels(db, issue_id, label_ids)
        payload: JSONObject = {"number": number, "title": data.title}
        await _event(db, target, EventType.issue_created, issue_id, payload)
    return await _one(await _row(target.project, number))


async def _event(
    db: TransactionalDBClient, target: Target, kind: EventType, issue_id: int, data: JSONObject
) -> None:
    await recording.record(
        target.access.workspace.id,
        target.access.principal.user_id,
        kind,
        node_id(issue_id),
        db=db,
        project_id=target.project.id,
        issue_id=issue_id,
        data=data,
    )


async def update_issue(
    principal: Principal,
    slug: str,
    key: str,
    number: int,
    patch: IssuePatch,
    expected_version: int | None = None,
) -> IssueView:
    """Change an issue (member role); `expected_version` guards against lost updates."""
    target = await _project(principal, slug, key, Action.write_content)
    row = await _row(target.project, number)
    return await _update(target, row, patch, expected_version)


async def update_issue_by_id(
    principal: Principal,
    issue_id: int,
    patch: IssuePatch,
    expected_version: int | None = None,
    refs: Refs | None = None,
) -> IssueView:
    """`update_issue` for an issue named by primary key (GraphQL), `refs` as for creation."""
    target, row = await _by_id(principal, issue_id, Action.write_content)
    return await _update(target, row, await _named(target, patch, refs), expected_version)


async def _update(
    target: Target, row: dict[str, Any], patch: IssuePatch, expected_version: int | None
) -> IssueView:
    projects.require_writable(target.project)
    given = patch.model_fields_set
    changes: dict[str, Any] = {}
    for name in ("title", "body", "due_date"):
        if name in given and getattr(patch, name) != row[name]:
            changes[name] = getattr(patch, name)
    if "priority" in given and IssuePriority[patch.priority or "none"] != row["priority"]:
        changes["priority"] = IssuePriority[patch.priority or "none"]
    assignee_id = row["assignee_id"]
    if "assignee" in given:
        assignee_id = await _resolve_assignee(target, patch.assignee)
    label_ids = await _resolve_labels(target, patch.labels) if patch.labels is not None else None
    issue_id: int = row["id"]
    async with in_transaction() as db:
        current = await repo.lock(db, issue_id)
        if current is None:
            raise NotFound(f"No issue {target.project.key}-{row['number']}")
        check_version(current["version"], expected_version)
        kinds: list[tuple[EventType, JSONObject]] = []
        if changes:
            fields: list[JSONValue] = [str(name) for name in sorted(changes)]
            kinds.append((EventType.issue_updated, {"fields": fields}))
        if assignee_id != current["assignee_id"]:
            changes["assignee_id"] = assignee_id
            kinds.append((EventType.issue_assigned, {"assignee": patch.assignee}))
        if patch.state is not None and patch.state != current["state"]:
            closing = patch.state == "closed"
            changes["state"] = IssueState(patch.state)
            changes["closed_at"] = datetime.now(UTC) if closing else None
            kind = EventType.issue_closed if closing else EventType.issue_reopened
            kinds.append((kind, {}))
        if label_ids is not None and set(label_ids) != await repo.label_ids_of(db, issue_id):
            await repo.set_labels(db, issue_id, label_ids)
            names = sorted(n.lower() for n in patch.labels or [])
            labelled: list[JSONValue] = [str(n) for n in dict.fromkeys(names)]
            kinds.append((EventType.issue_labeled, {"labels": labelled}))
        if kinds:
            await repo.update(db, issue_id, changes)
            for kind, data in kinds:
                await _event(db, target, kind, issue_id, {"number": row["number"], **data})
    return await _one(await _row(target.project, row["number"]))


async def set_state_by_id(principal: Principal, issue_id: int, state: str) -> IssueView:
    """Close or reopen an issue named by primary key (GraphQL)."""
    return await update_issue_by_id(
        principal, issue_id, IssuePatch.model_validate({"state": state})
    )


async def delete_issue(
    principal: Principal, slug: str, key: str, number: int, expected_version: int | None = None
) -> None:
    """Delete an issue (admin role), its labels links and comments with it."""
    target = await _project(principal, slug, key, Action.moderate)
    await _delete(target, await _row(target.project, number), expected_version)


async def delete_issue_by_id(principal: Principal, issue_id: int) -> None:
    """`delete_issue` for an issue named by primary key (GraphQL)."""
    target, row = await _by_id(principal, issue_id, Action.moderate)
    await _delete(target, row, None)


async def _delete(target: Target, row: dict[str, Any], expected_version: int | None) -> None:
    projects.require_writable(target.project)
    async with in_transaction() as db:
        current = await repo.lock(db, row["id"])
        if current is None:
            raise NotFound(f"No issue {target.project.key}-{row['number']}")
        check_version(current["version"], expected_version)
        await repo.delete(db, row["id"])
        payload: JSONObject = {"number": row["number"], "title": row["title"]}
        await _event(db, target, EventType.issue_deleted, row["id"], payload)
