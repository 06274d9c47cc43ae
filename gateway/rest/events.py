"""`/api/v1/workspaces/{slug}/events`: the activity feed, newest first."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from gateway.reads.reader import rest_page
from gateway.reads.roots import Root
from gateway.rest import shapes
from gateway.rest.compiled import ReadsDep
from gateway.rest.pages import PageParamsDep, page_of
from gateway.rest.responses import FORBIDDEN_READ, problem_response, problems
from gateway.services import feed
from gateway.services.projects import canonical_key
from gateway.services.recording import EventType

router = APIRouter(tags=["events"])


_FEED = Root("workspace", "r0", paged=rest_page("Workspace", "events", shapes.EVENT.read))


@router.get(
    "/workspaces/{slug}/events",
    summary="List a workspace's events",
    response_model=page_of(shapes.EVENT),
    responses=problems(
        FORBIDDEN_READ,
        problem_response(
            "NOT_FOUND: no such workspace, you are not a member, or no project has the key"
            " `project`"
        ),
        validated=True,
    ),
)
async def list_events(
    slug: str,
    reads: ReadsDep,
    paging: PageParamsDep,
    type: Annotated[EventType | None, Query(description="Only events of this type.")] = None,
    project: Annotated[
        str | None, Query(max_length=10, description="Only events of the project with this key.")
    ] = None,
) -> Response:
    """The activity feed of the workspace, newest first, keyset paged.

    Any member of the workspace may read it; to anyone else the workspace does not exist.
    Events record every committed change (workspace, members, projects, labels, issues and
    comments) and outlive the objects they describe."""
    page = {
        **paging.args(),
        "filter": {
            "type": None if type is None else type.value,
            "project": None if project is None else canonical_key(project),
        },
    }
    explain = lambda: feed.list_events(  # noqa: E731
        reads.principal, slug, type=type, project=project, **paging.args()
    )
    return await reads.page(_FEED, {"slug": slug}, explain, page)
