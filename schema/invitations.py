"""GraphQL invitations: the `Invitation` type, `node(id:)` for invitations, and the
`inviteMember`, `revokeInvitation`, `acceptInvitation` and `declineInvitation` mutations.
`Workspace.invitations` and `User.invitations` are `schema.loaders`' `workspace_invitations` and
`viewer_invitations`.

Resolvers only translate; every rule lives in `gateway.services.invitations`, shared with REST.
"""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from gateway.core.ids import pk_of
from gateway.core.validation import validated
from gateway.reads import admin_nouns as nouns
from gateway.services import invitations
from gateway.services.invitations import InvitationCreate, InvitationView
from schema.context import Context
from schema.declared import declared, values
from schema.lookup import register_node
from schema.members import Membership, Role
from schema.node import Node

if TYPE_CHECKING:
    from schema.users import User


@strawberry.enum(name="InvitationState", description="Where an invitation stands.")
class InvitationState(Enum):
    PENDING = strawberry.enum_value("pending", description="Awaiting an answer.")
    ACCEPTED = strawberry.enum_value("accepted", description="The invitee joined.")
    DECLINED = strawberry.enum_value("declined", description="The invitee refused.")
    REVOKED = strawberry.enum_value("revoked", description="An admin withdrew it.")
    EXPIRED = strawberry.enum_value(
        "expired", description="Unanswered past `expiresAt`; it can no longer be accepted."
    )


@strawberry.type(description="What an invitee may know of a workspace before joining it.")
class WorkspaceInfo:
    id: strawberry.ID = strawberry.field(description="The workspace's global ID.")
    slug: str = strawberry.field(description="The workspace's slug.")
    name: str = strawberry.field(description="The workspace's name.")


@declared(
    nouns.INVITATION,
    "An offer to join a workspace with a role.",
    {"role": Role, "state": InvitationState},
)
class Invitation(Node):
    invitee_pk: strawberry.Private[int | None]
    inviter_pk: strawberry.Private[int | None]
    workspace: WorkspaceInfo = strawberry.field(description="The workspace it invites to.")

    @strawberry.field(
        description="The invited account; null for an invitation by email, and once the"
        " account is gone or deactivated."
    )
    async def invitee(
        self, info: Info[Context, None]
    ) -> Annotated[User, strawberry.lazy("schema.users")] | None:
        return await _user(info, self.invitee_pk)

    @strawberry.field(description="Who sent it; null once their account is gone or deactivated.")
    async def inviter(
        self, info: Info[Context, None]
    ) -> Annotated[User, strawberry.lazy("schema.users")] | None:
        return await _user(info, self.inviter_pk)

    @classmethod
    def of(cls, view: InvitationView) -> Invitation:
        workspace = WorkspaceInfo(
            id=strawberry.ID(view.workspace_node_id),
            slug=view.workspace_slug,
            name=view.workspace_name,
        )
        return cls(
            **values(cls, view),
            workspace=workspace,
            invitee_pk=None if view.invitee is None else view.invitee.pk,
            inviter_pk=None if view.inviter is None else view.inviter.pk,
        )


async def _user(info: Info[Context, None], pk: int | None) -> User | None:
    # Batched: every invitation of a page asks in the same tick, one statement in all.
    return None if pk is None else await info.context.loaders.active_user.load(pk)


async def invitations_by_pk(info: Info[Context, None], pks: list[int]) -> list[Node | None]:
    """`node(id:)` for invitations: visibility is the service's call."""
    views = await invitations.visible_by_pk(info.context.viewer, pks)
    return [None if v is None else Invitation.of(v) for v in views]


register_node("Invitation", invitations_by_pk)


@strawberry.input(description="Whom to invite: exactly one of username and email.")
class InviteMemberInput:
    workspace_id: strawberry.ID = strawberry.field(description="The workspace's global ID.")
    username: str | None = strawberry.field(default=None, description="An account to invite.")
    email: str | None = strawberry.field(
        default=None,
        description="Or an address to invite, whether or not an account has it yet.",
    )
    role: Role = strawberry.field(default=Role.MEMBER, description="MEMBER unless given.")


@strawberry.input(description="The invitation to withdraw.")
class RevokeInvitationInput:
    id: strawberry.ID = strawberry.field(description="The invitation's global ID.")
    expected_version: int | None = strawberry.field(
        default=None, description="PRECONDITION_FAILED unless the invitation is at it."
    )


@strawberry.input(description="An invitation addressed to you.")
class AnswerInvitationInput:
    id: strawberry.ID = strawberry.field(description="The invitation's global ID.")


@strawberry.type(
    description="The result of `inviteMember`, `revokeInvitation` and `declineInvitation`."
)
class InvitationPayload:
    invitation: Invitation = strawberry.field(description="The invitation, as it is now.")


@strawberry.type(description="The result of `acceptInvitation`.")
class AcceptInvitationPayload:
    invitation: Invitation = strawberry.field(description="The invitation, now ACCEPTED.")
    membership: Membership = strawberry.field(description="Your new membership.")


@strawberry.type
class InvitationMutation:
    @strawberry.mutation(
        description="Invite an account by username, or anyone by email (exactly one), for 7"
        " days. Admins invite up to ADMIN, only owners invite an OWNER. CONFLICT when the"
        " account is a member already or an invitation to them is pending. An email"
        " invitation is answered the same whether or not an account has the address."
    )
    async def invite_member(
        self, info: Info[Context, None], input: InviteMemberInput
    ) -> InvitationPayload | None:
        data = validated(
            InvitationCreate,
            {"username": input.username, "email": input.email, "role": input.role.domain},
        )
        workspace = pk_of(input.workspace_id, "Workspace")
        view = await invitations.invite(info.context.viewer, workspace, data)
        return InvitationPayload(invitation=Invitation.of(view))

    @strawberry.mutation(
        description="Withdraw an unanswered invitation (admins; owners for an OWNER"
        " invitation). CONFLICT once it was answered or revoked."
    )
    async def revoke_invitation(
        self, info: Info[Context, None], input: RevokeInvitationInput
    ) -> InvitationPayload | None:
        invitation = pk_of(input.id, "Invitation")
        view = await invitations.revoke(info.context.viewer, invitation, input.expected_version)
        return InvitationPayload(invitation=Invitation.of(view))

    @strawberry.mutation(
        description="Join the workspace of an invitation addressed to you. CONFLICT when it is"
        " no longer PENDING or you are a member already. A token needs the `admin` scope."
    )
    async def accept_invitation(
        self, info: Info[Context, None], input: AnswerInvitationInput
    ) -> AcceptInvitationPayload | None:
        acceptance = await invitations.accept(info.context.viewer, pk_of(input.id, "Invitation"))
        return AcceptInvitationPayload(
            invitation=Invitation.of(acceptance.invitation),
            membership=Membership.of(acceptance.membership),
        )

    @strawberry.mutation(
        description="Refuse an invitation addressed to you. CONFLICT when it is no longer"
        " PENDING. A token needs the `admin` scope."
    )
    async def decline_invitation(
        self, info: Info[Context, None], input: AnswerInvitationInput
    ) -> InvitationPayload | None:
        view = await invitations.decline(info.context.viewer, pk_of(input.id, "Invitation"))
        return InvitationPayload(invitation=Invitation.of(view))
