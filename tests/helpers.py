"""Helpers shared by test modules of both APIs: walking REST lists and GraphQL connections to
the end, comparing a REST representation with its GraphQL counterpart (and its keys with the
committed OpenAPI document), the checks of a 422 and a 412, the issue documents and the role
table, a hand-moved UTC clock, and workspaces, webhooks and projects made for a test.
Test modules import from here (and from `factories`), never from one another."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from gateway.core.settings import Settings
from gateway.services import webhooks
from gateway.services.webhook_inputs import WebhookCreate
from models import Event, Membership, Role, User
from tests.auth_helpers import bearer, gql, principal_of
from tests.factories import World

# REST ---------------------------------------------------------------------------------------

PROJECTS = "/api/v1/workspaces/acme/projects"
ISSUES = f"{PROJECTS}/WEB/issues"
# What each role of acme gets from the issue routes (REST status codes).
ISSUE_ROLE_TABLE: dict[str, dict[str, int]] = {
    "read": {"viewer": 200, "member": 200, "admin": 200, "owner": 200, "stranger": 404},
    "create": {"viewer": 403, "member": 201, "admin": 201, "owner": 201, "stranger": 404},
    "edit": {"viewer": 403, "member": 200, "admin": 200, "owner": 200, "stranger": 404},
    "delete": {"viewer": 403, "member": 403, "admin": 204, "owner": 204, "stranger": 404},
}

# The first issue of each API's CRUD test: the title comes back trimmed ("Broken login").
BROKEN_LOGIN = {"title": "  Broken login  ", "body": "It fails"}
# What each API's CRUD test records before deleting that issue: it is created, closed,
# reopened, then retitled, unassigned and relabelled in one edit.
CRUD_EVENTS = [
    "issue.created",
    "issue.closed",
    "issue.reopened",
    "issue.updated",
    "issue.assigned",
    "issue.labeled",
]
OPENAPI = Path(__file__).parent.parent / "openapi.json"


@cache
def contract_keys(schema: str) -> frozenset[str]:
    """The properties of the REST representation `schema` as the committed OpenAPI document
    (the external contract, not the running app) declares them."""
    properties = json.loads(OPENAPI.read_text())["components"]["schemas"][schema]["properties"]
    return frozenset(properties)


def assert_invalid(response: httpx.Response, field: str) -> None:
    """A 422 whose errors name `field`."""
    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in response.json()["errors"]]


def assert_precondition_failed(response: httpx.Response) -> None:
    """A 412: the request's `If-Match` named a version no longer current."""
    assert response.status_code == 412, response.text
    assert response.json()["code"] == "PRECONDITION_FAILED"


async def create_workspace(app: FastAPI, client: httpx.AsyncClient, owner: User) -> Any:
    """Workspace acme, made over REST by `owner`; the representation."""
    created = await client.post(
        "/api/v1/workspaces", json={"slug": "acme", "name": "Acme"}, headers=bearer(app, owner)
    )
    assert created.status_code == 201, created.text
    return created.json()


async def role_of(user: User) -> Role | None:
    """`user`'s role in acme, None for a non-member."""
    membership = await Membership.filter(workspace__slug="acme", user_id=user.id).first()
    return None if membership is None else Role(membership.role)


async def rest_items(
    client: httpx.AsyncClient,
    path: str,
    headers: dict[str, str],
    *,
    limit: int = 100,
    query: str = "",
) -> list[Any]:
    """Every item of a REST list (`query` is more `&name=value` parameters), `limit` a page,
    following `next_cursor` to the end; a `Link: rel="next"` header goes with each cursor."""
    items: list[Any] = []
    url = f"{path}?limit={limit}{query}"
    while True:
        response = await client.get(url, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        items.extend(body["items"])
        if body["next_cursor"] is None:
            assert "Link" not in response.headers
            return items
        assert response.headers["Link"].endswith('rel="next"')
        url = f"{path}?limit={limit}&cursor={body['next_cursor']}{query}"


async def create_project(
    client: httpx.AsyncClient, w: World, key: str = "WEB", **extra: Any
) -> Any:
    """Project `key` of acme, made over REST by its admin; the representation."""
    body = {"key": key, "name": f"Project {key}", **extra}
    response = await client.post(PROJECTS, json=body, headers=w.h("admin"))
    assert response.status_code == 201, response.text
    return response.json()


async def event_types() -> list[str]:
    """The types of every recorded event, oldest first."""
    return [e.type for e in await Event.all().order_by("id")]


# GraphQL ------------------------------------------------------------------------------------

ISSUE = """
  id number title body state priority dueDate closedAt createdAt updatedAt version commentCount
  author { id username } assignee { id username } labels { id name color }
  project { key }
"""
CREATE_ISSUE = f"""mutation($input: CreateIssueInput!) {{
  createIssue(input: $input) {{ issue {{ {ISSUE} }} }}
}}"""
UPDATE_ISSUE = f"""mutation($input: UpdateIssueInput!) {{
  updateIssue(input: $input) {{ issue {{ {ISSUE} }} }}
}}"""
DELETE_ISSUE = """mutation($id: ID!) { deleteIssue(input: {id: $id}) { deletedId } }"""
GET_ISSUE = (
    f"""query($n: Int!) {{ issue(workspace: "acme", project: "WEB", number: $n) {{ {ISSUE} }} }}"""
)


CREATE_WORKSPACE = """mutation($slug: String!, $name: String!) {
  createWorkspace(input: {slug: $slug, name: $name}) {
    workspace { id slug name viewerRole createdAt updatedAt }
  }
}"""
UPDATE_WORKSPACE = """mutation($input: UpdateWorkspaceInput!) {
  updateWorkspace(input: $input) { workspace { id slug name } }
}"""
READ_WORKSPACE = """query($slug: String!) { workspace(slug: $slug) { id slug name viewerRole } }"""


async def gql_ok(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    query: str,
    variables: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """POST a GraphQL operation that must get an HTTP 200 (errors travel in the body); the
    decoded answer."""
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def error_codes(answer: dict[str, Any]) -> list[str]:
    """`extensions.code` of each error of a GraphQL answer."""
    return [e["extensions"]["code"] for e in answer.get("errors", [])]


def error_fields(answer: dict[str, Any]) -> set[str]:
    """The failing input fields named by the errors of a GraphQL answer."""
    return {f["field"] for e in answer["errors"] for f in e["extensions"].get("fields", [])}


async def gql_issue(
    http: httpx.AsyncClient, w: World, who: str = "member", **fields: Any
) -> dict[str, Any]:
    """An issue of WEB made through `createIssue` by `who`; its GraphQL representation."""
    answer = await gql(
        http, CREATE_ISSUE, w.h(who), {"input": {"projectId": w.project_id, "title": "T", **fields}}
    )
    assert answer.get("errors") is None, answer
    issue: dict[str, Any] = answer["data"]["createIssue"]["issue"]
    return issue


async def walk(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    parent: str,
    field: str,
    selection: str,
    page_size: int = 3,
) -> list[dict[str, Any]]:
    """Every node of the connection `field` of the root field `parent` (e.g.
    `workspace(slug: "acme")`), `page_size` at a time, checking the page info."""
    query = (
        f"query($after: String) {{ {parent} {{ {field}(first: {page_size}, after: $after) {{"
        f" totalCount pageInfo {{ hasNextPage endCursor }} edges {{ cursor node {{ {selection}"
        " } } } } }"
    )
    root = parent.split("(")[0]
    nodes: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        body = await gql(client, query, headers, {"after": after})
        assert "errors" not in body, body
        connection = body["data"][root][field]
        nodes.extend(edge["node"] for edge in connection["edges"])
        assert len(connection["edges"]) <= page_size
        if not connection["pageInfo"]["hasNextPage"]:
            assert connection["totalCount"] == len(nodes)
            return nodes
        assert connection["pageInfo"]["endCursor"] == connection["edges"][-1]["cursor"]
        after = connection["pageInfo"]["endCursor"]


# Both ---------------------------------------------------------------------------------------


def instant(value: str | None) -> datetime | None:
    """The same moment, whichever ISO form an API wrote."""
    return None if value is None else datetime.fromisoformat(value)


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def same_fields(got: dict[str, Any], rest: dict[str, Any], *, skip: tuple[str, ...] = ()) -> None:
    """Every field of the REST representation (but `skip`) equals its GraphQL counterpart:
    `node_id` is `id`, snake_case is camelCase, timestamps are the same instant."""
    for name, value in rest.items():
        if name in skip:
            continue
        graphql_name = "id" if name == "node_id" else camel(name)
        assert graphql_name in got, f"GraphQL lacks {graphql_name!r} (REST {name!r})"
        if name.endswith("_at"):
            assert instant(got[graphql_name]) == instant(value), name
        else:
            assert got[graphql_name] == value, name


def same_items(got: list[dict[str, Any]], rest: list[dict[str, Any]]) -> None:
    """GraphQL nodes and REST items pair up one for one, each showing the same fields."""
    for got_one, rest_one in zip(got, rest, strict=True):
        same_fields(got_one, rest_one)


# Webhooks -----------------------------------------------------------------------------------

WEBHOOK_SECRET = "receiver-secret-0123456789"


class UtcClock:
    """UTC time the test moves by hand (the webhook worker's clock)."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC) + timedelta(seconds=1)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


async def hook(world: World, settings: Settings, url: str, events: list[str] | None = None) -> int:
    """A webhook of acme to `url` (every event by default), made by its admin; its id."""
    created = await webhooks.create_webhook(
        principal_of(world.users["admin"]),
        settings,
        "acme",
        WebhookCreate(url=url, events=events or ["*"], secret=WEBHOOK_SECRET),
    )
    return created.webhook.pk
