"""The REST activity feed read compiled (one statement) answers as the service does: every page
through `next_cursor`, events naming deleted projects and issues, JSON details as stored, a
foreign cursor, filters (left to the service), callers who may not see the workspace."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from gateway.settings import Settings
from models import Event, Workspace
from tests.sql_counter import count_sql
from tests.test_issues_graphql import World, make_world

FEED = "/api/v1/workspaces/acme/events"


@pytest.fixture
async def world(app: FastAPI) -> World:
    return await make_world(app)


def _comparable(response: httpx.Response) -> tuple[int, Any, str | None]:
    body = response.json()
    if isinstance(body, dict):
        body.pop("request_id", None)
    return response.status_code, body, response.headers.get("Link")


async def test_the_feed_reads_alike_on_both_paths(
    client: httpx.AsyncClient, world: World, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = world.h("owner")
    for n in range(3):  # issue.created events, through the API
        made = await client.post(
            "/api/v1/workspaces/acme/projects/WEB/issues", json={"title": f"t{n}"}, headers=owner
        )
        assert made.status_code == 201, made.text
    acme = await Workspace.get(slug="acme")
    await Event.create(
        workspace=acme,
        type="issue.deleted",
        subject_id="SXNzdWU6OTk5",
        project_id=10**9,  # long gone
        issue_id=999,
        data={"title": 'Ünïcode ✓ "quoted"', "n": [1, 2.5, None, True], "deep": {"a": {}}},
    )
    other = await Workspace.create(slug="other", name="Other")
    await Event.create(workspace=other, type="x", subject_id="y", data={})

    async def both(url: str, who: str) -> httpx.Response:
        answers = []
        for on in (False, True):
            monkeypatch.setattr(settings, "compiled_reads", on)
            answers.append(await client.get(url, headers=world.h(who)))
        assert _comparable(answers[0]) == _comparable(answers[1]), (who, url)
        return answers[1]

    for who in ("owner", "viewer", "stranger"):
        url: str | None = f"{FEED}?limit=2"
        pages = 0
        while url is not None:
            page = await both(url, who)
            pages += 1
            cursor = page.json().get("next_cursor") if page.status_code == 200 else None
            url = f"{FEED}?limit=2&cursor={cursor}" if cursor else None
        assert pages == (1 if who == "stranger" else 2), who  # four events, two a page
    for url in (
        f"{FEED}?type=issue.created",
        f"{FEED}?project=WEB",
        f"{FEED}?cursor=bogus",
        f"{FEED}?limit=101",
        "/api/v1/workspaces/nope/events",
    ):
        await both(url, "owner")
    first = (await client.get(f"{FEED}?limit=1", headers=owner)).json()["next_cursor"]
    foreign = await both(f"/api/v1/workspaces/other/events?cursor={first}", "owner")
    assert foreign.status_code == 404  # the owner of acme is no member of `other`
    with count_sql() as sql:
        await client.get(f"{FEED}?limit=50", headers=owner)
    assert sql.count == 2  # the caller's lookup, then the feed
