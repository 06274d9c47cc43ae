"""Members over REST (`/api/v1/workspaces/{slug}/members`): listing, changing roles, removing
and leaving, the last-owner rule and input validation. Nobody is added here: members join by
invitation (`test_invitations.py`). Role-by-role permissions are in `test_workspace_roles.py`."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi import FastAPI
from tortoise import Tortoise
from tortoise.backends.base.client import TransactionalDBClient

from gateway.repositories import members as member_repo
from models import Membership, Role, User, Workspace
from tests.auth_helpers import bearer, join, make_pat, make_user
from tests.helpers import create_workspace, role_of

MEMBERS = "/api/v1/workspaces/acme/members"


@pytest.fixture
async def acme(app: FastAPI, client: httpx.AsyncClient) -> dict[str, User]:
    """`acme` owned by ann, with admin ada and member mia; bob exists but is not a member."""
    users = {n: await make_user(n) for n in ("ann", "ada", "mia", "bob")}
    await create_workspace(app, client, users["ann"])
    for name, role in (("ada", "admin"), ("mia", "member")):
        await join("acme", users["ann"], users[name], role)
    return users


async def test_list_members_in_join_order(
    app: FastAPI, client: httpx.AsyncClient, acme: dict[str, User]
) -> None:
    headers = bearer(app, acme["mia"])
    first = await client.get(f"{MEMBERS}?limit=2", headers=headers)
    assert first.status_code == 200
    assert [(m["user"]["username"], m["role"]) for m in first.json()["items"]] == [
        ("ann", "owner"),
        ("ada", "admin"),
    ]
    rest = await client.get(
        f"{MEMBERS}?limit=2&cursor={first.json()['next_cursor']}", headers=headers
    )
    assert [m["user"]["username"] for m in rest.json()["items"]] == ["mia"]
    assert rest.json()["next_cursor"] is None


async def test_change_role_and_remove(
    app: FastAPI, client: httpx.AsyncClient, acme: dict[str, User]
) -> None:
    admin = bearer(app, acme["ada"])
    changed = await client.patch(f"{MEMBERS}/mia", json={"role": "viewer"}, headers=admin)
    assert changed.status_code == 200, changed.text
    assert changed.json()["role"] == "viewer"
    assert await role_of(acme["mia"]) == Role.viewer
    bad = await client.patch(f"{MEMBERS}/mia", json={"role": "king"}, headers=admin)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "role"
    extra = await client.patch(f"{MEMBERS}/mia", json={"role": "member", "x": 1}, headers=admin)
    assert extra.status_code == 422
    removed = await client.delete(f"{MEMBERS}/mia", headers=admin)
    assert removed.status_code == 204
    assert await role_of(acme["mia"]) is None
    assert (await client.delete(f"{MEMBERS}/mia", headers=admin)).status_code == 404
    assert (await client.patch(f"{MEMBERS}/bob", json={"role": "viewer"}, headers=admin)).json()[
        "code"
    ] == "NOT_FOUND"


async def test_last_owner_can_neither_leave_nor_be_demoted(
    app: FastAPI, client: httpx.AsyncClient, acme: dict[str, User]
) -> None:
    owner = bearer(app, acme["ann"])
    leave = await client.delete(f"{MEMBERS}/ann", headers=owner)
    assert leave.status_code == 409
    assert leave.json()["code"] == "CONFLICT"
    demote = await client.patch(f"{MEMBERS}/ann", json={"role": "admin"}, headers=owner)
    assert demote.status_code == 409
    root = bearer(app, await make_user("root", site_admin=True))
    assert (await client.delete(f"{MEMBERS}/ann", headers=root)).status_code == 409
    assert await role_of(acme["ann"]) == Role.owner

    # With a second owner, the first may step down and then leave.
    promoted = await client.patch(f"{MEMBERS}/ada", json={"role": "owner"}, headers=owner)
    assert promoted.status_code == 200
    assert (await client.patch(f"{MEMBERS}/ann", json={"role": "admin"}, headers=owner)).json()[
        "role"
    ] == "admin"
    assert (await client.delete(f"{MEMBERS}/ada", headers=owner)).status_code == 403
    assert (await client.delete(f"{MEMBERS}/ann", headers=owner)).status_code == 204
    assert await role_of(acme["ann"]) is None
    assert (await client.delete(f"{MEMBERS}/ada", headers=bearer(app, acme["ada"]))).json()[
        "code"
    ] == "CONFLICT"


async def test_any_member_may_leave(
    app: FastAPI, client: httpx.AsyncClient, acme: dict[str, User]
) -> None:
    await client.patch(f"{MEMBERS}/mia", json={"role": "viewer"}, headers=bearer(app, acme["ann"]))
    mia = bearer(app, acme["mia"])
    assert (await client.delete(f"{MEMBERS}/mia", headers=mia)).status_code == 204
    assert (await client.get("/api/v1/workspaces/acme", headers=mia)).status_code == 404


async def test_leaving_needs_the_admin_scope(
    app: FastAPI, client: httpx.AsyncClient, acme: dict[str, User]
) -> None:
    _, pat = await make_pat(acme["mia"], ["write"])
    refused = await client.delete(f"{MEMBERS}/mia", headers=pat)
    assert refused.status_code == 403
    assert "'admin' scope" in refused.json()["detail"]
    assert await role_of(acme["mia"]) == Role.member


async def _until_a_transaction_waits_on_a_lock(db: TransactionalDBClient) -> None:
    for _ in range(1000):
        [row] = await db.execute_query_dict(
            "SELECT count(*) AS n FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        if row["n"]:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the second demotion never waited for the owners' rows")


async def test_concurrent_owners_cannot_both_step_down(
    app: FastAPI,
    client: httpx.AsyncClient,
    acme: dict[str, User],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two owners demoting each other at once: one wins, the other hits the last-owner rule.
    On PostgreSQL the first to read the owners holds on to them until the second demotion
    waits for their rows (without the row lock it would read the same two owners, both
    demotions would pass, and the wait fails the test); SQLite runs one writer at a time."""
    owner = bearer(app, acme["ann"])
    await client.patch(f"{MEMBERS}/ada", json={"role": "owner"}, headers=owner)
    read_owners = member_repo.lock_owners
    postgres = Tortoise.get_connection("default").schema_generator.DIALECT == "postgres"
    calls = 0

    async def first_reader_holds_on(db: TransactionalDBClient, workspace_id: int) -> list[int]:
        nonlocal calls
        calls += 1
        first = calls == 1
        owners = await read_owners(db, workspace_id)
        if first and postgres:
            await _until_a_transaction_waits_on_a_lock(db)
        return owners

    monkeypatch.setattr(member_repo, "lock_owners", first_reader_holds_on)
    ann_demotes_ada, ada_demotes_ann = await asyncio.gather(
        client.patch(f"{MEMBERS}/ada", json={"role": "member"}, headers=owner),
        client.patch(f"{MEMBERS}/ann", json={"role": "member"}, headers=bearer(app, acme["ada"])),
    )
    statuses = sorted([ann_demotes_ada.status_code, ada_demotes_ann.status_code])
    # The loser is refused either as no longer an owner (403: SQLite runs the two one after
    # the other) or as the last owner (409: PostgreSQL, waiting on the lock).
    assert statuses[0] == 200, (ann_demotes_ada.text, ada_demotes_ann.text)
    assert statuses[1] in (403, 409), (ann_demotes_ada.text, ada_demotes_ann.text)
    owners = await Membership.filter(workspace__slug="acme", role=Role.owner).count()
    assert owners == 1


async def test_unknown_workspace_members_is_not_found(
    app: FastAPI, client: httpx.AsyncClient, acme: dict[str, User]
) -> None:
    headers = bearer(app, acme["ann"])
    assert (await client.get("/api/v1/workspaces/nope/members", headers=headers)).json()[
        "code"
    ] == "NOT_FOUND"
    assert await Workspace.all().count() == 1


async def test_members_cannot_be_added_directly(
    app: FastAPI, client: httpx.AsyncClient, acme: dict[str, User]
) -> None:
    """There is no POST: a user joins only by accepting an invitation."""
    response = await client.post(
        MEMBERS, json={"username": "bob", "role": "admin"}, headers=bearer(app, acme["ann"])
    )
    assert response.status_code == 405
    assert await role_of(acme["bob"]) is None
