"""Workspaces: the tenants. Creating, reading, renaming and deleting them.

A workspace is always returned as one caller sees it (`WorkspaceView`, with their effective
role); lists are keyset `Page`s whose rows `row_view` turns into the same view.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Annotated, Any, Unpack

from pydantic import Field, StringConstraints
from tortoise.backends.base.client import TransactionalDBClient
from tortoise.transactions import in_transaction

from gateway.core.errors import Conflict, FieldError
from gateway.core.ids import to_global_id
from gateway.core.paging import Page, PageArgs
from gateway.core.validation import InputModel, Omittable
from gateway.repositories import members as member_repo
from gateway.repositories import workspaces as workspace_repo
from gateway.repositories.workspaces import WorkspaceRow
from gateway.security.principal import Principal
from gateway.services import recording
from gateway.services.access import (
    Access,
    Action,
    WorkspaceRef,
    authorize,
    not_found,
    require_scope_of,
)
from gateway.services.recording import EventType, JSONObject
from gateway.services.versioning import check_version
from gateway.services.views import RowView, row_fields
from models import Role

SLUG_PATTERN = r"^[a-z0-9-]{2,39}$"

Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN)]
"""2 to 39 lower-case letters, digits and hyphens; never trimmed (it names URLs)."""

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
"""1 to 100 characters once trimmed."""


class WorkspaceCreate(InputModel):
    """A new workspace."""

    slug: Slug = Field(description="Unique; 2 to 39 of a-z, 0-9 and `-`. Names the URL.")
    name: Name = Field(description="1 to 100 characters, trimmed.")


class WorkspacePatch(InputModel):
    """A change to a workspace: only the fields given are changed; neither may be null."""

    slug: Omittable[Slug] = Field(
        default=None,
        description="A new slug; the old URL stops working.",
    )
    name: Omittable[Name] = Field(
        default=None,
        description="A new name, 1 to 100 characters.",
    )


def node_id(workspace_id: int) -> str:
    return to_global_id("Workspace", workspace_id)


def _slug_taken(slug: str) -> Conflict:
    return Conflict(f"The slug {slug!r} is taken", errors=[FieldError("slug", "is already taken")])


@dataclass(frozen=True, slots=True)
class WorkspaceView(RowView, WorkspaceRow):
    """A workspace as one caller sees it: its row, its global id and `viewer_role`, the role
    they act with there (owner for a site admin)."""

    node_id: str
    viewer_role: Role


def _view(row: WorkspaceRow, viewer_role: Role) -> WorkspaceView:
    return WorkspaceView(**row_fields(row), node_id=node_id(row.id), viewer_role=viewer_role)


def _of(access: Access) -> WorkspaceView:
    return _view(access.workspace, access.role)


def row_view(row: dict[str, Any]) -> WorkspaceView:
    """A row of `list_workspaces` / `list_user_workspaces` as a `WorkspaceView`."""
    return _view(WorkspaceRow.of_values(row), row["viewer_role"])


async def get_workspace(principal: Principal, workspace: WorkspaceRef) -> WorkspaceView:
    """The workspace as the caller sees it; NOT_FOUND when it is invisible to them."""
    return _of(await authorize(principal, workspace, Action.read))


async def visible_by_pk(principal: Principal, pks: Sequence[int]) -> list[WorkspaceView | None]:
    """One view per pk, in order; None where the workspace does not exist or the caller may
    not see it (for `node(id:)`). Two statements, however many pks."""
    require_scope_of(principal, Action.read)
    rows = {row.id: row for row in await workspace_repo.by_ids(pks)}
    roles = {} if principal.is_site_admin else await workspace_repo.roles_of(principal.user_id, pks)
    views: list[WorkspaceView | None] = []
    for pk in pks:
        row = rows.get(pk)
        role = Role.owner if principal.is_site_admin else roles.get(pk)
        views.append(None if row is None or role is None else _view(row, role))
    return views


async def readable(principal: Principal, workspace_ids: Sequence[int]) -> set[int]:
    """Which of these workspaces the caller may read (for `node(id:)` of the objects inside
    them): two statements, however many ids."""
    ids = sorted(set(workspace_ids))
    seen = await visible_by_pk(principal, ids)
    return {pk for pk, view in zip(ids, seen, strict=True) if view is not None}


async def list_workspaces(principal: Principal, **paging: Unpack[PageArgs]) -> Page:
    """The workspaces the caller is a member of, oldest membership first; rows for
    `row_view`.

    A site admin sees their own memberships here too, not every workspace: this is "my
    workspaces"; they reach any other workspace by slug or id.
    """
    return await list_user_workspaces(principal, principal.user_id, **paging)


async def list_user_workspaces(
    principal: Principal, user_id: int, **paging: Unpack[PageArgs]
) -> Page:
    """The workspaces `user_id` belongs to that the caller can see: all of them for the user
    themself or a site admin, else only those the caller belongs to as well. Rows for
    `row_view`, with the caller's own role as `viewer_role`."""
    require_scope_of(principal, Action.read)
    if principal.is_site_admin:
        # A site admin acts as owner everywhere, whatever their own membership says.
        page = await workspace_repo.page_of_member(user_id, paging)
        return replace(page, rows=[{**r, "viewer_role": Role.owner} for r in page.rows])
    if user_id == principal.user_id:
        page = await workspace_repo.page_of_member(user_id, paging)
        return replace(page, rows=[{**r, "viewer_role": r["role"]} for r in page.rows])
    page = await workspace_repo.page_of_member(user_id, paging, shared_with=principal.user_id)
    mine = await workspace_repo.roles_of(principal.user_id, [r["id"] for r in page.rows])
    return replace(page, rows=[{**r, "viewer_role": mine[r["id"]]} for r in page.rows])


async def create_workspace(principal: Principal, data: WorkspaceCreate) -> WorkspaceView:
    """Create a workspace with the caller as its owner and record `workspace.created`, all in
    one transaction. CONFLICT when the slug is taken."""
    require_scope_of(principal, Action.create_workspace)
    async with in_transaction() as db:
        try:
            row = await workspace_repo.create(db, slug=data.slug, name=data.name)
        except workspace_repo.SlugTaken:
            raise _slug_taken(data.slug) from None
        owner = member_repo.UserRef(id=principal.user_id, username=principal.username)
        await member_repo.add(db, row.id, owner, Role.owner)
        created: JSONObject = {"slug": row.slug, "name": row.name}
        await _record(db, principal, row, EventType.workspace_created, created)
    return _view(row, Role.owner)


async def update_workspace(
    principal: Principal,
    workspace: WorkspaceRef,
    patch: WorkspacePatch,
    expected_version: int | None = None,
) -> WorkspaceView:
    """Rename a workspace (owners only) and record `workspace.updated` with what changed.
    A patch that changes nothing records nothing (and keeps the version). CONFLICT when the
    new slug is taken; PRECONDITION_FAILED when `expected_version` is stale."""
    async with in_transaction() as db:
        access, current = await _lock(db, principal, workspace, expected_version)
        changes = recording.changes(current, patch)
        if not changes:
            return _view(current, access.role)
        slug = patch.slug or current.slug
        try:
            row = await workspace_repo.update(
                db, current.id, slug=slug, name=patch.name or current.name
            )
        except workspace_repo.SlugTaken:
            raise _slug_taken(slug) from None
        await _record(db, principal, row, EventType.workspace_updated, {"changes": changes})
    return _view(row, access.role)


async def delete_workspace(
    principal: Principal, workspace: WorkspaceRef, expected_version: int | None = None
) -> int:
    """Delete a workspace and everything in it (owners only); returns its id.
    PRECONDITION_FAILED when `expected_version` is stale.

    No event is recorded: events belong to their workspace and go with it (domain.md has no
    `workspace.deleted`).
    """
    async with in_transaction() as db:
        access, _ = await _lock(db, principal, workspace, expected_version)
        await workspace_repo.delete(db, access.workspace.id)
    return access.workspace.id


async def _lock(
    db: TransactionalDBClient,
    principal: Principal,
    workspace: WorkspaceRef,
    expected_version: int | None,
) -> tuple[Access, WorkspaceRow]:
    """The workspace an owner changes, its row locked in `db`'s transaction;
    PRECONDITION_FAILED when `expected_version` is stale."""
    access = await authorize(principal, workspace, Action.manage_workspace)
    current = await workspace_repo.lock(db, access.workspace.id)
    if current is None:  # deleted since `authorize` read it
        raise not_found(access.workspace.id)
    check_version(current.version, expected_version)
    return access, current


async def _record(
    db: TransactionalDBClient,
    principal: Principal,
    row: WorkspaceRow,
    event: EventType,
    data: JSONObject,
) -> None:
    """Record an event of the workspace itself (its subject), in the write's transaction."""
    await recording.record(row.id, principal.user_id, event, node_id(row.id), db=db, data=data)
