"""Workspaces over REST (`/api/v1/workspaces`): create, list, read, rename, delete, and the
validation and conflict rules. Role-by-role permissions are in `test_workspace_roles.py`."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from gateway.core.ids import to_global_id
from models import Membership, Role, Workspace
from tests.auth_helpers import bearer, make_pat, make_user
from tests.helpers import contract_keys

BASE = "/api/v1/workspaces"


async def create(
    client: httpx.AsyncClient, headers: dict[str, str], slug: str, name: str = "Acme"
) -> httpx.Response:
    return await client.post(BASE, json={"slug": slug, "name": name}, headers=headers)


async def test_create_makes_the_creator_owner(app: FastAPI, client: httpx.AsyncClient) -> None:
    ann = await make_user("ann")
    response = await create(client, bearer(app, ann), "acme", "  Acme Corp  ")
    assert response.status_code == 201, response.text
    body = response.json()
    workspace = await Workspace.get(slug="acme")
    assert response.headers["location"] == f"{BASE}/acme"
    assert body["node_id"] == to_global_id("Workspace", workspace.id)
    assert body["name"] == "Acme Corp"  # trimmed
    assert body["viewer_role"] == "owner"
    assert set(body) == contract_keys("Workspace")
    membership = await Membership.get(workspace_id=workspace.id, user_id=ann.id)
    assert membership.role == Role.owner


async def test_get_patch_delete(app: FastAPI, client: httpx.AsyncClient) -> None:
    headers = bearer(app, await make_user("ann"))
    await create(client, headers, "acme")
    got = await client.get(f"{BASE}/acme", headers=headers)
    assert got.status_code == 200
    assert got.json()["slug"] == "acme"

    renamed = await client.patch(
        f"{BASE}/acme", json={"slug": "acme-2", "name": "Acme Two"}, headers=headers
    )
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["slug"] == "acme-2"
    assert renamed.json()["name"] == "Acme Two"
    assert (await client.get(f"{BASE}/acme", headers=headers)).status_code == 404
    assert (await client.get(f"{BASE}/acme-2", headers=headers)).json()["name"] == "Acme Two"

    only_name = await client.patch(f"{BASE}/acme-2", json={"name": "Acme 3"}, headers=headers)
    assert only_name.json()["slug"] == "acme-2"

    deleted = await client.delete(f"{BASE}/acme-2", headers=headers)
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert (await client.get(f"{BASE}/acme-2", headers=headers)).status_code == 404
    assert await Workspace.filter(slug="acme-2").count() == 0
    assert await Membership.all().count() == 0


async def test_duplicate_slug_is_conflict(app: FastAPI, client: httpx.AsyncClient) -> None:
    ann = bearer(app, await make_user("ann"))
    bob = bearer(app, await make_user("bob"))
    await create(client, ann, "acme")
    await create(client, bob, "bobs")
    again = await create(client, bob, "acme")
    assert again.status_code == 409
    assert again.json()["code"] == "CONFLICT"
    assert again.json()["errors"] == [{"field": "slug", "message": "is already taken"}]
    rename = await client.patch(f"{BASE}/bobs", json={"slug": "acme"}, headers=bob)
    assert rename.status_code == 409
    assert (await client.get(f"{BASE}/bobs", headers=bob)).status_code == 200
    assert await Workspace.all().count() == 2


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"slug": "a", "name": "A"}, {"slug"}),
        ({"slug": "x" * 40, "name": "A"}, {"slug"}),
        ({"slug": "Acme", "name": "A"}, {"slug"}),
        ({"slug": "ac me", "name": "A"}, {"slug"}),
        ({"slug": "acme", "name": "   "}, {"name"}),
        ({"slug": "acme", "name": "n" * 101}, {"name"}),
        ({"slug": 12, "name": "A"}, {"slug"}),
        ({"slug": "acme", "name": ["A"]}, {"name"}),
        ({"slug": "acme", "name": "A", "owner": "me"}, {"owner"}),
        ({"name": "A"}, {"slug"}),
        ({"slug": "bad!", "name": ""}, {"slug", "name"}),
    ],
)
async def test_create_rejects_bad_input(
    app: FastAPI, client: httpx.AsyncClient, body: dict[str, Any], fields: set[str]
) -> None:
    response = await client.post(BASE, json=body, headers=bearer(app, await make_user("ann")))
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] == "VALIDATION_FAILED"
    assert {e["field"] for e in problem["errors"]} == fields
    assert await Workspace.all().count() == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": None}, "name"),
        ({"slug": None}, "slug"),
        ({"slug": "-" * 40}, "slug"),
        ({"name": "n" * 101}, "name"),
        ({"archived": True}, "archived"),
    ],
)
async def test_patch_rejects_bad_input(
    app: FastAPI, client: httpx.AsyncClient, body: dict[str, Any], field: str
) -> None:
    headers = bearer(app, await make_user("ann"))
    await create(client, headers, "acme")
    response = await client.patch(f"{BASE}/acme", json=body, headers=headers)
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert (await Workspace.get(slug="acme")).name == "Acme"


async def test_unknown_workspace_is_not_found(app: FastAPI, client: httpx.AsyncClient) -> None:
    headers = bearer(app, await make_user("ann"))
    for method in ("GET", "PATCH", "DELETE"):
        body = {"name": "X"} if method == "PATCH" else None
        response = await client.request(method, f"{BASE}/nope", json=body, headers=headers)
        assert response.status_code == 404, method
        assert response.json()["code"] == "NOT_FOUND"


async def test_anonymous_is_unauthenticated(client: httpx.AsyncClient) -> None:
    assert (await client.get(BASE)).status_code == 401
    assert (await client.post(BASE, json={"slug": "acme", "name": "A"})).status_code == 401


async def test_list_pages_through_my_workspaces_only(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    ann = await make_user("ann")
    root = await make_user("root", site_admin=True)
    for slug in ("one", "two", "three"):
        await create(client, bearer(app, ann), slug)
    await create(client, bearer(app, root), "roots")

    first = await client.get(f"{BASE}?limit=2", headers=bearer(app, ann))
    assert first.status_code == 200
    assert [w["slug"] for w in first.json()["items"]] == ["one", "two"]
    cursor = first.json()["next_cursor"]
    assert cursor is not None
    assert 'rel="next"' in first.headers["link"]
    second = await client.get(f"{BASE}?limit=2&cursor={cursor}", headers=bearer(app, ann))
    assert [w["slug"] for w in second.json()["items"]] == ["three"]
    assert second.json()["next_cursor"] is None
    assert "link" not in second.headers

    # A site admin lists their own memberships, yet may open any workspace as an owner.
    listed = await client.get(BASE, headers=bearer(app, root))
    assert [(w["slug"], w["viewer_role"]) for w in listed.json()["items"]] == [("roots", "owner")]
    opened = await client.get(f"{BASE}/two", headers=bearer(app, root))
    assert opened.status_code == 200
    assert opened.json()["viewer_role"] == "owner"


async def test_list_rejects_bad_paging(app: FastAPI, client: httpx.AsyncClient) -> None:
    headers = bearer(app, await make_user("ann"))
    assert (await client.get(f"{BASE}?limit=101", headers=headers)).status_code == 422
    bad = await client.get(f"{BASE}?cursor=garbage", headers=headers)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "cursor"


@pytest.mark.parametrize("scopes", [["read"], ["write"]])
async def test_narrow_token_cannot_create_or_rename(
    app: FastAPI, client: httpx.AsyncClient, scopes: list[str]
) -> None:
    ann = await make_user("ann")
    await create(client, bearer(app, ann), "acme")
    _, pat = await make_pat(ann, scopes)
    assert (await client.get(f"{BASE}/acme", headers=pat)).status_code == 200
    refused = await create(client, pat, "other")
    assert refused.status_code == 403
    assert "'admin' scope" in refused.json()["detail"]
    renamed = await client.patch(f"{BASE}/acme", json={"name": "X"}, headers=pat)
    assert renamed.status_code == 403
    assert (await Workspace.get(slug="acme")).name == "Acme"
    assert await Workspace.all().count() == 1


async def test_admin_token_may_create(app: FastAPI, client: httpx.AsyncClient) -> None:
    _, pat = await make_pat(await make_user("ann"), ["admin"])
    assert (await create(client, pat, "acme")).status_code == 201
