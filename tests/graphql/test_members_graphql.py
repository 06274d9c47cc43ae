"""Members over GraphQL: `updateMemberRole`, `removeMember`, their validation,
the last-owner rule, token scopes, and the statement count of `Workspace.members` (users come
through a DataLoader, not one query per member). Role-by-role permissions are in
`test_workspace_roles.py`."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from gateway.core.ids import to_global_id
from models import Event, Membership, Role, Workspace
from tests.auth_helpers import bearer, join, make_pat, make_user
from tests.helpers import (
    CREATE_WORKSPACE,
    READ_WORKSPACE,
    UPDATE_WORKSPACE,
    error_codes,
    gql_ok,
)
from tests.sql_counter import count_sql

INVITE = """mutation($input: InviteMemberInput!) {
  inviteMember(input: $input) { invitation { id } }
}"""
SET_ROLE = """mutation($input: UpdateMemberRoleInput!) {
  updateMemberRole(input: $input) { membership { role } }
}"""
REMOVE = """mutation($input: RemoveMemberInput!) { removeMember(input: $input) { deletedId } }"""


@pytest.fixture
async def acme(app: FastAPI, client: httpx.AsyncClient) -> dict[str, Any]:
    """`acme` owned by ann (through the API) with member mia; bob is not a member."""
    users = {n: await make_user(n) for n in ("ann", "mia", "bob")}
    created = await gql_ok(
        client, bearer(app, users["ann"]), CREATE_WORKSPACE, {"slug": "acme", "name": "Acme"}
    )
    ws = created["data"]["createWorkspace"]["workspace"]["id"]
    await join("acme", users["ann"], users["mia"])
    return {"ws": ws, **users}


async def test_member_mutations(
    app: FastAPI, client: httpx.AsyncClient, acme: dict[str, Any]
) -> None:
    ann = bearer(app, acme["ann"])
    bob_id = to_global_id("User", acme["bob"].id)
    await join("acme", acme["ann"], acme["bob"], "admin")
    membership = {"id": to_global_id("Membership", (await Membership.get(user=acme["bob"])).id)}
    target = {"workspaceId": acme["ws"], "userId": bob_id}
    bad_role = await gql_ok(client, ann, SET_ROLE, {"input": {**target, "role": "admin"}})
    assert error_codes(bad_role) == ["VALIDATION_FAILED"]
    changed = await gql_ok(client, ann, SET_ROLE, {"input": {**target, "role": "VIEWER"}})
    assert changed["data"]["updateMemberRole"]["membership"]["role"] == "VIEWER"
    removed = await gql_ok(client, ann, REMOVE, {"input": target})
    assert removed["data"]["removeMember"]["deletedId"] == membership["id"]
    assert await Membership.filter(user_id=acme["bob"].id).count() == 0
    missing = await gql_ok(client, ann, REMOVE, {"input": target})
    assert error_codes(missing) == ["NOT_FOUND"]


async def test_last_owner_is_protected(
    app: FastAPI, client: httpx.AsyncClient, acme: dict[str, Any]
) -> None:
    ann = bearer(app, acme["ann"])
    me = {"workspaceId": acme["ws"], "userId": to_global_id("User", acme["ann"].id)}
    assert error_codes(await gql_ok(client, ann, REMOVE, {"input": me})) == ["CONFLICT"]
    assert error_codes(await gql_ok(client, ann, SET_ROLE, {"input": {**me, "role": "ADMIN"}})) == [
        "CONFLICT"
    ]
    assert (await Membership.get(user_id=acme["ann"].id)).role == Role.owner


async def test_read_token_cannot_write(client: httpx.AsyncClient, acme: dict[str, Any]) -> None:
    _, pat = await make_pat(acme["ann"], ["read"])
    events = await Event.all().count()
    assert (await gql_ok(client, pat, READ_WORKSPACE, {"slug": "acme"}))["data"]["workspace"][
        "slug"
    ] == "acme"
    create = await gql_ok(client, pat, CREATE_WORKSPACE, {"slug": "other", "name": "Other"})
    invite = await gql_ok(
        client, pat, INVITE, {"input": {"workspaceId": acme["ws"], "username": "bob"}}
    )
    rename = await gql_ok(client, pat, UPDATE_WORKSPACE, {"input": {"id": acme["ws"], "name": "X"}})
    for result in (create, invite, rename):
        assert error_codes(result) == ["FORBIDDEN"]
        assert "'admin' scope" in result["errors"][0]["message"]
    assert await Workspace.all().count() == 1
    assert await Event.all().count() == events


MEMBERS = """{ workspace(slug: "acme") {
  members(first: 50) { totalCount edges { node { role user { username displayName } } } }
} }"""


async def test_member_list_statement_count_does_not_grow(
    app: FastAPI, client: httpx.AsyncClient, acme: dict[str, Any]
) -> None:
    ann = bearer(app, acme["ann"])
    with count_sql() as few:
        small = await gql_ok(client, ann, MEMBERS)
    assert small["data"]["workspace"]["members"]["totalCount"] == 2
    workspace = await Workspace.get(slug="acme")
    for n in range(8):
        user = await make_user(f"extra-{n}")
        await Membership.create(workspace=workspace, user=user, role=Role.viewer)
    with count_sql() as many:
        large = await gql_ok(client, ann, MEMBERS)
    edges = large["data"]["workspace"]["members"]["edges"]
    assert len(edges) == 10
    assert edges[0]["node"]["user"] == {"username": "ann", "displayName": "Ann"}
    assert many.count == few.count, many
