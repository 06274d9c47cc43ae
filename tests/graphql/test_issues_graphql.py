"""Issues over GraphQL: CRUD through the mutations, `issue(...)`, `node(id:)`, `Project.issues`
paging, `expectedVersion`, bad input and archived projects. Parity with REST is in
`test_issue_parity.py`, statement counts in `test_nested_counts.py`."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from gateway.core.ids import to_global_id
from models import Event, Project
from tests.auth_helpers import gql
from tests.factories import World
from tests.helpers import BROKEN_LOGIN, CRUD_EVENTS, ISSUE, event_types
from tests.helpers import CREATE_ISSUE as CREATE
from tests.helpers import DELETE_ISSUE as DELETE
from tests.helpers import GET_ISSUE as GET
from tests.helpers import UPDATE_ISSUE as UPDATE
from tests.helpers import gql_issue as create

CLOSE = f"""mutation($id: ID!) {{ closeIssue(input: {{id: $id}}) {{ issue {{ {ISSUE} }} }} }}"""
REOPEN = f"""mutation($id: ID!) {{ reopenIssue(input: {{id: $id}}) {{ issue {{ {ISSUE} }} }} }}"""


def error_code(answer: dict[str, Any]) -> str:
    code: str = answer["errors"][0]["extensions"]["code"]
    return code


async def test_crud(client: httpx.AsyncClient, world: World) -> None:
    created = await create(
        client,
        world,
        **BROKEN_LOGIN,
        priority="HIGH",
        assigneeId=world.user_id("admin"),
        labelIds=[world.label_id("ui"), world.label_id("bug")],
        dueDate="2030-01-02",
    )
    assert created["number"] == 1
    assert created["title"] == "Broken login"
    assert (created["state"], created["priority"]) == ("OPEN", "HIGH")
    assert created["author"]["username"] == "member"
    assert created["assignee"]["id"] == world.user_id("admin")
    assert [x["name"] for x in created["labels"]] == ["bug", "ui"]
    assert created["labels"][0]["id"] == world.label_id("bug")
    assert created["dueDate"] == "2030-01-02"
    assert (created["closedAt"], created["version"], created["commentCount"]) == (None, 1, 0)
    assert created["project"] == {"key": "WEB"}

    got = await gql(client, GET, world.h("viewer"), {"n": 1})
    assert got["data"]["issue"] == created
    node = await gql(
        client,
        "query($id: ID!) { node(id: $id) { id ... on Issue { number title } } }",
        world.h("viewer"),
        {"id": created["id"]},
    )
    assert node["data"]["node"] == {"id": created["id"], "number": 1, "title": "Broken login"}

    closed = await gql(client, CLOSE, world.h("member"), {"id": created["id"]})
    issue = closed["data"]["closeIssue"]["issue"]
    assert (issue["state"], issue["version"]) == ("CLOSED", 2)
    assert issue["closedAt"] is not None
    reopened = await gql(client, REOPEN, world.h("member"), {"id": created["id"]})
    issue = reopened["data"]["reopenIssue"]["issue"]
    assert (issue["state"], issue["closedAt"], issue["version"]) == ("OPEN", None, 3)

    changes = {
        "id": created["id"],
        "assigneeId": None,
        "labelIds": [world.label_id("Docs")],
        "dueDate": None,
        "title": "New",
        "priority": "URGENT",
    }
    updated = await gql(client, UPDATE, world.h("member"), {"input": changes})
    issue = updated["data"]["updateIssue"]["issue"]
    assert (issue["assignee"], issue["dueDate"], issue["title"]) == (None, None, "New")
    assert [x["name"] for x in issue["labels"]] == ["Docs"]
    assert (issue["priority"], issue["version"]) == ("URGENT", 4)
    state = {"id": created["id"], "state": "CLOSED"}
    closing = await gql(client, UPDATE, world.h("member"), {"input": state})
    assert closing["data"]["updateIssue"]["issue"]["state"] == "CLOSED"

    deleted = await gql(client, DELETE, world.h("admin"), {"id": created["id"]})
    assert deleted["data"]["deleteIssue"] == {"deletedId": created["id"]}
    gone = await gql(client, GET, world.h("admin"), {"n": 1})
    assert gone["data"]["issue"] is None
    assert error_code(gone) == "NOT_FOUND"
    assert await event_types() == [*CRUD_EVENTS, "issue.closed", "issue.deleted"]


async def test_expected_version(client: httpx.AsyncClient, world: World) -> None:
    created = await create(client, world)
    stale = {"id": created["id"], "expectedVersion": 9, "title": "x"}
    answer = await gql(client, UPDATE, world.h("member"), {"input": stale})
    assert answer["data"] == {"updateIssue": None}
    assert error_code(answer) == "PRECONDITION_FAILED"
    fresh = {"id": created["id"], "expectedVersion": 1, "title": "x"}
    answer = await gql(client, UPDATE, world.h("member"), {"input": fresh})
    assert answer["data"]["updateIssue"]["issue"]["version"] == 2


def _bad_inputs(w: World) -> list[tuple[dict[str, Any], str]]:
    return [
        ({"title": "x" * 257}, "title"),
        ({"title": "   "}, "title"),
        ({"body": "b" * 65_537}, "body"),
        ({"labelIds": [to_global_id("Label", 999_999)]}, "labels"),
        ({"labelIds": ["not-an-id"]}, "labels"),
        ({"labelIds": None}, "labels"),
        ({"assigneeId": w.user_id("stranger")}, "assignee"),
        ({"assigneeId": to_global_id("User", 999_999)}, "assignee"),
        ({"assigneeId": w.project_id}, "assignee"),
        ({"priority": None}, "priority"),
    ]


@pytest.mark.parametrize("case", range(10))
async def test_bad_input(client: httpx.AsyncClient, world: World, case: int) -> None:
    fields, field = _bad_inputs(world)[case]
    created = await create(client, world)
    attempts = [
        ("createIssue", CREATE, {"projectId": world.project_id, "title": "T", **fields}),
        ("updateIssue", UPDATE, {"id": created["id"], **fields}),
    ]
    for name, mutation, payload in attempts:
        answer = await gql(client, mutation, world.h("member"), {"input": payload})
        assert answer["data"] == {name: None}, answer
        assert error_code(answer) == "VALIDATION_FAILED", answer
        assert field in [f["field"] for f in answer["errors"][0]["extensions"]["fields"]]
    assert [e.type for e in await Event.all()] == ["issue.created"]


async def test_archived_project_is_read_only(client: httpx.AsyncClient, world: World) -> None:
    created = await create(client, world)
    await Project.filter(id=world.project.id).update(is_archived=True)
    h = world.h("admin")
    new = {"input": {"projectId": world.project_id, "title": "x"}}
    assert error_code(await gql(client, CREATE, h, new)) == "CONFLICT"
    change = {"input": {"id": created["id"], "title": "y"}}
    assert error_code(await gql(client, UPDATE, h, change)) == "CONFLICT"
    assert error_code(await gql(client, DELETE, h, {"id": created["id"]})) == "CONFLICT"
    assert (await gql(client, GET, h, {"n": 1}))["data"]["issue"]["number"] == 1


async def test_node_is_null_for_strangers(client: httpx.AsyncClient, world: World) -> None:
    created = await create(client, world)
    query = "query($id: ID!) { node(id: $id) { id } }"
    answer = await gql(client, query, world.h("stranger"), {"id": created["id"]})
    assert answer["data"]["node"] is None
    write = {"input": {"projectId": world.project_id, "title": "x"}}
    assert error_code(await gql(client, CREATE, world.h("stranger"), write)) == "NOT_FOUND"


PAGE = """query($first: Int, $after: String, $last: Int, $before: String) {
  project(workspace: "acme", key: "WEB") {
    issues(filter: {state: ALL}, orderBy: {field: NUMBER, direction: DESC},
           first: $first, after: $after, last: $last, before: $before) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { cursor node { number } }
    }
  }
}"""


async def test_paging_walks_to_the_end(client: httpx.AsyncClient, world: World) -> None:
    for _ in range(7):
        await create(client, world)
    h = world.h("viewer")
    seen: list[int] = []
    after: str | None = None
    while True:
        answer = await gql(client, PAGE, h, {"first": 3, "after": after})
        issues = answer["data"]["project"]["issues"]
        assert issues["totalCount"] == 7
        seen += [e["node"]["number"] for e in issues["edges"]]
        assert issues["pageInfo"]["hasPreviousPage"] is (after is not None)
        if not issues["pageInfo"]["hasNextPage"]:
            break
        after = issues["pageInfo"]["endCursor"]
    assert seen == [7, 6, 5, 4, 3, 2, 1]

    back: list[int] = []
    before: str | None = None
    while True:
        answer = await gql(client, PAGE, h, {"last": 3, "before": before})
        issues = answer["data"]["project"]["issues"]
        back = [e["node"]["number"] for e in issues["edges"]] + back
        if not issues["pageInfo"]["hasPreviousPage"]:
            break
        before = issues["pageInfo"]["startCursor"]
    assert back == [7, 6, 5, 4, 3, 2, 1]

    too_many = await gql(client, PAGE, h, {"first": 101})
    assert error_code(too_many) == "VALIDATION_FAILED"
    assert too_many["errors"][0]["extensions"]["fields"][0]["field"] == "first"
    bad = await gql(client, PAGE, h, {"first": 2, "after": "garbage"})
    assert bad["errors"][0]["extensions"]["fields"][0]["field"] == "cursor"
