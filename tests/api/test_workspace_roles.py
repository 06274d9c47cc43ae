"""Parity of the role table (domain.md) across both APIs, invitations included.

One expectation table, `(action, role) → outcome`, drives REST and GraphQL alike: the same
caller doing the same thing gets the same code from both, and leaves the database in the same
state. A non-member (stranger) gets NOT_FOUND, never FORBIDDEN; a site admin acts as an owner.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from gateway.core.ids import to_global_id
from models import Invitation, InvitationState, Membership, Role, User, Workspace
from tests.auth_helpers import bearer, make_user

OK, FORBIDDEN, NOT_FOUND = "OK", "FORBIDDEN", "NOT_FOUND"
ROLES = ("viewer", "member", "admin", "owner", "stranger", "site_admin")

# fmt: off
EXPECTED: dict[str, tuple[str, ...]] = {
    #                 viewer     member     admin      owner  stranger   site_admin
    "read":          (OK,        OK,        OK,        OK,    NOT_FOUND, OK),
    "list_members":  (OK,        OK,        OK,        OK,    NOT_FOUND, OK),
    "rename":        (FORBIDDEN, FORBIDDEN, FORBIDDEN, OK,    NOT_FOUND, OK),
    "delete":        (FORBIDDEN, FORBIDDEN, FORBIDDEN, OK,    NOT_FOUND, OK),
    "list_invites":  (FORBIDDEN, FORBIDDEN, OK,        OK,    NOT_FOUND, OK),
    "invite":        (FORBIDDEN, FORBIDDEN, OK,        OK,    NOT_FOUND, OK),
    "invite_owner":  (FORBIDDEN, FORBIDDEN, FORBIDDEN, OK,    NOT_FOUND, OK),
    "revoke_invite": (FORBIDDEN, FORBIDDEN, OK,        OK,    NOT_FOUND, OK),
    "make_admin":    (FORBIDDEN, FORBIDDEN, OK,        OK,    NOT_FOUND, OK),
    "make_owner":    (FORBIDDEN, FORBIDDEN, FORBIDDEN, OK,    NOT_FOUND, OK),
    "remove_member": (FORBIDDEN, FORBIDDEN, OK,        OK,    NOT_FOUND, OK),
    "remove_owner":  (FORBIDDEN, FORBIDDEN, FORBIDDEN, OK,    NOT_FOUND, OK),
}
# fmt: on

CASES = [
    (action, role, outcomes[i])
    for action, outcomes in EXPECTED.items()
    for i, role in enumerate(ROLES)
]
STATUS = {FORBIDDEN: 403, NOT_FOUND: 404}
# The caller for each role, in `acme`; tina (member) and otto (owner) are the targets, nora
# has a pending invitation and newt none.
ACTORS = {
    "viewer": "vic",
    "member": "mia",
    "admin": "ada",
    "owner": "olive",
    "stranger": "sam",
    "site_admin": "root",
}


@dataclass
class Roster:
    users: dict[str, User]
    workspace: Workspace
    invitation: Invitation

    def gid(self, name: str) -> str:
        return to_global_id("User", self.users[name].id)

    @property
    def invitation_gid(self) -> str:
        return to_global_id("Invitation", self.invitation.id)

    @property
    def workspace_gid(self) -> str:
        return to_global_id("Workspace", self.workspace.id)


@pytest.fixture
async def world() -> Roster:
    names = ("olive", "otto", "tina", "vic", "mia", "ada", "sam", "newt", "nora")
    users = {n: await make_user(n) for n in names}
    users["root"] = await make_user("root", site_admin=True)
    workspace = await Workspace.create(slug="acme", name="Acme")
    roles = {
        "olive": Role.owner,
        "otto": Role.owner,
        "tina": Role.member,
        "vic": Role.viewer,
        "mia": Role.member,
        "ada": Role.admin,
    }
    for name, role in roles.items():
        await Membership.create(workspace=workspace, user=users[name], role=role)
    elsewhere = await Workspace.create(slug="elsewhere", name="Elsewhere")
    await Membership.create(workspace=elsewhere, user=users["sam"], role=Role.owner)
    invitation = await Invitation.create(
        workspace=workspace,
        inviter=users["olive"],
        invitee=users["nora"],
        role=Role.member,
        expires_at=datetime.now(UTC) + timedelta(days=7),
    )
    return Roster(users, workspace, invitation)


async def roles_in_acme() -> dict[str, str]:
    rows = await Membership.filter(workspace__slug="acme").values_list("user__username", "role")
    return {str(u): Role(r).value for u, r in rows}


async def pending_in_acme() -> dict[str, str]:
    rows = await Invitation.filter(
        workspace__slug="acme", state=InvitationState.pending
    ).values_list("invitee__username", "role")
    return {str(u): Role(r).value for u, r in rows}


# What each action changes when it succeeds (and must not change when refused).
async def state() -> tuple[Any, ...]:
    names = await Workspace.filter(slug="acme").values_list("name", flat=True)
    return tuple(names), await roles_in_acme(), await pending_in_acme()


def _without(name: str) -> Callable[[dict[str, str]], dict[str, str]]:
    return lambda roles: {k: v for k, v in roles.items() if k != name}


EFFECTS: dict[str, Callable[[dict[str, str]], dict[str, str]]] = {
    "read": lambda roles: roles,
    "list_members": lambda roles: roles,
    "rename": lambda roles: roles,
    "delete": lambda roles: {},
    "list_invites": lambda roles: roles,
    "invite": lambda roles: roles,
    "invite_owner": lambda roles: roles,
    "revoke_invite": lambda roles: roles,
    "make_admin": lambda roles: {**roles, "tina": "admin"},
    "make_owner": lambda roles: {**roles, "tina": "owner"},
    "remove_member": _without("tina"),
    "remove_owner": _without("otto"),
}


# What each action does to the pending invitations (invitee → role); none change them otherwise.
INVITATION_EFFECTS: dict[str, Callable[[dict[str, str]], dict[str, str]]] = {
    "delete": lambda pending: {},
    "invite": lambda pending: {**pending, "newt": "member"},
    "invite_owner": lambda pending: {**pending, "newt": "owner"},
    "revoke_invite": _without("nora"),
}


def expected_state(before: tuple[Any, ...], action: str) -> tuple[Any, ...]:
    names, roles, pending = before
    roles = EFFECTS[action](roles)
    if action in INVITATION_EFFECTS:
        pending = INVITATION_EFFECTS[action](pending)
    if action == "rename":
        names = ("Renamed",)
    if action == "delete":
        names = ()
    return names, roles, pending


# REST -------------------------------------------------------------------------------------

WS = "/api/v1/workspaces/acme"
REST: dict[str, tuple[str, str, dict[str, Any] | None, int]] = {
    "read": ("GET", WS, None, 200),
    "list_members": ("GET", f"{WS}/members", None, 200),
    "rename": ("PATCH", WS, {"name": "Renamed"}, 200),
    "delete": ("DELETE", WS, None, 204),
    "list_invites": ("GET", f"{WS}/invitations", None, 200),
    "invite": ("POST", f"{WS}/invitations", {"username": "newt", "role": "member"}, 201),
    "invite_owner": ("POST", f"{WS}/invitations", {"username": "newt", "role": "owner"}, 201),
    "revoke_invite": ("DELETE", f"{WS}/invitations/{{invitation}}", None, 204),
    "make_admin": ("PATCH", f"{WS}/members/tina", {"role": "admin"}, 200),
    "make_owner": ("PATCH", f"{WS}/members/tina", {"role": "owner"}, 200),
    "remove_member": ("DELETE", f"{WS}/members/tina", None, 204),
    "remove_owner": ("DELETE", f"{WS}/members/otto", None, 204),
}


async def via_rest(
    client: httpx.AsyncClient, world: Roster, action: str, headers: dict[str, str]
) -> tuple[str, Any]:
    method, path, body, success = REST[action]
    path = path.format(invitation=world.invitation.id)
    response = await client.request(method, path, json=body, headers=headers)
    if response.status_code == success:
        return OK, response.json() if response.content else None
    problem = response.json()
    assert response.status_code == STATUS.get(problem["code"]), response.text
    return problem["code"], problem


# GraphQL ----------------------------------------------------------------------------------

Variables = Callable[[Roster], dict[str, Any]]


def _invite(role: str) -> tuple[str, Variables]:
    return (
        'mutation($ws: ID!) { inviteMember(input: {workspaceId: $ws, username: "newt",'
        f" role: {role}}}) {{ invitation {{ role state }} }} }}",
        lambda w: {"ws": w.workspace_gid},
    )


def _set_role(name: str, role: str) -> tuple[str, Variables]:
    return (
        "mutation($ws: ID!, $user: ID!) { updateMemberRole(input: {workspaceId: $ws,"
        f" userId: $user, role: {role}}}) {{ membership {{ role }} }} }}",
        lambda w: {"ws": w.workspace_gid, "user": w.gid(name)},
    )


def _remove(name: str) -> tuple[str, Variables]:
    return (
        "mutation($ws: ID!, $user: ID!) { removeMember(input: {workspaceId: $ws,"
        " userId: $user}) { deletedId } }",
        lambda w: {"ws": w.workspace_gid, "user": w.gid(name)},
    )


GRAPHQL: dict[str, tuple[str, Variables]] = {
    "read": (
        'query { workspace(slug: "acme") { id slug viewerRole } }',
        lambda w: {},
    ),
    "list_members": (
        'query { workspace(slug: "acme") { members(first: 10) { totalCount'
        " edges { node { role user { username } } } } } }",
        lambda w: {},
    ),
    "rename": (
        'mutation($id: ID!) { updateWorkspace(input: {id: $id, name: "Renamed"})'
        " { workspace { name } } }",
        lambda w: {"id": w.workspace_gid},
    ),
    "delete": (
        "mutation($id: ID!) { deleteWorkspace(input: {id: $id}) { deletedId } }",
        lambda w: {"id": w.workspace_gid},
    ),
    "list_invites": (
        'query { workspace(slug: "acme") { invitations(first: 10) { totalCount'
        " edges { node { role invitee { username } } } } } }",
        lambda w: {},
    ),
    "invite": _invite("MEMBER"),
    "invite_owner": _invite("OWNER"),
    "revoke_invite": (
        "mutation($id: ID!) { revokeInvitation(input: {id: $id}) { invitation { state } } }",
        lambda w: {"id": w.invitation_gid},
    ),
    "make_admin": _set_role("tina", "ADMIN"),
    "make_owner": _set_role("tina", "OWNER"),
    "remove_member": _remove("tina"),
    "remove_owner": _remove("otto"),
}


async def via_graphql(
    client: httpx.AsyncClient, world: Roster, action: str, headers: dict[str, str]
) -> tuple[str, Any]:
    query, variables = GRAPHQL[action]
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables(world)}, headers=headers
    )
    assert response.status_code == 200, response.text
    result = response.json()
    if result.get("errors"):
        codes = {e["extensions"]["code"] for e in result["errors"]}
        assert len(codes) == 1, result
        return codes.pop(), result
    data = result["data"]
    assert data is not None, result
    assert all(v is not None for v in data.values()), result
    return OK, data


Runner = Callable[[httpx.AsyncClient, Roster, str, dict[str, str]], Awaitable[tuple[str, Any]]]


@pytest.mark.parametrize("api", ["rest", "graphql"])
@pytest.mark.parametrize(("action", "role", "outcome"), CASES)
async def test_role_table(
    app: FastAPI,
    client: httpx.AsyncClient,
    world: Roster,
    api: str,
    action: str,
    role: str,
    outcome: str,
) -> None:
    run: Runner = via_rest if api == "rest" else via_graphql
    before = await state()
    code, _ = await run(client, world, action, bearer(app, world.users[ACTORS[role]]))
    assert code == outcome
    after = await state()
    assert after == (expected_state(before, action) if outcome == OK else before)


@pytest.mark.parametrize("role", ROLES)
async def test_both_apis_show_the_same_workspace(
    app: FastAPI, client: httpx.AsyncClient, world: Roster, role: str
) -> None:
    headers = bearer(app, world.users[ACTORS[role]])
    rest_code, rest = await via_rest(client, world, "read", headers)
    gql_code, gql = await via_graphql(client, world, "read", headers)
    assert rest_code == gql_code
    if rest_code != OK:
        assert rest["detail"] == gql["errors"][0]["message"]
        assert gql["data"] == {"workspace": None}
        return
    expected_role = "owner" if role == "site_admin" else role
    assert rest["viewer_role"] == expected_role
    assert gql["workspace"] == {
        "id": rest["node_id"],
        "slug": rest["slug"],
        "viewerRole": expected_role.upper(),
    }
