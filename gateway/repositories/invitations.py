"""Queries on invitations.

Rows leave this module as `InvitationRow`s carrying the workspace's slug and name and the
inviter's and invitee's usernames, joined in the same statement, so a list is one query.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Annotated

from tortoise.backends.base.client import TransactionalDBClient
from tortoise.expressions import Q, Subquery

from gateway.core.paging import Page, PageArgs, keyset_page, order
from gateway.repositories.rows import Joined, Row
from models import Invitation, InvitationState, Role, User

NEWEST_FIRST = order("-id")


@dataclass(frozen=True, slots=True)
class InvitationRow(Row):
    id: int
    workspace_id: int
    workspace_slug: Annotated[str, Joined("workspace__slug")]
    workspace_name: Annotated[str, Joined("workspace__name")]
    inviter_id: int | None
    inviter_username: Annotated[str | None, Joined("inviter__username")]
    invitee_id: int | None
    invitee_username: Annotated[str | None, Joined("invitee__username")]
    email_key: str | None
    role: Role
    state: InvitationState  # as stored: a lapsed invitation is still `pending` here
    expires_at: datetime
    responded_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime


_FIELDS = InvitationRow.columns()


def _addressed_to(user_id: int) -> Q:
    """Invitations naming the user's account, or the email address the account has now."""
    email = Subquery(User.filter(id=user_id, is_active=True).values("email_key"))
    return Q(invitee_id=user_id) | Q(email_key__in=email)


async def by_ids(ids: Sequence[int]) -> list[InvitationRow]:
    """The invitations with these ids, in no particular order (one statement)."""
    rows = await Invitation.filter(id__in=list(ids)).values(*_FIELDS)
    return [InvitationRow.of_values(r) for r in rows]


async def find(invitation_id: int, *, workspace_id: int) -> InvitationRow | None:
    """The invitation with this id, if it belongs to the workspace."""
    rows = await Invitation.filter(id=invitation_id, workspace_id=workspace_id).values(*_FIELDS)
    return InvitationRow.of_values(rows[0]) if rows else None


async def find_addressed_to(user_id: int, invitation_id: int) -> InvitationRow | None:
    """The invitation with this id, if it is addressed to the user."""
    rows = await Invitation.filter(_addressed_to(user_id), id=invitation_id).values(*_FIELDS)
    return InvitationRow.of_values(rows[0]) if rows else None


async def addressed_to(user_id: int, invitation_ids: Sequence[int]) -> set[int]:
    """Which of these invitations are addressed to the user (one statement)."""
    rows = await Invitation.filter(_addressed_to(user_id), id__in=list(invitation_ids)).values_list(
        "id", flat=True
    )
    return {int(pk) for pk in rows}  # type: ignore[call-overload]


async def page_of_workspace(workspace_id: int, args: PageArgs) -> Page:
    """A page of the workspace's unanswered invitations, newest first, lapsed ones included (an
    admin sees and may revoke them); seeks on the (workspace, state, id) index."""
    return await keyset_page(
        Invitation.filter(workspace_id=workspace_id, state=InvitationState.pending),
        NEWEST_FIRST,
        **args,
        fields=_FIELDS,
        scope=f"invitations-of:{workspace_id}",
    )


async def page_addressed_to(user_id: int, now: datetime, args: PageArgs) -> Page:
    """A page of the invitations the user may still accept, newest first."""
    return await keyset_page(
        Invitation.filter(
            _addressed_to(user_id), state=InvitationState.pending, expires_at__gt=now
        ),
        NEWEST_FIRST,
        **args,
        fields=_FIELDS,
        scope=f"invitations-to:{user_id}",
    )


async def pending_exists(
    workspace_id: int, now: datetime, *, invitee_id: int | None, email_key: str | None
) -> bool:
    """Whether an invitation to the same account (or the same address) still awaits an answer."""
    where = Q(invitee_id=invitee_id) if invitee_id is not None else Q(email_key=email_key)
    return await Invitation.filter(
        where, workspace_id=workspace_id, state=InvitationState.pending, expires_at__gt=now
    ).exists()


async def create(
    db: TransactionalDBClient,
    *,
    workspace_id: int,
    inviter_id: int,
    invitee_id: int | None,
    email_key: str | None,
    role: Role,
    expires_at: datetime,
) -> InvitationRow:
    invitation = await Invitation.create(
        using_db=db,
        workspace_id=workspace_id,
        inviter_id=inviter_id,
        invitee_id=invitee_id,
        email_key=email_key,
        role=role,
        expires_at=expires_at,
    )
    rows = await Invitation.filter(id=invitation.id).using_db(db).values(*_FIELDS)
    return InvitationRow.of_values(rows[0])


async def answer(
    db: TransactionalDBClient, row: InvitationRow, state: InvitationState, now: datetime
) -> InvitationRow | None:
    """Move a pending invitation to `state` and bump its version, only if it is still at the
    version `row` was read at; None when a concurrent request answered or changed it first."""
    changed = (
        await Invitation.filter(id=row.id, state=InvitationState.pending, version=row.version)
        .using_db(db)
        .update(state=state, responded_at=now, version=row.version + 1, updated_at=now)
    )
    if not changed:
        return None
    return replace(row, state=state, responded_at=now, version=row.version + 1, updated_at=now)
