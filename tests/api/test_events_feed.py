"""The activity feed: REST `GET /api/v1/workspaces/{slug}/events` and GraphQL
`Workspace.events` (through `schema.loaders.Loaders.workspace_events`)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from gateway.core.errors import Conflict
from gateway.core.ids import to_global_id
from gateway.security.principal import Principal, Scope, TokenKind
from gateway.services import issue_inputs, issues, projects, workspaces
from models import Event, Project, User
from tests.auth_helpers import bearer, gql, join, make_user
from tests.helpers import rest_items, same_fields, walk
from tests.sql_counter import count_sql

FEED = "/api/v1/workspaces/acme/events"


def principal_of(user: User) -> Principal:
    return Principal(user.id, user.username, user.is_site_admin, TokenKind.access, frozenset(Scope))


@pytest.fixture
async def world() -> dict[str, User]:
    """`acme`, owned by ann, with viewer vic; stranger sam belongs elsewhere. Five events."""
    ann, vic, sam = [await make_user(n) for n in ("ann", "vic", "sam")]
    owner = principal_of(ann)
    await workspaces.create_workspace(owner, workspaces.WorkspaceCreate(slug="acme", name="Acme"))
    await workspaces.create_workspace(
        principal_of(sam), workspaces.WorkspaceCreate(slug="other", name="Other")
    )
    await join("acme", ann, vic, "viewer")
    for name in ("Acme 2", "Acme 3"):
        await workspaces.update_workspace(owner, "acme", workspaces.WorkspacePatch(name=name))
    return {"ann": ann, "vic": vic, "sam": sam}


async def rest_feed(
    client: httpx.AsyncClient, headers: dict[str, str], query: str = ""
) -> list[dict[str, Any]]:
    """Every event of the feed, 3 a page (so that the tests cross pages)."""
    return await rest_items(client, FEED, headers, limit=3, query=query)


async def test_feed_is_newest_first_and_pages_to_the_end(
    app: FastAPI, client: httpx.AsyncClient, world: dict[str, User]
) -> None:
    items = await rest_feed(client, bearer(app, world["vic"]))
    ids = [i["node_id"] for i in items]
    assert len(ids) == len(set(ids)), f"a row repeats across pages: {ids}"
    assert [i["type"] for i in items] == [
        "workspace.updated",
        "workspace.updated",
        "member.added",
        "member.invited",
        "workspace.created",
    ]
    stored = await Event.filter(workspace__slug="acme").order_by("-id").values("id")
    assert ids == [to_global_id("Event", row["id"]) for row in stored]
    ann = world["ann"]
    newest = items[0]
    assert newest["actor"] == {
        "node_id": to_global_id("User", ann.id),
        "username": "ann",
        "display_name": ann.display_name,
    }
    assert newest["subject_id"] == items[-1]["subject_id"]
    assert newest["project_id"] is None
    assert newest["issue_id"] is None
    assert newest["data"] == {"changes": {"name": {"from": "Acme 2", "to": "Acme 3"}}}
    assert set(newest) == {
        "node_id", "type", "actor", "subject_id", "project_id", "issue_id", "data", "created_at"
    }  # fmt: skip


async def test_feed_filters_by_type(
    app: FastAPI, client: httpx.AsyncClient, world: dict[str, User]
) -> None:
    items = await rest_feed(client, bearer(app, world["ann"]), "&type=member.added")
    assert [i["type"] for i in items] == ["member.added"]
    assert items[0]["data"]["username"] == "vic"


async def test_feed_rejects_bad_filters_and_foreign_cursors(
    app: FastAPI, client: httpx.AsyncClient, world: dict[str, User]
) -> None:
    headers = bearer(app, world["ann"])
    bad_type = await client.get(f"{FEED}?type=nope", headers=headers)
    assert bad_type.status_code == 422
    assert [e["field"] for e in bad_type.json()["errors"]] == ["type"]
    bad_project = await client.get(f"{FEED}?project=NOPE", headers=headers)
    assert bad_project.status_code == 404
    assert bad_project.json()["code"] == "NOT_FOUND"
    first = (await client.get(f"{FEED}?limit=1", headers=headers)).json()
    foreign = await client.get(
        f"{FEED}?type=workspace.updated&cursor={first['next_cursor']}", headers=headers
    )
    assert foreign.status_code == 422
    assert [e["field"] for e in foreign.json()["errors"]] == ["cursor"]


async def test_strangers_and_anonymous_callers(
    app: FastAPI, client: httpx.AsyncClient, world: dict[str, User]
) -> None:
    stranger = await client.get(FEED, headers=bearer(app, world["sam"]))
    missing = await client.get("/api/v1/workspaces/nope/events", headers=bearer(app, world["ann"]))
    assert stranger.status_code == missing.status_code == 404
    assert stranger.json()["code"] == missing.json()["code"] == "NOT_FOUND"
    assert (await client.get(FEED)).status_code == 401


async def test_a_failed_write_leaves_no_event(
    app: FastAPI, client: httpx.AsyncClient, world: dict[str, User]
) -> None:
    headers = bearer(app, world["ann"])
    before = await rest_feed(client, headers)
    with pytest.raises(Conflict):
        await workspaces.update_workspace(
            principal_of(world["ann"]), "acme", workspaces.WorkspacePatch(slug="other")
        )
    assert await rest_feed(client, headers) == before


# --- the same feed through GraphQL: `Workspace.events` and `node(id:)` ----------------------

EVENT = "id type subjectId data createdAt actor { id username } project { id } issue { id }"


async def test_graphql_feed_walks_to_the_end_like_rest(
    app: FastAPI, client: httpx.AsyncClient, world: dict[str, User]
) -> None:
    owner = principal_of(world["ann"])
    for key in ("OLD", "WEB"):
        await projects.create_project(owner, "acme", projects.ProjectCreate(key=key, name=key))
    await projects.delete_project(owner, ("acme", "OLD"))
    await issues.create_issue(owner, ("acme", "WEB"), issue_inputs.IssueCreate(title="Broken"))
    headers = bearer(app, world["vic"])
    got = await walk(client, headers, 'workspace(slug: "acme")', "events", EVENT)
    rest = await rest_feed(client, headers)
    assert [e["type"] for e in got][:4] == [
        "issue.created",
        "project.deleted",
        "project.created",
        "project.created",
    ]
    assert len(got) == len(rest) == 9
    web = to_global_id("Project", (await Project.get(key="WEB")).id)
    for got_one, rest_one in zip(got, rest, strict=True):
        same_fields(got_one, rest_one, skip=("actor", "project_id", "issue_id"))
        actor = rest_one["actor"]
        assert got_one["actor"] == {"id": actor["node_id"], "username": actor["username"]}
        # REST keeps the reference; GraphQL follows it, to null once the project is gone.
        live = rest_one["project_id"] if rest_one["project_id"] == web else None
        assert got_one["project"] == (None if live is None else {"id": live})
        assert (got_one["issue"] or {}).get("id") == rest_one["issue_id"]
    assert got[0]["issue"] is not None
    assert got[1]["project"] is None
    assert rest[1]["project_id"] is not None

    query = "query($id: ID!) { node(id: $id) { id ... on Event { type subjectId } } }"
    variables = {"id": rest[0]["node_id"]}
    body = await gql(client, query, headers, variables)
    want = {"id": rest[0]["node_id"], "type": "issue.created", "subjectId": rest[0]["subject_id"]}
    assert body == {"data": {"node": want}}
    stranger = await gql(client, query, bearer(app, world["sam"]), variables)
    assert stranger == {"data": {"node": None}}


async def test_graphql_feed_page_costs_the_same_for_10_or_50(
    app: FastAPI, client: httpx.AsyncClient, world: dict[str, User]
) -> None:
    owner = principal_of(world["ann"])
    await projects.create_project(owner, "acme", projects.ProjectCreate(key="WEB", name="Web"))
    web = await Project.get(key="WEB")
    actors = [world["ann"], world["vic"], None]
    await Event.bulk_create(
        Event(
            workspace_id=web.workspace_id,  # type: ignore[attr-defined]
            actor=actors[i % 3],
            type="project.updated",
            subject_id=to_global_id("Project", web.id),
            project_id=web.id if i % 2 else web.id + 1000,
            data={"i": i},
        )
        for i in range(50)
    )
    counts: dict[int, int] = {}
    for size in (10, 50):
        query = (
            f'query {{ workspace(slug: "acme") {{ events(first: {size})'
            f" {{ edges {{ node {{ {EVENT} }} }} }} }} }}"
        )
        with count_sql() as sql:
            body = await gql(client, query, bearer(app, world["vic"]))
        assert "errors" not in body, body
        assert len(body["data"]["workspace"]["events"]["edges"]) == size
        counts[size] = sql.count
    assert counts[10] == counts[50], counts
