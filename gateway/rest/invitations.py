"""Invitations: `/api/v1/workspaces/{slug}/invitations` (admins invite and revoke) and
`/api/v1/me/invitations` (the invitee lists, accepts and declines)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from gateway.http.deps import PrincipalDep
from gateway.reads.reader import rest_page
from gateway.reads.roots import Root
from gateway.rest import shapes
from gateway.rest.compiled import ReadsDep
from gateway.rest.conditional import ExpectedVersion
from gateway.rest.members import MEMBER_ONE
from gateway.rest.pages import PageParamsDep, page_of
from gateway.rest.params import RowId
from gateway.rest.responses import (
    FORBIDDEN_ADMIN_SCOPE,
    NOT_FOUND_WORKSPACE,
    problem_response,
    problems,
)
from gateway.services import invitations
from gateway.services.invitations import InvitationCreate

router = APIRouter(prefix="/workspaces/{slug}/invitations", tags=["invitations"])
me_router = APIRouter(prefix="/me/invitations", tags=["invitations"])

FORBIDDEN_INVITE = problem_response(
    "FORBIDDEN: the caller is not an admin (only owners invite or revoke owners), or a token"
    " lacks the scope (`read` to look, `admin` to invite or revoke)"
)
NOT_FOUND_INVITATION = problem_response(
    "NOT_FOUND: no such workspace or invitation, or the caller may not see it"
)
NOT_FOUND_MINE = problem_response("NOT_FOUND: no such invitation addressed to the caller")
ANSWERED = problem_response(
    "CONFLICT: the invitation was answered, revoked or has expired, or the caller is a member"
    " already"
)


INVITATION_ONE = Root("invitation", "r0", obj=shapes.INVITATION.read)
_MINE = Root("invitation:mine", "r0", obj=shapes.INVITATION.read)
_OF_WORKSPACE = Root(
    "workspace", "r0", paged=rest_page("Workspace", "invitations", shapes.INVITATION.read)
)
_TO_ME = Root("viewer", "r0", paged=rest_page("User", "invitations", shapes.INVITATION.read))


@router.get(
    "",
    summary="List pending invitations",
    response_model=page_of(shapes.INVITATION),
    responses=problems(FORBIDDEN_INVITE, NOT_FOUND_WORKSPACE),
)
async def list_invitations(slug: str, paging: PageParamsDep, reads: ReadsDep) -> Response:
    """The workspace's unanswered invitations, newest first, expired ones included (admins).
    Paged with `limit` and `cursor` (`next_cursor`, and a `Link: rel="next"` header)."""
    explain = lambda: invitations.list_invitations(  # noqa: E731
        reads.principal, slug, **paging.args()
    )
    return await reads.page(_OF_WORKSPACE, {"slug": slug}, explain, paging.args())


@router.post(
    "",
    status_code=201,
    summary="Invite someone",
    response_model=shapes.INVITATION.model,
    responses=problems(
        FORBIDDEN_INVITE,
        NOT_FOUND_WORKSPACE,
        problem_response(
            "CONFLICT: the account is a member already, or an invitation to the same account"
            " or address is pending"
        ),
        validated=True,
    ),
)
async def invite(slug: str, body: InvitationCreate, reads: ReadsDep) -> Response:
    """Invite an account by `username`, or anyone by `email` (exactly one), with a role
    (`member` by default) for 7 days. Admins invite up to admin; only owners invite owners.
    An email invitation is answered the same whether or not an account has the address."""
    view = await invitations.invite(reads.principal, slug, body)
    location = reads.request.app.url_path_for(
        "invitations.get", slug=slug, invitation_id=str(view.pk)
    )
    arguments = {"slug": slug, "pk": view.pk}
    return await reads.written(INVITATION_ONE, arguments, 201, {"Location": str(location)})


@router.get(
    "/{invitation_id}",
    name="invitations.get",
    summary="Get an invitation",
    response_model=shapes.INVITATION.model,
    responses=problems(FORBIDDEN_INVITE, NOT_FOUND_INVITATION, cached=True),
)
async def get_invitation(slug: str, invitation_id: RowId, reads: ReadsDep) -> Response:
    """One invitation of the workspace in any state (admins), with a strong `ETag`;
    `If-None-Match` with the current ETag answers 304."""
    explain = lambda: invitations.get_invitation(reads.principal, (slug, invitation_id))  # noqa: E731
    return await reads.one(INVITATION_ONE, {"slug": slug, "pk": invitation_id}, explain)


@router.delete(
    "/{invitation_id}",
    status_code=204,
    summary="Revoke an invitation",
    responses=problems(
        FORBIDDEN_INVITE,
        NOT_FOUND_INVITATION,
        problem_response("CONFLICT: the invitation was answered or revoked already"),
        versioned=True,
    ),
)
async def revoke(
    slug: str, invitation_id: RowId, principal: PrincipalDep, version: ExpectedVersion
) -> Response:
    """Withdraw an unanswered invitation, expired or not (admins; owners for an owner
    invitation). It stays readable, as `revoked`. Honours `If-Match`."""
    await invitations.revoke(principal, (slug, invitation_id), version)
    return Response(status_code=204)


@me_router.get(
    "",
    summary="List my invitations",
    response_model=page_of(shapes.INVITATION),
    responses=problems(FORBIDDEN_ADMIN_SCOPE),
)
async def list_my_invitations(paging: PageParamsDep, reads: ReadsDep) -> Response:
    """The invitations the caller may still accept, newest first: those naming their account
    or the email address it has now. Paged with `limit` and `cursor`."""
    explain = lambda: invitations.list_my_invitations(reads.principal, **paging.args())  # noqa: E731
    return await reads.page(_TO_ME, {}, explain, paging.args())


@me_router.post(
    "/{invitation_id}/accept",
    summary="Accept an invitation",
    response_model=shapes.MEMBER.model,
    responses=problems(FORBIDDEN_ADMIN_SCOPE, NOT_FOUND_MINE, ANSWERED),
)
async def accept(invitation_id: RowId, reads: ReadsDep) -> Response:
    """Join the workspace with the invited role; answers the new membership. A token needs
    the `admin` scope (joining changes memberships)."""
    acceptance = await invitations.accept(reads.principal, invitation_id)
    joined = {
        "slug": acceptance.invitation.workspace_slug,
        "username": acceptance.membership.username,
    }
    return await reads.written(MEMBER_ONE, joined)


@me_router.post(
    "/{invitation_id}/decline",
    summary="Decline an invitation",
    response_model=shapes.INVITATION.model,
    responses=problems(FORBIDDEN_ADMIN_SCOPE, NOT_FOUND_MINE, ANSWERED),
)
async def decline(invitation_id: RowId, reads: ReadsDep) -> Response:
    """Refuse an invitation; answers it, now `declined`. A token needs the `admin` scope."""
    await invitations.decline(reads.principal, invitation_id)
    return await reads.written(_MINE, {"pk": invitation_id})
