"""`/api/v1/workspaces/{slug}/members`: who belongs to a workspace, with which role. There is no
POST: users join by accepting an invitation (`gateway.rest.invitations`)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from gateway.http.deps import PrincipalDep
from gateway.reads.reader import rest_page
from gateway.reads.roots import Root
from gateway.rest import shapes
from gateway.rest.compiled import ReadsDep
from gateway.rest.conditional import ExpectedVersion
from gateway.rest.pages import PageParamsDep, page_of
from gateway.rest.responses import FORBIDDEN_READ, NOT_FOUND_WORKSPACE, problem_response, problems
from gateway.services import members
from gateway.services.members import MemberRoleChange

router = APIRouter(prefix="/workspaces/{slug}/members", tags=["members"])

FORBIDDEN_MANAGE = problem_response(
    "FORBIDDEN: the caller's role is too low (admins manage members, only owners make or"
    " remove owners), or a token without the `admin` scope"
)
NOT_FOUND_MEMBER = problem_response(
    "NOT_FOUND: no such workspace, the caller is not a member of it, or the user is not"
)
LAST_OWNER = problem_response("CONFLICT: the workspace would be left without an owner")


MEMBER_ONE = Root("member", "r0", obj=shapes.MEMBER.read)
_PAGE = Root("workspace", "r0", paged=rest_page("Workspace", "members", shapes.MEMBER.read))


@router.get(
    "",
    summary="List members",
    response_model=page_of(shapes.MEMBER),
    responses=problems(FORBIDDEN_READ, NOT_FOUND_WORKSPACE),
)
async def list_members(slug: str, paging: PageParamsDep, reads: ReadsDep) -> Response:
    """The workspace's members in the order they joined; any member may list them. Paged with
    `limit` and `cursor` (`next_cursor`, and a `Link: rel="next"` header)."""
    explain = lambda: members.list_members(reads.principal, slug, **paging.args())  # noqa: E731
    return await reads.page(_PAGE, {"slug": slug}, explain, paging.args())


@router.get(
    "/{username}",
    name="members.get",
    summary="Get a member",
    response_model=shapes.MEMBER.model,
    responses=problems(FORBIDDEN_READ, NOT_FOUND_MEMBER, cached=True),
)
async def get_member(slug: str, username: str, reads: ReadsDep) -> Response:
    """One member of the workspace, by username, with a strong `ETag`; `If-None-Match` with
    the current ETag answers 304."""
    explain = lambda: members.get_member(reads.principal, slug, username)  # noqa: E731
    return await reads.one(MEMBER_ONE, {"slug": slug, "username": username}, explain)


@router.patch(
    "/{username}",
    summary="Change a member's role",
    response_model=shapes.MEMBER.model,
    responses=problems(
        FORBIDDEN_MANAGE, NOT_FOUND_MEMBER, LAST_OWNER, versioned=True, validated=True
    ),
)
async def change_role(
    slug: str,
    username: str,
    body: MemberRoleChange,
    reads: ReadsDep,
    version: ExpectedVersion,
) -> Response:
    """Give a member another role. Admins change roles up to admin; only owners make someone
    an owner or change an owner's role; the last owner cannot be demoted (409). Honours
    `If-Match`."""
    await members.change_role(reads.principal, slug, username, body.role, version)
    return await reads.written(MEMBER_ONE, {"slug": slug, "username": username})


@router.delete(
    "/{username}",
    status_code=204,
    summary="Remove a member, or leave",
    responses=problems(FORBIDDEN_MANAGE, NOT_FOUND_MEMBER, LAST_OWNER, versioned=True),
)
async def remove_member(
    slug: str, username: str, principal: PrincipalDep, version: ExpectedVersion
) -> Response:
    """Remove a member (admins remove non-owners, owners anyone). Any member may remove
    themself, which is leaving (a token needs the `admin` scope for it); the last owner can
    neither leave nor be removed (409). Honours `If-Match`."""
    await members.remove_member(principal, slug, username, version)
    return Response(status_code=204)
