"""`/api/v1/workspaces/{slug}/events`: the activity feed, newest first."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field, JsonValue

from gateway.deps import PrincipalDep, SettingsDep
from gateway.reads.reader import rest_obj, rest_page
from gateway.reads.roots import Root
from gateway.rest.compiled import compiled, page_answer
from gateway.rest.paging import PageOut, PageParamsDep, page_out
from gateway.rest.responses import problem_response as _problem
from gateway.services import feed
from gateway.services.events import EventType

router = APIRouter(tags=["events"])


class ActorOut(BaseModel):
    """Who made a change."""

    node_id: str = Field(description="The user's global ID.")
    username: str


class EventOut(BaseModel):
    """One committed change in a workspace."""

    node_id: str = Field(description="The global ID (GraphQL `id`).")
    type: str = Field(description="What happened, e.g. `issue.created` or `comment.deleted`.")
    actor: ActorOut | None = Field(description="Who did it; null once that user is gone.")
    subject_id: str = Field(description="The global ID of the object the event is about.")
    project_id: str | None = Field(description="The global ID of the project concerned, if any.")
    issue_id: str | None = Field(description="The global ID of the issue concerned, if any.")
    data: dict[str, JsonValue] = Field(description="Details of the change, depending on `type`.")
    created_at: datetime

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> EventOut:
        view = feed.row_view(row)
        actor = None
        if view.actor_node_id is not None and view.actor_username is not None:
            actor = ActorOut(node_id=view.actor_node_id, username=view.actor_username)
        return cls(
            node_id=view.node_id,
            type=view.type,
            actor=actor,
            subject_id=view.subject_id,
            project_id=view.project_id,
            issue_id=view.issue_id,
            data=view.data,
            created_at=view.created_at,
        )


_FEED = Root("workspace", "r0", paged=rest_page("Workspace", "events", rest_obj("Event", EventOut)))


@router.get(
    "/workspaces/{slug}/events",
    summary="List a workspace's events",
    response_model=PageOut[EventOut],
    responses={
        401: _problem("UNAUTHENTICATED: no, bad or expired credentials"),
        403: _problem("FORBIDDEN: the personal access token lacks the `read` scope"),
        404: _problem(
            "NOT_FOUND: no such workspace, you are not a member, or no project has the key"
            " `project`"
        ),
        422: _problem("VALIDATION_FAILED: bad `limit`, `cursor`, `type` or `project`"),
    },
)
async def list_events(
    slug: str,
    principal: PrincipalDep,
    settings: SettingsDep,
    paging: PageParamsDep,
    request: Request,
    response: Response,
    type: Annotated[EventType | None, Query(description="Only events of this type.")] = None,
    project: Annotated[
        str | None, Query(max_length=10, description="Only events of the project with this key.")
    ] = None,
) -> PageOut[EventOut] | Response:
    """The activity feed of the workspace, newest first, keyset paged.

    Any member of the workspace may read it; to anyone else the workspace does not exist.
    Events record every committed change (workspace, members, projects, labels, issues and
    comments) and outlive the objects they describe."""
    if type is None and project is None:  # the whole feed: one statement (filters: the service)
        body = await compiled(settings, principal, _FEED, {"slug": slug}, paging.args())
        if body is not None:
            return page_answer(request, body)
    page = await feed.list_events(principal, slug, type=type, project=project, **paging.args())
    return page_out(page, EventOut.from_row, request=request, response=response)
