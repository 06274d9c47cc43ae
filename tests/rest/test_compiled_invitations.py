"""Invitations read through the read model: `Workspace.invitations` (admins only: FORBIDDEN and
null for anyone else), `User.invitations` (yourself only: null on anyone else) and REST's
`GET /workspaces/{slug}/invitations[/{id}]` and `GET /me/invitations`, compiled = fallback on
both databases for six callers, every page both ways, states derived at read time (a lapsed
pending invitation reads EXPIRED), one statement per read."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from gateway.core.ids import to_global_id
from models import Invitation, InvitationState, Role, Workspace
from tests.auth_helpers import make_user
from tests.factories import World, make_rich_world
from tests.parity import CALLERS, PAGE_INFO, Parity
from tests.sql_counter import count_sql

NOW = datetime.now(UTC)
INVITATION = (
    "id role state email expiresAt respondedAt version createdAt updatedAt"
    " workspace { __typename id slug name } invitee { username } inviter { username }"
)
PAGE = f"totalCount {PAGE_INFO} edges {{ cursor node {{ {INVITATION} }} }} nodes {{ id }}"
OF_ACME = (
    "query($first: Int, $after: String, $last: Int, $before: String) {"
    ' workspace(slug: "acme") { slug invitations(first: $first, after: $after, last: $last,'
    f" before: $before) {{ {PAGE} }} }} }}"
)
TO_ME = (
    "query($first: Int, $after: String, $last: Int, $before: String) {"
    " viewer { username invitations(first: $first, after: $after, last: $last,"
    f" before: $before) {{ {PAGE} }} }} }}"
)


@pytest.fixture
async def world(app: FastAPI) -> World:
    """The parity world with invitations of acme in every state, to accounts and addresses."""
    world = await make_rich_world(app)
    acme = await Workspace.get(slug="acme")
    other = await Workspace.get(slug="other")
    users = world.users
    gone = await make_user("gone", active=False)
    specs: list[dict[str, Any]] = [
        {"invitee": users["stranger"], "role": Role.admin},
        {"email_key": "viewer@example.com", "role": Role.member},  # the viewer's address
        {"email_key": "nobody@example.com", "role": Role.viewer},
        {"invitee": users["stranger"], "expires_at": NOW - timedelta(hours=1)},  # lapsed
        {"invitee": users["stranger"], "state": InvitationState.declined},
        {"invitee": users["stranger"], "state": InvitationState.revoked},
        {"invitee": gone, "role": Role.owner},
        {"email_key": "stranger@example.com", "inviter": gone},
    ]
    for n, spec in enumerate(specs):
        await Invitation.create(
            workspace=acme,
            inviter=spec.get("inviter", users["owner"]),
            invitee=spec.get("invitee"),
            email_key=spec.get("email_key"),
            role=spec.get("role", Role.member),
            state=spec.get("state", InvitationState.pending),
            expires_at=spec.get("expires_at", NOW + timedelta(days=7, minutes=n)),
        )
    await Invitation.create(
        workspace=other,
        inviter=users["stranger"],
        invitee=users["member"],
        role=Role.member,
        expires_at=NOW + timedelta(days=1),
    )
    return world


def _page(answer: Any) -> dict[str, Any] | None:
    (root,) = answer.body["data"].values()
    page: dict[str, Any] | None = root["invitations"] if root else None
    return page


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("query", [OF_ACME, TO_ME])
async def test_pages_both_ways_alike(
    world: World,
    parity_of: Callable[[dict[str, str]], Parity],
    caller: str,
    query: str,
) -> None:
    parity = parity_of(world.h(caller))
    for size, forward in ((2, True), (2, False), (30, True)):
        variables: dict[str, Any] = {"first" if forward else "last": size}
        while True:
            page = _page(await parity.both(query, variables))
            more = page and page["pageInfo"]["hasNextPage" if forward else "hasPreviousPage"]
            if not more:
                break
            assert page is not None
            info = page["pageInfo"]
            variables = (
                {"first": size, "after": info["endCursor"]}
                if forward
                else {"last": size, "before": info["startCursor"]}
            )
    for document in (
        "{ viewer { workspaces { nodes { slug invitations { totalCount } } } } }",
        "query($id: ID!) { node(id: $id) { ... on User { invitations { totalCount } } } }",
        '{ workspace(slug: "other") { invitations { nodes { state invitee { username } } } } }',
    ):
        variables = {"id": to_global_id("User", world.users["stranger"].id)}
        await parity.both(document, variables if "$id" in document else None)
    parity.check()


async def test_what_each_caller_sees(
    world: World, parity_of: Callable[[dict[str, str]], Parity]
) -> None:
    """The parity above compares like with like; here what the answers are."""
    admin = _page(await parity_of(world.h("admin")).both(OF_ACME, {"first": 30}))
    assert admin is not None
    states = [edge["node"]["state"] for edge in admin["edges"]]
    assert admin["totalCount"] == 6  # pending ones, lapsed included
    assert states.count("EXPIRED") == 1
    assert set(states) == {"PENDING", "EXPIRED"}
    gone = [e["node"] for e in admin["edges"] if e["node"]["role"] == "OWNER"]
    assert gone[0]["invitee"] is None  # a deactivated account reads as null
    assert admin["edges"][0]["node"]["workspace"]["__typename"] == "WorkspaceInfo"
    member = await parity_of(world.h("member")).both(OF_ACME, {"first": 30})
    assert member.body["data"]["workspace"]["invitations"] is None
    assert member.body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    mine = _page(await parity_of(world.h("stranger")).both(TO_ME, {"first": 30}))
    assert mine is not None
    assert mine["totalCount"] == 2  # by account and by address; not lapsed or answered ones
    viewer = _page(await parity_of(world.h("viewer")).both(TO_ME, {"first": 30}))
    assert viewer is not None
    assert viewer["totalCount"] == 1


async def test_rest_reads_are_one_statement(client: httpx.AsyncClient, world: World) -> None:
    admin, stranger = world.h("admin"), world.h("stranger")
    base = "/api/v1/workspaces/acme/invitations"
    with count_sql() as sql:
        listed = await client.get(f"{base}?limit=2", headers=admin)
    assert listed.status_code == 200, listed.text
    assert sql.count == 2, sql  # the caller, then the page
    following = await client.get(
        f"{base}?limit=30&cursor={listed.json()['next_cursor']}", headers=admin
    )
    assert len(listed.json()["items"]) + len(following.json()["items"]) == 6
    first = listed.json()["items"][0]
    with count_sql() as sql:
        one = await client.get(f"{base}/{first['id']}", headers=admin)
    assert sql.count == 2, sql
    assert one.json() == first
    assert one.headers["etag"] == f'"v{first["version"]}"'
    cached = await client.get(
        f"{base}/{first['id']}", headers={**admin, "If-None-Match": one.headers["etag"]}
    )
    assert cached.status_code == 304
    for who, status in (("member", 403), ("stranger", 404)):
        refused = await client.get(f"{base}/{first['id']}", headers=world.h(who))
        assert refused.status_code == status, (who, refused.text)
        refused = await client.get(base, headers=world.h(who))
        assert refused.status_code == status, (who, refused.text)
    with count_sql() as sql:
        mine = await client.get("/api/v1/me/invitations", headers=stranger)
    assert sql.count == 2, sql
    assert [i["workspace"]["slug"] for i in mine.json()["items"]] == ["acme", "acme"]
    for query, caller in ((OF_ACME, admin), (TO_ME, stranger)):
        with count_sql() as sql:
            answer = await client.post("/graphql", json={"query": query}, headers=caller)
        assert answer.json().get("errors") is None, answer.text
        assert sql.count == 1, sql  # compiled: the statement checks the caller itself
    declined = await client.post(
        f"/api/v1/me/invitations/{mine.json()['items'][0]['id']}/decline", headers=stranger
    )
    assert declined.status_code == 200, declined.text
    assert declined.json()["state"] == "declined"
    assert declined.json()["responded_at"] is not None
