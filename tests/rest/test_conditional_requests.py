"""ETags and `If-Match` on workspaces, members, users, `/me` and labels (issue 8): every
single-object GET sends `ETag: "v<version>"` and answers a matching `If-None-Match` with 304;
every PATCH and DELETE refuses a stale `If-Match` with 412 and changes nothing; every change
bumps the version."""

from __future__ import annotations

import httpx

from tests.auth_helpers import PASSWORD
from tests.factories import World
from tests.helpers import assert_precondition_failed

WS = "/api/v1/workspaces/acme"
STALE = {"If-Match": '"v999"'}


async def _tagged(client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> str:
    """GET `url`: its ETag, after checking that sending it back answers 304 without a body."""
    response = await client.get(url, headers=headers)
    assert response.status_code == 200, response.text
    tag = response.headers["etag"]
    assert tag == f'"v{response.json()["version"]}"'
    again = await client.get(url, headers={**headers, "If-None-Match": tag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == tag
    return tag


async def test_workspace_delete_with_a_stale_etag_keeps_the_workspace(
    client: httpx.AsyncClient, empty_world: World
) -> None:
    owner = empty_world.h("owner")
    tag = await _tagged(client, WS, owner)
    assert tag == '"v1"'
    assert_precondition_failed(await client.delete(WS, headers={**owner, **STALE}))
    assert (await client.get(WS, headers=owner)).status_code == 200
    assert (await client.delete(WS, headers={**owner, "If-Match": tag})).status_code == 204
    assert (await client.get(WS, headers=owner)).status_code == 404


async def test_workspace_rename_bumps_the_version_and_honours_if_match(
    client: httpx.AsyncClient, empty_world: World
) -> None:
    owner = empty_world.h("owner")
    tag = await _tagged(client, WS, owner)
    assert_precondition_failed(
        await client.patch(WS, json={"name": "Stale"}, headers={**owner, **STALE})
    )
    renamed = await client.patch(WS, json={"name": "Acme 2"}, headers={**owner, "If-Match": tag})
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["version"] == 2
    assert renamed.headers["etag"] == '"v2"'
    assert await _tagged(client, WS, owner) == '"v2"'
    # The old tag no longer matches: a second writer that read v1 is refused.
    assert_precondition_failed(
        await client.patch(WS, json={"name": "Lost"}, headers={**owner, "If-Match": tag})
    )
    assert (await client.get(WS, headers=owner)).json()["name"] == "Acme 2"


async def test_member_role_change_and_removal_honour_if_match(
    client: httpx.AsyncClient, empty_world: World
) -> None:
    owner, url = empty_world.h("owner"), f"{WS}/members/member"
    tag = await _tagged(client, url, empty_world.h("viewer"))
    assert tag == '"v1"'
    assert_precondition_failed(
        await client.patch(url, json={"role": "admin"}, headers={**owner, **STALE})
    )
    changed = await client.patch(url, json={"role": "admin"}, headers={**owner, "If-Match": tag})
    assert changed.status_code == 200, changed.text
    assert changed.json()["role"] == "admin"
    assert changed.headers["etag"] == '"v2"'
    assert_precondition_failed(await client.delete(url, headers={**owner, "If-Match": tag}))
    assert (await client.get(url, headers=owner)).status_code == 200
    removed = await client.delete(url, headers={**owner, "If-Match": '"v2"'})
    assert removed.status_code == 204
    assert (await client.get(url, headers=owner)).status_code == 404


async def test_me_and_users_carry_etags_and_patch_me_honours_if_match(
    client: httpx.AsyncClient, empty_world: World
) -> None:
    me = empty_world.h("member")
    tag = await _tagged(client, "/api/v1/me", me)
    assert await _tagged(client, "/api/v1/users/member", empty_world.h("viewer")) == tag
    assert_precondition_failed(
        await client.patch("/api/v1/me", json={"display_name": "Stale"}, headers={**me, **STALE})
    )
    renamed = await client.patch(
        "/api/v1/me", json={"display_name": "Mem"}, headers={**me, "If-Match": tag}
    )
    assert renamed.status_code == 200, renamed.text
    assert renamed.headers["etag"] == '"v2"'
    password = await client.patch(
        "/api/v1/me",
        json={"password": "another long password", "current_password": PASSWORD},
        headers=me,
    )
    assert password.status_code == 200, password.text
    assert password.json()["version"] == 3
    assert await _tagged(client, "/api/v1/users/member", me) == '"v3"'


async def test_a_created_label_is_found_at_its_location_by_any_case(
    client: httpx.AsyncClient, empty_world: World
) -> None:
    admin = empty_world.h("admin")
    created = await client.post(f"{WS}/projects", json={"key": "WEB", "name": "Web"}, headers=admin)
    assert created.status_code == 201, created.text
    label = await client.post(
        f"{WS}/projects/WEB/labels",
        json={"name": "Needs Triage", "color": "#123456"},
        headers=admin,
    )
    assert label.status_code == 201, label.text
    location = label.headers["location"]
    assert location == f"{WS}/projects/WEB/labels/Needs%20Triage"
    found = await client.get(location, headers=empty_world.h("viewer"))
    assert found.status_code == 200, found.text
    assert found.json() == label.json()
    url = f"{WS}/projects/WEB/labels/needs%20TRIAGE"
    assert await _tagged(client, url, empty_world.h("viewer")) == '"v1"'
    assert (await client.get(url, headers=empty_world.h("stranger"))).status_code == 404
    missing = await client.get(f"{WS}/projects/WEB/labels/nope", headers=admin)
    assert missing.status_code == 404
    recoloured = await client.patch(url, json={"color": "#654321"}, headers=admin)
    assert recoloured.headers["etag"] == '"v2"'
    assert await _tagged(client, location, admin) == '"v2"'
