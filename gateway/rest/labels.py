"""`/api/v1/workspaces/{slug}/projects/{key}/labels`: a project's labels, each by name
(matched case-insensitively)."""

from __future__ import annotations

from urllib.parse import quote

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
    FORBIDDEN_READ,
    NOT_FOUND_PROJECT,
    problem_response,
    problems,
)
from gateway.services import labels
from gateway.services.labels import LabelCreate, LabelPatch
from gateway.services.projects import canonical_key

router = APIRouter(prefix="/workspaces/{slug}/projects/{key}/labels", tags=["labels"])

FORBIDDEN_WRITE = problem_response("FORBIDDEN: not an admin, or a token without the `write` scope")


LABEL_ONE = Root("label", "r0", obj=shapes.LABEL.read)
_PAGE = Root("project", "r0", paged=rest_page("Project", "labels", shapes.LABEL.read))


def _project(slug: str, key: str) -> tuple[str, str]:
    return (slug, key)


@router.get(
    "",
    summary="List labels",
    response_model=page_of(shapes.LABEL),
    responses=problems(FORBIDDEN_READ, NOT_FOUND_PROJECT),
)
async def list_labels(slug: str, key: str, paging: PageParamsDep, reads: ReadsDep) -> Response:
    """The project's labels ordered by name (ignoring case). Paged with `limit` and `cursor`
    (`next_cursor`, and a `Link: rel="next"` header)."""
    explain = lambda: labels.list_labels(  # noqa: E731
        reads.principal, _project(slug, key), **paging.args()
    )
    return await reads.page(_PAGE, {"slug": slug, "key": key}, explain, paging.args())


@router.post(
    "",
    status_code=201,
    summary="Create a label",
    response_model=shapes.LABEL.model,
    responses=problems(
        FORBIDDEN_WRITE,
        NOT_FOUND_PROJECT,
        problem_response("CONFLICT: the name is taken (ignoring case) or the project is archived"),
        validated=True,
    ),
)
async def create_label(
    slug: str,
    key: str,
    body: LabelCreate,
    reads: ReadsDep,
) -> Response:
    """Create a label (admins): `name` 1..50, `color` `#rrggbb`, `description` up to 200.
    Answers 201 with a `Location`."""
    view = await labels.create_label(reads.principal, _project(slug, key), body)
    location = str(
        reads.request.app.url_path_for(
            "labels.get", slug=slug, key=canonical_key(key), name=quote(view.name, safe="")
        )
    )
    arguments: dict[str, object] = {"slug": slug, "key": key, "name": view.name}
    return await reads.written(LABEL_ONE, arguments, 201, {"Location": location})


@router.get(
    "/{name}",
    name="labels.get",
    summary="Get a label",
    response_model=shapes.LABEL.model,
    responses=problems(FORBIDDEN_READ, NOT_FOUND_PROJECT, cached=True),
)
async def get_label(slug: str, key: str, name: str, reads: ReadsDep) -> Response:
    """One label, by name (ignoring case), with a strong `ETag`; `If-None-Match` with the
    current ETag answers 304."""
    explain = lambda: labels.get_label(reads.principal, (_project(slug, key), name))  # noqa: E731
    return await reads.one(LABEL_ONE, {"slug": slug, "key": key, "name": name}, explain)


@router.patch(
    "/{name}",
    summary="Update a label",
    response_model=shapes.LABEL.model,
    responses=problems(
        FORBIDDEN_WRITE,
        NOT_FOUND_PROJECT,
        problem_response("CONFLICT: the new name is taken or the project is archived"),
        versioned=True,
        validated=True,
    ),
)
async def update_label(
    slug: str,
    key: str,
    name: str,
    body: LabelPatch,
    reads: ReadsDep,
    version: ExpectedVersion,
) -> Response:
    """Rename, recolour or describe a label (admins); omitted fields stay as they are.
    Honours `If-Match`."""
    ref = (_project(slug, key), name)
    view = await labels.update_label(reads.principal, ref, body, version)
    return await reads.written(LABEL_ONE, {"slug": slug, "key": key, "name": view.name})


@router.delete(
    "/{name}",
    status_code=204,
    summary="Delete a label",
    responses=problems(FORBIDDEN_WRITE, NOT_FOUND_PROJECT, ARCHIVED, versioned=True),
)
async def delete_label(
    slug: str, key: str, name: str, principal: PrincipalDep, version: ExpectedVersion
) -> Response:
    """Delete a label and remove it from every issue (admins). Honours `If-Match`."""
    await labels.delete_label(principal, (_project(slug, key), name), version)
    return Response(status_code=204)
