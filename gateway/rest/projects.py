"""`/api/v1/workspaces/{slug}/projects`: a workspace's projects, each by its key."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from gateway.deps import PrincipalDep, SettingsDep
from gateway.reads.reader import rest_obj, rest_page
from gateway.reads.roots import Root
from gateway.rest.compiled import compiled, one_answer, page_answer, written
from gateway.rest.conditional import ExpectedVersion, not_modified
from gateway.rest.paging import PageOut, PageParamsDep, page_out
from gateway.rest.responses import problem_response as problem_doc
from gateway.rest.workspaces import E401, E403_READ, E422
from gateway.services import projects
from gateway.services.projects import ProjectCreate, ProjectPatch

router = APIRouter(prefix="/workspaces/{slug}/projects", tags=["projects"])

E404 = problem_doc("NOT_FOUND: no such workspace or project, or the caller is not a member")
E409_ARCHIVED = problem_doc("CONFLICT: the project is archived (read-only)")
E412 = problem_doc("PRECONDITION_FAILED: `If-Match` names an older version")


class ProjectOut(BaseModel):
    """A project."""

    node_id: str = Field(description="The global ID (GraphQL `id`).")
    key: str = Field(description="Unique in the workspace; prefixes issue references.")
    name: str
    description: str
    is_archived: bool = Field(description="Archived projects are read-only.")
    issue_count: int = Field(description="Issues ever created in the project.")
    version: int = Field(description='Grows with every change; the ETag is `"v<version>"`.')
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, view: projects.ProjectView) -> ProjectOut:
        return cls(
            node_id=view.node_id,
            key=view.key,
            name=view.name,
            description=view.description,
            is_archived=view.is_archived,
            issue_count=view.issue_count,
            version=view.version,
            created_at=view.created_at,
            updated_at=view.updated_at,
        )


PROJECT_READ = rest_obj("Project", ProjectOut)
PROJECT_ONE = Root("project", "r0", obj=PROJECT_READ)
_PAGE = Root("workspace", "r0", paged=rest_page("Workspace", "projects", PROJECT_READ))


def _ref(slug: str, key: str) -> projects.ProjectRef:
    return (slug, key)


@router.get(
    "",
    summary="List projects",
    response_model=PageOut[ProjectOut],
    responses={401: E401, 403: E403_READ, 404: E404},
)
async def list_projects(
    slug: str,
    paging: PageParamsDep,
    request: Request,
    response: Response,
    principal: PrincipalDep,
    settings: SettingsDep,
) -> PageOut[ProjectOut] | Response:
    """The workspace's projects (archived ones included) ordered by key. Paged with `limit`
    and `cursor` (`next_cursor`, and a `Link: rel="next"` header)."""
    body = await compiled(settings, principal, _PAGE, {"slug": slug}, paging.args())
    if body is not None:
        return page_answer(request, body)
    page = await projects.list_projects(principal, slug, **paging.args())
    return page_out(
        page,
        lambda row: ProjectOut.of(projects.row_view(row)),
        request=request,
        response=response,
    )


@router.post(
    "",
    status_code=201,
    summary="Create a project",
    response_model=ProjectOut,
    responses={
        401: E401,
        403: problem_doc("FORBIDDEN: not an admin, or a token without the `admin` scope"),
        404: E404,
        409: problem_doc("CONFLICT: the key is taken in this workspace"),
        422: E422,
    },
)
async def create_project(
    slug: str,
    body: ProjectCreate,
    request: Request,
    response: Response,
    principal: PrincipalDep,
    settings: SettingsDep,
) -> ProjectOut | Response:
    """Create a project (admins). `key` is an upper-case letter followed by 1 to 9 upper-case
    letters or digits. Answers 201 with a `Location`."""
    view = await projects.create_project(principal, slug, body)
    location = str(request.app.url_path_for("projects.get", slug=slug, key=view.key))
    arguments: dict[str, object] = {"slug": slug, "key": view.key}
    answer = await written(settings, principal, PROJECT_ONE, arguments, 201, {"Location": location})
    if answer is not None:
        return answer
    response.headers["Location"] = location
    return ProjectOut.of(view)


@router.get(
    "/{key}",
    name="projects.get",
    summary="Get a project",
    response_model=ProjectOut,
    responses={304: {"description": "Not modified"}, 401: E401, 403: E403_READ, 404: E404},
)
async def get_project(
    slug: str,
    key: str,
    request: Request,
    response: Response,
    principal: PrincipalDep,
    settings: SettingsDep,
) -> ProjectOut | Response:
    """One project, with a strong `ETag`; `If-None-Match` with the current ETag answers 304."""
    body = await compiled(settings, principal, PROJECT_ONE, {"slug": slug, "key": key})
    if body is not None:
        return one_answer(request, body)
    view = await projects.get_project(principal, _ref(slug, key))
    return not_modified(request, response, view.version) or ProjectOut.of(view)


@router.patch(
    "/{key}",
    summary="Update, archive or unarchive a project",
    response_model=ProjectOut,
    responses={
        401: E401,
        403: problem_doc("FORBIDDEN: not an admin, or a token without the `admin` scope"),
        404: E404,
        409: E409_ARCHIVED,
        412: E412,
        422: E422,
    },
)
async def update_project(
    slug: str,
    key: str,
    body: ProjectPatch,
    response: Response,
    principal: PrincipalDep,
    settings: SettingsDep,
    version: ExpectedVersion,
) -> ProjectOut | Response:
    """Change `name` or `description`, or archive/unarchive with `is_archived` (admins).
    Omitted fields stay as they are. An archived project only accepts
    `{"is_archived": false}`. Honours `If-Match`."""
    view = await projects.update_project(principal, _ref(slug, key), body, version)
    arguments: dict[str, object] = {"slug": slug, "key": view.key}
    answer = await written(settings, principal, PROJECT_ONE, arguments)
    if answer is not None:
        return answer
    response.headers["ETag"] = f'"v{view.version}"'
    return ProjectOut.of(view)


@router.delete(
    "/{key}",
    status_code=204,
    summary="Delete a project",
    responses={
        401: E401,
        403: problem_doc("FORBIDDEN: not an owner, or a token without the `admin` scope"),
        404: E404,
        409: E409_ARCHIVED,
        412: E412,
    },
)
async def delete_project(
    slug: str, key: str, principal: PrincipalDep, version: ExpectedVersion
) -> Response:
    """Delete the project with its labels, issues and comments (owners). An archived
    project must be unarchived first. Honours `If-Match`."""
    await projects.delete_project(principal, _ref(slug, key), version)
    return Response(status_code=204)
