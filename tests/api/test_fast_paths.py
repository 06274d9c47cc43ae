"""The compiled reads' fast paths (schema.http.fast_path, gateway.rest.fast_path) answer exactly as
the routes do: the same headers, conditional requests, one rate-limit charge, and every case
they do not take — an inactive user, a bad path parameter, a query string — left to the routes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from gateway.core.settings import Settings
from models import Issue, User
from tests.auth_helpers import bearer
from tests.factories import World, make_world
from tests.sql_counter import count_sql

ISSUE = "/api/v1/workspaces/acme/projects/WEB/issues/1"
QUERY = '{ issue(workspace: "acme", project: "WEB", number: 1) { number title version } }'
# Headers whose values differ from one request to the next.
VOLATILE = {"date", "x-request-id", "ratelimit-remaining", "ratelimit-reset", "content-length"}


@pytest.fixture
async def world(app: FastAPI) -> World:
    world = await make_world(app)
    await Issue.create(project=world.project, number=1, title="One", author=world.users["admin"])
    return world


@pytest.fixture
def compiled(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Callable[[bool], None]:
    def switch(on: bool) -> None:
        monkeypatch.setattr(settings, "compiled_reads", on)

    return switch


def _stable(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k not in VOLATILE}


async def _both(
    client: httpx.AsyncClient, switch: Callable[[bool], None], send: Callable[[], Any]
) -> Iterator[httpx.Response]:
    answers = []
    for on in (False, True):
        switch(on)
        answers.append(await send())
    return iter(answers)


@pytest.mark.parametrize("accept", ["application/json", "application/graphql-response+json"])
async def test_graphql_answers_alike(
    client: httpx.AsyncClient, world: World, compiled: Callable[[bool], None], accept: str
) -> None:
    headers = {**world.h("member"), "Accept": accept}

    async def send() -> httpx.Response:
        return await client.post("/graphql", json={"query": QUERY}, headers=headers)

    resolved, fast = await _both(client, compiled, send)
    assert fast.status_code == resolved.status_code == 200
    assert (
        fast.json()
        == resolved.json()
        == {"data": {"issue": {"number": 1, "title": "One", "version": 1}}}
    )
    assert _stable(fast) == _stable(resolved)


async def _fast_and_routed(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> tuple[httpx.Response, httpx.Response]:
    """The issue read by the fast path, and by its route (a query string passes it by)."""
    routed = await client.get(ISSUE, params={"by": "route"}, headers=headers)
    return routed, await client.get(ISSUE, headers=headers)


async def test_rest_issue_answers_as_its_route_and_honours_if_none_match(
    client: httpx.AsyncClient, world: World
) -> None:
    resolved, fast = await _fast_and_routed(client, world.h("viewer"))
    assert fast.status_code == resolved.status_code == 200
    assert fast.json() == resolved.json()
    assert _stable(fast) == _stable(resolved)
    tag = fast.headers["ETag"]
    for sent in (tag, f'"v9", {tag}', "*"):
        resolved, fast = await _fast_and_routed(
            client, {**world.h("viewer"), "If-None-Match": sent}
        )
        assert fast.status_code == resolved.status_code == 304
        assert fast.content == resolved.content == b""
        assert _stable(fast) == _stable(resolved)
    stale = await client.get(ISSUE, headers={**world.h("viewer"), "If-None-Match": '"v9"'})
    assert stale.status_code == 200


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/v1/workspaces/acme/projects/WEB/issues/2147483648", 422),
        ("/api/v1/workspaces/ac%00me/projects/WEB/issues/1", 422),
        ("/api/v1/workspaces/acme/projects/WEB/issues/1?x=%00", 422),
        ("/api/v1/workspaces/acme/projects/web/issues/1", 200),
        ("/api/v1/workspaces/acme/projects/WEB/issues/7", 404),
        ("/api/v1/workspaces/other/projects/WEB/issues/1", 404),
    ],
)
async def test_rest_issue_paths_the_fast_path_leaves_to_the_route(
    client: httpx.AsyncClient, world: World, path: str, status: int
) -> None:
    response = await client.get(path, headers=world.h("viewer"))
    assert response.status_code == status, response.text


async def test_an_inactive_user_is_refused_on_both_fast_paths(
    app: FastAPI, client: httpx.AsyncClient, world: World
) -> None:
    member = world.users["member"]
    headers = bearer(app, member)  # a token issued while the user was active
    await User.filter(id=member.id).update(is_active=False)
    graphql = await client.post("/graphql", json={"query": QUERY}, headers=headers)
    rest = await client.get(ISSUE, headers=headers)
    assert graphql.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert rest.status_code == 401


async def test_a_compiled_read_is_charged_once(
    client: httpx.AsyncClient, world: World, compiled: Callable[[bool], None]
) -> None:
    """Points spent by a compiled answer, and by one the compiled path tried, charged, then
    left to the resolvers (a missing issue), are those the resolvers alone spend."""
    page = '{ project(workspace: "acme", key: "WEB") { issues(first: 100) { totalCount } } }'
    missing = '{ project(workspace: "acme", key: "NOPE") { issues(first: 100) { totalCount } } }'
    for query in (page, missing):
        spent = []
        for on in (False, True):
            compiled(on)
            before = await client.post("/graphql", json={"query": QUERY}, headers=world.h("admin"))
            answer = await client.post("/graphql", json={"query": query}, headers=world.h("admin"))
            spent.append(
                int(before.headers["RateLimit-Remaining"])
                - int(answer.headers["RateLimit-Remaining"])
            )
        assert spent[0] == spent[1] == 2, (query, spent)  # 1 + 100 nodes // 100


async def test_graphql_get_answers_alike(
    client: httpx.AsyncClient, world: World, compiled: Callable[[bool], None]
) -> None:
    """A query over GET, with variables and an operation name, as the router answers it; a
    browser asking for GraphiQL and a repeated parameter still reach the router."""
    params = {
        "query": 'query One($n: Int!) { issue(workspace: "acme", project: "WEB",'
        " number: $n) { number title } }",
        "variables": '{"n": 1}',
        "operationName": "One",
    }

    async def send() -> httpx.Response:
        return await client.get("/graphql", params=params, headers=world.h("member"))

    resolved, fast = await _both(client, compiled, send)
    assert fast.status_code == resolved.status_code == 200
    assert fast.json() == resolved.json() == {"data": {"issue": {"number": 1, "title": "One"}}}
    with count_sql() as sql:
        await send()
    assert sql.count == 1, sql  # compiled: the statement checks the caller itself
    assert _stable(fast) == _stable(resolved)
    page = await client.get("/graphql", headers={**world.h("member"), "Accept": "text/html"})
    assert page.headers["content-type"].startswith("text/html")
    twice = await client.get(
        "/graphql?query={viewer{username}}&query={viewer{id}}", headers=world.h("member")
    )
    assert twice.status_code == 200
