"""`/api/v1/workspaces/{slug}/projects/{key}/issues/{number}/comments`: comments on an issue."""

from __future__ import annotations

from fastapi import APIRouter, Response

from gateway.http.deps import PrincipalDep
from gateway.reads.reader import rest_page
from gateway.reads.roots import Root
from gateway.rest import shapes
from gateway.rest.compiled import ReadsDep
from gateway.rest.conditional import ExpectedVersion
from gateway.rest.pages import PageParamsDep, page_of
from gateway.rest.params import IssueNumber, RowId
from gateway.rest.responses import ARCHIVED, FORBIDDEN_CONTENT, problem_response, problems
from gateway.services import comments
from gateway.services.comments import CommentCreate, CommentPatch
from gateway.services.projects import canonical_key

router = APIRouter(tags=["comments"])

BASE = "/workspaces/{slug}/projects/{key}/issues/{number}/comments"


NOT_FOUND_COMMENT = problem_response(
    "NOT_FOUND: no such workspace, project, issue or comment, or not visible to you"
)


COMMENT_ONE = Root("comment", "r0", obj=shapes.COMMENT.read)
_PAGE = Root("issue", "r0", paged=rest_page("Issue", "comments", shapes.COMMENT.read))


def _ref(slug: str, key: str, number: int, comment_id: int) -> comments.CommentRef:
    return ((slug, key, number), comment_id)


@router.get(
    BASE,
    summary="List an issue's comments",
    response_model=page_of(shapes.COMMENT),
    responses=problems(FORBIDDEN_CONTENT, NOT_FOUND_COMMENT, validated=True),
)
async def list_comments(
    slug: str,
    key: str,
    number: IssueNumber,
    reads: ReadsDep,
    paging: PageParamsDep,
) -> Response:
    """The issue's comments, oldest first, keyset paged. Anyone who can read the workspace
    may list them."""
    arguments: dict[str, object] = {"slug": slug, "key": key, "number": number}
    explain = lambda: comments.list_comments(  # noqa: E731
        reads.principal, (slug, key, number), **paging.args()
    )
    return await reads.page(_PAGE, arguments, explain, paging.args())


@router.post(
    BASE,
    status_code=201,
    summary="Comment on an issue",
    response_model=shapes.COMMENT.model,
    responses=problems(FORBIDDEN_CONTENT, NOT_FOUND_COMMENT, ARCHIVED, validated=True),
)
async def add_comment(
    slug: str,
    key: str,
    number: IssueNumber,
    body: CommentCreate,
    reads: ReadsDep,
) -> Response:
    """Add a comment (members and up). The body is trimmed and must keep 1 to 65,536
    characters. The `Location` header names the new comment."""
    view = await comments.add_comment(reads.principal, (slug, key, number), body)
    location = str(
        reads.request.app.url_path_for(
            "comments.get",
            slug=slug,
            key=canonical_key(key),
            number=str(number),
            comment_id=str(view.pk),
        )
    )
    arguments: dict[str, object] = {"slug": slug, "key": key, "number": number, "pk": view.pk}
    return await reads.written(COMMENT_ONE, arguments, 201, {"Location": location})


@router.get(
    BASE + "/{comment_id}",
    name="comments.get",
    summary="Get a comment",
    response_model=shapes.COMMENT.model,
    responses=problems(FORBIDDEN_CONTENT, NOT_FOUND_COMMENT, cached=True),
)
async def get_comment(
    slug: str,
    key: str,
    number: IssueNumber,
    comment_id: RowId,
    reads: ReadsDep,
) -> Response:
    """One comment, with a strong `ETag`; `If-None-Match` with it answers 304."""
    arguments: dict[str, object] = {"slug": slug, "key": key, "number": number, "pk": comment_id}
    explain = lambda: comments.get_comment(  # noqa: E731
        reads.principal, _ref(slug, key, number, comment_id)
    )
    return await reads.one(COMMENT_ONE, arguments, explain)


@router.patch(
    BASE + "/{comment_id}",
    summary="Edit a comment",
    response_model=shapes.COMMENT.model,
    responses=problems(
        FORBIDDEN_CONTENT, NOT_FOUND_COMMENT, ARCHIVED, versioned=True, validated=True
    ),
)
async def update_comment(
    slug: str,
    key: str,
    number: IssueNumber,
    comment_id: RowId,
    body: CommentPatch,
    reads: ReadsDep,
    version: ExpectedVersion,
) -> Response:
    """Change the body of your own comment; nobody else may, admins included. Sets
    `edited_at` and bumps `version` when the body changes. Honours `If-Match`."""
    view = await comments.update_comment(
        reads.principal, _ref(slug, key, number, comment_id), body, version
    )
    arguments: dict[str, object] = {"slug": slug, "key": key, "number": number, "pk": view.pk}
    return await reads.written(COMMENT_ONE, arguments)


@router.delete(
    BASE + "/{comment_id}",
    status_code=204,
    summary="Delete a comment",
    responses=problems(FORBIDDEN_CONTENT, NOT_FOUND_COMMENT, ARCHIVED, versioned=True),
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
