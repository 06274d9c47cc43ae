"""`/api/v1/workspaces/{slug}/projects/{key}/issues`: issues of a project.

Answers are read through the read model (`gateway.rest.shapes.ISSUE`): one statement whose JSON
goes out as it is; writes go through `gateway.services.issues` and are read back the same way.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from gateway.http.deps import PrincipalDep
from gateway.reads.reader import rest_page
from gateway.reads.roots import Root
from gateway.rest import shapes
from gateway.rest.compiled import ReadsDep
from gateway.rest.conditional import ExpectedVersion
from gateway.rest.pages import PageParamsDep, page_of
from gateway.rest.params import IssueNumber
from gateway.rest.responses import (
    ARCHIVED,
    FORBIDDEN_CONTENT,
    FORBIDDEN_READ,
    NOT_MODIFIED,
    PRECONDITION_FAILED,
    UNAUTHENTICATED,
    VALIDATION_FAILED,
    Responses,
    problem_response,
)
from gateway.services import issues
from gateway.services.issue_inputs import MAX_LABELS, IssueCreate, IssuePatch
from gateway.services.issue_views import IssueView

router = APIRouter(prefix="/workspaces/{slug}/projects/{key}/issues", tags=["issues"])


_READ: Responses = {
    401: UNAUTHENTICATED,
    403: FORBIDDEN_READ,
    404: problem_response("NOT_FOUND: no such workspace, project or issue (or it is invisible)"),
}
_WRITE: Responses = {**_READ, 403: FORBIDDEN_CONTENT, 409: ARCHIVED, 422: VALIDATION_FAILED}
_PRECONDITION: Responses = {412: PRECONDITION_FAILED}


ISSUE_ONE = Root("issue", "r0", obj=shapes.ISSUE.read)
_PAGE = Root("project", "r0", paged=rest_page("Project", "issues", shapes.ISSUE.read))


@router.get("", summary="List issues", response_model=page_of(shapes.ISSUE), responses=_READ)
async def list_issues(
    slug: str,
    key: str,
    reads: ReadsDep,
    paging: PageParamsDep,
    state: Annotated[Literal["open", "closed", "all"], Query()] = "open",
    assignee: Annotated[
        str | None, Query(max_length=39, description="A username, or `none` for unassigned.")
    ] = None,
    label: Annotated[
        list[str] | None,
        Query(
            max_length=MAX_LABELS,
            description=f"A label name; repeat it (up to {MAX_LABELS} times): all must match.",
        ),
    ] = None,
    q: Annotated[
        str | None, Query(max_length=256, description="Title or body contains (any case).")
    ] = None,
    sort: Annotated[Literal["number", "created", "updated", "priority"], Query()] = "number",
    direction: Annotated[Literal["asc", "desc"], Query()] = "asc",
) -> Response:
    """A page of the project's issues, filtered and sorted.

    `state` defaults to `open`; `label` may repeat (issues carrying all of them); the
    `next_cursor` only works with the same filters and sort (otherwise 422 on `cursor`)."""
    page = {
        **paging.args(),
        "filter": {"state": state, "assignee": assignee, "labels": label, "q": q},
        "orderBy": {"field": sort, "direction": direction},
    }

    def explain() -> Awaitable[object]:  # the filter is checked by the compiled read too
        where = issues.make_filter(state, assignee, label, q)
        return issues.list_issues(
            reads.principal, (slug, key), where, sort, direction == "desc", **paging.args()
        )

    return await reads.page(_PAGE, {"slug": slug, "key": key}, explain, page)


@router.post(
    "",
    status_code=201,
    summary="Create an issue",
    response_model=shapes.ISSUE.model,
    responses=_WRITE,
)
async def create_issue(
    slug: str,
    key: str,
    body: IssueCreate,
    reads: ReadsDep,
) -> Response:
    """Create an issue (member role). It gets the project's next number; `assignee` must be a
    workspace member and `labels` names of the project's labels. `Location` names it."""
    issue = await issues.create_issue(reads.principal, (slug, key), body)
    location = reads.request.url_for(
        "issues.get", slug=slug, key=issue.project_key, number=issue.number
    )
    headers = {"Location": location.path}
    return await reads.written(ISSUE_ONE, _written_args(slug, issue), 201, headers)


def _written_args(slug: str, issue: IssueView) -> dict[str, object]:
    return {"slug": slug, "key": issue.project_key, "number": issue.number}


@router.get(
    "/{number}",
    name="issues.get",
    summary="Get an issue",
    response_model=shapes.ISSUE.model,
    responses={**_READ, 304: NOT_MODIFIED},
)
async def get_issue(
    slug: str,
    key: str,
    number: IssueNumber,
    reads: ReadsDep,
) -> Response:
    """One issue, with a strong `ETag`; `If-None-Match` with the current one answers 304."""
    arguments: dict[str, object] = {"slug": slug, "key": key, "number": number}
    explain = lambda: issues.get_issue(reads.principal, (slug, key, number))  # noqa: E731
    return await reads.one(ISSUE_ONE, arguments, explain)


@router.patch(
    "/{number}",
    summary="Update an issue",
    response_model=shapes.ISSUE.model,
    responses={**_WRITE, **_PRECONDITION},
)
async def update_issue(
    slug: str,
    key: str,
    number: IssueNumber,
    body: IssuePatch,
    reads: ReadsDep,
    version: ExpectedVersion,
) -> Response:
    """Change any of title, body, priority, assignee (null unassigns), labels (replaces the
    set), due_date (null clears) and state (closing sets `closed_at`, reopening clears it).
    Member role; `If-Match` guards against lost updates (412 when stale)."""
    issue = await issues.update_issue(reads.principal, (slug, key, number), body, version)
    return await reads.written(ISSUE_ONE, _written_args(slug, issue))


@router.delete(
    "/{number}",
    status_code=204,
    summary="Delete an issue",
    responses={**_WRITE, **_PRECONDITION},
)
async def delete_issue(
    slug: str, key: str, number: IssueNumber, principal: PrincipalDep, version: ExpectedVersion
) -> Response:
    """Delete an issue and its comments (admin role); `If-Match` is honoured (412)."""
    await issues.delete_issue(principal, (slug, key, number), version)
    return Response(status_code=204)
