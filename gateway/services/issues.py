"""Issues: listing, reading, creating, changing, closing, reopening and deleting them.

An issue is named by `(workspace slug, project key, number)` (REST paths) or by primary key
(GraphQL IDs), its project likewise (`projects.ProjectRef`). Every operation authorizes through
`projects.locate`, runs its writes in one transaction with their events, on the project row it
locks (`projects.lock_writable`), and hands out `IssueView`s (plain data). What a write accepts
is in `issue_inputs`, the view in `issue_views`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Unpack

from tortoise.backends.base.client import TransactionalDBClient
from tortoise.transactions import in_transaction

from gateway.core.errors import NotFound, ValidationFailed
from gateway.core.paging import Page, PageArgs
from gateway.repositories import issues as repo
from gateway.repositories.issues import IssueFilter
from gateway.repositories.labels import name_key
from gateway.repositories.projects import ProjectRow
from gateway.security.principal import Principal
from gateway.services import projects
from gateway.services.access import Access, Action, unseen_as
from gateway.services.issue_inputs import IssueCreate, IssuePatch, Refs, check_label_count, named_in
from gateway.services.issue_views import IssueView, node_id, view
from gateway.services.projects import ProjectRef
from gateway.services.recording import EventType, JSONObject, JSONValue
from gateway.services.versioning import check_version
from models import IssuePriority, IssueState

SORTS = ("number", "created", "updated", "priority")

IssueRef = tuple[str, str, int] | int
"""An issue named by (workspace slug, project key, number) or by primary key."""


@dataclass(frozen=True, slots=True)
class IssuePage:
    """A page of issues as views, with the page's cursors and flags."""

    items: list[IssueView]
    page: Page


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


async def _project(principal: Principal, project: ProjectRef, action: Action) -> Target:
    access, row = await projects.locate(principal, project, action)
    return Target(access, row)


async def locate(
    principal: Principal, issue: IssueRef, action: Action
) -> tuple[Target, dict[str, Any]]:
    """The issue (an `ISSUE_FIELDS` row) and where it lives, if the caller may do `action`.
    NOT_FOUND when it or its project or workspace is invisible; named by primary key, one
    NOT_FOUND whether it does not exist or is invisible."""
    if isinstance(issue, tuple):
        slug, key, number = issue
        target = await _project(principal, (slug, key), action)
        row = await repo.by_number(target.project.id, number)
        if row is None:
            raise NotFound(f"No issue {target.project.key}-{number}")
        return target, row
    with unseen_as("issue"):
        found = (await repo.by_ids([issue])).get(issue)
        if found is None:
            raise NotFound("No such issue")
        return await _project(principal, int(found["project_id"]), action), found


async def _one(project: ProjectRow, number: int) -> IssueView:
    """The issue as it is now (after a write)."""
    row = await repo.by_number(project.id, number)
    if row is None:  # deleted since it was written
        raise NotFound(f"No issue {project.key}-{number}")
    return view(row)


async def views_by_ids(ids: list[int]) -> dict[int, IssueView]:
    """Issue views by id in one statement, unchecked: for DataLoaders whose callers have
    already authorized the parent."""
    return {pk: view(row) for pk, row in (await repo.by_ids(ids)).items()}


async def list_issues(
    principal: Principal,
    project: ProjectRef,
    where: IssueFilter,
    sort: str = "number",
    descending: bool = False,
    **paging: Unpack[PageArgs],
) -> IssuePage:
    """A page of a project's issues matching `where`, in `sort` order."""
    target = await _project(principal, project, Action.read)
    if sort not in SORTS:
        raise ValidationFailed.on("sort", f"must be one of {', '.join(SORTS)}")
    page = await repo.page(target.project.id, where, sort, descending, paging)
    return IssuePage(items=[view(row) for row in page.rows], page=page)


async def get_issue(principal: Principal, issue: IssueRef) -> IssueView:
    """One issue; NOT_FOUND when it or its project or workspace is invisible."""
    _, row = await locate(principal, issue, Action.read)
    return view(row)


async def _assignee(target: Target, who: str | int) -> tuple[int, str]:
    """The id and username of the member `who` names (username or id); VALIDATION_FAILED on
    `assignee` for anyone else."""
    found = await repo.member(target.access.workspace.id, who)
    if found is not None:
        return found
    if isinstance(who, int):
        username = await repo.username(who)
        if username is None:
            raise ValidationFailed.on("assignee", "no such user")
        who = username
    raise ValidationFailed.on("assignee", f"{who!r} is not a member of this workspace")


async def _labels(target: Target, wanted: Sequence[str] | Sequence[int]) -> list[tuple[int, str]]:
    """The id and name key of each label `wanted` names (by name in any case, or by id), in
    the order given; VALIDATION_FAILED on `labels` for any the project does not have."""
    keys = list(dict.fromkeys(name_key(x) if isinstance(x, str) else x for x in wanted))
    if not keys:
        return []
    found = await repo.labels_among(target.project.id, keys)
    unknown = [str(k) for k in keys if k not in found]
    if unknown:
        named = "label(s)" if isinstance(keys[0], str) else "label id(s)"
        raise ValidationFailed.on("labels", f"unknown {named}: {', '.join(unknown)}")
    return [found[k] for k in keys]


def _check_refs(refs: Refs) -> None:
    # REST bodies are held to it by their model; GraphQL's lists of ids only here.
    check_label_count(len(refs.labels or ()), "labels")


async def create_issue(
    principal: Principal, project: ProjectRef, data: IssueCreate, refs: Refs | None = None
) -> IssueView:
    """Create an issue in a project (member role); its number is the project's next. `refs`
    names the assignee and labels by primary key (GraphQL), else `data` names them."""
    target = await _project(principal, project, Action.write_content)
    refs = refs or named_in(data)
    _check_refs(refs)
    async with in_transaction() as db:
        await projects.lock_writable(db, target.project)
        assignee = None if refs.assignee is None else await _assignee(target, refs.assignee)
        labels = await _labels(target, refs.labels or ())
        number = await repo.next_number(db, target.project.id)
        issue_id = await repo.insert(
            db,
            project_id=target.project.id,
            number=number,
            title=data.title,
            body=data.body,
            priority=IssuePriority[data.priority],
            author_id=target.access.principal.user_id,
            assignee_id=None if assignee is None else assignee[0],
            due_date=data.due_date,
        )
        await repo.add_labels(db, issue_id, [pk for pk, _ in labels])
        payload: JSONObject = {"number": number, "title": data.title}
        await _event(db, target, EventType.issue_created, issue_id, payload)
    return await _one(target.project, number)


async def _event(
    db: TransactionalDBClient, target: Target, kind: EventType, issue_id: int, data: JSONObject
) -> None:
    principal, project = target.access.principal, target.project
    await projects.record_event(
        db, principal, project, kind, node_id(issue_id), data, issue_id=issue_id
    )


def _changes(row: dict[str, Any], patch: IssuePatch) -> dict[str, Any]:
    """The plain fields `patch` changes, by column."""
    given = patch.model_fields_set
    changes: dict[str, Any] = {}
    for name in ("title", "body", "due_date"):
        if name in given and getattr(patch, name) != row[name]:
            changes[name] = getattr(patch, name)
    if "priority" in given and IssuePriority[patch.priority or "none"] != row["priority"]:
        changes["priority"] = IssuePriority[patch.priority or "none"]
    return changes


async def update_issue(
    principal: Principal,
    issue: IssueRef,
    patch: IssuePatch,
    expected_version: int | None = None,
    refs: Refs | None = None,
) -> IssueView:
    """Change an issue (member role); `expected_version` guards against lost updates. `refs`
    names the assignee and labels by primary key (GraphQL), else `patch` names them."""
    target, row = await locate(principal, issue, Action.write_content)
    refs = refs or named_in(patch)
    _check_refs(refs)
    changes = _changes(row, patch)
    issue_id: int = row["id"]
    async with in_transaction() as db:
        await projects.lock_writable(db, target.project)
        who = refs.assignee if refs.has_assignee else None
        assignee = None if who is None else await _assignee(target, who)
        labels = None if refs.labels is None else await _labels(target, refs.labels)
        current = await repo.lock(db, issue_id)
        if current is None:
            raise NotFound(f"No issue {target.project.key}-{row['number']}")
        check_version(current["version"], expected_version)
        kinds: list[tuple[EventType, JSONObject]] = []
        if changes:
            fields: list[JSONValue] = [str(name) for name in sorted(changes)]
            kinds.append((EventType.issue_updated, {"fields": fields}))
        assignee_id = None if assignee is None else assignee[0]
        if refs.has_assignee and assignee_id != current["assignee_id"]:
            changes["assignee_id"] = assignee_id
            named = None if assignee is None else assignee[1]
            kinds.append((EventType.issue_assigned, {"assignee": named}))
        if patch.state is not None and patch.state != current["state"]:
            closing = patch.state == "closed"
            changes["state"] = IssueState(patch.state)
            changes["closed_at"] = datetime.now(UTC) if closing else None
            kind = EventType.issue_closed if closing else EventType.issue_reopened
            kinds.append((kind, {}))
        label_ids = None if labels is None else [pk for pk, _ in labels]
        if label_ids is not None and set(label_ids) != await repo.label_ids_of(db, issue_id):
            await repo.set_labels(db, issue_id, label_ids)
            labelled: list[JSONValue] = [*sorted({key for _, key in labels or ()})]
            kinds.append((EventType.issue_labeled, {"labels": labelled}))
        if kinds:
            await repo.update(db, issue_id, changes)
            for kind, data in kinds:
                await _event(db, target, kind, issue_id, {"number": row["number"], **data})
    return await _one(target.project, row["number"])


async def delete_issue(
    principal: Principal, issue: IssueRef, expected_version: int | None = None
) -> None:
    """Delete an issue (admin role), its labels links and comments with it."""
    target, row = await locate(principal, issue, Action.moderate)
    async with in_transaction() as db:
        await projects.lock_writable(db, target.project)
        current = await repo.lock(db, row["id"])
        if current is None:
            raise NotFound(f"No issue {target.project.key}-{row['number']}")
        check_version(current["version"], expected_version)
        await repo.delete(db, row["id"])
        payload: JSONObject = {"number": row["number"], "title": row["title"]}
        await _event(db, target, EventType.issue_deleted, row["id"], payload)
