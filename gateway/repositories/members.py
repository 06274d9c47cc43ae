"""Queries on memberships (and on the users a membership can name).

Rows leave this module as `MemberRow`s carrying the member's username, joined in the same
statement, so a member list is one query however long it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Annotated

from tortoise.backends.base.client import TransactionalDBClient
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q

from gateway.core.errors import ValidationFailed
from gateway.core.paging import Page, PageArgs, keyset_page, order
from gateway.repositories.nested import count_per_parent, pages_per_parent
from gateway.repositories.rows import Joined, Row
from models import Membership, Role, User

# Members in the order they joined; the membership id is unique and grows.
JOINED = order("id")


@dataclass(frozen=True, slots=True)
class MemberRow(Row):
    id: int
    workspace_id: int
    user_id: int
    username: Annotated[str, Joined("user__username")]
    display_name: Annotated[str, Joined("user__display_name")]
    role: Role
    version: int
    created_at: datetime
    updated_at: datetime


_FIELDS = MemberRow.columns()


@dataclass(frozen=True, slots=True)
class UserRef:
    """Just enough of a user to add them to a workspace."""

    id: int
    username: str


class AlreadyMember(Exception):
    """The (workspace, user) pair exists already (the unique index said so)."""


async def active_user(username: str) -> UserRef | None:
    """The active user with this username."""
    user = await User.filter(username=username, is_active=True).only("id", "username").first()
    return None if user is None else UserRef(id=user.id, username=user.username)


async def find(
    workspace_id: int, *, username: str | None = None, user_id: int | None = None
) -> MemberRow | None:
    """The membership of the user named by `username` or `user_id` in the workspace."""
    where = Q(user__username=username) if username is not None else Q(user_id=user_id)
    values = await Membership.filter(where, workspace_id=workspace_id).first().values(*_FIELDS)
    return None if values is None else MemberRow.of_values(values)


async def page_of_workspace(workspace_id: int, args: PageArgs) -> Page:
    """A page of the workspace's members, oldest first, with `MemberRow`'s keys (the user's
    name joined in the same statement)."""
    page = await keyset_page(
        Membership.filter(workspace_id=workspace_id),
        JOINED,
        **args,
        fields=_FIELDS,
        scope=f"members-of:{workspace_id}",
    )
    return replace(page, rows=[asdict(MemberRow.of_values(r)) for r in page.rows])


async def pages_of_workspaces(
    workspace_ids: Sequence[int], args: PageArgs
) -> dict[int, Page | ValidationFailed]:
    """The page `page_of_workspace` gives for each workspace, all in one statement (nested
    connections); a workspace whose cursor is refused gets the error instead."""
    pages = await pages_per_parent(
        Membership.all(),
        "workspace_id",
        workspace_ids,
        JOINED,
        **args,
        fields=_FIELDS,
        scope=lambda pk: f"members-of:{pk}",
    )
    return {
        pk: page
        if isinstance(page, ValidationFailed)
        else replace(page, rows=[asdict(MemberRow.of_values(r)) for r in page.rows])
        for pk, page in pages.items()
    }


async def by_ids(ids: Sequence[int]) -> list[MemberRow]:
    """The memberships with these ids, in no particular order (for DataLoaders and node)."""
    rows = await Membership.filter(id__in=list(ids)).values(*_FIELDS)
    return [MemberRow.of_values(r) for r in rows]


async def users_by_ids(ids: Sequence[int]) -> list[User]:
    """The users with these ids, in no particular order (the `Membership.user` DataLoader)."""
    return await User.filter(id__in=list(ids))


async def add(db: TransactionalDBClient, workspace_id: int, user: UserRef, role: Role) -> MemberRow:
    """Insert a membership; `AlreadyMember` when the user belongs to the workspace already."""
    try:
        membership = await Membership.create(
            using_db=db, workspace_id=workspace_id, user_id=user.id, role=role
        )
    except IntegrityError as exc:
        raise AlreadyMember(user.username) from exc
    found = await Membership.filter(id=membership.id).using_db(db).get().values(*_FIELDS)
    return MemberRow.of_values(found)


async def lock_owners(db: TransactionalDBClient, workspace_id: int) -> list[int]:
    """The user ids of the workspace's owners, their rows locked until `db` commits.

    On PostgreSQL a concurrent transaction doing the same waits here, then re-reads the rows, so
    two owners demoting each other at once cannot both succeed. SQLite runs one writer at a time,
    which gives the same guarantee (and ignores FOR UPDATE).
    """
    # Model instances, not values_list(): Tortoise drops FOR UPDATE from values queries.
    rows = (
        await Membership.filter(workspace_id=workspace_id, role=Role.owner)
        .select_for_update()
        .using_db(db)
        .only("id", "user_id")
    )
    return [m.user_id for m in rows]  # type: ignore[attr-defined]


async def locked_version(db: TransactionalDBClient, membership_id: int) -> int | None:
    """The membership's version, its row locked until `db` commits; None once it is gone."""
    # A model instance, not values(): Tortoise drops FOR UPDATE from values queries.
    membership = (
        await Membership.filter(id=membership_id)
        .select_for_update()
        .using_db(db)
        .only("id", "version")
        .first()
    )
    return None if membership is None else membership.version


async def set_role(db: TransactionalDBClient, member: MemberRow, role: Role) -> MemberRow:
    """Store a new role for the membership and bump its version."""
    membership = await Membership.filter(id=member.id).using_db(db).get()
    membership.role = role
    membership.version += 1
    await membership.save(using_db=db, update_fields=["role", "version", "updated_at"])
    return replace(member, role=role, version=membership.version, updated_at=membership.updated_at)


async def remove(db: TransactionalDBClient, membership_id: int) -> None:
    await Membership.filter(id=membership_id).using_db(db).delete()


async def counts_of_workspaces(workspace_ids: Sequence[int]) -> dict[int, int]:
    """How many members each of `workspace_ids` has, in one statement (nested `totalCount`)."""
    return await count_per_parent(Membership.all(), "workspace_id", workspace_ids)
