"""Invitations over GraphQL (`inviteMember`, `revokeInvitation`, `acceptInvitation`,
`declineInvitation`, `Workspace.invitations`, `User.invitations`, `node(id:)`) and their parity
with REST: the same data and, scenario by scenario, the same error codes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from gateway.core.ids import to_global_id
from models import Invitation, InvitationState, Membership, Role, Workspace
from tests.auth_helpers import bearer, gql, join, make_user
from tests.helpers import create_workspace, error_codes, same_fields
from tests.sql_counter import count_sql

INVITATIONS = "/api/v1/workspaces/acme/invitations"
MINE = "/api/v1/me/invitations"
FIELDS = """id role state email expiresAt respondedAt version createdAt updatedAt
  workspace { id slug name } invitee { id username } inviter { username }"""
INVITE = f"""mutation($input: InviteMemberInput!) {{
  inviteMember(input: $input) {{ invitation {{ {FIELDS} }} }}
}}"""
ACCEPT = f"""mutation($id: ID!) {{
  acceptInvitation(input: {{id: $id}}) {{
    invitation {{ {FIELDS} }} membership {{ id role user {{ username }} }}
  }}
}}"""
DECLINE = """mutation($id: ID!) {
  declineInvitation(input: {id: $id}) { invitation { state version } }
}"""
REVOKE = """mutation($id: ID!, $version: Int) {
  revokeInvitation(input: {id: $id, expectedVersion: $version}) { invitation { state } }
}"""
MY_INVITATIONS = f"""{{ viewer {{ invitations(first: 10) {{
  totalCount edges {{ node {{ {FIELDS} }} }}
}} }} }}"""
NODE = "query($id: ID!) { node(id: $id) { id ... on Invitation { state } } }"


@pytest.fixture
async def acme(app: FastAPI, client: httpx.AsyncClient) -> dict[str, Any]:
    """`acme` owned by ann with viewer vic; bob and carl belong nowhere."""
    users = {n: await make_user(n) for n in ("ann", "vic", "bob", "carl")}
    created = await create_workspace(app, client, users["ann"])
    await join("acme", users["ann"], users["vic"], "viewer")
    return {"ws": created["node_id"], **users}


def same_invitation(node: dict[str, Any], rest: dict[str, Any]) -> None:
    """A GraphQL `Invitation` shows what the REST representation of the same one does."""
    same_fields(node, rest, skip=("id", "role", "state", "workspace", "invitee", "inviter"))
    assert (node["role"].lower(), node["state"].lower()) == (rest["role"], rest["state"])
    workspace = rest["workspace"]
    assert node["workspace"] == {
        "id": workspace["node_id"],
        "slug": workspace["slug"],
        "name": workspace["name"],
    }
    invitee = rest["invitee"]
    assert node["invitee"] == (
        None if invitee is None else {"id": invitee["node_id"], "username": invitee["username"]}
    )
    assert node["inviter"] == {"username": rest["inviter"]["username"]}


async def test_flow_matches_rest(
    app: FastAPI, client: httpx.AsyncClient, acme: dict[str, Any]
) -> None:
    ann, bob = bearer(app, acme["ann"]), bearer(app, acme["bob"])
    sent = await gql(
        client,
        INVITE,
        ann,
        {"input": {"workspaceId": acme["ws"], "username": "bob", "role": "ADMIN"}},
    )
    node = sent["data"]["inviteMember"]["invitation"]
    assert (node["state"], node["invitee"]["username"], node["email"]) == ("PENDING", "bob", None)
    pk = (await Invitation.get(invitee=acme["bob"])).id
    assert node["id"] == to_global_id("Invitation", pk)
    rest = (await client.get(f"{INVITATIONS}/{pk}", headers=ann)).json()
    same_invitation(node, rest)

    listed = await gql(client, MY_INVITATIONS, bob)
    assert listed["data"]["viewer"]["invitations"]["totalCount"] == 1
    assert listed["data"]["viewer"]["invitations"]["edges"][0]["node"] == node
    admin_list = await gql(
        client, '{ workspace(slug: "acme") { invitations { edges { node { id } } } } }', ann
    )
    assert admin_list["data"]["workspace"]["invitations"]["edges"] == [{"node": {"id": node["id"]}}]
    for viewer, seen in ((bob, True), (ann, True), (bearer(app, acme["carl"]), False)):
        found = (await gql(client, NODE, viewer, {"id": node["id"]}))["data"]["node"]
        assert found == ({"id": node["id"], "state": "PENDING"} if seen else None)

    accepted = await gql(client, ACCEPT, bob, {"id": node["id"]})
    payload = accepted["data"]["acceptInvitation"]
    assert (payload["invitation"]["state"], payload["invitation"]["version"]) == ("ACCEPTED", 2)
    membership = await Membership.get(workspace__slug="acme", user=acme["bob"])
    assert payload["membership"] == {
        "id": to_global_id("Membership", membership.id),
        "role": "ADMIN",
        "user": {"username": "bob"},
    }
    rest = (await client.get(f"{INVITATIONS}/{pk}", headers=ann)).json()
    same_invitation(payload["invitation"], rest)
    again = await gql(client, ACCEPT, bob, {"id": node["id"]})
    assert (error_codes(again), again["data"]) == (["CONFLICT"], {"acceptInvitation": None})


async def test_email_invitation_reveals_nothing(
    app: FastAPI, client: httpx.AsyncClient, acme: dict[str, Any]
) -> None:
    ann = bearer(app, acme["ann"])
    answers = [
        (await gql(client, INVITE, ann, {"input": {"workspaceId": acme["ws"], "email": e}}))
        for e in ("CARL@example.com", "nobody@example.com")
    ]
    known, unknown = (a["data"]["inviteMember"]["invitation"] for a in answers)
    varying = ("id", "email", "expiresAt", "createdAt", "updatedAt")
    assert {k: v for k, v in known.items() if k not in varying} == {
        k: v for k, v in unknown.items() if k not in varying
    }
    assert (known["invitee"], known["email"]) == (None, "carl@example.com")
    # Carl sees it as his, and declines.
    carl = bearer(app, acme["carl"])
    declined = await gql(client, DECLINE, carl, {"id": known["id"]})
    assert declined["data"]["declineInvitation"]["invitation"] == {
        "state": "DECLINED",
        "version": 2,
    }


async def test_other_users_invitations_are_null(
    app: FastAPI, client: httpx.AsyncClient, acme: dict[str, Any]
) -> None:
    await gql(
        client,
        INVITE,
        bearer(app, acme["ann"]),
        {"input": {"workspaceId": acme["ws"], "username": "bob"}},
    )
    bob_id = to_global_id("User", acme["bob"].id)
    query = "query($id: ID!) { node(id: $id) { ... on User { invitations { totalCount } } } }"
    theirs = await gql(client, query, bearer(app, acme["carl"]), {"id": bob_id})
    assert theirs == {"data": {"node": {"invitations": None}}}
    own = await gql(client, query, bearer(app, acme["bob"]), {"id": bob_id})
    assert own["data"]["node"]["invitations"] == {"totalCount": 1}


async def test_add_member_is_gone(client: httpx.AsyncClient) -> None:
    result = await gql(client, '{ __type(name: "Mutation") { fields { name } } }')
    names = {f["name"] for f in result["data"]["__type"]["fields"]}
    assert "addMember" not in names
    assert {"inviteMember", "revokeInvitation", "acceptInvitation", "declineInvitation"} <= names


# --- the same scenario over both APIs gives the same code -----------------------------------

Scenario = Callable[[dict[str, Any], int], Awaitable[None]]


async def _revoked(world: dict[str, Any], pk: int) -> None:
    await Invitation.filter(id=pk).update(state=InvitationState.revoked)


async def _expired(world: dict[str, Any], pk: int) -> None:
    await Invitation.filter(id=pk).update(expires_at=datetime.now(UTC) - timedelta(minutes=1))


async def _unchanged(world: dict[str, Any], pk: int) -> None:
    return None


def outcome(response: httpx.Response, success: int) -> str:
    """The code of a REST answer: OK for status `success`, else the problem's."""
    return "OK" if response.status_code == success else str(response.json()["code"])


def graphql_outcome(result: dict[str, Any]) -> str:
    """The code of a GraphQL answer: OK without errors, else the first error's."""
    return error_codes(result)[0] if result.get("errors") else "OK"


# who answers, how the invitation is spoiled first, expected code
ANSWERS = [
    pytest.param("bob", _unchanged, "OK", id="invitee"),
    pytest.param("carl", _unchanged, "NOT_FOUND", id="stranger"),
    pytest.param("ann", _unchanged, "NOT_FOUND", id="workspace owner"),
    pytest.param("bob", _revoked, "CONFLICT", id="revoked"),
    pytest.param("bob", _expired, "CONFLICT", id="expired"),
]


@pytest.mark.parametrize("verb", ["accept", "decline"])
@pytest.mark.parametrize(("who", "spoil", "expected"), ANSWERS)
@pytest.mark.parametrize("api", ["rest", "graphql"])
async def test_answer_parity(
    app: FastAPI,
    client: httpx.AsyncClient,
    acme: dict[str, Any],
    api: str,
    verb: str,
    who: str,
    spoil: Scenario,
    expected: str,
) -> None:
    sent = await client.post(
        INVITATIONS, json={"username": "bob", "role": "member"}, headers=bearer(app, acme["ann"])
    )
    pk = sent.json()["id"]
    await spoil(acme, pk)
    headers = bearer(app, acme[who])
    if api == "rest":
        code = outcome(await client.post(f"{MINE}/{pk}/{verb}", headers=headers), 200)
    else:
        query = ACCEPT if verb == "accept" else DECLINE
        result = await gql(client, query, headers, {"id": to_global_id("Invitation", pk)})
        code = graphql_outcome(result)
    assert code == expected
    joined = await Membership.filter(workspace__slug="acme", user=acme["bob"]).exists()
    assert joined == (expected == "OK" and verb == "accept")


INVITES = [
    pytest.param("ann", {"username": "vic"}, "CONFLICT", id="member already"),
    pytest.param("ann", {"username": "nobody"}, "VALIDATION_FAILED", id="no such user"),
    pytest.param("vic", {"username": "bob"}, "FORBIDDEN", id="viewer"),
    pytest.param("carl", {"username": "bob"}, "NOT_FOUND", id="outsider"),
    pytest.param("ann", {"username": "dan"}, "CONFLICT", id="pending already"),
    pytest.param("ann", {"email": "vic@example.com"}, "OK", id="by email"),
]


@pytest.mark.parametrize(("who", "whom", "expected"), INVITES)
@pytest.mark.parametrize("api", ["rest", "graphql"])
async def test_invite_parity(
    app: FastAPI,
    client: httpx.AsyncClient,
    acme: dict[str, Any],
    api: str,
    who: str,
    whom: dict[str, str],
    expected: str,
) -> None:
    await Invitation.create(
        workspace=await Workspace.get(slug="acme"),
        inviter=acme["ann"],
        invitee=await make_user("dan"),
        role=Role.member,
        expires_at=datetime.now(UTC) + timedelta(days=1),
    )
    before = await Invitation.all().count()
    headers = bearer(app, acme[who])
    if api == "rest":
        code = outcome(await client.post(INVITATIONS, json=whom, headers=headers), 201)
    else:
        result = await gql(client, INVITE, headers, {"input": {"workspaceId": acme["ws"], **whom}})
        code = graphql_outcome(result)
    assert code == expected
    assert await Invitation.all().count() == before + (1 if expected == "OK" else 0)


async def test_revoke_over_graphql(
    app: FastAPI, client: httpx.AsyncClient, acme: dict[str, Any]
) -> None:
    ann = bearer(app, acme["ann"])
    sent = await client.post(INVITATIONS, json={"username": "bob"}, headers=ann)
    gid = sent.json()["node_id"]
    stale = await gql(client, REVOKE, ann, {"id": gid, "version": 7})
    assert error_codes(stale) == ["PRECONDITION_FAILED"]
    # An outsider cannot tell someone else's invitation from one that does not exist.
    carl = bearer(app, acme["carl"])
    foreign = await gql(client, REVOKE, carl, {"id": gid})
    missing = await gql(client, REVOKE, carl, {"id": to_global_id("Invitation", 10**9)})
    assert error_codes(foreign) == error_codes(missing) == ["NOT_FOUND"]
    assert foreign["errors"][0]["message"] == missing["errors"][0]["message"]
    viewer = await gql(client, REVOKE, bearer(app, acme["vic"]), {"id": gid})
    assert error_codes(viewer) == ["FORBIDDEN"]
    revoked = await gql(client, REVOKE, ann, {"id": gid, "version": 1})
    assert revoked["data"]["revokeInvitation"]["invitation"]["state"] == "REVOKED"
    assert (await Invitation.get(id=sent.json()["id"])).state == InvitationState.revoked


async def test_invitation_list_statement_count_does_not_grow(
    app: FastAPI, client: httpx.AsyncClient, acme: dict[str, Any]
) -> None:
    """Inviters and invitees come through one DataLoader, not one query per invitation."""
    ann = bearer(app, acme["ann"])
    query = """{ workspace(slug: "acme") { invitations(first: 50) {
      edges { node { id invitee { username } inviter { username } } } } } }"""

    async def invite_all(*names: str) -> None:
        for name in names:
            await make_user(name)
            body = {"username": name}
            assert (await client.post(INVITATIONS, json=body, headers=ann)).status_code == 201

    await invite_all("u1")
    with count_sql() as few:
        small = await gql(client, query, ann)
    assert len(small["data"]["workspace"]["invitations"]["edges"]) == 1
    await invite_all("u2", "u3", "u4", "u5", "u6")
    with count_sql() as many:
        large = await gql(client, query, ann)
    edges = large["data"]["workspace"]["invitations"]["edges"]
    assert [e["node"]["invitee"]["username"] for e in edges] == ["u6", "u5", "u4", "u3", "u2", "u1"]
    assert many.count == few.count, many
