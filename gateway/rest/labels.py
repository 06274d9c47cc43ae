"""`/api/v1/workspaces/{slug}/projects/{key}/labels`: a project's labels, each by name
(matched case-insensitively)."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from gateway.deps import PrincipalDep, SettingsDep
from gateway.reads.reader import rest_obj, rest_page
from gateway.reads.roots import Root
from gateway.rest.compiled import compiled, one_answer, page_answer, written
from gateway.rest.conditional import E412, NOT_MODIFIED, ExpectedVersion, etag, not_modified
from gateway.rest.paging import PageOut, PageParamsDep, page_out
from gateway.rest.projects import E404, E409_ARCHIVED
from gateway.rest.responses import problem_response as problem_doc
from gateway.rest.workspaces import E401, E403_READ, E422
from gateway.services import labels
from gateway.services.labels import LabelCreate, LabelPatch
from gateway.services.projects import canonical_key

router = APIRouter(prefix="/workspaces/{slug}/projects/{key}/labels", tags=["labels"])

E403_WRITE = problem_doc("FORBIDDEN: not an admin, or a token without the `write` scope")


class LabelOut(BaseModel):
    """A label."""

    node_id: str = Field(description="The global ID (GraphQL `id`).")
    name: str = Field(description="Unique in the project, ignoring case.")
    color: str = Field(description="`#rrggbb`, lower-case.")
    description: str
    version: int = Field(description='Grows with every change; the ETag is `"v<version>"`.')
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, view: labels.LabelView) -> LabelOut:
        return cls(
            node_id=view.node_id,
            name=view.name,
            color=view.color,
            description=view.description,
            version=view.version,
            created_at=view.created_at,
            updated_at=view.updated_at,
        )


LABEL_READ = rest_obj("Label", LabelOut)
LABEL_ONE = Root("label", "r0", obj=LABEL_READ)
_PAGE = Root("project", "r0", paged=rest_page("Project", "labels", LABEL_READ))


def _project(slug: str, key: str) -> tuple[str, str]:
    return (slug, key)


@router.get(
    "",
    summary="List labels",
    response_model=PageOut[LabelOut],
    responses={401: E401, 403: E403_READ, 404: E404},
)
async def list_labels(
    slug: str,
    key: str,
    paging: PageParamsDep,
    request: Request,
    response: Response,
    principal: PrincipalDep,
    settings: SettingsDep,
) -> PageOut[LabelOut] | Response:
    """The project's labels ordered by name (ignoring case). Paged with `limit` and `cursor`
    (`next_cursor`, and a `Link: rel="next"` header)."""
    body = await compiled(settings, principal, _PAGE, {"slug": slug, "key": key}, paging.args())
    if body is not None:
        return page_answer(request, body)
    page = await labels.list_labels(principal, _project(slug, key), **paging.args())
    return page_out(
        page, lambda row: LabelOut.of(labels.row_view(row)), request=request, response=response
    )


@router.post(
    "",
    status_code=201,
    summary="Create a label",
    response_model=LabelOut,
    responses={
        401: E401,
        403: E403_WRITE,
        404: E404,
        409: problem_doc("CONFLICT: the name is taken (ignoring case) or the project is archived"),
        422: E422,
    },
)
async def create_label(
    slug: str,
    key: str,
    body: LabelCreate,
    request: Request,
    response: Response,
    principal: PrincipalDep,
    settings: SettingsDep,
) -> LabelOut | Response:
    """Create a label (admins): `name` 1..50, `color` `#rrggbb`, `description` up to 200.
    Answers 201 with a `Location`."""
    view = await labels.create_label(principal, _project(slug, key), body)
    location = str(
        request.app.url_path_for(
            "labels.get", slug=slug, key=canonical_key(key), name=quote(view.name, safe="")
        )
    )
    arguments: dict[str, object] = {"slug": slug, "key": key, "name": view.name}
    answer = await written(settings, principal, LABEL_ONE, arguments, 201, {"Location": location})
    if answer is not None:
        return answer
    response.headers["Location"] = location
    return LabelOut.of(view)


@router.get(
    "/{name}",
    name="labels.get",
    summary="Get a label",
    response_model=LabelOut,
    responses={304: NOT_MODIFIED, 401: E401, 403: E403_READ, 404: E404},
)
async def get_label(
    slug: str,
    key: str,
    name: str,
    request: Request,
    response: Response,
    principal: PrincipalDep,
    settings: SettingsDep,
) -> LabelOut | Response:
    """One label, by name (ignoring case), with a strong `ETag`; `If-None-Match` with the
    current ETag answers 304."""
    arguments: dict[str, object] = {"slug": slug, "key": key, "name": name}
    body = await compiled(settings, principal, LABEL_ONE, arguments)
    if body is not None:
        return one_answer(request, body)
    view = await labels.get_label(principal, (_project(slug, key), name))
    return not_modified(request, response, view.version) or LabelOut.of(view)


@router.patch(
    "/{name}",
    summary="Update a label",
    response_model=LabelOut,
    responses={
        401: E401,
        403: E403_WRITE,
        404: E404,
        409: problem_doc("CONFLICT: the new name is taken or the project is archived"),
        412: E412,
        422: E422,
    },
)
async def update_label(
    slug: str,
    key: str,
    name: str,
    body: LabelPatch,
    response: Response,
    principal: PrincipalDep,
    settings: SettingsDep,
    version: ExpectedVersion,
) -> LabelOut | Response:
    """Rename, recolour or describe a label (admins); omitted fields stay as they are.
    Honours `If-Match`."""
    view = await labels.update_label(principal, (_project(slug, key), name), body, version)
    arguments: dict[str, object] = {"slug": slug, "key": key, "name": view.name}
    answer = await written(settings, principal, LABEL_ONE, arguments)
    if answer is not None:
        return answer
    response.headers["ETag"] = etag(view.version)
    return LabelOut.of(view)


@router.delete(
    "/{name}",
    status_code=204,
    summary="Delete a label",
    responses={401: E401, 403: E403_WRITE, 404: E404, 409: E409_ARCHIVED, 412: E412},
)
async def delete_label(
    slug: str, key: str, name: str, principal: PrincipalDep, version: ExpectedVersion
) -> Response:
    """Delete a label and remove it from every issue (admins). Honours `If-Match`."""
    await labels.delete_label(principal, (_project(slug, key), name), version)
    return Response(status_code=204)
