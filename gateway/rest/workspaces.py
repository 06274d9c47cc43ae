"""`/api/v1/workspaces`: the workspaces the caller belongs to, and each one by slug."""

from __future__ import annotations

from fastapi import APIRouter, Response

from gateway.http.deps import PrincipalDep
from gateway.reads.reader import rest_page
from gateway.reads.roots import Root
from gateway.rest import shapes
from gateway.rest.compiled import ReadsDep
from gateway.rest.conditional import ExpectedVersion
from gateway.rest.pages import PageParamsDep, page_of
from gateway.rest.responses import (
    FORBIDDEN_ADMIN_SCOPE,
    FORBIDDEN_NOT_OWNER,
    FORBIDDEN_READ,
    NOT_FOUND_WORKSPACE,
    problem_response,
    problems,
)
from gateway.services import workspaces
from gateway.services.workspaces import WorkspaceCreate, WorkspacePatch

router = APIRouter(prefix="/workspaces", tags=["workspaces"])


WORKSPACE_ONE = Root("workspace", "r0", obj=shapes.WORKSPACE.read)
_MINE = Root("viewer", "r0", paged=rest_page("User", "workspaces", shapes.WORKSPACE.read))


@router.get(
    "",
    summary="List my workspaces",
    response_model=page_of(shapes.WORKSPACE),
    responses=problems(FORBIDDEN_READ),
)
async def list_workspaces(paging: PageParamsDep, reads: ReadsDep) -> Response:
    """The workspaces the caller is a member of, in the order they joined them. A site admin
    also sees only their own memberships here; any other workspace is reached by its slug.
    Paged with `limit` and `cursor` (`next_cursor`, and a `Link: rel="next"` header)."""
    explain = lambda: workspaces.list_workspaces(reads.principal, **paging.args())  # noqa: E731
    return await reads.page(_MINE, {}, explain, paging.args())


@router.post(
    "",
    status_code=201,
    summary="Create a workspace",
    response_model=shapes.WORKSPACE.model,
    responses=problems(
        FORBIDDEN_ADMIN_SCOPE,
        conflict=problem_response("CONFLICT: the slug is taken"),
        validated=True,
    ),
)
async def create_workspace(body: WorkspaceCreate, reads: ReadsDep) -> Response:
    """Create a workspace; the caller becomes its owner. Answers 201 with a `Location`."""
    view = await workspaces.create_workspace(reads.principal, body)
    location = str(reads.request.app.url_path_for("workspaces.get", slug=view.slug))
    return await reads.written(WORKSPACE_ONE, {"slug": view.slug}, 201, {"Location": location})


@router.get(
    "/{slug}",
    name="workspaces.get",
    summary="Get a workspace",
    response_model=shapes.WORKSPACE.model,
    responses=problems(FORBIDDEN_READ, NOT_FOUND_WORKSPACE, cached=True),
)
async def get_workspace(slug: str, reads: ReadsDep) -> Response:
    """One workspace the caller belongs to (any workspace, for a site admin), with a strong
    `ETag`; `If-None-Match` with the current ETag answers 304. A workspace the caller cannot
    see is 404, exactly like one that does not exist."""
    explain = lambda: workspaces.get_workspace(reads.principal, slug)  # noqa: E731
    return await reads.one(WORKSPACE_ONE, {"slug": slug}, explain)


@router.patch(
    "/{slug}",
    summary="Rename a workspace",
    response_model=shapes.WORKSPACE.model,
    responses=problems(
        FORBIDDEN_NOT_OWNER,
        NOT_FOUND_WORKSPACE,
        problem_response("CONFLICT: the new slug is taken"),
        versioned=True,
        validated=True,
    ),
)
async def update_workspace(
    slug: str,
    body: WorkspacePatch,
    reads: ReadsDep,
    version: ExpectedVersion,
) -> Response:
    """Change the name and/or slug (owners only). Omitted fields stay as they are; after a
    slug change the workspace lives at its new URL only. Honours `If-Match`."""
    view = await workspaces.update_workspace(reads.principal, slug, body, version)
    return await reads.written(WORKSPACE_ONE, {"slug": view.slug})


@router.delete(
    "/{slug}",
    status_code=204,
    summary="Delete a workspace",
    responses=problems(FORBIDDEN_NOT_OWNER, NOT_FOUND_WORKSPACE, versioned=True),
)
async def delete_workspace(
    slug: str, principal: PrincipalDep, version: ExpectedVersion
) -> Response:
    """Delete the workspace with all its projects, issues, comments, members and events
    (owners only). This cannot be undone. Honours `If-Match`."""
    await workspaces.delete_workspace(principal, slug, version)
    return Response(status_code=204)
