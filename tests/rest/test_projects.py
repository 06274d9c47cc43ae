"""Projects over REST and GraphQL: CRUD, paging, conditional requests, archiving, roles,
validation and events."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.factories import World
from tests.helpers import (
    assert_invalid,
    assert_precondition_failed,
    create_project,
    event_types,
)

API = "/api/v1/workspaces/acme/projects"


async def test_create_get_list_update_delete(client: httpx.AsyncClient, empty_world: World) -> None:
    created = await create_project(client, empty_world, description="  The site  ")
    assert created["key"] == "WEB"
    assert created["description"] == "The site"
    assert created["is_archived"] is False
    assert created["issue_count"] == 0
    assert created["version"] == 1
    response = await client.get(f"{API}/WEB", headers=empty_world.h("viewer"))
    assert response.status_code == 200
    assert response.json() == created
    assert response.headers["ETag"] == '"v1"'

    patched = await client.patch(
        f"{API}/WEB", json={"name": "Website"}, headers=empty_world.h("admin")
    )
    assert patched.status_code == 200
    assert patched.json()["name"] == "Website"
    assert patched.json()["version"] == 2

    deleted = await client.delete(f"{API}/WEB", headers=empty_world.h("owner"))
    assert deleted.status_code == 204
    assert (await client.get(f"{API}/WEB", headers=empty_world.h("owner"))).status_code == 404
    assert await event_types() == ["project.created", "project.updated", "project.deleted"]


async def test_location_header_names_the_project(
    client: httpx.AsyncClient, empty_world: World
) -> None:
    response = await client.post(
        API, json={"key": "APP", "name": "App"}, headers=empty_world.h("admin")
    )
    assert response.headers["Location"] == f"{API}/APP"


async def test_paging_walks_to_the_end(client: httpx.AsyncClient, empty_world: World) -> None:
    keys = [f"P{i:02d}" for i in range(7)]
    for key in reversed(keys):
        await create_project(client, empty_world, key)
    seen: list[str] = []
    url: str | None = f"{API}?limit=3"
    pages = 0
    while url is not None:
        response = await client.get(url, headers=empty_world.h("viewer"))
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


async def test_etag_304_and_412(client: httpx.AsyncClient, empty_world: World) -> None:
    await create_project(client, empty_world)
    response = await client.get(
        f"{API}/WEB", headers={**empty_world.h("viewer"), "If-None-Match": '"v1"'}
    )
    assert response.status_code == 304
    stale = {**empty_world.h("admin"), "If-Match": '"v0"'}
    assert_precondition_failed(await client.patch(f"{API}/WEB", json={"name": "X"}, headers=stale))
    stale = {**empty_world.h("owner"), "If-Match": '"v9"'}
    assert_precondition_failed(await client.delete(f"{API}/WEB", headers=stale))
    fresh = {**empty_world.h("admin"), "If-Match": '"v1"'}
    response = await client.patch(f"{API}/WEB", json={"name": "X"}, headers=fresh)
    assert response.status_code == 200
    assert response.headers["ETag"] == '"v2"'
    assert await event_types() == ["project.created", "project.updated"]


async def test_archived_project_is_read_only(client: httpx.AsyncClient, empty_world: World) -> None:
    await create_project(client, empty_world)
    admin = empty_world.h("admin")
    response = await client.patch(f"{API}/WEB", json={"is_archived": True}, headers=admin)
    assert response.status_code == 200
    assert response.json()["is_archived"] is True
    for method, url, body in [
        ("PATCH", f"{API}/WEB", {"name": "Renamed"}),
        ("PATCH", f"{API}/WEB", {"is_archived": True}),
        ("POST", f"{API}/WEB/labels", {"name": "bug", "color": "#ff0000"}),
        ("DELETE", f"{API}/WEB", None),
    ]:
        headers = empty_world.h("owner")
        response = await client.request(method, url, json=body, headers=headers)
        assert response.status_code == 409, (method, url, response.text)
        assert response.json()["code"] == "CONFLICT"
    assert (await client.get(f"{API}/WEB", headers=empty_world.h("viewer"))).status_code == 200
    response = await client.patch(f"{API}/WEB", json={"is_archived": False}, headers=admin)
    assert response.status_code == 200
    assert response.json()["is_archived"] is False
    assert await event_types() == ["project.created", "project.archived", "project.updated"]


async def test_duplicate_key_is_409(client: httpx.AsyncClient, empty_world: World) -> None:
    await create_project(client, empty_world)
    response = await client.post(
        API, json={"key": "WEB", "name": "x"}, headers=empty_world.h("admin")
    )
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
    client: httpx.AsyncClient, empty_world: World, body: dict[str, Any], field: str
) -> None:
    assert_invalid(await client.post(API, json=body, headers=empty_world.h("admin")), field)
    assert await event_types() == []


@pytest.mark.parametrize(
    ("body", "field"),
    [({"is_archived": "yes"}, "is_archived"), ({"name": None}, "name"), ({"key": "NEW"}, "key")],
)
async def test_bad_patch_is_422(
    client: httpx.AsyncClient, empty_world: World, body: dict[str, Any], field: str
) -> None:
    await create_project(client, empty_world)
    patched = await client.patch(f"{API}/WEB", json=body, headers=empty_world.h("admin"))
    assert_invalid(patched, field)


async def test_unknown_project_is_404(client: httpx.AsyncClient, empty_world: World) -> None:
    for method in ("GET", "PATCH", "DELETE"):
        body = {"name": "x"} if method == "PATCH" else None
        response = await client.request(
            method, f"{API}/NOPE", json=body, headers=empty_world.h("owner")
        )
        assert response.status_code == 404
        assert response.json()["code"] == "NOT_FOUND"
