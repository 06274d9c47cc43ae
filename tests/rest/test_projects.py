"""Projects over REST and GraphQL: CRUD, paging, conditional requests, archiving, roles,
validation and events."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from models import Event, Membership, Role, User, Workspace
from tests.auth_helpers import bearer, make_user

API = "/api/v1/workspaces/acme/projects"
ROLES = ("viewer", "member", "admin", "owner", "stranger")


class World:
    """A workspace `acme` with one user per role (and a stranger), and their headers."""

    def __init__(self, app: FastAPI, users: dict[str, User], workspace: Workspace) -> None:
        self.app = app
        self.users = users
        self.workspace = workspace

    def h(self, who: str) -> dict[str, str]:
        return bearer(self.app, self.users[who])


async def make_world(app: FastAPI) -> World:
    workspace = await Workspace.create(slug="acme", name="Acme")
    users: dict[str, User] = {}
    for role in ROLES:
        users[role] = await make_user(role)
        if role != "stranger":
            await Membership.create(workspace=workspace, user=users[role], role=Role(role))
    return World(app, users, workspace)


@pytest.fixture
async def world(app: FastAPI) -> World:
    return await make_world(app)


async def event_types() -> list[str]:
    return [e.type for e in await Event.all().order_by("id")]


async def create(client: httpx.AsyncClient, w: World, key: str = "WEB", **extra: Any) -> Any:
    body = {"key": key, "name": f"Project {key}", **extra}
    response = await client.post(API, json=body, headers=w.h("admin"))
    assert response.status_code == 201, response.text
    return response.json()


async def test_create_get_list_update_delete(client: httpx.AsyncClient, world: World) -> None:
    created = await create(client, world, description="  The site  ")
    assert created["key"] == "WEB"
    assert created["description"] == "The site"
    assert created["is_archived"] is False
    assert created["issue_count"] == 0
    assert created["version"] == 1
    response = await client.get(f"{API}/WEB", headers=world.h("viewer"))
    assert response.status_code == 200
    assert response.json() == created
    assert response.headers["ETag"] == '"v1"'

    patched = await client.patch(f"{API}/WEB", json={"name": "Website"}, headers=world.h("admin"))
    assert patched.status_code == 200
    assert patched.json()["name"] == "Website"
    assert patched.json()["version"] == 2

    deleted = await client.delete(f"{API}/WEB", headers=world.h("owner"))
    assert deleted.status_code == 204
    assert (await client.get(f"{API}/WEB", headers=world.h("owner"))).status_code == 404
    assert await event_types() == ["project.created", "project.updated", "project.deleted"]


async def test_location_header_names_the_project(client: httpx.AsyncClient, world: World) -> None:
    response = await client.post(API, json={"key": "APP", "name": "App"}, headers=world.h("admin"))
    assert response.headers["Location"] == f"{API}/APP"


async def test_paging_walks_to_the_end(client: httpx.AsyncClient, world: World) -> None:
    keys = [f"P{i:02d}" for i in range(7)]
    for key in reversed(keys):
        await create(client, world, key)
    seen: list[str] = []
    url: str | None = f"{API}?limit=3"
    pages = 0
    while url is not None:
        response = await client.get(url, headers=world.h("viewer"))
        assert response.status_code == 200
        body = response.json()
        seen += [p["key"] for p in body["items"]]
        pages += 1
        if body["next_cursor"] is None:
            assert "Link" not in response.headers
            url = None
        else:
            assert 'rel="next"' in response.headers["Link"]
            url = f"{API}?limit=3&cursor={body['next_cursor']}"
    assert seen == keys
    assert pages == 3


async def test_etag_304_and_412(client: httpx.AsyncClient, world: World) -> None:
    await create(client, world)
    response = await client.get(
        f"{API}/WEB", headers={**world.h("viewer"), "If-None-Match": '"v1"'}
    )
    assert response.status_code == 304
    stale = {**world.h("admin"), "If-Match": '"v0"'}
    response = await client.patch(f"{API}/WEB", json={"name": "X"}, headers=stale)
    assert response.status_code == 412
    assert response.json()["code"] == "PRECONDITION_FAILED"
    response = await client.delete(f"{API}/WEB", headers={**world.h("owner"), "If-Match": '"v9"'})
    assert response.status_code == 412
    fresh = {**world.h("admin"), "If-Match": '"v1"'}
    response = await client.patch(f"{API}/WEB", json={"name": "X"}, headers=fresh)
    assert response.status_code == 200
    assert response.headers["ETag"] == '"v2"'
    assert await event_types() == ["project.created", "project.updated"]


async def test_archived_project_is_read_only(client: httpx.AsyncClient, world: World) -> None:
    await create(client, world)
    admin = world.h("admin")
    response = await client.patch(f"{API}/WEB", json={"is_archived": True}, headers=admin)
    assert response.status_code == 200
    assert response.json()["is_archived"] is True
    for method, url, body in [
        ("PATCH", f"{API}/WEB", {"name": "Renamed"}),
        ("PATCH", f"{API}/WEB", {"is_archived": True}),
        ("POST", f"{API}/WEB/labels", {"name": "bug", "color": "#ff0000"}),
        ("DELETE", f"{API}/WEB", None),
    ]:
        headers = world.h("owner")
        response = await client.request(method, url, json=body, headers=headers)
        assert response.status_code == 409, (method, url, response.text)
        assert response.json()["code"] == "CONFLICT"
    assert (await client.get(f"{API}/WEB", headers=world.h("viewer"))).status_code == 200
    response = await client.patch(f"{API}/WEB", json={"is_archived": False}, headers=admin)
    assert response.status_code == 200
    assert response.json()["is_archived"] is False
    assert await event_types() == ["project.created", "project.archived", "project.updated"]


async def test_duplicate_key_is_409(client: httpx.AsyncClient, world: World) -> None:
    await create(client, world)
    response = await client.post(API, json={"key": "WEB", "name": "x"}, headers=world.h("admin"))
    assert response.status_code == 409
    assert response.json()["errors"] == [{"field": "key", "message": "is already taken"}]
    assert await event_types() == ["project.created"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"key": "web", "name": "x"}, "key"),
        ({"key": "W", "name": "x"}, "key"),
        ({"key": "WEBSITE1234", "name": "x"}, "key"),
        ({"key": 12, "name": "x"}, "key"),
        ({"key": "WEB", "name": "   "}, "name"),
        ({"key": "WEB", "name": "x" * 101}, "name"),
        ({"key": "WEB", "name": "x", "description": "d" * 10_001}, "description"),
        ({"key": "WEB", "name": "x", "colour": "red"}, "colour"),
        ({"name": "x"}, "key"),
    ],
)
async def test_bad_create_is_422(
    client: httpx.AsyncClient, world: World, body: dict[str, Any], field: str
) -> None:
    response = await client.post(API, json=body, headers=world.h("admin"))
    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in response.json()["errors"]]
    assert await event_types() == []


@pytest.mark.parametrize(
    ("body", "field"),
    [({"is_archived": "yes"}, "is_archived"), ({"name": None}, "name"), ({"key": "NEW"}, "key")],
)
async def test_bad_patch_is_422(
    client: httpx.AsyncClient, world: World, body: dict[str, Any], field: str
) -> None:
    await create(client, world)
    response = await client.patch(f"{API}/WEB", json=body, headers=world.h("admin"))
    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in response.json()["errors"]]


async def test_unknown_project_is_404(client: httpx.AsyncClient, world: World) -> None:
    for method in ("GET", "PATCH", "DELETE"):
        body = {"name": "x"} if method == "PATCH" else None
        response = await client.request(method, f"{API}/NOPE", json=body, headers=world.h("owner"))
        assert response.status_code == 404
        assert response.json()["code"] == "NOT_FOUND"
