"""`/api/v1/workspaces/{slug}/projects/{key}/issues`: issues of a project.

Responses are built as plain dicts from `IssueView`s and sent as `OrjsonResponse`s; the pydantic
models below document them (OpenAPI) without re-validating every row on the way out.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from gateway.deps import PrincipalDep, SettingsDep
from gateway.json_body import OrjsonResponse
from gateway.reads.reader import rest_obj, rest_page
from gateway.reads.roots import Root
from gateway.rest.compiled import compiled, link, one_answer, page_answer, written
from gateway.rest.conditional import ExpectedVersion, etag, not_modified
from gateway.rest.paging import PageOut, PageParamsDep
from gateway.rest.params import IssueNumber
from gateway.rest.responses import problem_response as _problem
from gateway.services import issues
from gateway.services.issue_rules import (
    MAX_LABELS,
    IssueCreate,
    IssuePatch,
    IssueView,
    UserBrief,
)

router = APIRouter(prefix="/workspaces/{slug}/projects/{key}/issues", tags=["issues"])


_READ: dict[int | str, dict[str, Any]] = {
    401: _problem("UNAUTHENTICATED: no, bad or expired credentials"),
    403: _problem("FORBIDDEN: the token lacks the `read` scope"),
    404: _problem("NOT_FOUND: no such workspace, project or issue (or it is invisible)"),
}
_WRITE: dict[int | str, dict[str, Any]] = {
    **_READ,
    403: _problem("FORBIDDEN: the role or the token scope does not allow it"),
    409: _problem("CONFLICT: the project is archived"),
    422: _problem("VALIDATION_FAILED: a field breaks its rule (each one is listed)"),
}
_PRECONDITION: dict[int | str, dict[str, Any]] = {
    412: _problem("PRECONDITION_FAILED: `If-Match` names a stale version")
}


class UserBriefOut(BaseModel):
    node_id: str
    username: str
    display_name: str


class LabelBriefOut(BaseModel):
    node_id: str
    name: str
    color: str


class IssueOut(BaseModel):
    """An issue."""

    node_id: str = Field(description="The global ID (GraphQL `id`).")
    number: int = Field(description="Sequential per project from 1; never reused.")
    title: str
    body: str
    state: Literal["open", "closed"]
    priority: Literal["none", "low", "medium", "high", "urgent"]
    author: UserBriefOut
    assignee: UserBriefOut | None
    labels: list[LabelBriefOut]
    comment_count: int
    due_date: date | None
    closed_at: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int = Field(description='Increments on every change; the ETag is `"v<version>"`.')
    project_key: str


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def _user(user: UserBrief | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"node_id": user.node_id, "username": user.username, "display_name": user.display_name}


def issue_json(issue: IssueView) -> dict[str, Any]:
    """The REST representation of an issue, ready for JSON."""
    return {
        "node_id": issue.node_id,
        "number": issue.number,
        "title": issue.title,
        "body": issue.body,
        "state": issue.state,
        "priority": issue.priority,
        "author": _user(issue.author),
        "assignee": _user(issue.assignee),
        "labels": [{"node_id": x.node_id, "name": x.name, "color": x.color} for x in issue.labels],
        "comment_count": issue.comment_count,
        "due_date": None if issue.due_date is None else issue.due_date.isoformat(),
        "closed_at": _time(issue.closed_at),
        "created_at": _time(issue.created_at),
        "updated_at": _time(issue.updated_at),
        "version": issue.version,
        "project_key": issue.project_key,
    }


def _answer(issue: IssueView, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return OrjsonResponse(
        issue_json(issue),
        status_code=status,
        headers={"ETag": etag(issue.version), **(headers or {})},
    )


ISSUE_READ = rest_obj("Issue", IssueOut)
ISSUE_ONE = Root("issue", "r0", obj=ISSUE_READ)
_PAGE = Root("project", "r0", paged=rest_page("Project", "issues", ISSUE_READ))


@router.get("", summary="List issues", response_model=PageOut[IssueOut], responses=_READ)
async def list_issues(
    slug: str,
    key: str,
    principal: PrincipalDep,
    settings: SettingsDep,
    paging: PageParamsDep,
    request: Request,
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
    body = await compiled(settings, principal, _PAGE, {"slug": slug, "key": key}, page)
    if body is not None:
        return page_answer(request, body)
    where = issues.make_filter(state, assignee, label, q)
    result = await issues.list_issues(
        principal, slug, key, where, sort, direction == "desc", **paging.args()
    )
    cursor = result.page.next_cursor
    answer = {"items": [issue_json(i) for i in result.items], "next_cursor": cursor}
    return OrjsonResponse(answer, headers=link(request, cursor))


@router.post(
    "", status_code=201, summary="Create an issue", response_model=IssueOut, responses=_WRITE
)
async def create_issue(
    slug: str,
    key: str,
    body: IssueCreate,
    principal: PrincipalDep,
    settings: SettingsDep,
    request: Request,
) -> Response:
    """Create an issue (member role). It gets the project's next number; `assignee` must be a
    workspace member and `labels` names of the project's labels. `Location` names it."""
    issue = await issues.create_issue(principal, slug, key, body)
    location = request.url_for("issues.get", slug=slug, key=issue.project_key, number=issue.number)
    headers = {"Location": location.path}
    found = _written_args(slug, issue)
    answer = await written(settings, principal, ISSUE_ONE, found, 201, headers)
    return answer or _answer(issue, 201, headers)


def _written_args(slug: str, issue: IssueView) -> dict[str, object]:
    return {"slug": slug, "key": issue.project_key, "number": issue.number}


@router.get(
    "/{number}",
    name="issues.get",
    summary="Get an issue",
    response_model=IssueOut,
    responses={**_READ, 304: {"description": "Not modified: `If-None-Match` matches"}},
)
async def get_issue(
    slug: str,
    key: str,
    number: IssueNumber,
    principal: PrincipalDep,
    settings: SettingsDep,
    request: Request,
) -> Response:
    """One issue, with a strong `ETag`; `If-None-Match` with the current one answers 304."""
    arguments: dict[str, object] = {"slug": slug, "key": key, "number": number}
    body = await compiled(settings, principal, ISSUE_ONE, arguments)
    if body is not None:
        return one_answer(request, body)
    issue = await issues.get_issue(principal, slug, key, number)
    response = Response()
    cached = not_modified(request, response, issue.version)
    return cached if cached is not None else _answer(issue)


@router.patch(
    "/{number}",
    summary="Update an issue",
    response_model=IssueOut,
    responses={**_WRITE, **_PRECONDITION},
)
async def update_issue(
    slug: str,
    key: str,
    number: IssueNumber,
    body: IssuePatch,
    principal: PrincipalDep,
    settings: SettingsDep,
    version: ExpectedVersion,
) -> Response:
    """Change any of title, body, priority, assignee (null unassigns), labels (replaces the
    set), due_date (null clears) and state (closing sets `closed_at`, reopening clears it).
    Member role; `If-Match` guards against lost updates (412 when stale)."""
    issue = await issues.update_issue(principal, slug, key, number, body, version)
    answer = await written(settings, principal, ISSUE_ONE, _written_args(slug, issue))
    return answer or _answer(issue)


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
    await issues.delete_issue(principal, slug, key, number, version)
    return Response(status_code=204)
