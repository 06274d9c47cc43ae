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
from tests.sql_counter import count_sql


async def run(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    query: str,
    variables: dict[str, Any] | None = None,
) -> dict[str, Any]:
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def codes(result: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in result.get("errors", [])]


def fields(result: dict[str, Any]) -> set[str]:
    return {f["field"] for e in result["errors"] for f in e["extensions"].get("fields", [])}


CREATE = """mutation($slug: String!, $name: String!) {
  createWorkspace(input: {slug: $slug, name: $name}) {
    workspace { id slug name viewerRole createdAt updatedAt }
  }
}"""
UPDATE = """mutation($input: UpdateWorkspaceInput!) {
  updateWorkspace(input: $input) { workspace { id slug name } }
}"""
INVITE = """mutation($input: InviteMemberInput!) {
  inviteMember(input: $input) { invitation { id } }
}"""
SET_ROLE = """mutation($input: UpdateMemberRoleInput!) {
  updateMemberRole(input: $input) { membership { role } }
}"""
REMOVE = """mutation($input: RemoveMemberInput!) { removeMember(input: $input) { deletedId } }"""
READ = """query($slug: String!) { workspace(slug: $slug) { id slug name viewerRole } }"""


@pytest.fixture
async def acme(app: FastAPI, client: httpx.AsyncClient) -> dict[str, Any]:
    """`acme` owned by ann (through the API) with member mia; bob is not a member."""
    users = {n: await make_user(n) for n in ("ann", "mia", "bob")}
    created = await run(client, bearer(app, users["ann"]), CREATE, {"slug": "acme", "name": "Acme"})
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
    bad_role = await run(client, ann, SET_ROLE, {"input": {**target, "role": "admin"}})
    assert codes(bad_role) == ["VALIDATION_FAILED"]
    changed = await run(client, ann, SET_ROLE, {"input": {**target, "role": "VIEWER"}})
    assert changed["data"]["updateMemberRole"]["membership"]["role"] == "VIEWER"
    removed = await run(client, ann, REMOVE, {"input": target})
    assert removed["data"]["removeMember"]["deletedId"] == membership["id"]
    assert await Membership.filter(user_id=acme["bob"].id).count() == 0
    missing = await run(client, ann, REMOVE, {"input": target})
    assert codes(missing) == ["NOT_FOUND"]


async def test_last_owner_is_protected(
    app: FastAPI, client: httpx.AsyncClient, acme: dict[str, Any]
) -> None:
    ann = bearer(app, acme["ann"])
    me = {"workspaceId": acme["ws"], "userId": to_global_id("User", acme["ann"].id)}
    assert codes(await run(client, ann, REMOVE, {"input": me})) == ["CONFLICT"]
    assert codes(await run(client, ann, SET_ROLE, {"input": {**me, "role": "ADMIN"}})) == [
        "CONFLICT"
    ]
    assert (await Membership.get(user_id=acme["ann"].id)).role == Role.owner


async def test_read_token_cannot_write(client: httpx.AsyncClient, acme: dict[str, Any]) -> None:
    _, pat = await make_pat(acme["ann"], ["read"])
    events = await Event.all().count()
    assert (await run(client, pat, READ, {"slug": "acme"}))["data"]["workspace"]["slug"] == "acme"
    create = await run(client, pat, CREATE, {"slug": "other", "name": "Other"})
    invite = await run(
        client, pat, INVITE, {"input": {"workspaceId": acme["ws"], "username": "bob"}}
    )
    rename = await run(client, pat, UPDATE, {"input": {"id": acme["ws"], "name": "X"}})
    for result in (create, invite, rename):
        assert codes(result) == ["FORBIDDEN"]
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
        small = await run(client, ann, MEMBERS)
    assert small["data"]["workspace"]["members"]["totalCount"] == 2
    workspace = await Workspace.get(slug="acme")
    for n in range(8):
        user = await make_user(f"extra-{n}")
        await Membership.create(workspace=workspace, user=user, role=Role.viewer)
    with count_sql() as many:
        large = await run(client, ann, MEMBERS)
    edges = large["data"]["workspace"]["members"]["edges"]
    assert len(edges) == 10
    assert edges[0]["node"]["user"] == {"username": "ann", "displayName": "Ann"}
    assert many.count == few.count, many
