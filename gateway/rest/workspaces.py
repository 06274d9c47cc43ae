"""`/api/v1/workspaces`: the workspaces the caller belongs to, and each one by slug."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from gateway.deps import PrincipalDep, SettingsDep
from gateway.reads.reader import rest_obj
from gateway.reads.roots import Root
from gateway.rest.compiled import compiled, one_answer, written
from gateway.rest.conditional import E412, NOT_MODIFIED, ExpectedVersion, etag, not_modified
from gateway.rest.paging import PageOut, PageParamsDep, page_out
from gateway.rest.responses import problem_response as problem_doc
from gateway.services import workspaces
from gateway.services.workspaces import WorkspaceCreate, WorkspacePatch
from models import Role

router = APIRouter(prefix="/workspaces", tags=["workspaces"])


E401 = problem_doc("UNAUTHENTICATED: no, bad or expired credentials")
E403_READ = problem_doc("FORBIDDEN: a personal access token without the `read` scope")
E404 = problem_doc("NOT_FOUND: no such workspace, or the caller is not a member of it")
E422 = problem_doc("VALIDATION_FAILED: the body breaks a rule; `errors` lists each field")


class WorkspaceOut(BaseModel):
    """A workspace, as the caller sees it."""

    node_id: str = Field(description="The global ID (GraphQL `id`).")
    slug: str
    name: str
    viewer_role: Role = Field(
        description="The caller's role here: viewer, member, admin or owner (a site admin is"
        " owner everywhere)."
    )
    version: int = Field(description='Grows with every change; the ETag is `"v<version>"`.')
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, view: workspaces.WorkspaceView) -> WorkspaceOut:
        return cls(
            node_id=view.node_id,
            slug=view.slug,
            name=view.name,
            viewer_role=view.viewer_role,
            version=view.version,
            created_at=view.created_at,
            updated_at=view.updated_at,
        )


WORKSPACE_ONE = Root("workspace", "r0", obj=rest_obj("Workspace", WorkspaceOut))


@router.get("", summary="List my workspaces", responses={401: E401, 403: E403_READ})
async def list_workspaces(
    paging: PageParamsDep, request: Request, response: Response, principal: PrincipalDep
) -> PageOut[WorkspaceOut]:
    """The workspaces the caller is a member of, in the order they joined them. A site admin
    also sees only their own memberships here; any other workspace is reached by its slug.
    Paged with `limit` and `cursor` (`next_cursor`, and a `Link: rel="next"` header)."""
    page = await workspaces.list_workspaces(principal, **paging.args())
    return page_out(
        page,
        lambda row: WorkspaceOut.of(workspaces.row_view(row)),
        request=request,
        response=response,
    )


@router.post(
    "",
    status_code=201,
    summary="Create a workspace",
    response_model=WorkspaceOut,
    responses={
        401: E401,
        403: problem_doc("FORBIDDEN: a personal access token without the `admin` scope"),
        409: problem_doc("CONFLICT: the slug is taken"),
        422: E422,
    },
)
async def create_workspace(
    body: WorkspaceCreate,
    request: Request,
    response: Response,
    principal: PrincipalDep,
    settings: SettingsDep,
) -> WorkspaceOut | Response:
    """Create a workspace; the caller becomes its owner. Answers 201 with a `Location`."""
    view = await workspaces.create_workspace(principal, body)
    location = str(request.app.url_path_for("workspaces.get", slug=view.slug))
    headers = {"Location": location}
    answer = await written(settings, principal, WORKSPACE_ONE, {"slug": view.slug}, 201, headers)
    if answer is not None:
        return answer
    response.headers["Location"] = location
    return WorkspaceOut.of(view)


@router.get(
    "/{slug}",
    name="workspaces.get",
    summary="Get a workspace",
    response_model=WorkspaceOut,
    responses={304: NOT_MODIFIED, 401: E401, 403: E403_READ, 404: E404},
)
async def get_workspace(
    slug: str,
    request: Request,
    response: Response,
    principal: PrincipalDep,
    settings: SettingsDep,
) -> WorkspaceOut | Response:
    """One workspace the caller belongs to (any workspace, for a site admin), with a strong
    `ETag`; `If-None-Match` with the current ETag answers 304. A workspace the caller cannot
    see is 404, exactly like one that does not exist."""
    body = await compiled(settings, principal, WORKSPACE_ONE, {"slug": slug})
    if body is not None:
        return one_answer(request, body)
    view = await workspaces.get_workspace(principal, slug)
    return not_modified(request, response, view.version) or WorkspaceOut.of(view)


@router.patch(
    "/{slug}",
    summary="Rename a workspace",
    response_model=WorkspaceOut,
    responses={
        401: E401,
        403: problem_doc("FORBIDDEN: not an owner, or a token without the `admin` scope"),
        404: E404,
        409: problem_doc("CONFLICT: the new slug is taken"),
        412: E412,
        422: E422,
    },
)
async def update_workspace(
    slug: str,
    body: WorkspacePatch,
    response: Response,
    principal: PrincipalDep,
    settings: SettingsDep,
    version: ExpectedVersion,
) -> WorkspaceOut | Response:
    """Change the name and/or slug (owners only). Omitted fields stay as they are; after a
    slug change the workspace lives at its new URL only. Honours `If-Match`."""
    view = await workspaces.update_workspace(principal, slug, body, version)
    answer = await written(settings, principal, WORKSPACE_ONE, {"slug": view.slug})
    if answer is not None:
        return answer
    response.headers["ETag"] = etag(view.version)
    return WorkspaceOut.of(view)


@router.delete(
    "/{slug}",
    status_code=204,
    summary="Delete a workspace",
    responses={
        401: E401,
        403: problem_doc("FORBIDDEN: not an owner, or a token without the `admin` scope"),
        404: E404,
        412: E412,
    },
)
async def delete_workspace(
    slug: str, principal: PrincipalDep, version: ExpectedVersion
) -> Response:
    """Delete the workspace with all its projects, issues, comments, members and events
    (owners only). This cannot be undone. Honours `If-Match`."""
    await workspaces.delete_workspace(principal, slug, version)
    return Response(status_code=204)
