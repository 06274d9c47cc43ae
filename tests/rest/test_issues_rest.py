"""Issues over REST: CRUD, filters, sorts, paging, conditional requests, roles, validation,
archived projects, events, concurrent numbering and statement counts."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from models import (
    Comment,
    Issue,
    IssueLabel,
    Label,
    Project,
)
from tests.factories import ROLES, World
from tests.helpers import BROKEN_LOGIN, CRUD_EVENTS, assert_invalid, event_types
from tests.helpers import ISSUE_ROLE_TABLE as ROLE_TABLE
from tests.sql_counter import count_sql

API = "/api/v1/workspaces/acme/projects/WEB/issues"


async def new(client: httpx.AsyncClient, w: World, who: str = "member", **body: Any) -> Any:
    response = await client.post(API, json={"title": "T", **body}, headers=w.h(who))
    assert response.status_code == 201, response.text
    return response.json()


async def test_crud_and_representation(client: httpx.AsyncClient, world: World) -> None:
    created = await new(
        client,
        world,
        **BROKEN_LOGIN,
        priority="high",
        assignee="admin",
        labels=["ui", "BUG"],
        due_date="2030-01-02",
    )
    assert created["number"] == 1
    assert created["title"] == "Broken login"
    assert created["state"] == "open"
    assert created["priority"] == "high"
    assert created["author"]["username"] == "member"
    assert created["assignee"]["username"] == "admin"
    assert [x["name"] for x in created["labels"]] == ["bug", "ui"]
    assert created["due_date"] == "2030-01-02"
    assert created["closed_at"] is None
    assert created["version"] == 1
    assert created["project_key"] == "WEB"
    assert created["comment_count"] == 0

    got = await client.get(f"{API}/1", headers=world.h("viewer"))
    assert got.status_code == 200
    assert got.json() == created
    assert got.headers["ETag"] == '"v1"'

    closed = await client.patch(f"{API}/1", json={"state": "closed"}, headers=world.h("member"))
    assert closed.status_code == 200, closed.text
    assert closed.json()["closed_at"] is not None
    assert closed.json()["version"] == 2
    reopened = await client.patch(f"{API}/1", json={"state": "open"}, headers=world.h("member"))
    assert reopened.json()["closed_at"] is None
    assert reopened.json()["version"] == 3

    patched = await client.patch(
        f"{API}/1",
        json={"assignee": None, "labels": ["docs"], "due_date": None, "title": "New"},
        headers=world.h("member"),
    )
    body = patched.json()
    assert body["assignee"] is None
    assert [x["name"] for x in body["labels"]] == ["Docs"]
    assert body["due_date"] is None
    assert body["title"] == "New"
    assert body["version"] == 4

    assert (await client.delete(f"{API}/1", headers=world.h("admin"))).status_code == 204
    assert (await client.get(f"{API}/1", headers=world.h("admin"))).status_code == 404
    assert await event_types() == [*CRUD_EVENTS, "issue.deleted"]


async def test_numbers_never_reused(client: httpx.AsyncClient, world: World) -> None:
    await new(client, world)
    await new(client, world)
    assert (await client.delete(f"{API}/2", headers=world.h("admin"))).status_code == 204
    assert (await new(client, world))["number"] == 3


async def test_filters_and_sorts(client: httpx.AsyncClient, world: World) -> None:
    await new(client, world, title="Alpha", priority="low", labels=["bug"], assignee="admin")
    await new(client, world, title="beta", body="has ALPHA inside", priority="urgent")
    await new(client, world, title="Gamma", labels=["bug", "ui"], assignee="member")
    await client.patch(f"{API}/3", json={"state": "closed"}, headers=world.h("member"))

    async def numbers(**params: Any) -> list[int]:
        response = await client.get(API, params=params, headers=world.h("viewer"))
        assert response.status_code == 200, response.text
        return [i["number"] for i in response.json()["items"]]

    assert await numbers() == [1, 2]
    assert await numbers(state="closed") == [3]
    assert await numbers(state="all") == [1, 2, 3]
    assert await numbers(state="all", assignee="none") == [2]
    assert await numbers(state="all", assignee="admin") == [1]
    assert await numbers(state="all", label="bug") == [1, 3]
    assert await numbers(state="all", label=["bug", "UI"]) == [3]
    assert await numbers(state="all", q="alpha") == [1, 2]
    assert await numbers(state="all", sort="priority", direction="desc") == [2, 1, 3]
    assert await numbers(state="all", sort="number", direction="desc") == [3, 2, 1]
    assert await numbers(state="all", sort="created") == [1, 2, 3]
    assert (await numbers(state="all", sort="updated"))[-1] == 3
    bad = await client.get(API, params={"sort": "title"}, headers=world.h("viewer"))
    assert bad.status_code == 422


async def test_paging_walk_with_inserts(client: httpx.AsyncClient, world: World) -> None:
    for _ in range(7):
        await new(client, world)
    seen: list[int] = []
    url: str | None = API + "?limit=3&sort=number&direction=desc"
    inserted = False
    while url is not None:
        response = await client.get(url, headers=world.h("viewer"))
        assert response.status_code == 200, response.text
        page = response.json()
        seen += [i["number"] for i in page["items"]]
        if not inserted:
            await new(client, world)  # newer than the walk's start: must not appear
            inserted = True
        url = None
        if page["next_cursor"]:
            assert "Link" in response.headers
            url = f"{API}?limit=3&sort=number&direction=desc&cursor={page['next_cursor']}"
    assert seen == [7, 6, 5, 4, 3, 2, 1]
    first = (await client.get(API + "?limit=2", headers=world.h("viewer"))).json()
    other = await client.get(
        API,
        params={"limit": 2, "cursor": first["next_cursor"], "q": "x"},
        headers=world.h("viewer"),
    )
    assert other.status_code == 422
    assert other.json()["errors"][0]["field"] == "cursor"


async def test_conditional_requests(client: httpx.AsyncClient, world: World) -> None:
    await new(client, world)
    cached = await client.get(f"{API}/1", headers={**world.h("viewer"), "If-None-Match": '"v1"'})
    assert cached.status_code == 304
    stale = {**world.h("member"), "If-Match": '"v9"'}
    assert (await client.patch(f"{API}/1", json={"title": "x"}, headers=stale)).status_code == 412
    fresh = {**world.h("member"), "If-Match": '"v1"'}
    assert (await client.patch(f"{API}/1", json={"title": "x"}, headers=fresh)).status_code == 200
    stale_delete = {**world.h("admin"), "If-Match": '"v1"'}
    assert (await client.delete(f"{API}/1", headers=stale_delete)).status_code == 412
    assert await event_types() == ["issue.created", "issue.updated"]


# One expectation table: action → status per role.
@pytest.mark.parametrize("who", ROLES)
async def test_role_table(client: httpx.AsyncClient, world: World, who: str) -> None:
    await new(client, world, who="admin")
    h = world.h(who)
    expected = ROLE_TABLE
    assert (await client.get(f"{API}/1", headers=h)).status_code == expected["read"][who]
    assert (await client.get(API, headers=h)).status_code == expected["read"][who]
    created = await client.post(API, json={"title": "x"}, headers=h)
    assert created.status_code == expected["create"][who]
    edited = await client.patch(f"{API}/1", json={"title": "y"}, headers=h)
    assert edited.status_code == expected["edit"][who]
    assert (await client.delete(f"{API}/1", headers=h)).status_code == expected["delete"][who]


BAD_WRITES: list[tuple[dict[str, Any], str]] = [
    ({"title": 5}, "title"),
    ({"title": "   "}, "title"),
    ({"title": "x" * 257}, "title"),
    ({"title": "x", "body": "b" * 65_537}, "body"),
    ({"title": "x", "priority": "huge"}, "priority"),
    ({"title": "x", "labels": ["nope"]}, "labels"),
    ({"title": "x", "assignee": "stranger"}, "assignee"),
    ({"title": "x", "due_date": 20300101}, "due_date"),
    ({"title": "x", "colour": "red"}, "colour"),
]


@pytest.mark.parametrize(("body", "field"), BAD_WRITES)
async def test_bad_input(
    client: httpx.AsyncClient, world: World, body: dict[str, Any], field: str
) -> None:
    assert_invalid(await client.post(API, json=body, headers=world.h("member")), field)
    await new(client, world)
    patch = {k: v for k, v in body.items() if k != "title" or field == "title"}
    assert_invalid(await client.patch(f"{API}/1", json=patch, headers=world.h("member")), field)
    assert (
        await client.patch(f"{API}/1", json={"state": None}, headers=world.h("member"))
    ).status_code == 422
    assert await event_types() == ["issue.created"]


async def test_archived_project_is_read_only(client: httpx.AsyncClient, world: World) -> None:
    await new(client, world)
    await Project.filter(id=world.project.id).update(is_archived=True)
    h = world.h("admin")
    assert (await client.post(API, json={"title": "x"}, headers=h)).status_code == 409
    assert (await client.patch(f"{API}/1", json={"title": "y"}, headers=h)).status_code == 409
    assert (await client.delete(f"{API}/1", headers=h)).status_code == 409
    assert (await client.get(f"{API}/1", headers=h)).status_code == 200
    assert await event_types() == ["issue.created"]


async def test_concurrent_numbering(client: httpx.AsyncClient, world: World) -> None:
    h = world.h("member")
    results = await asyncio.gather(
        *(client.post(API, json={"title": f"#{i}"}, headers=h) for i in range(50))
    )
    assert all(r.status_code == 201 for r in results)
    numbers = sorted(r.json()["number"] for r in results)
    assert numbers == list(range(1, 51))
    assert sorted(await Issue.all().values_list("number", flat=True)) == numbers


async def _bulk(world: World, n: int) -> None:
    labels = await Label.filter(project_id=world.project.id)
    author, assignee = world.users["member"], world.users["admin"]
    for i in range(1, n + 1):
        issue = await Issue.create(
            project=world.project, number=i, title=f"#{i}", author=author, assignee=assignee
        )
        for label in labels[:2]:
            await IssueLabel.create(issue=issue, label=label)
        await Comment.create(issue=issue, author=author, body="hi")


async def test_statement_count_does_not_grow(client: httpx.AsyncClient, world: World) -> None:
    await _bulk(world, 100)
    counts = []
    for limit in (10, 100):
        h = world.h("viewer")
        with count_sql() as sql:
            response = await client.get(API, params={"limit": limit}, headers=h)
        assert response.status_code == 200
        items = response.json()["items"]
        assert len(items) == limit
        assert all(len(i["labels"]) == 2 and i["comment_count"] == 1 for i in items)
        assert all(i["assignee"]["username"] == "admin" for i in items)
        counts.append(sql.count)
    assert counts[0] == counts[1], counts
