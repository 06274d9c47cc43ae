"""The same issue operations through REST and GraphQL give the same answers: representation
field by field, filters and orders, cursors, roles, and numbering under concurrent creation
through both APIs at once."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from models import Comment, Issue
from tests.auth_helpers import gql
from tests.factories import ROLES, World
from tests.helpers import CREATE_ISSUE as CREATE
from tests.helpers import DELETE_ISSUE as DELETE
from tests.helpers import GET_ISSUE as GET
from tests.helpers import ISSUE
from tests.helpers import ISSUE_ROLE_TABLE as ROLE_TABLE
from tests.helpers import UPDATE_ISSUE as UPDATE
from tests.helpers import gql_issue as create

API = "/api/v1/workspaces/acme/projects/WEB/issues"


def same(rest: dict[str, Any], graph: dict[str, Any]) -> None:
    """REST's representation and GraphQL's of one issue agree, field by field."""

    def user(x: dict[str, Any] | None) -> tuple[str, str] | None:
        return None if x is None else (x.get("node_id") or x["id"], x["username"])

    assert rest["node_id"] == graph["id"]
    for name in ("number", "title", "body", "version"):
        assert rest[name] == graph[name], name
    assert rest["state"].upper() == graph["state"]
    assert rest["priority"].upper() == graph["priority"]
    assert rest["comment_count"] == graph["commentCount"]
    assert rest["due_date"] == graph["dueDate"]
    for rest_name, graph_name in (("closed_at", "closedAt"), ("created_at", "createdAt")):
        assert rest[rest_name] == graph[graph_name], rest_name
    assert rest["updated_at"] == graph["updatedAt"]
    assert user(rest["author"]) == user(graph["author"])
    assert user(rest["assignee"]) == user(graph["assignee"])
    assert [(x["node_id"], x["name"], x["color"]) for x in rest["labels"]] == [
        (x["id"], x["name"], x["color"]) for x in graph["labels"]
    ]
    assert rest["project_key"] == graph["project"]["key"]


async def _both(http: httpx.AsyncClient, w: World, n: int) -> None:
    rest = await http.get(f"{API}/{n}", headers=w.h("viewer"))
    assert rest.status_code == 200, rest.text
    graph = await gql(http, GET, w.h("viewer"), {"n": n})
    same(rest.json(), graph["data"]["issue"])


async def test_one_issue_both_ways(client: httpx.AsyncClient, world: World) -> None:
    body = {
        "title": "By REST",
        "body": "b",
        "priority": "high",
        "assignee": "admin",
        "labels": ["ui", "bug"],
        "due_date": "2030-01-02",
    }
    made = await client.post(API, json=body, headers=world.h("member"))
    assert made.status_code == 201
    by_graph = await create(
        client,
        world,
        title="By GraphQL",
        body="b",
        priority="HIGH",
        assigneeId=world.user_id("admin"),
        labelIds=[world.label_id("ui"), world.label_id("bug")],
        dueDate="2030-01-02",
    )
    rest_of_graph = await client.get(f"{API}/2", headers=world.h("viewer"))
    same(rest_of_graph.json(), by_graph)
    expected = {**made.json(), "title": "By GraphQL", "number": 2, "node_id": by_graph["id"]}
    for volatile in ("created_at", "updated_at"):
        expected[volatile] = rest_of_graph.json()[volatile]
    assert rest_of_graph.json() == expected  # the same creation input, the same issue

    first = await Issue.get(project_id=world.project.id, number=1)
    await Comment.create(issue=first, author=world.users["member"], body="c")
    await client.patch(f"{API}/1", json={"state": "closed"}, headers=world.h("member"))
    change = {"id": by_graph["id"], "state": "CLOSED", "labelIds": [], "assigneeId": None}
    assert (await gql(client, UPDATE, world.h("member"), {"input": change}))["data"]
    await client.patch(f"{API}/1", json={"labels": [], "assignee": None}, headers=world.h("member"))
    for n in (1, 2):
        await _both(client, world, n)


LIST = f"""query($filter: IssueFilter, $order: IssueOrder, $first: Int, $after: String) {{
  project(workspace: "acme", key: "WEB") {{
    issues(filter: $filter, orderBy: $order, first: $first, after: $after) {{
      pageInfo {{ hasNextPage endCursor }} edges {{ cursor node {{ {ISSUE} }} }}
    }}
  }}
}}"""

# REST query parameters → the GraphQL filter and order saying the same.
LISTS: list[tuple[dict[str, Any], dict[str, Any] | None, dict[str, Any] | None]] = [
    ({}, None, None),
    ({"state": "closed"}, {"state": "CLOSED"}, None),
    ({"state": "all"}, {"state": "ALL"}, None),
    ({"state": "all", "assignee": "none"}, {"state": "ALL", "assignee": "none"}, None),
    ({"state": "all", "assignee": "admin"}, {"state": "ALL", "assignee": "admin"}, None),
    ({"state": "all", "label": "bug"}, {"state": "ALL", "labels": ["bug"]}, None),
    ({"state": "all", "label": ["bug", "UI"]}, {"state": "ALL", "labels": ["bug", "UI"]}, None),
    ({"state": "all", "q": "alpha"}, {"state": "ALL", "q": "alpha"}, None),
    (
        {"state": "all", "sort": "priority", "direction": "desc"},
        {"state": "ALL"},
        {"field": "PRIORITY", "direction": "DESC"},
    ),
    (
        {"state": "all", "sort": "number", "direction": "desc"},
        {"state": "ALL"},
        {"field": "NUMBER", "direction": "DESC"},
    ),
    ({"sort": "created"}, None, {"field": "CREATED", "direction": "ASC"}),
    ({"sort": "updated", "direction": "desc"}, None, {"field": "UPDATED", "direction": "DESC"}),
]


@pytest.mark.parametrize("case", range(len(LISTS)))
async def test_lists_match_rest(client: httpx.AsyncClient, world: World, case: int) -> None:
    h = world.h("member")
    await create(
        client,
        world,
        title="Alpha",
        priority="LOW",
        labelIds=[world.label_id("bug")],
        assigneeId=world.user_id("admin"),
    )
    await client.post(
        API, json={"title": "beta", "body": "has ALPHA", "priority": "urgent"}, headers=h
    )
    await create(
        client,
        world,
        title="Gamma",
        labelIds=[world.label_id("bug"), world.label_id("ui")],
        assigneeId=world.user_id("member"),
    )
    await client.post(API, json={"title": "delta", "priority": "urgent"}, headers=h)
    await client.patch(f"{API}/3", json={"state": "closed"}, headers=h)
    await client.patch(f"{API}/2", json={"title": "Beta"}, headers=h)
    params, where, order = LISTS[case]
    rest_items: list[dict[str, Any]] = []
    graph_nodes: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:  # both walked to the end, two at a time, each API with its own cursors
        query = {**params, "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = await client.get(API, params=query, headers=world.h("viewer"))
        assert page.status_code == 200, page.text
        rest_items += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    after: str | None = None
    while True:
        variables = {"filter": where, "order": order, "first": 2, "after": after}
        answer = await gql(client, LIST, world.h("viewer"), variables)
        issues = answer["data"]["project"]["issues"]
        graph_nodes += [e["node"] for e in issues["edges"]]
        if not issues["pageInfo"]["hasNextPage"]:
            break
        after = issues["pageInfo"]["endCursor"]
    assert [i["number"] for i in rest_items] == [n["number"] for n in graph_nodes]
    for rest, graph in zip(rest_items, graph_nodes, strict=True):
        same(rest, graph)
    # The cursors are the same strings: one API's continues the other's list.
    one = await client.get(API, params={**params, "limit": 1}, headers=world.h("viewer"))
    variables = {"filter": where, "order": order, "first": 1}
    info = (await gql(client, LIST, world.h("viewer"), variables))["data"]["project"]["issues"]
    if one.json()["next_cursor"] is None:
        assert info["pageInfo"]["hasNextPage"] is False
    else:
        assert one.json()["next_cursor"] == info["pageInfo"]["endCursor"]


def _outcome(answer: dict[str, Any], field: str) -> int | str:
    if answer.get("errors"):
        return str(answer["errors"][0]["extensions"]["code"])
    return "ok" if answer["data"][field] is not None else "null"


STATUS = {200: "ok", 201: "ok", 204: "ok", 403: "FORBIDDEN", 404: "NOT_FOUND"}


@pytest.mark.parametrize("who", ROLES)
async def test_role_table(client: httpx.AsyncClient, world: World, who: str) -> None:
    issue = await create(client, world, who="admin")
    h = world.h(who)
    expect = {action: STATUS[row[who]] for action, row in ROLE_TABLE.items()}
    assert _outcome(await gql(client, GET, h, {"n": 1}), "issue") == expect["read"]
    listed = await gql(client, LIST, h, {})
    assert _outcome(listed, "project") == expect["read"]
    new = {"input": {"projectId": world.project_id, "title": "x"}}
    assert _outcome(await gql(client, CREATE, h, new), "createIssue") == expect["create"]
    edit = {"input": {"id": issue["id"], "title": "y"}}
    assert _outcome(await gql(client, UPDATE, h, edit), "updateIssue") == expect["edit"]
    close = "mutation($id: ID!) { closeIssue(input: {id: $id}) { issue { state } } }"
    assert (
        _outcome(await gql(client, close, h, {"id": issue["id"]}), "closeIssue") == expect["edit"]
    )
    assert (
        _outcome(await gql(client, DELETE, h, {"id": issue["id"]}), "deleteIssue")
        == expect["delete"]
    )


async def test_concurrent_numbering_through_both_apis(
    client: httpx.AsyncClient, world: World
) -> None:
    h = world.h("member")

    async def by_rest(i: int) -> int:
        response = await client.post(API, json={"title": f"R{i}"}, headers=h)
        assert response.status_code == 201, response.text
        return int(response.json()["number"])

    async def by_graph(i: int) -> int:
        variables = {"input": {"projectId": world.project_id, "title": f"G{i}"}}
        answer = await gql(client, CREATE, h, variables)
        assert answer.get("errors") is None, answer
        return int(answer["data"]["createIssue"]["issue"]["number"])

    calls = [by_rest(i) if i % 2 else by_graph(i) for i in range(50)]
    numbers = sorted(await asyncio.gather(*calls))
    assert numbers == list(range(1, 51))
    assert sorted(row["number"] for row in await Issue.all().values("number")) == numbers
