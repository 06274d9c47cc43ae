"""Invitations: `/api/v1/workspaces/{slug}/invitations` (admins invite and revoke) and
`/api/v1/me/invitations` (the invitee lists, accepts and declines)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from gateway.deps import PrincipalDep
from gateway.rest.conditional import E412, NOT_MODIFIED, ExpectedVersion, not_modified
from gateway.rest.members import MemberOut
from gateway.rest.paging import PageOut, PageParamsDep, page_out
from gateway.rest.params import RowId
from gateway.rest.responses import problem_response as problem_doc
from gateway.rest.workspaces import E401, E404
from gateway.services import invitations
from gateway.services.invitations import InvitationCreate, InvitationView, Person
from models import InvitationState, Role

router = APIRouter(prefix="/workspaces/{slug}/invitations", tags=["invitations"])
me_router = APIRouter(prefix="/me/invitations", tags=["invitations"])

E403_ADMIN = problem_doc(
    "FORBIDDEN: the caller is not an admin (only owners invite or revoke owners), or a token"
    " lacks the scope (`read` to look, `admin` to invite or revoke)"
)
E403_SCOPE = problem_doc("FORBIDDEN: a token without the `admin` scope")
E404_INVITATION = problem_doc(
    "NOT_FOUND: no such workspace or invitation, or the caller may not see it"
)
E404_MINE = problem_doc("NOT_FOUND: no such invitation addressed to the caller")
E409_ANSWERED = problem_doc(
    "CONFLICT: the invitation was answered, revoked or has expired, or the caller is a member"
    " already"
)


class InvitationUserOut(BaseModel):
    """An account an invitation names."""

    node_id: str = Field(description="The user's global ID (GraphQL `User.id`).")
    username: str

    @classmethod
    def of(cls, person: Person | None) -> InvitationUserOut | None:
        return None if person is None else cls(node_id=person.node_id, username=person.username)


class InvitationWorkspaceOut(BaseModel):
    """What an invitee may know of the workspace before joining."""

    node_id: str = Field(description="The workspace's global ID.")
    slug: str
    name: str


class InvitationOut(BaseModel):
    """An invitation to join a workspace."""

    id: int = Field(description="Names the invitation in paths.")
    node_id: str = Field(description="The global ID (GraphQL `Invitation.id`).")
    workspace: InvitationWorkspaceOut
    role: Role = Field(description="The role the invitee gets by accepting.")
    state: InvitationState = Field(
        description="pending, accepted, declined, revoked, or expired (pending past `expires_at`)."
    )
    invitee: InvitationUserOut | None = Field(
        description="The invited account; null for an invitation by email."
    )
    email: str | None = Field(
        description="The invited address (lower-cased); null for an invitation by username."
    )
    inviter: InvitationUserOut | None = Field(description="Null once their account is gone.")
    expires_at: datetime = Field(description="After this it can no longer be accepted.")
    responded_at: datetime | None = Field(description="When it was answered or revoked.")
    version: int = Field(description='Grows with every change; the ETag is `"v<version>"`.')
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, view: InvitationView) -> InvitationOut:
        return cls(
            id=view.pk,
            node_id=view.node_id,
            workspace=InvitationWorkspaceOut(
                node_id=view.workspace_node_id, slug=view.workspace_slug, name=view.workspace_name
            ),
            role=view.role,
            state=view.state,
            invitee=InvitationUserOut.of(view.invitee),
            email=view.email,
            inviter=InvitationUserOut.of(view.inviter),
            expires_at=view.expires_at,
            responded_at=view.responded_at,
            version=view.version,
            created_at=view.created_at,
            updated_at=view.updated_at,
        )


@router.get(
    "", summary="List pending invitations", responses={401: E401, 403: E403_ADMIN, 404: E404}
)
async def list_invitations(
    slug: str,
    paging: PageParamsDep,
    request: Request,
    response: Response,
    principal: PrincipalDep,
) -> PageOut[InvitationOut]:
    """The workspace's unanswered invitations, newest first, expired ones included (admins).
    Paged with `limit` and `cursor` (`next_cursor`, and a `Link: rel="next"` header)."""
    page = await invitations.list_invitations(principal, slug, **paging.args())
    return page_out(
        page,
        lambda row: InvitationOut.of(invitations.row_view(row)),
        request=request,
        response=response,
    )


@router.post(
    "",
    status_code=201,
    summary="Invite someone",
    responses={
        401: E401,
        403: E403_ADMIN,
        404: E404,
        409: problem_doc(
            "CONFLICT: the account is a member already, or an invitation to the same account"
            " or address is pending"
        ),
        422: problem_doc(
            "VALIDATION_FAILED: not exactly one of `username` and `email`, no such username,"
            " a malformed address, or an unknown role"
        ),
    },
)
async def invite(
    slug: str,
    body: InvitationCreate,
    request: Request,
    response: Response,
    principal: PrincipalDep,
) -> InvitationOut:
    """Invite an account by `username`, or anyone by `email` (exactly one), with a role
    (`member` by default) for 7 days. Admins invite up to admin; only owners invite owners.
    An email invitation is answered the same whether or not an account has the address."""
    view = await invitations.invite(principal, slug, body)
    response.headers["Location"] = str(
        request.app.url_path_for("invitations.get", slug=slug, invitation_id=str(view.pk))
    )
    return InvitationOut.of(view)


@router.get(
    "/{invitation_id}",
    name="invitations.get",
    summary="Get an invitation",
    responses={304: NOT_MODIFIED, 401: E401, 403: E403_ADMIN, 404: E404_INVITATION},
)
async def get_invitation(
    slug: str,
    invitation_id: RowId,
    request: Request,
    response: Response,
    principal: PrincipalDep,
) -> InvitationOut:
    """One invitation of the workspace in any state (admins), with a strong `ETag`;
    `If-None-Match` with the current ETag answers 304."""
    view = await invitations.get_invitation(principal, (slug, invitation_id))
    unchanged = not_modified(request, response, view.version)
    if unchanged is not None:
        return unchanged  # type: ignore[return-value]
    return InvitationOut.of(view)


@router.delete(
    "/{invitation_id}",
    status_code=204,
    summary="Revoke an invitation",
    responses={
        401: E401,
        403: E403_ADMIN,
        404: E404_INVITATION,
        409: problem_doc("CONFLICT: the invitation was answered or revoked already"),
        412: E412,
    },
)
async def revoke(
    slug: str, invitation_id: RowId, principal: PrincipalDep, version: ExpectedVersion
) -> Response:
    """Withdraw an unanswered invitation, expired or not (admins; owners for an owner
    invitation). It stays readable, as `revoked`. Honours `If-Match`."""
    await invitations.revoke(principal, (slug, invitation_id), version)
    return Response(status_code=204)


@me_router.get("", summary="List my invitations", responses={401: E401, 403: E403_SCOPE})
async def list_my_invitations(
    paging: PageParamsDep, request: Request, response: Response, principal: PrincipalDep
) -> PageOut[InvitationOut]:
    """The invitations the caller may still accept, newest first: those naming their account
    or the email address it has now. Paged with `limit` and `cursor`."""
    page = await invitations.list_my_invitations(principal, **paging.args())
    return page_out(
        page,
        lambda row: InvitationOut.of(invitations.row_view(row)),
        request=request,
        response=response,
    )


@me_router.post(
    "/{invitation_id}/accept",
    summary="Accept an invitation",
    responses={401: E401, 403: E403_SCOPE, 404: E404_MINE, 409: E409_ANSWERED},
)
async def accept(invitation_id: RowId, principal: PrincipalDep) -> MemberOut:
    """Join the workspace with the invited role; answers the new membership. A token needs
    the `admin` scope (joining changes memberships)."""
    acceptance = await invitations.accept(principal, invitation_id)
    return MemberOut.of(acceptance.membership)


@me_router.post(
    "/{invitation_id}/decline",
    summary="Decline an invitation",
    responses={401: E401, 403: E403_SCOPE, 404: E404_MINE, 409: E409_ANSWERED},
)
async def decline(invitation_id: RowId, principal: PrincipalDep) -> InvitationOut:
    """Refuse an invitation; answers it, now `declined`. A token needs the `admin` scope."""
    return InvitationOut.of(await invitations.decline(principal, invitation_id))
