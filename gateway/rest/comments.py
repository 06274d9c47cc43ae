"""`/api/v1/workspaces/{slug}/projects/{key}/issues/{number}/comments`: comments on an issue."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from gateway.deps import PrincipalDep, SettingsDep
from gateway.reads.reader import rest_obj, rest_page
from gateway.reads.roots import Root
from gateway.rest.compiled import compiled, one_answer, page_answer, written
from gateway.rest.conditional import ExpectedVersion, etag, not_modified
from gateway.rest.paging import PageOut, PageParamsDep, page_out
from gateway.rest.params import IssueNumber, RowId
from gateway.rest.responses import problem_response as _problem
from gateway.services import comments
from gateway.services.comments import CommentCreate, CommentPatch
from gateway.services.projects import canonical_key

router = APIRouter(tags=["comments"])

BASE = "/workspaces/{slug}/projects/{key}/issues/{number}/comments"


_401 = _problem("UNAUTHENTICATED: no, bad or expired credentials")
_403 = _problem("FORBIDDEN: your role or the token's scope does not allow this")
_404 = _problem("NOT_FOUND: no such workspace, project, issue or comment, or not visible to you")
_409 = _problem("CONFLICT: the project is archived")
_412 = _problem("PRECONDITION_FAILED: `If-Match` names an older version")
_422 = _problem("VALIDATION_FAILED: a field breaks its rule (each one is listed)")


class AuthorOut(BaseModel):
    """Who wrote a comment."""

    node_id: str = Field(description="The user's global ID.")
    username: str


class CommentOut(BaseModel):
    """A comment on an issue."""

    node_id: str = Field(description="The global ID (GraphQL `id`).")
    id: int = Field(description="The comment's id in REST paths.")
    issue_id: str = Field(description="The global ID of the issue.")
    author: AuthorOut
    body: str = Field(description="Markdown.")
    edited_at: datetime | None = Field(description="When the body last changed; null if never.")
    version: int = Field(description='Counts changes; the ETag is `"v<version>"`.')
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, view: comments.CommentView) -> CommentOut:
        return cls(
            node_id=view.node_id,
            id=view.pk,
            issue_id=view.issue_node_id,
            author=AuthorOut(node_id=view.author_node_id, username=view.author_username),
            body=view.body,
            edited_at=view.edited_at,
            version=view.version,
            created_at=view.created_at,
            updated_at=view.updated_at,
        )

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> CommentOut:
        return cls.of(comments.row_view(row))


COMMENT_READ = rest_obj("Comment", CommentOut)
COMMENT_ONE = Root("comment", "r0", obj=COMMENT_READ)
_PAGE = Root("issue", "r0", paged=rest_page("Issue", "comments", COMMENT_READ))


def _ref(slug: str, key: str, number: int, comment_id: int) -> comments.CommentRef:
    return ((slug, key, number), comment_id)


@router.get(
    BASE,
    summary="List an issue's comments",
    response_model=PageOut[CommentOut],
    responses={401: _401, 403: _403, 404: _404, 422: _422},
)
async def list_comments(
    slug: str,
    key: str,
    number: IssueNumber,
    principal: PrincipalDep,
    settings: SettingsDep,
    paging: PageParamsDep,
    request: Request,
    response: Response,
) -> PageOut[CommentOut] | Response:
    """The issue's comments, oldest first, keyset paged. Anyone who can read the workspace
    may list them."""
    arguments: dict[str, object] = {"slug": slug, "key": key, "number": number}
    body = await compiled(settings, principal, _PAGE, arguments, paging.args())
    if body is not None:
        return page_answer(request, body)
    page = await comments.list_comments(principal, (slug, key, number), **paging.args())
    return page_out(page, CommentOut.from_row, request=request, response=response)


@router.post(
    BASE,
    status_code=201,
    summary="Comment on an issue",
    response_model=CommentOut,
    responses={401: _401, 403: _403, 404: _404, 409: _409, 422: _422},
)
async def add_comment(
    slug: str,
    key: str,
    number: IssueNumber,
    body: CommentCreate,
    principal: PrincipalDep,
    settings: SettingsDep,
    request: Request,
    response: Response,
) -> CommentOut | Response:
    """Add a comment (members and up). The body is trimmed and must keep 1 to 65,536
    characters. The `Location` header names the new comment."""
    view = await comments.add_comment(principal, (slug, key, number), body)
    location = str(
        request.app.url_path_for(
            "comments.get",
            slug=slug,
            key=canonical_key(key),
            number=str(number),
            comment_id=str(view.pk),
        )
    )
    arguments: dict[str, object] = {"slug": slug, "key": key, "number": number, "pk": view.pk}
    answer = await written(settings, principal, COMMENT_ONE, arguments, 201, {"Location": location})
    if answer is not None:
        return answer
    response.headers["Location"] = location
    response.headers["ETag"] = etag(view.version)
    return CommentOut.of(view)


@router.get(
    BASE + "/{comment_id}",
    name="comments.get",
    summary="Get a comment",
    response_model=CommentOut,
    responses={304: {"description": "Not modified"}, 401: _401, 403: _403, 404: _404},
)
async def get_comment(
    slug: str,
    key: str,
    number: IssueNumber,
    comment_id: RowId,
    principal: PrincipalDep,
    settings: SettingsDep,
    request: Request,
    response: Response,
) -> CommentOut | Response:
    """One comment, with a strong `ETag`; `If-None-Match` with it answers 304."""
    arguments: dict[str, object] = {"slug": slug, "key": key, "number": number, "pk": comment_id}
    body = await compiled(settings, principal, COMMENT_ONE, arguments)
    if body is not None:
        return one_answer(request, body)
    view = await comments.get_comment(principal, _ref(slug, key, number, comment_id))
    return not_modified(request, response, view.version) or CommentOut.of(view)


@router.patch(
    BASE + "/{comment_id}",
    summary="Edit a comment",
    response_model=CommentOut,
    responses={401: _401, 403: _403, 404: _404, 409: _409, 412: _412, 422: _422},
)
async def update_comment(
    slug: str,
    key: str,
    number: IssueNumber,
    comment_id: RowId,
    body: CommentPatch,
    principal: PrincipalDep,
    settings: SettingsDep,
    version: ExpectedVersion,
    response: Response,
) -> CommentOut | Response:
    """Change the body of your own comment; nobody else may, admins included. Sets
    `edited_at` and bumps `version` when the body changes. Honours `If-Match`."""
    view = await comments.update_comment(
        principal, _ref(slug, key, number, comment_id), body, version
    )
    arguments: dict[str, object] = {"slug": slug, "key": key, "number": number, "pk": view.pk}
    answer = await written(settings, principal, COMMENT_ONE, arguments)
    if answer is not None:
        return answer
    response.headers["ETag"] = etag(view.version)
    return CommentOut.of(view)


@router.delete(
    BASE + "/{comment_id}",
    status_code=204,
    summary="Delete a comment",
    responses={401: _401, 403: _403, 404: _404, 409: _409, 412: _412},
)
async def delete_comment(
    slug: str,
    key: str,
    number: IssueNumber,
    comment_id: RowId,
    principal: PrincipalDep,
    version: ExpectedVersion,
) -> Response:
    """Delete your own comment, or (admins and owners) anyone's. Honours `If-Match`."""
    await comments.delete_comment(principal, _ref(slug, key, number, comment_id), version)
    return Response(status_code=204)
