"""Invitations: the only way into a workspace one did not create (domain.md).

Admins invite an account by username or anyone by email address; only owners invite owners.
Only the invitee — the named account, or whichever account has the address when it answers —
sees, accepts or declines an invitation; to anyone else it does not exist. Accepting creates
the membership and records `member.added` in the invitation's own transaction. A pending
invitation lapses `TTL` after it was made: it then reads as `expired` and can only be revoked.

Inviting by email never looks the address up, so the answer (and the time it takes) is the
same whether or not an account has it, and no username is ever shown for an email invitation.
See history/adr/0012-invitations.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Unpack

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, ConfigDict, Field, StringConstraints
from tortoise.backends.base.client import TransactionalDBClient
from tortoise.transactions import in_transaction

from gateway.core.errors import Conflict, FieldError, NotFound, ValidationFailed
from gateway.core.ids import to_global_id
from gateway.core.paging import Page, PageArgs
from gateway.core.validation import InputModel
from gateway.repositories import invitations as invitation_repo
from gateway.repositories import members as member_repo
from gateway.repositories import workspaces as workspace_repo
from gateway.repositories.invitations import InvitationRow
from gateway.repositories.members import UserRef
from gateway.security.principal import Principal
from gateway.services import members, recording
from gateway.services.access import (
    Access,
    Action,
    WorkspaceRef,
    authorize,
    require_scope_of,
    role_allows,
)
from gateway.services.members import MemberView, RoleField
from gateway.services.recording import EventType
from gateway.services.versioning import check_version
from models import InvitationState, Role

__all__ = [
    "TTL",
    "Acceptance",
    "InvitationCreate",
    "InvitationRef",
    "InvitationView",
    "Person",
    "accept",
    "decline",
    "get_invitation",
    "invite",
    "list_invitations",
    "list_my_invitations",
    "revoke",
    "row_view",
    "visible_by_pk",
]

TTL = timedelta(days=7)
EMAIL_MAX = 254
NO_SUCH_INVITATION = "No such invitation"

InvitationRef = tuple[WorkspaceRef, int] | int
"""An invitation named by (workspace, id) (REST paths) or by its id alone (GraphQL IDs)."""


def _email_key(raw: str) -> str:
    """The address as `User.email_key` stores it, so a later sign-up with it matches."""
    try:
        return validate_email(
            raw, check_deliverability=False, test_environment=True
        ).normalized.lower()
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from None


Username = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        to_lower=True,
        min_length=1,
        max_length=39,
        pattern=r"^[A-Za-z0-9-]+$",
    ),
]
Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=EMAIL_MAX),
    AfterValidator(_email_key),
    Field(json_schema_extra={"format": "email"}),
]


def _exactly_one_invitee(schema: dict[str, Any]) -> None:
    """`oneOf` two complete, named shapes (by username, by email), so a generated client has a
    class for each that carries `role` too, not two fragments."""
    properties = schema["properties"]

    def invitee(name: str) -> dict[str, Any]:
        value = next(s for s in properties[name]["anyOf"] if s.get("type") != "null")
        return {**value, "description": properties[name]["description"]}

    schema["oneOf"] = [
        {
            "title": f"InvitationBy{name.title()}",
            "type": "object",
            "properties": {name: invitee(name), "role": properties["role"]},
            "required": [name],
            "additionalProperties": False,
        }
        for name in ("username", "email")
    ]


class InvitationCreate(InputModel):
    """Whom to invite (exactly one of `username` and `email`) and with which role."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        # The "exactly one" rule, for OpenAPI (the service enforces it).
        json_schema_extra=_exactly_one_invitee,
    )

    username: Username | None = Field(
        default=None, description="An account to invite; or give `email` instead."
    )
    email: Email | None = Field(
        default=None,
        description="An address to invite, whether or not an account has it yet; whoever"
        " signs in with it can accept.",
    )
    role: RoleField = Field(
        default=Role.member, description="viewer, member (the default), admin or owner."
    )


@dataclass(frozen=True, slots=True)
class Person:
    """The inviter or the invitee, as far as an invitation shows them."""

    pk: int
    node_id: str
    username: str


@dataclass(frozen=True, slots=True)
class InvitationView:
    """An invitation as both APIs show it; `state` is `expired` for a lapsed pending one, and
    `invitee` is None for an email invitation (whose account, if any, is never revealed)."""

    pk: int
    node_id: str
    workspace_id: int
    workspace_node_id: str
    workspace_slug: str
    workspace_name: str
    inviter: Person | None
    invitee: Person | None
    email: str | None
    role: Role
    state: InvitationState
    expires_at: datetime
    responded_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Acceptance:
    """An accepted invitation and the membership it created."""

    invitation: InvitationView
    membership: MemberView


def node_id(invitation_id: int) -> str:
    return to_global_id("Invitation", invitation_id)


def _now() -> datetime:
    return datetime.now(UTC)


def _person(pk: int | None, username: str | None) -> Person | None:
    if pk is None or username is None:
        return None
    return Person(pk=pk, node_id=to_global_id("User", pk), username=username)


def _state(row: InvitationRow, now: datetime) -> InvitationState:
    if row.state is InvitationState.pending and row.expires_at <= now:
        return InvitationState.expired
    return row.state


def _view(row: InvitationRow, now: datetime) -> InvitationView:
    return InvitationView(
        pk=row.id,
        node_id=node_id(row.id),
        workspace_id=row.workspace_id,
        workspace_node_id=to_global_id("Workspace", row.workspace_id),
        workspace_slug=row.workspace_slug,
        workspace_name=row.workspace_name,
        inviter=_person(row.inviter_id, row.inviter_username),
        invitee=_person(row.invitee_id, row.invitee_username),
        email=row.email_key,
        role=row.role,
        state=_state(row, now),
        expires_at=row.expires_at,
        responded_at=row.responded_at,
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def row_view(row: dict[str, Any]) -> InvitationView:
    """A row of `list_invitations` or `list_my_invitations` as an `InvitationView`."""
    return _view(InvitationRow.of_values(row), _now())


def _one_of(data: InvitationCreate) -> None:
    if (data.username is None) == (data.email is None):
        message = "give exactly one of username and email"
        raise ValidationFailed(
            f"username, email: {message}",
            errors=[FieldError("username", message), FieldError("email", message)],
        )


def _require_open(row: InvitationRow, now: datetime) -> None:
    """CONFLICT unless the invitation can still be answered."""
    state = _state(row, now)
    if state is not InvitationState.pending:
        raise Conflict(f"This invitation is {state.value} and can no longer be answered")


async def _locate(
    principal: Principal, invitation: InvitationRef, action: Action
) -> tuple[Access, InvitationRow]:
    """The invitation and the caller's access to its workspace, which must allow `action`.
    NOT_FOUND, with one message whether the invitation or its workspace is missing or
    invisible, so that ids cannot be probed."""
    if isinstance(invitation, int):
        rows = await invitation_repo.by_ids([invitation])
        if not rows:
            raise NotFound(NO_SUCH_INVITATION)
        try:
            access = await authorize(principal, rows[0].workspace_id, action)
        except NotFound:
            raise NotFound(NO_SUCH_INVITATION) from None
        return access, rows[0]
    workspace, invitation_id = invitation
    access = await authorize(principal, workspace, action)
    row = await invitation_repo.find(invitation_id, workspace_id=access.workspace.id)
    if row is None:
        raise NotFound(NO_SUCH_INVITATION)
    return access, row


async def _set_state(
    db: TransactionalDBClient, row: InvitationRow, state: InvitationState, now: datetime
) -> InvitationRow:
    """`row` answered (or revoked) in `db`'s transaction; CONFLICT when it changed meanwhile."""
    answered = await invitation_repo.answer(db, row, state, now)
    if answered is None:
        raise Conflict("The invitation changed meanwhile; read it again and retry")
    return answered


async def _answer(
    db: TransactionalDBClient,
    principal: Principal,
    invitation_id: int,
    state: InvitationState,
    now: datetime,
) -> InvitationRow:
    """The caller's answer to an invitation addressed to them. NOT_FOUND unless it is; CONFLICT
    when it is no longer pending."""
    row = await invitation_repo.find_addressed_to(principal.user_id, invitation_id)
    if row is None:
        raise NotFound(NO_SUCH_INVITATION)
    _require_open(row, now)
    return await _set_state(db, row, state, now)


async def invite(
    principal: Principal, workspace: WorkspaceRef, data: InvitationCreate
) -> InvitationView:
    """Invite an account by username or an address by email (admins; owners to invite an
    owner), valid for `TTL`; records `member.invited`.

    VALIDATION_FAILED when not exactly one of username and email is given, or no active
    account has the username; CONFLICT when that account is a member already, or an
    invitation to the same account or address is pending. An email invitation never looks the
    address up: whether an account has it changes nothing in the answer.
    """
    _one_of(data)
    now = _now()
    async with in_transaction() as db:
        access = await authorize(principal, workspace, Action.manage_members)
        if data.role is Role.owner:
            access.require(Action.manage_owners)
        ws = access.workspace
        # Serialises invitations to one workspace: two at once to the same person would both
        # pass the "pending already" check below.
        await workspace_repo.lock(db, ws.id)
        invitee: UserRef | None = None
        if data.username is not None:
            invitee = await member_repo.active_user(data.username)
            if invitee is None:
                raise ValidationFailed.on("username", "no such user")
            if await member_repo.find(ws.id, user_id=invitee.id) is not None:
                raise Conflict(f"{invitee.username!r} is a member of {ws.slug!r} already")
        invitee_id = None if invitee is None else invitee.id
        if await invitation_repo.pending_exists(
            ws.id, now, invitee_id=invitee_id, email_key=data.email
        ):
            raise Conflict("An invitation to them is pending already; revoke it to send another")
        row = await invitation_repo.create(
            db,
            workspace_id=ws.id,
            inviter_id=principal.user_id,
            invitee_id=invitee_id,
            email_key=data.email,
            role=data.role,
            expires_at=now + TTL,
        )
        # Every member reads the feed: it names an invited account, never an address.
        about: recording.JSONObject = {"role": row.role.value}
        if invitee is not None:
            about.update(user_id=to_global_id("User", invitee.id), username=invitee.username)
        await recording.record(
            ws.id, principal.user_id, EventType.member_invited, node_id(row.id), db=db, data=about
        )
    return _view(row, now)


async def list_invitations(
    principal: Principal, workspace: WorkspaceRef, **paging: Unpack[PageArgs]
) -> Page:
    """The workspace's unanswered invitations (lapsed ones included), newest first; admins
    only, as they name outsiders. Rows for `row_view`."""
    access = await authorize(principal, workspace, Action.see_invitations)
    return await invitation_repo.page_of_workspace(access.workspace.id, paging)


async def get_invitation(principal: Principal, invitation: InvitationRef) -> InvitationView:
    """One invitation of a workspace, in any state (admins)."""
    _, row = await _locate(principal, invitation, Action.see_invitations)
    return _view(row, _now())


async def revoke(
    principal: Principal, invitation: InvitationRef, expected_version: int | None = None
) -> InvitationView:
    """Withdraw an unanswered invitation, lapsed or not (admins; owners for an owner
    invitation). CONFLICT once it was answered or revoked; PRECONDITION_FAILED when
    `expected_version` is stale."""
    now = _now()
    async with in_transaction() as db:
        access, row = await _locate(principal, invitation, Action.manage_members)
        if row.role is Role.owner:
            access.require(Action.manage_owners)
        check_version(row.version, expected_version)
        if row.state is not InvitationState.pending:
            raise Conflict(f"This invitation is {row.state.value} and cannot be revoked")
        revoked = await _set_state(db, row, InvitationState.revoked, now)
    return _view(revoked, now)


async def list_my_invitations(principal: Principal, **paging: Unpack[PageArgs]) -> Page:
    """The invitations the caller may still accept, newest first: those naming their account
    or the email address it has. Rows for `row_view`."""
    require_scope_of(principal, Action.read)
    return await invitation_repo.page_addressed_to(principal.user_id, _now(), paging)


async def accept(principal: Principal, invitation_id: int) -> Acceptance:
    """Join the workspace with the invited role. The membership, its `member.added` event and
    the invitation's new state commit together. NOT_FOUND unless the invitation is addressed
    to the caller; CONFLICT when it is no longer pending (answered, revoked or expired) or the
    caller is a member already."""
    require_scope_of(principal, Action.answer_invitation)
    now = _now()
    async with in_transaction() as db:
        accepted = await _answer(db, principal, invitation_id, InvitationState.accepted, now)
        membership = await members.admit(
            db,
            accepted.workspace_id,
            UserRef(id=principal.user_id, username=principal.username),
            accepted.role,
            invitation_id=node_id(accepted.id),
        )
    return Acceptance(invitation=_view(accepted, now), membership=membership)


async def decline(principal: Principal, invitation_id: int) -> InvitationView:
    """Refuse an invitation. NOT_FOUND unless it is addressed to the caller; CONFLICT when it
    is no longer pending."""
    require_scope_of(principal, Action.answer_invitation)
    now = _now()
    async with in_transaction() as db:
        declined = await _answer(db, principal, invitation_id, InvitationState.declined, now)
    return _view(declined, now)


async def visible_by_pk(principal: Principal, pks: Sequence[int]) -> list[InvitationView | None]:
    """One view per pk, in order (for `node(id:)`); None where the invitation does not exist
    or the caller is neither its invitee nor an admin of its workspace. Three statements,
    however many pks."""
    require_scope_of(principal, Action.read)
    rows = {row.id: row for row in await invitation_repo.by_ids(pks)}
    mine = await invitation_repo.addressed_to(principal.user_id, list(rows))
    if principal.is_site_admin:
        admin_of: set[int] = {row.workspace_id for row in rows.values()}
    else:
        roles = await workspace_repo.roles_of(
            principal.user_id, sorted({row.workspace_id for row in rows.values()})
        )
        admin_of = {ws for ws, role in roles.items() if role_allows(role, Action.see_invitations)}
    now = _now()
    return [
        _view(rows[pk], now)
        if pk in rows and (pk in mine or rows[pk].workspace_id in admin_of)
        else None
        for pk in pks
    ]
