"""Memberships: who belongs to a workspace, with which role.

The rules (domain.md): users join by accepting an invitation (`gateway.services.invitations`,
which calls `admit`); admins change roles up to admin and remove non-owners; only owners make or
remove owners; anyone may leave (remove their own membership); the last owner can
neither be removed, leave nor be demoted (CONFLICT). Each change records its event in the same
transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Unpack

from pydantic import Field, Strict
from tortoise.backends.base.client import TransactionalDBClient
from tortoise.transactions import in_transaction

from gateway.core.errors import Conflict, NotFound
from gateway.core.ids import to_global_id
from gateway.core.paging import Page, PageArgs
from gateway.core.validation import InputModel
from gateway.repositories import members as member_repo
from gateway.repositories import workspaces as workspace_repo
from gateway.repositories.members import MemberRow, UserRef
from gateway.security.principal import Principal
from gateway.services import recording, users
from gateway.services.access import Access, Action, WorkspaceRef, authorize, require_scope_of
from gateway.services.recording import EventType, JSONObject
from gateway.services.users import UserView
from gateway.services.versioning import check_version
from gateway.services.views import RowView, row_fields
from models import Role

__all__ = [
    "MemberRef",
    "MemberRoleChange",
    "MemberView",
    "admit",
    "change_role",
    "get_member",
    "get_membership",
    "list_members",
    "remove_member",
    "row_view",
    "users_by_id",
    "visible_by_pk",
]

# Roles arrive as JSON strings; strict mode would demand an enum instance, so lax for this one.
RoleField = Annotated[Role, Strict(False)]

MemberRef = str | int
"""A member named by username (REST paths) or by user id (GraphQL global IDs)."""


class MemberRoleChange(InputModel):
    """A member's new role."""

    role: RoleField = Field(description="viewer, member, admin or owner.")


@dataclass(frozen=True, slots=True)
class MemberView(RowView, MemberRow):
    """One membership: who, with which role, in which workspace (its row, and its global id)."""

    node_id: str


def node_id(membership_id: int) -> str:
    return to_global_id("Membership", membership_id)


def _view(row: MemberRow) -> MemberView:
    return MemberView(**row_fields(row), node_id=node_id(row.id))


def row_view(row: dict[str, Any]) -> MemberView:
    """A row of `list_members` as a `MemberView`."""
    return _view(MemberRow(**row))


def _names(principal: Principal, member: MemberRef) -> bool:
    """Does `member` name the caller?"""
    if isinstance(member, int):
        return member == principal.user_id
    return member == principal.username


async def _target(access: Access, member: MemberRef) -> MemberRow:
    if isinstance(member, int):
        row = await member_repo.find(access.workspace.id, user_id=member)
    else:
        row = await member_repo.find(access.workspace.id, username=member)
    if row is None:
        who = repr(member) if isinstance(member, str) else "That user"
        raise NotFound(f"{who} is not a member of workspace {access.workspace.slug!r}")
    return row


async def _lock(
    db: TransactionalDBClient, access: Access, target: MemberRow, expected_version: int | None
) -> None:
    """Lock the membership row until `db` commits; PRECONDITION_FAILED when `expected_version`
    is stale, NOT_FOUND when the member left meanwhile."""
    if target.role is Role.owner:
        # Owner rows first, in the order `_keep_an_owner` takes them, so two owners changing
        # each other cannot deadlock.
        await member_repo.lock_owners(db, access.workspace.id)
    version = await member_repo.locked_version(db, target.id)
    if version is None:
        raise NotFound(
            f"{target.username!r} is not a member of workspace {access.workspace.slug!r}"
        )
    check_version(version, expected_version)


async def _keep_an_owner(db: TransactionalDBClient, access: Access, target: MemberRow) -> None:
    """CONFLICT unless an owner other than `target` remains. Locks the owner rows first, so two
    owners demoting each other concurrently cannot leave the workspace without one."""
    owners = await member_repo.lock_owners(db, access.workspace.id)
    if target.user_id not in owners:
        raise Conflict("The membership changed meanwhile; read it again and retry")
    if len(owners) == 1:
        raise Conflict(
            f"Workspace {access.workspace.slug!r} must keep an owner; make someone else an"
            " owner first"
        )


async def _record(
    db: TransactionalDBClient, actor_id: int, event: EventType, row: MemberRow, data: JSONObject
) -> None:
    """Record an event about the membership `row`; its data names the member, then `data`."""
    about = {"user_id": to_global_id("User", row.user_id), "username": row.username, **data}
    await recording.record(row.workspace_id, actor_id, event, node_id(row.id), db=db, data=about)


async def list_members(
    principal: Principal, workspace: WorkspaceRef, **paging: Unpack[PageArgs]
) -> Page:
    """The workspace's members, in the order they joined; anyone who can see the workspace
    may list them. Rows for `row_view`."""
    access = await authorize(principal, workspace, Action.read)
    return await member_repo.page_of_workspace(access.workspace.id, paging)


async def get_member(
    principal: Principal, workspace: WorkspaceRef, member: MemberRef
) -> MemberView:
    """One member of the workspace; NOT_FOUND when the workspace is invisible or the user is
    not a member of it."""
    access = await authorize(principal, workspace, Action.read)
    return _view(await _target(access, member))


async def get_membership(principal: Principal, membership_id: int) -> MemberView:
    """One membership by id; NOT_FOUND when it does not exist or its workspace is invisible."""
    rows = await member_repo.by_ids([membership_id])
    if not rows:
        raise NotFound("No such membership")
    await authorize(principal, rows[0].workspace_id, Action.read)
    return _view(rows[0])


async def visible_by_pk(principal: Principal, pks: Sequence[int]) -> list[MemberView | None]:
    """One view per pk, in order; None where the membership does not exist or its workspace is
    invisible to the caller (for `node(id:)`). Two statements, however many pks."""
    require_scope_of(principal, Action.read)
    rows = {row.id: row for row in await member_repo.by_ids(pks)}
    if principal.is_site_admin:
        return [_view(rows[pk]) if pk in rows else None for pk in pks]
    workspace_ids = sorted({row.workspace_id for row in rows.values()})
    mine = await workspace_repo.roles_of(principal.user_id, workspace_ids)
    return [_view(rows[pk]) if pk in rows and rows[pk].workspace_id in mine else None for pk in pks]


async def users_by_id(principal: Principal, ids: Sequence[int]) -> list[UserView | None]:
    """The members' user accounts as the caller may see them, one per id, in order (the batch
    function of the `Membership.user` DataLoader: one statement per batch)."""
    found = {user.id: user for user in await member_repo.users_by_ids(ids)}
    return [users.view(found[i], principal) if i in found else None for i in ids]


async def admit(
    db: TransactionalDBClient,
    workspace_id: int,
    user: UserRef,
    role: Role,
    *,
    invitation_id: str,
) -> MemberView:
    """Make `user` a member inside the caller's transaction `db`, recording `member.added`
    with the user as its actor (they accepted). Only accepting an invitation calls this;
    CONFLICT when the user is a member already."""
    try:
        row = await member_repo.add(db, workspace_id, user, role)
    except member_repo.AlreadyMember:
        raise Conflict("You are a member of this workspace already") from None
    added: JSONObject = {"role": row.role.value, "invitation_id": invitation_id}
    await _record(db, user.id, EventType.member_added, row, added)
    return _view(row)


async def change_role(
    principal: Principal,
    workspace: WorkspaceRef,
    member: MemberRef,
    role: Role,
    expected_version: int | None = None,
) -> MemberView:
    """Give a member another role (admins, up to admin; owners for anything touching owner).
    CONFLICT when it would demote the last owner; PRECONDITION_FAILED when `expected_version`
    is stale. Setting the current role records nothing (and keeps the version)."""
    async with in_transaction() as db:
        access = await authorize(principal, workspace, Action.manage_members)
        target = await _target(access, member)
        await _lock(db, access, target, expected_version)
        if Role.owner in (target.role, role):
            access.require(Action.manage_owners)
        if target.role is role:
            return _view(target)
        if target.role is Role.owner:
            await _keep_an_owner(db, access, target)
        row = await member_repo.set_role(db, target, role)
        changed: JSONObject = {"from": target.role.value, "to": role.value}
        await _record(db, principal.user_id, EventType.member_role_changed, row, changed)
    return _view(row)


async def remove_member(
    principal: Principal,
    workspace: WorkspaceRef,
    member: MemberRef,
    expected_version: int | None = None,
) -> MemberView:
    """Remove a member (admins; owners to remove an owner), or leave when `member` is the
    caller (any role). CONFLICT for the last owner; PRECONDITION_FAILED when
    `expected_version` is stale. Returns the removed membership."""
    leaving = _names(principal, member)
    async with in_transaction() as db:
        access = await authorize(
            principal, workspace, Action.leave if leaving else Action.manage_members
        )
        target = await _target(access, member)
        await _lock(db, access, target, expected_version)
        if target.role is Role.owner:
            if not leaving:
                access.require(Action.manage_owners)
            await _keep_an_owner(db, access, target)
        await member_repo.remove(db, target.id)
        removed: JSONObject = {"role": target.role.value}
        await _record(db, principal.user_id, EventType.member_removed, target, removed)
    return _view(target)
