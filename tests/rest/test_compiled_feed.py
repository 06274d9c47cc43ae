"""The REST activity feed, read in one statement with or without filters: every page through
`next_cursor`, events naming deleted projects and issues, JSON details as stored, cursors bound
to their workspace and filter, the services' errors (unknown project, unknown type, a member
of another workspace), and the statement count."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from gateway.core.ids import to_global_id
from models import Event, Project, Workspace
from tests.factories import World, make_world
from tests.sql_counter import count_sql

FEED = "/api/v1/workspaces/acme/events"
DETAILS = {"title": 'Ünïcode ✓ "quoted"', "n": [1, 2.5, None, True], "deep": {"a": {}}}


@pytest.fixture
async def world(app: FastAPI, client: httpx.AsyncClient) -> World:
    world = await make_world(app)
    for n in range(3):  # issue.created events, through the API
        made = await client.post(
            f"{FEED[:-7]}/projects/WEB/issues", json={"title": f"t{n}"}, headers=world.h("owner")
        )
        assert made.status_code == 201, made.text
    acme = await Workspace.get(slug="acme")
    await Event.create(
        workspace=acme,
        type="issue.deleted",
        subject_id="SXNzdWU6OTk5",
        project_id=10**9,  # long gone
        issue_id=999,
        data=DETAILS,
    )
    other = await Workspace.create(slug="other", name="Other")
    await Event.create(workspace=other, type="x", subject_id="y", data={})
    return world


async def _walk(
    client: httpx.AsyncClient, url: str, headers: dict[str, str]
) -> list[dict[str, Any]]:
    """Every item of a feed, page by page through `next_cursor` and `Link`."""
    items: list[dict[str, Any]] = []
    following: str | None = url
    while following is not None:
        page = await client.get(following, headers=headers)
        assert page.status_code == 200, page.text
        items.extend(page.json()["items"])
        cursor = page.json()["next_cursor"]
        assert (cursor is None) == ("link" not in page.headers), page.headers
        following = None if cursor is None else page.headers["link"][1:].split(">")[0]
    return items


async def test_every_page_newest_first(client: httpx.AsyncClient, world: World) -> None:
    items = await _walk(client, f"{FEED}?limit=2", world.h("viewer"))
    assert [i["type"] for i in items] == ["issue.deleted", *["issue.created"] * 3]
    gone = items[0]
    assert gone["data"] == DETAILS
    assert gone["project_id"] == to_global_id("Project", 10**9)
    assert gone["issue_id"] == to_global_id("Issue", 999)
    assert gone["actor"] is None
    web = await Project.get(key="WEB")
    assert {i["project_id"] for i in items[1:]} == {to_global_id("Project", web.id)}
    assert items[1]["actor"]["username"] == "owner"


@pytest.mark.parametrize(
    ("query", "types"),
    [
        ("type=issue.created", ["issue.created"] * 3),
        ("type=issue.deleted", ["issue.deleted"]),
        ("project=WEB", ["issue.created"] * 3),
        ("project=web&type=issue.created", ["issue.created"] * 3),
        ("project=WEB&type=issue.deleted", []),
        ("type=comment.created", []),
    ],
)
async def test_filters(
    client: httpx.AsyncClient, world: World, query: str, types: list[str]
) -> None:
    items = await _walk(client, f"{FEED}?limit=1&{query}", world.h("member"))
    assert [i["type"] for i in items] == types


async def test_a_cursor_is_bound_to_its_workspace_and_filter(
    client: httpx.AsyncClient, world: World
) -> None:
    owner = world.h("owner")
    filtered = (await client.get(f"{FEED}?limit=1&type=issue.created", headers=owner)).json()
    plain = (await client.get(f"{FEED}?limit=1", headers=owner)).json()
    for url in (
        f"{FEED}?cursor={filtered['next_cursor']}",
        f"{FEED}?cursor={filtered['next_cursor']}&project=WEB",
        f"{FEED}?cursor={plain['next_cursor']}&type=issue.created",
        f"{FEED}?cursor=bogus",
    ):
        refused = await client.get(url, headers=owner)
        assert refused.status_code == 422, (url, refused.text)
        assert refused.json()["errors"][0]["field"] == "cursor"
    again = await client.get(
        f"{FEED}?cursor={filtered['next_cursor']}&type=issue.created", headers=owner
    )
    assert again.status_code == 200, again.text
    foreign = await client.get(
        f"/api/v1/workspaces/other/events?cursor={plain['next_cursor']}", headers=owner
    )
    assert foreign.status_code == 404  # the owner of acme is no member of `other`


@pytest.mark.parametrize(
    ("url", "who", "status"),
    [
        (f"{FEED}?project=NOPE", "owner", 404),
        (f"{FEED}?project=NOPE&type=issue.created", "viewer", 404),
        (f"{FEED}?type=nope", "owner", 422),
        (f"{FEED}?limit=101", "owner", 422),
        (f"{FEED}?project={'X' * 11}", "owner", 422),
        (FEED, "stranger", 404),
        (f"{FEED}?project=WEB", "stranger", 404),
        ("/api/v1/workspaces/nope/events", "owner", 404),
    ],
)
async def test_refusals(
    client: httpx.AsyncClient, world: World, url: str, who: str, status: int
) -> None:
    answer = await client.get(url, headers=world.h(who))
    assert answer.status_code == status, answer.text


@pytest.mark.parametrize("query", ["", "?type=issue.created", "?project=WEB&type=issue.created"])
async def test_one_statement_after_the_caller(
    client: httpx.AsyncClient, world: World, query: str
) -> None:
    with count_sql() as sql:
        answer = await client.get(f"{FEED}{query}", headers=world.h("owner"))
    assert answer.status_code == 200
    assert sql.count == 2, sql  # the caller's lookup, then the feed
