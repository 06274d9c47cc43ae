"""Labels over REST and GraphQL, and the role table for every project and label action."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from gateway.core.ids import to_global_id
from tests.auth_helpers import gql
from tests.factories import ROLES, World
from tests.helpers import PROJECTS as API
from tests.helpers import assert_invalid, contract_keys, event_types

LABELS = f"{API}/WEB/labels"


@pytest.fixture
async def world(empty_world: World, client: httpx.AsyncClient) -> World:
    """acme with project WEB, made over REST."""
    w = empty_world
    response = await client.post(API, json={"key": "WEB", "name": "Web"}, headers=w.h("admin"))
    assert response.status_code == 201
    return w


async def add_label(client: httpx.AsyncClient, w: World, name: str = "Bug", **extra: Any) -> Any:
    body = {"name": name, "color": "#FF0000", **extra}
    response = await client.post(LABELS, json=body, headers=w.h("admin"))
    assert response.status_code == 201, response.text
    return response.json()


async def test_label_crud(client: httpx.AsyncClient, world: World) -> None:
    created = await add_label(client, world, description=" Broken ")
    assert created["name"] == "Bug"
    assert created["color"] == "#ff0000"
    assert created["description"] == "Broken"
    assert set(created) == contract_keys("Label")
    response = await client.get(LABELS, headers=world.h("viewer"))
    assert response.json() == {"items": [created], "next_cursor": None}
    patched = await client.patch(
        f"{LABELS}/bug", json={"name": "Defect", "color": "#00aa00"}, headers=world.h("admin")
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["name"] == "Defect"
    assert patched.json()["node_id"] == created["node_id"]
    stale = await client.delete(
        f"{LABELS}/DEFECT", headers={**world.h("admin"), "If-Match": '"v1"'}
    )
    assert stale.status_code == 412
    deleted = await client.delete(f"{LABELS}/DEFECT", headers=world.h("admin"))
    assert deleted.status_code == 204
    assert (await client.get(LABELS, headers=world.h("viewer"))).json()["items"] == []
    assert (await event_types())[1:] == ["label.created", "label.updated", "label.deleted"]


async def test_duplicate_name_ignores_case(client: httpx.AsyncClient, world: World) -> None:
    await add_label(client, world, "Bug")
    await add_label(client, world, "Feature")
    response = await client.post(
        LABELS, json={"name": "BUG", "color": "#000000"}, headers=world.h("admin")
    )
    assert response.status_code == 409
    assert response.json()["code"] == "CONFLICT"
    response = await client.patch(
        f"{LABELS}/feature", json={"name": "bug"}, headers=world.h("admin")
    )
    assert response.status_code == 409
    assert (await event_types()).count("label.created") == 2
    assert "label.updated" not in await event_types()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "color": "red"}, "color"),
        ({"name": "x", "color": "#12345"}, "color"),
        ({"name": "x", "color": "#12345g"}, "color"),
        ({"name": "", "color": "#123456"}, "name"),
        ({"name": "x" * 51, "color": "#123456"}, "name"),
        ({"name": 5, "color": "#123456"}, "name"),
        ({"name": "x", "color": "#123456", "description": "d" * 201}, "description"),
        ({"name": "x", "color": "#123456", "extra": 1}, "extra"),
    ],
)
async def test_bad_label_is_422(
    client: httpx.AsyncClient, world: World, body: dict[str, Any], field: str
) -> None:
    assert_invalid(await client.post(LABELS, json=body, headers=world.h("admin")), field)


async def test_unknown_label_or_project_is_404(client: httpx.AsyncClient, world: World) -> None:
    admin = world.h("admin")
    assert (await client.patch(f"{LABELS}/nope", json={}, headers=admin)).status_code == 404
    assert (await client.delete(f"{LABELS}/nope", headers=admin)).status_code == 404
    assert (await client.get(f"{API}/NOPE/labels", headers=admin)).status_code == 404


async def test_labels_of_archived_project_are_read_only(
    client: httpx.AsyncClient, world: World
) -> None:
    await add_label(client, world)
    admin = world.h("admin")
    archived = await client.patch(f"{API}/WEB", json={"is_archived": True}, headers=admin)
    assert archived.status_code == 200
    for method, url, body in [
        ("POST", LABELS, {"name": "New", "color": "#123456"}),
        ("PATCH", f"{LABELS}/bug", {"color": "#123456"}),
        ("DELETE", f"{LABELS}/bug", None),
    ]:
        response = await client.request(method, url, json=body, headers=admin)
        assert response.status_code == 409, (method, response.text)
    assert len((await client.get(LABELS, headers=admin)).json()["items"]) == 1


# --- the role table: one expectation per action, checked for every role -------------------

Call = Callable[[httpx.AsyncClient, World, str], Awaitable[httpx.Response]]
LOWEST = {"read": "viewer", "admin": "admin", "owner": "owner"}


async def _get_project(c: httpx.AsyncClient, w: World, who: str) -> httpx.Response:
    return await c.get(f"{API}/WEB", headers=w.h(who))


async def _create_project(c: httpx.AsyncClient, w: World, who: str) -> httpx.Response:
    return await c.post(API, json={"key": "NEW", "name": "New"}, headers=w.h(who))


async def _update_project(c: httpx.AsyncClient, w: World, who: str) -> httpx.Response:
    return await c.patch(f"{API}/WEB", json={"name": "Renamed"}, headers=w.h(who))


async def _archive_project(c: httpx.AsyncClient, w: World, who: str) -> httpx.Response:
    return await c.patch(f"{API}/WEB", json={"is_archived": True}, headers=w.h(who))


async def _delete_project(c: httpx.AsyncClient, w: World, who: str) -> httpx.Response:
    return await c.delete(f"{API}/WEB", headers=w.h(who))


async def _list_labels(c: httpx.AsyncClient, w: World, who: str) -> httpx.Response:
    return await c.get(LABELS, headers=w.h(who))


async def _create_label(c: httpx.AsyncClient, w: World, who: str) -> httpx.Response:
    return await c.post(LABELS, json={"name": "New", "color": "#abcdef"}, headers=w.h(who))


async def _update_label(c: httpx.AsyncClient, w: World, who: str) -> httpx.Response:
    return await c.patch(f"{LABELS}/seed", json={"color": "#abcdef"}, headers=w.h(who))


async def _delete_label(c: httpx.AsyncClient, w: World, who: str) -> httpx.Response:
    return await c.delete(f"{LABELS}/seed", headers=w.h(who))


# action → (REST call, lowest role allowed, success status, event written on success)
TABLE: dict[str, tuple[Call, str, int, str | None]] = {
    "get_project": (_get_project, "viewer", 200, None),
    "create_project": (_create_project, "admin", 201, "project.created"),
    "update_project": (_update_project, "admin", 200, "project.updated"),
    "archive_project": (_archive_project, "admin", 200, "project.archived"),
    "delete_project": (_delete_project, "owner", 204, "project.deleted"),
    "list_labels": (_list_labels, "viewer", 200, None),
    "create_label": (_create_label, "admin", 201, "label.created"),
    "update_label": (_update_label, "admin", 200, "label.updated"),
    "delete_label": (_delete_label, "admin", 204, "label.deleted"),
}
RANK = {"viewer": 0, "member": 1, "admin": 2, "owner": 3}


def expected(action: str, role: str) -> tuple[int, str | None]:
    """(status, error code) for `role` doing `action`."""
    _, lowest, success, _ = TABLE[action]
    if role == "stranger":
        return 404, "NOT_FOUND"
    if RANK[role] < RANK[lowest]:
        return 403, "FORBIDDEN"
    return success, None


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", list(TABLE))
async def test_role_table_rest(
    client: httpx.AsyncClient, world: World, action: str, role: str
) -> None:
    await add_label(client, world, "Seed")
    before = await event_types()
    call, _, _, event = TABLE[action]
    response = await call(client, world, role)
    status, code = expected(action, role)
    assert response.status_code == status, response.text
    if code is not None:
        assert response.json()["code"] == code
    added = (await event_types())[len(before) :]
    assert added == ([event] if event and code is None else [])


# --- the same table through GraphQL (the real schema and app, same services) --------------

GQL_OPS: dict[str, str] = {
    "get_project": 'query { project(workspace: "acme", key: "WEB") { id key } }',
    "create_project": 'mutation($ws: ID!) { createProject(input: {workspaceId: $ws, key: "NEW",'
    ' name: "New"}) { project { id } } }',
    "update_project": 'mutation($p: ID!) { updateProject(input: {id: $p, name: "Renamed"})'
    " { project { name } } }",
    "archive_project": "mutation($p: ID!) { updateProject(input: {id: $p, isArchived: true})"
    " { project { isArchived } } }",
    "delete_project": "mutation($p: ID!) { deleteProject(input: {id: $p}) { deletedId } }",
    "create_label": 'mutation($p: ID!) { createLabel(input: {projectId: $p, name: "New",'
    ' color: "#abcdef"}) { label { id } } }',
    "update_label": 'mutation($l: ID!) { updateLabel(input: {id: $l, color: "#abcdef"})'
    " { label { color } } }",
    "delete_label": "mutation($l: ID!) { deleteLabel(input: {id: $l}) { deletedId } }",
}
CODES = {403: "FORBIDDEN", 404: "NOT_FOUND"}


async def graphql(
    client: httpx.AsyncClient, w: World, who: str, query: str, variables: dict[str, Any]
) -> tuple[dict[str, Any] | None, str | None]:
    """(data, first error code) of `query` run as `who`."""
    body = await gql(client, query, w.h(who), variables)
    data: dict[str, Any] | None = body.get("data")
    code = None
    if body.get("errors"):
        code = body["errors"][0].get("extensions", {}).get("code")
    return data, code


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", list(GQL_OPS))
async def test_role_table_graphql(
    app: FastAPI, client: httpx.AsyncClient, world: World, action: str, role: str
) -> None:
    label = await add_label(client, world, "Seed")
    project = (await client.get(f"{API}/WEB", headers=world.h("owner"))).json()
    variables = {
        "ws": to_global_id("Workspace", world.workspace.id),
        "p": project["node_id"],
        "l": label["node_id"],
    }
    used = {k: v for k, v in variables.items() if f"${k}" in GQL_OPS[action]}
    before = await event_types()
    data, code = await graphql(client, world, role, GQL_OPS[action], used)
    _, want = expected(action, role)
    assert code == want, (data, code)
    event = TABLE[action][3]
    added = (await event_types())[len(before) :]
    assert added == ([event] if event and want is None else [])


async def test_graphql_matches_rest_field_by_field(
    app: FastAPI, client: httpx.AsyncClient, world: World
) -> None:
    label = await add_label(client, world, "Seed", description="d")
    rest = (await client.get(f"{API}/WEB", headers=world.h("viewer"))).json()
    query = (
        'query { project(workspace: "acme", key: "web") { id key name description isArchived'
        " issueCount version createdAt updatedAt } }"
    )
    data, code = await graphql(client, world, "viewer", query, {})
    assert code is None
    assert data is not None
    got = data["project"]
    assert got["id"] == rest["node_id"]
    for field in ("key", "name", "description", "version"):
        assert got[field] == rest[field]
    assert got["isArchived"] == rest["is_archived"]
    assert got["issueCount"] == rest["issue_count"]
    mutation = (
        'mutation($l: ID!) { updateLabel(input: {id: $l, name: "Defect", expectedVersion: 1})'
        " { label { id name color description } } }"
    )
    data, code = await graphql(client, world, "admin", mutation, {"l": label["node_id"]})
    assert code is None, code
    assert data is not None
    rest_label = (await client.get(LABELS, headers=world.h("viewer"))).json()["items"][0]
    got = data["updateLabel"]["label"]
    assert got == {k: rest_label[k if k != "id" else "node_id"] for k in got}
    _, code = await graphql(client, world, "admin", mutation, {"l": label["node_id"]})
    assert code == "PRECONDITION_FAILED"
    bad = 'mutation($l: ID!) { updateLabel(input: {id: $l, color: "red"}) { label { id } } }'
    _, code = await graphql(client, world, "admin", bad, {"l": label["node_id"]})
    assert code == "VALIDATION_FAILED"
    await client.patch(f"{API}/WEB", json={"is_archived": True}, headers=world.h("admin"))
    rename = 'mutation($p: ID!) { updateProject(input: {id: $p, name: "X"}) { project { id } } }'
    _, code = await graphql(client, world, "admin", rename, {"p": rest["node_id"]})
    assert code == "CONFLICT"
