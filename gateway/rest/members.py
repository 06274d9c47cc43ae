"""`/api/v1/workspaces/{slug}/members`: who belongs to a workspace, with which role."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from gateway.deps import PrincipalDep
from gateway.rest.paging import PageOut, PageParamsDep, page_out
from gateway.rest.responses import problem_response as problem_doc
from gateway.rest.workspaces import E401, E403_READ, E404, E422
from gateway.services import members
from gateway.services.members import MemberAdd, MemberRoleChange
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
            created_at=view.created_at,
            updated_at=view.updated_at,
        )


@router.get("", summary="List members", responses={401: E401, 403: E403_READ, 404: E404})
async def list_members(
    slug: str,
    paging: PageParamsDep,
    request: Request,
    response: Response,
    principal: PrincipalDep,
) -> PageOut[MemberOut]:
    """The workspace's members in the order they joined; any member may list them. Paged with
    `limit` and `cursor` (`next_cursor`, and a `Link: rel="next"` header)."""
    page = await members.list_members(principal, slug, **paging.args())
    return page_out(
        page, lambda row: MemberOut.of(members.row_view(row)), request=request, response=response
    )


@router.post(
    "",
    status_code=201,
    summary="Add a member",
    responses={
        401: E401,
        403: E403_MANAGE,
        404: E404,
        409: problem_doc("CONFLICT: the user is a member already"),
        422: problem_doc(
            "VALIDATION_FAILED: not exactly one of `username` and `email`, no such user,"
            " or an unknown role"
        ),
    },
)
async def add_member(
    slug: str, body: MemberAdd, request: Request, response: Response, principal: PrincipalDep
) -> MemberOut:
    """Add a user, named by `username` or by `email` (exactly one), with a role (`member` by
    default). Admins add anyone up to admin; only owners add owners."""
    view = await members.add_member(principal, slug, body)
    response.headers["Location"] = str(
        request.app.url_path_for("members.get", slug=slug, username=view.username)
    )
    return MemberOut.of(view)


@router.get(
    "/{username}",
    name="members.get",
    summary="Get a member",
    responses={401: E401, 403: E403_READ, 404: E404_MEMBER},
)
async def get_member(slug: str, username: str, principal: PrincipalDep) -> MemberOut:
    """One member of the workspace, by username."""
    return MemberOut.of(await members.get_member(principal, slug, username))


@router.patch(
    "/{username}",
    summary="Change a member's role",
    responses={401: E401, 403: E403_MANAGE, 404: E404_MEMBER, 409: E409_OWNER, 422: E422},
)
async def change_role(
    slug: str, username: str, body: MemberRoleChange, principal: PrincipalDep
) -> MemberOut:
    """Give a member another role. Admins change roles up to admin; only owners make someone
    an owner or change an owner's role; the last owner cannot be demoted (409)."""
    return MemberOut.of(await members.change_role(principal, slug, username, body.role))


@router.delete(
    "/{username}",
    status_code=204,
    summary="Remove a member, or leave",
    responses={401: E401, 403: E403_MANAGE, 404: E404_MEMBER, 409: E409_OWNER},
)
async def remove_member(slug: str, username: str, principal: PrincipalDep) -> Response:
    """Remove a member (admins remove non-owners, owners anyone). Any member may remove
    themself, which is leaving (a token needs the `admin` scope for it); the last owner can
    neither leave nor be removed (409)."""
    await members.remove_member(principal, slug, username)
    return Response(status_code=204)
