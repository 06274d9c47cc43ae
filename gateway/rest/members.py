"""`/api/v1/workspaces/{slug}/members`: who belongs to a workspace, with which role. There is no
POST: users join by accepting an invitation (`gateway.rest.invitations`)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from gateway.deps import PrincipalDep, SettingsDep
from gateway.reads.reader import rest_obj, rest_page
from gateway.reads.roots import Root
from gateway.rest.compiled import compiled, one_answer, page_answer, written
from gateway.rest.conditional import E412, NOT_MODIFIED, ExpectedVersion, etag, not_modified
from gateway.rest.paging import PageOut, PageParamsDep, page_out
from gateway.rest.responses import problem_response as problem_doc
from gateway.rest.workspaces import E401, E403_READ, E404, E422
from gateway.services import members
from gateway.services.members import MemberRoleChange
from models import Role

router = APIRouter(prefix="/workspaces/{slug}/members", tags=["members"])

E403_MANAGE = problem_doc(
    "FORBIDDEN: the caller's role is too low (admins manage members, only owners make or"
    " remove owners), or a token without the `admin` scope"
)
E404_MEMBER = problem_doc(
    "NOT_FOUND: no such workspace, the caller is not a member of it, or the user is not"
)
E409_OWNER = problem_doc("CONFLICT: the workspace would be left without an owner")


class MemberUserOut(BaseModel):
    """The member's account."""

    node_id: str = Field(description="The user's global ID (GraphQL `User.id`).")
    username: str
    display_name: str


class MemberOut(BaseModel):
    """A membership: a user's role in the workspace."""

    node_id: str = Field(description="The membership's global ID (GraphQL `Membership.id`).")
    user: MemberUserOut
    role: Role = Field(description="viewer, member, admin or owner.")
    version: int = Field(description='Grows with every change; the ETag is `"v<version>"`.')
    created_at: datetime = Field(description="When the user joined the workspace.")
    updated_at: datetime

    @classmethod
    def of(cls, view: members.MemberView) -> MemberOut:
        return cls(
            node_id=view.node_id,
            user=MemberUserOut(
                node_id=view.user_node_id,
                username=view.username,
                display_name=view.display_name,
            ),
            role=view.role,
            version=view.version,
            created_at=view.created_at,
            updated_at=view.updated_at,
        )


MEMBER_READ = rest_obj("Membership", MemberOut)
MEMBER_ONE = Root("member", "r0", obj=MEMBER_READ)
_PAGE = Root("workspace", "r0", paged=rest_page("Workspace", "members", MEMBER_READ))


@router.get(
    "",
    summary="List members",
    response_model=PageOut[MemberOut],
    responses={401: E401, 403: E403_READ, 404: E404},
)
async def list_members(
    slug: str,
    paging: PageParamsDep,
    request: Request,
    response: Response,
    principal: PrincipalDep,
    settings: SettingsDep,
) -> PageOut[MemberOut] | Response:
    """The workspace's members in the order they joined; any member may list them. Paged with
    `limit` and `cursor` (`next_cursor`, and a `Link: rel="next"` header)."""
    body = await compiled(settings, principal, _PAGE, {"slug": slug}, paging.args())
    if body is not None:
        return page_answer(request, body)
    page = await members.list_members(principal, slug, **paging.args())
    return page_out(
        page, lambda row: MemberOut.of(members.row_view(row)), request=request, response=response
    )


@router.get(
    "/{username}",
    name="members.get",
    summary="Get a member",
    response_model=MemberOut,
    responses={304: NOT_MODIFIED, 401: E401, 403: E403_READ, 404: E404_MEMBER},
)
async def get_member(
    slug: str,
    username: str,
    request: Request,
    response: Response,
    principal: PrincipalDep,
    settings: SettingsDep,
) -> MemberOut | Response:
    """One member of the workspace, by username, with a strong `ETag`; `If-None-Match` with
    the current ETag answers 304."""
    arguments: dict[str, object] = {"slug": slug, "username": username}
    body = await compiled(settings, principal, MEMBER_ONE, arguments)
    if body is not None:
        return one_answer(request, body)
    view = await members.get_member(principal, slug, username)
    return not_modified(request, response, view.version) or MemberOut.of(view)


@router.patch(
    "/{username}",
    summary="Change a member's role",
    response_model=MemberOut,
    responses={
        401: E401,
        403: E403_MANAGE,
        404: E404_MEMBER,
        409: E409_OWNER,
        412: E412,
        422: E422,
    },
)
async def change_role(
    slug: str,
    username: str,
    body: MemberRoleChange,
    response: Response,
    principal: PrincipalDep,
    settings: SettingsDep,
    version: ExpectedVersion,
) -> MemberOut | Response:
    """Give a member another role. Admins change roles up to admin; only owners make someone
    an owner or change an owner's role; the last owner cannot be demoted (409). Honours
    `If-Match`."""
    view = await members.change_role(principal, slug, username, body.role, version)
    arguments: dict[str, object] = {"slug": slug, "username": username}
    answer = await written(settings, principal, MEMBER_ONE, arguments)
    if answer is not None:
        return answer
    response.headers["ETag"] = etag(view.version)
    return MemberOut.of(view)


@router.delete(
    "/{username}",
    status_code=204,
    summary="Remove a member, or leave",
    responses={401: E401, 403: E403_MANAGE, 404: E404_MEMBER, 409: E409_OWNER, 412: E412},
)
async def remove_member(
    slug: str, username: str, principal: PrincipalDep, version: ExpectedVersion
) -> Response:
    """Remove a member (admins remove non-owners, owners anyone). Any member may remove
    themself, which is leaving (a token needs the `admin` scope for it); the last owner can
    neither leave nor be removed (409). Honours `If-Match`."""
    await members.remove_member(principal, slug, username, version)
    return Response(status_code=204)
