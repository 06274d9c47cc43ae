"""Projects: creating, reading, renaming, archiving and deleting them.

Archived projects are read-only: `lock_writable` is the one check every write inside a project
(its labels, issues and comments) makes, inside its transaction, so the rule is not repeated per
noun and an archiving cannot slip in between the check and the write.
A project is named either by `(workspace, key)` (REST paths) or by primary key (GraphQL IDs).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar, Unpack

from pydantic import (
    BaseModel,
    StrictBool,
    StringConstraints,
)
from tortoise.backends.base.client import TransactionalDBClient
from tortoise.transactions import in_transaction

from gateway.core.errors import Conflict, FieldError, NotFound
from gateway.core.ids import to_global_id
from gateway.core.paging import Page, PageArgs
from gateway.core.validation import InputModel, Omittable
from gateway.repositories import projects as project_repo
from gateway.repositories.projects import ProjectRow
from gateway.security.principal import Principal
from gateway.services import recording, workspaces
from gateway.services.access import Access, Action, WorkspaceRef, authorize, unseen_as
from gateway.services.recording import EventType, JSONObject
from gateway.services.versioning import check_version
from gateway.services.views import RowView, row_fields

KEY_PATTERN = r"^[A-Z][A-Z0-9]{1,9}$"

Key = Annotated[str, StringConstraints(pattern=KEY_PATTERN)]
"""An upper-case letter then 1 to 9 upper-case letters or digits; never trimmed (it names
URLs and issue references)."""
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=10_000)]

ProjectRef = tuple[WorkspaceRef, str] | int
"""A project named by (workspace, key) or by primary key."""

M = TypeVar("M", bound=BaseModel)


class ProjectCreate(InputModel):
    """A new project."""

    key: Key
    name: Name
    description: Description = ""


class ProjectPatch(InputModel):
    """A change to a project: only the fields given change; none may be null."""

    name: Omittable[Name] = None
    description: Omittable[Description] = None
    is_archived: Omittable[StrictBool] = None


@dataclass(frozen=True, slots=True)
class ProjectView(RowView, ProjectRow):
    """A project as both APIs show it: its row, and its global id."""

    node_id: str

    @property
    def issue_count(self) -> int:
        """The issues ever created in the project (the counter that numbers them)."""
        return self.issue_counter


def node_id(project_id: int) -> str:
    return to_global_id("Project", project_id)


def view(row: ProjectRow) -> ProjectView:
    return ProjectView(**row_fields(row), node_id=node_id(row.id))


def row_view(row: dict[str, Any]) -> ProjectView:
    """A row of `list_projects` as a `ProjectView`."""
    return view(ProjectRow.of_values(row))


async def views_by_ids(ids: Sequence[int]) -> dict[int, ProjectView]:
    """Projects by id, unchecked: for objects whose visibility is already established (an
    event's or a label's project lives in the same workspace). One statement."""
    return {pk: view(row) for pk, row in (await project_repo.by_ids(ids)).items()}


async def visible_by_pk(principal: Principal, pks: Sequence[int]) -> list[ProjectView | None]:
    """Projects by id, None where missing or invisible to the caller (`node(id:)`)."""
    found = await views_by_ids(pks)
    visible = await workspaces.readable(principal, [v.workspace_id for v in found.values()])
    return [found[pk] if pk in found and found[pk].workspace_id in visible else None for pk in pks]


def require_writable(project: ProjectRow) -> None:
    """CONFLICT when the project is archived: nothing in it may change until it is
    unarchived."""
    if project.is_archived:
        raise Conflict(f"Project {project.key!r} is archived and read-only; unarchive it first")


async def lock_writable(db: TransactionalDBClient, project: ProjectRow) -> ProjectRow:
    """`project` as it is now, its row locked until `db` commits; CONFLICT when it is archived,
    NOT_FOUND when deleted since it was read. A write under a project calls this first in its
    transaction: on PostgreSQL an archiving still running holds the row, so the write waits for
    it to commit and then sees the project archived (SQLite runs one write transaction at a
    time)."""
    current = await project_repo.lock(db, project.id)
    if current is None:
        raise _missing(project.id)
    require_writable(current)
    return current


def _missing(ref: ProjectRef) -> NotFound:
    if isinstance(ref, tuple):
        return NotFound(f"No project {ref[1]!r}")
    return NotFound("No such project")


def canonical_key(key: str) -> str:
    """A project key as stored: clients may write it in any case (`/projects/web`). Only ASCII
    is folded, so no other letter (the dotless i, the long s) upper-cases into a key."""
    return key.upper() if key.isascii() else key


async def locate(
    principal: Principal, ref: ProjectRef, action: Action
) -> tuple[Access, ProjectRow]:
    """The caller's access and the project if they may do `action` on it.

    NOT_FOUND when the project does not exist or its workspace is invisible to the caller (one
    answer for both); FORBIDDEN when they may see it but not do `action` (checked after
    existence, so a member learns nothing they could not read anyway).
    """
    if isinstance(ref, tuple):
        workspace, key = ref
        access = await authorize(principal, workspace, Action.read)
        row = await project_repo.find_by_key(access.workspace.id, canonical_key(key))
        if row is None:
            raise _missing(ref)
        return access.require(action), row
    with unseen_as("project"):
        row = await project_repo.find(ref)
        if row is None:
            raise _missing(ref)
        access = await authorize(principal, row.workspace_id, Action.read)
    return access.require(action), row


async def record_event(
    db: TransactionalDBClient,
    principal: Principal,
    project: ProjectRow,
    event: EventType,
    subject_id: str,
    data: JSONObject,
    *,
    issue_id: int | None = None,
) -> None:
    """Record `event` about `subject_id` (a global ID) under `project`, in the write's
    transaction `db`: for the project itself and its labels, issues and comments."""
    await recording.record(
        project.workspace_id,
        principal.user_id,
        event,
        subject_id,
        db=db,
        project_id=project.id,
        issue_id=issue_id,
        data=data,
    )


async def get_project(principal: Principal, ref: ProjectRef) -> ProjectView:
    """The project; NOT_FOUND when it does not exist or is invisible to the caller."""
    _, row = await locate(principal, ref, Action.read)
    return view(row)


async def list_projects(
    principal: Principal, workspace: WorkspaceRef, **paging: Unpack[PageArgs]
) -> Page:
    """A page of the workspace's projects by key; rows for `row_view`."""
    access = await authorize(principal, workspace, Action.read)
    return await project_repo.page_of_workspace(access.workspace.id, paging)


async def create_project(
    principal: Principal, workspace: WorkspaceRef, data: ProjectCreate
) -> ProjectView:
    """Create a project (admins) and record `project.created` in the same transaction.
    CONFLICT when the key is taken in the workspace."""
    access = await authorize(principal, workspace, Action.manage_projects)
    async with in_transaction() as db:
        try:
            row = await project_repo.create(
                db,
                workspace_id=access.workspace.id,
                key=data.key,
                name=data.name,
                description=data.description,
            )
        except project_repo.KeyTaken:
            raise Conflict(
                f"The key {data.key!r} is taken", errors=[FieldError("key", "is already taken")]
            ) from None
        created: JSONObject = {"key": row.key, "name": row.name}
        await record_event(db, principal, row, EventType.project_created, node_id(row.id), created)
    return view(row)


async def update_project(
    principal: Principal, ref: ProjectRef, patch: ProjectPatch, expected_version: int | None
) -> ProjectView:
    """Rename, describe, archive or unarchive a project (admins).

    PRECONDITION_FAILED when `expected_version` is stale; CONFLICT for any change to an
    archived project other than unarchiving it. Records `project.archived` when it archives,
    else `project.updated`; a patch that changes nothing records nothing and keeps the version.
    """
    async with in_transaction() as db:
        _, found = await locate(principal, ref, Action.manage_projects)
        current = await project_repo.lock(db, found.id)
        if current is None:  # deleted since `locate` read it
            raise _missing(ref)
        check_version(current.version, expected_version)
        if patch.is_archived is not False:
            require_writable(current)
        changes = recording.changes(current, patch)
        if not changes:
            return view(current)
        row = await project_repo.update(
            db,
            current.id,
            name=current.name if patch.name is None else patch.name,
            description=current.description if patch.description is None else patch.description,
            is_archived=current.is_archived if patch.is_archived is None else patch.is_archived,
        )
        archived = row.is_archived and not current.is_archived
        event = EventType.project_archived if archived else EventType.project_updated
        await record_event(db, principal, row, event, node_id(row.id), {"changes": changes})
    return view(row)


async def delete_project(
    principal: Principal, ref: ProjectRef, expected_version: int | None = None
) -> int:
    """Delete a project and everything in it (owners); returns its id. Records
    `project.deleted`. CONFLICT when archived (unarchive first), PRECONDITION_FAILED when
    `expected_version` is stale."""
    async with in_transaction() as db:
        _, found = await locate(principal, ref, Action.delete_projects)
        current = await project_repo.lock(db, found.id)
        if current is None:
            raise _missing(ref)
        check_version(current.version, expected_version)
        require_writable(current)
        await project_repo.delete(db, current.id)
        deleted: JSONObject = {"key": current.key, "name": current.name}
        await record_event(
            db, principal, current, EventType.project_deleted, node_id(current.id), deleted
        )
    return current.id
