"""Queries on workspaces. Rows leave this module as `WorkspaceRow`s, never ORM instances."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from tortoise.backends.base.client import TransactionalDBClient
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q, Subquery

from gateway.core.paging import Page, PageArgs, keyset_page, order
from gateway.repositories.rows import Row
from models import Membership, Role, Workspace

# A user's workspaces in the order they joined them; the membership id is unique and grows.
_JOINED = order("id")
_MEMBERSHIP_FIELDS = (
    "role",
    "workspace_id",
    "workspace__slug",
    "workspace__name",
    "workspace__version",
    "workspace__created_at",
    "workspace__updated_at",
)


@dataclass(frozen=True, slots=True)
class WorkspaceRow(Row):
    id: int
    slug: str
    name: str
    version: int
    created_at: datetime
    updated_at: datetime


class SlugTaken(Exception):
    """The slug belongs to another workspace (the unique index said so)."""


def _by_ref(ref: str | int) -> Q:
    return Q(slug=ref) if isinstance(ref, str) else Q(id=ref)


async def find(ref: str | int) -> WorkspaceRow | None:
    """The workspace with this slug (str) or id (int)."""
    workspace = await Workspace.filter(_by_ref(ref)).first()
    return None if workspace is None else WorkspaceRow.of_model(workspace)


async def by_ids(ids: Sequence[int]) -> list[WorkspaceRow]:
    """The workspaces with these ids, in no particular order."""
    return [WorkspaceRow.of_model(w) for w in await Workspace.filter(id__in=list(ids))]


async def find_with_member_role(ref: str | int, user_id: int) -> tuple[WorkspaceRow, Role] | None:
    """The workspace and `user_id`'s role in it, in one statement; None when either the
    workspace does not exist or the user is not a member."""
    where = Q(workspace__slug=ref) if isinstance(ref, str) else Q(workspace_id=ref)
    membership = await Membership.filter(where, user_id=user_id).select_related("workspace").first()
    if membership is None:
        return None
    return WorkspaceRow.of_model(membership.workspace), Role(membership.role)


async def create(db: TransactionalDBClient, *, slug: str, name: str) -> WorkspaceRow:
    """Insert a workspace; `SlugTaken` when the slug is in use (even by a concurrent insert)."""
    try:
        workspace = await Workspace.create(using_db=db, slug=slug, name=name)
    except IntegrityError as exc:
        raise SlugTaken(slug) from exc
    return WorkspaceRow.of_model(workspace)


async def lock(db: TransactionalDBClient, workspace_id: int) -> WorkspaceRow | None:
    """The workspace, its row locked until `db` commits (serialises concurrent edits)."""
    workspace = await Workspace.filter(id=workspace_id).select_for_update().using_db(db).first()
    return None if workspace is None else WorkspaceRow.of_model(workspace)


async def update(
    db: TransactionalDBClient, workspace_id: int, *, slug: str, name: str
) -> WorkspaceRow:
    """Store a new slug and name and bump the version; `SlugTaken` when the slug is in use."""
    workspace = await Workspace.filter(id=workspace_id).using_db(db).get()
    workspace.slug = slug
    workspace.name = name
    workspace.version += 1
    try:
        await workspace.save(using_db=db, update_fields=["slug", "name", "version", "updated_at"])
    except IntegrityError as exc:
        raise SlugTaken(slug) from exc
    return WorkspaceRow.of_model(workspace)


async def delete(db: TransactionalDBClient, workspace_id: int) -> None:
    """Delete the workspace; the database cascades to memberships, projects and events."""
    await Workspace.filter(id=workspace_id).using_db(db).delete()


def _listed(values: dict[str, Any]) -> dict[str, Any]:
    """A membership row of `page_of_member` as the workspace it names plus the member's role:
    the keys of `WorkspaceRow` and `role`."""
    return {
        "id": values["workspace_id"],
        "slug": values["workspace__slug"],
        "name": values["workspace__name"],
        "version": values["workspace__version"],
        "created_at": values["workspace__created_at"],
        "updated_at": values["workspace__updated_at"],
        "role": Role(values["role"]),
    }


async def page_of_member(user_id: int, args: PageArgs, *, shared_with: int | None = None) -> Page:
    """A page of the workspaces `user_id` belongs to, oldest membership first; with
    `shared_with`, only those that user belongs to as well. Rows have `WorkspaceRow`'s keys and
    `role` (`user_id`'s role). One statement per page, seeking on the membership id."""
    memberships = Membership.filter(user_id=user_id)
    if shared_with is not None:
        theirs = Membership.filter(user_id=shared_with).values("workspace_id")
        memberships = memberships.filter(workspace_id__in=Subquery(theirs))
    page = await keyset_page(
        memberships,
        _JOINED,
        **args,
        fields=_MEMBERSHIP_FIELDS,
        scope=f"workspaces-of:{user_id}:{shared_with}",
    )
    return replace(page, rows=[_listed(r) for r in page.rows])


async def roles_of(user_id: int, workspace_ids: Sequence[int]) -> dict[int, Role]:
    """`user_id`'s role in each of these workspaces they belong to (one statement)."""
    if not workspace_ids:
        return {}
    rows = await Membership.filter(user_id=user_id, workspace_id__in=list(workspace_ids)).values(
        "workspace_id", "role"
    )
    return {int(r["workspace_id"]): Role(r["role"]) for r in rows}
