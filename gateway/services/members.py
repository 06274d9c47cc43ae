"""Memberships: who belongs to a workspace, with which role.

The rules (domain.md): admins add members, change roles up to admin and remove non-owners; only
owners make or remove owners; anyone may leave (remove their own membership); the last owner can
neither be removed, leave nor be demoted (CONFLICT). Each change records its event in the same
transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Unpack

from pydantic import BaseModel, ConfigDict, Field, Strict, StringConstraints
from tortoise.backends.base.client import TransactionalDBClient
from tortoise.transactions import in_transaction

from gateway.errors import Conflict, FieldError, NotFound, ValidationFailed
from gateway.ids import to_global_id
from gateway.paging import Page, PageArgs
from gateway.repositories import members as member_repo
from gateway.repositories import workspaces as workspace_repo
from gateway.repositories.members import MemberRow
from gateway.security.principal import Principal
from gateway.services import events, users
from gateway.services.access import Access, Action, WorkspaceRef, authorize, require_scope_of
from gateway.services.events import EventType
from gateway.services.users import UserView
from models import Role

__all__ = [
    "MemberAdd",
    "MemberRef",
    "MemberRoleChange",
    "MemberView",
    "add_member",
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
Username = Annotated[str, StringConstraints(strip_whitespace=True, max_length=39)]
Email = Annotated[str, StringConstraints(strip_whitespace=True, max_length=254)]

MemberRef = str | int
"""A member named by username (REST paths) or by user id (GraphQL global IDs)."""


class MemberAdd(BaseModel):
    """Whom to add (exactly one of `username` and `email`) and with which role."""

    model_config = ConfigDict(extra="forbid", strict=True)

    username: Username | None = Field(
        default=None, description="The user to add; or give `email` instead."
    )
    email: Email | None = Field(
        default=None, description="The user to add, by email (case-insensitive)."
    )
    role: RoleField = Field(
        default=Role.member, description="viewer, member (the default), admin or owner."
    )


class MemberRoleChange(BaseModel):
    """A member's new role."""

    model_config = ConfigDict(extra="forbid", strict=True)

    role: RoleField = Field(description="viewer, member, admin or owner.")


@dataclass(frozen=True, slots=True)
class MemberView:
    """One membership: who, with which role, in which workspace."""

    pk: int
    node_id: str
    workspace_id: int
    user_id: int
    user_node_id: str
    username: str
    display_name: str
    role: Role
    created_at: datetime
    updated_at: datetime


def node_id(membership_id: int) -> str:
    return to_global_id("Membership", membership_id)


def _view(row: MemberRow) -> MemberView:
    return MemberView(
        pk=row.id,
        node_id=node_id(row.id),
        workspace_id=row.workspace_id,
        user_id=row.user_id,
        user_node_id=to_global_id("User", row.user_id),
        username=row.username,
        display_name=row.display_name,
        role=row.role,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


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


def _describe(row: MemberRow) -> events.JSONObject:
    return {"user_id": to_global_id("User", row.user_id), "username": row.username}


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


async def add_member(principal: Principal, workspace: WorkspaceRef, data: MemberAdd) -> MemberView:
    """Add a user by username or email (admins; owners only to add an owner).

    VALIDATION_FAILED when neither or both of username and email are given, or no active user
    has them; CONFLICT when the user is a member already.
    """
    if (data.username is None) == (data.email is None):
        message = "give exactly one of username and email"
        raise ValidationFailed(
            f"username, email: {message}",
            errors=[FieldError("username", message), FieldError("email", message)],
        )
    async with in_transaction() as db:
        access = await authorize(principal, workspace, Action.manage_members)
        if data.role is Role.owner:
            access.require(Action.manage_owners)
        user = await member_repo.active_user(username=data.username, email=data.email)
        if user is None:
            raise ValidationFailed.on("username" if data.username else "email", "no such user")
        try:
            row = await member_repo.add(db, access.workspace.id, user, data.role)
        except member_repo.AlreadyMember:
            raise Conflict(
                f"{user.username!r} is already a member of {access.workspace.slug!r}"
            ) from None
        await events.record(
            access.workspace.id,
            principal.user_id,
            EventType.member_added,
            node_id(row.id),
            db=db,
            data={**_describe(row), "role": row.role.value},
        )
    return _view(row)


async def change_role(
    principal: Principal, workspace: WorkspaceRef, member: MemberRef, role: Role
) -> MemberView:
    """Give a member another role (admins, up to admin; owners for anything touching owner).
    CONFLICT when it would demote the last owner. Setting the current role records nothing."""
    async with in_transaction() as db:
        access = await authorize(principal, workspace, Action.manage_members)
        target = await _target(access, member)
        if Role.owner in (target.role, role):
            access.require(Action.manage_owners)
        if target.role is role:
            return _view(target)
        if target.role is Role.owner:
            await _keep_an_owner(db, access, target)
        row = await member_repo.set_role(db, target, role)
        await events.record(
            access.workspace.id,
            principal.user_id,
            EventType.member_role_changed,
            node_id(row.id),
            db=db,
            data={**_describe(row), "from": target.role.value, "to": role.value},
        )
    return _view(row)


async def remove_member(
    principal: Principal, workspace: WorkspaceRef, member: MemberRef
) -> MemberView:
    """Remove a member (admins; owners to remove an owner), or leave when `member` is the
    caller (any role). CONFLICT for the last owner. Returns the removed membership."""
    leaving = _names(principal, member)
    async with in_transaction() as db:
        access = await authorize(
            principal, workspace, Action.leave if leaving else Action.manage_members
        )
        target = await _target(access, member)
        if target.role is Role.owner:
            if not leaving:
                access.require(Action.manage_owners)
            await _keep_an_owner(db, access, target)
        await member_repo.remove(db, target.id)
        await events.record(
            access.workspace.id,
            principal.user_id,
            EventType.member_removed,
            node_id(target.id),
            db=db,
            data={**_describe(target), "role": target.role.value},
        )
    return _view(target)
