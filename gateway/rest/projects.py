"""`/api/v1/workspaces/{slug}/projects`: a workspace's projects, each by its key."""

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
    ARCHIVED,
    FORBIDDEN_NOT_ADMIN,
    FORBIDDEN_NOT_OWNER,
    FORBIDDEN_READ,
    NOT_FOUND_PROJECT,
    problem_response,
    problems,
)
from gateway.services import projects
from gateway.services.projects import ProjectCreate, ProjectPatch

router = APIRouter(prefix="/workspaces/{slug}/projects", tags=["projects"])

PROJECT_ONE = Root("project", "r0", obj=shapes.PROJECT.read)
_PAGE = Root("workspace", "r0", paged=rest_page("Workspace", "projects", shapes.PROJECT.read))


def _ref(slug: str, key: str) -> projects.ProjectRef:
    return (slug, key)


@router.get(
    "",
    summary="List projects",
    response_model=page_of(shapes.PROJECT),
    responses=problems(FORBIDDEN_READ, NOT_FOUND_PROJECT),
)
async def list_projects(slug: str, paging: PageParamsDep, reads: ReadsDep) -> Response:
    """The workspace's projects (archived ones included) ordered by key. Paged with `limit`
    and `cursor` (`next_cursor`, and a `Link: rel="next"` header)."""
    explain = lambda: projects.list_projects(reads.principal, slug, **paging.args())  # noqa: E731
    return await reads.page(_PAGE, {"slug": slug}, explain, paging.args())


@router.post(
    "",
    status_code=201,
    summary="Create a project",
    response_model=shapes.PROJECT.model,
    responses=problems(
        FORBIDDEN_NOT_ADMIN,
        NOT_FOUND_PROJECT,
        problem_response("CONFLICT: the key is taken in this workspace"),
        validated=True,
    ),
)
async def create_project(slug: str, body: ProjectCreate, reads: ReadsDep) -> Response:
    """Create a project (admins). `key` is an upper-case letter followed by 1 to 9 upper-case
    letters or digits. Answers 201 with a `Location`."""
    view = await projects.create_project(reads.principal, slug, body)
    location = str(reads.request.app.url_path_for("projects.get", slug=slug, key=view.key))
    arguments: dict[str, object] = {"slug": slug, "key": view.key}
    return await reads.written(PROJECT_ONE, arguments, 201, {"Location": location})


@router.get(
    "/{key}",
    name="projects.get",
    summary="Get a project",
    response_model=shapes.PROJECT.model,
    responses=problems(FORBIDDEN_READ, NOT_FOUND_PROJECT, cached=True),
)
async def get_project(slug: str, key: str, reads: ReadsDep) -> Response:
    """One project, with a strong `ETag`; `If-None-Match` with the current ETag answers 304."""
    explain = lambda: projects.get_project(reads.principal, _ref(slug, key))  # noqa: E731
    return await reads.one(PROJECT_ONE, {"slug": slug, "key": key}, explain)


@router.patch(
    "/{key}",
    summary="Update, archive or unarchive a project",
    response_model=shapes.PROJECT.model,
    responses=problems(
        FORBIDDEN_NOT_ADMIN, NOT_FOUND_PROJECT, ARCHIVED, versioned=True, validated=True
    ),
)
async def update_project(
    slug: str,
    key: str,
    body: ProjectPatch,
    reads: ReadsDep,
    version: ExpectedVersion,
) -> Response:
    """Change `name` or `description`, or archive/unarchive with `is_archived` (admins).
    Omitted fields stay as they are. An archived project only accepts
    `{"is_archived": false}`. Honours `If-Match`."""
    view = await projects.update_project(reads.principal, _ref(slug, key), body, version)
    return await reads.written(PROJECT_ONE, {"slug": slug, "key": view.key})


@router.delete(
    "/{key}",
    status_code=204,
    summary="Delete a project",
    responses=problems(FORBIDDEN_NOT_OWNER, NOT_FOUND_PROJECT, ARCHIVED, versioned=True),
)
async def delete_project(
    slug: str, key: str, principal: PrincipalDep, version: ExpectedVersion
) -> Response:
    """Delete the project with its labels, issues and comments (owners). An archived
    project must be unarchived first. Honours `If-Match`."""
    await projects.delete_project(principal, _ref(slug, key), version)
    return Response(status_code=204)
