"""Invitations over REST: `/api/v1/workspaces/{slug}/invitations` and `/api/v1/me/invitations`.

The flow (invite, list, accept or decline, revoke), email invitations that reveal nothing about
accounts, expiry, conflicts, who may see and answer an invitation, conditional requests, input
caps and token scopes. Role-by-role permissions are in `test_workspace_roles.py`; GraphQL and
its parity with REST in `test_invitations_graphql.py`.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from gateway.core.ids import to_global_id
from models import Event, Invitation, InvitationState, Membership, Role, User
from tests.auth_helpers import PASSWORD, bearer, join, make_pat, make_user, sign_in
from tests.helpers import create_workspace, role_of

INVITATIONS = "/api/v1/workspaces/acme/invitations"
MINE = "/api/v1/me/invitations"


@pytest.fixture
async def acme(app: FastAPI, client: httpx.AsyncClient) -> dict[str, User]:
    """`acme` owned by ann (through the API) with member mia; bob and carl belong nowhere."""
    users = {n: await make_user(n) for n in ("ann", "mia", "bob", "carl")}
    await create_workspace(app, client, users["ann"])
    await join("acme", users["ann"], users["mia"])
    return users


async def invite(
    app: FastAPI, client: httpx.AsyncClient, by: User, body: dict[str, Any]
) -> httpx.Response:
    return await client.post(INVITATIONS, json=body, headers=bearer(app, by))


async def answer(
    app: FastAPI, client: httpx.AsyncClient, user: User, invitation_id: int, verb: str = "accept"
) -> httpx.Response:
    return await client.post(f"{MINE}/{invitation_id}/{verb}", headers=bearer(app, user))


async def test_invite_then_accept(
    app: FastAPI, client: httpx.AsyncClient, acme: dict[str, User]
) -> None:
    ann, bob = acme["ann"], acme["bob"]
    sent = await invite(app, client, ann, {"username": " Bob ", "role": "admin"})
    assert sent.status_code == 201, sent.text
    body = sent.json()
    invitation = await Invitation.get(id=body["id"])
    assert sent.headers["location"] == f"{INVITATIONS}/{invitation.id}"
    assert body["node_id"] == to_global_id("Invitation", invitation.id)
    assert body["workspace"]["slug"] == "acme"
    assert (body["role"], body["state"], body["email"], body["version"]) == (
        "admin",
        "pending",
        None,
        1,
    )
    assert body["invitee"] == {
        "node_id": to_global_id("User", bob.id),
        "username": "bob",
        "display_name": bob.display_name,
    }
    assert body["inviter"]["username"] == "ann"
    lifetime = datetime.fromisoformat(body["expires_at"]) - datetime.now(UTC)
    assert timedelta(days=6, hours=23) < lifetime <= timedelta(days=7)
    assert await role_of(bob) is None  # nobody joins without accepting

    one = await client.get(sent.headers["location"], headers=bearer(app, ann))
    assert one.json() == body
    assert one.headers["etag"] == '"v1"'
    cached = await client.get(
        sent.headers["location"], headers={**bearer(app, ann), "If-None-Match": '"v1"'}
    )
    assert cached.status_code == 304
    listed = await client.get(INVITATIONS, headers=bearer(app, ann))
    assert listed.json()["items"] == [body]
    assert (await client.get(MINE, headers=bearer(app, bob))).json()["items"] == [body]

    accepted = await answer(app, client, bob, body["id"])
    assert accepted.status_code == 200, accepted.text
    membership = await Membership.get(workspace__slug="acme", user_id=bob.id)
    assert accepted.json()["node_id"] == to_global_id("Membership", membership.id)
    assert (accepted.json()["role"], accepted.json()["user"]["username"]) == ("admin", "bob")
    assert await role_of(bob) == Role.admin

    after = await client.get(sent.headers["location"], headers=bearer(app, ann))
    assert (after.json()["state"], after.json()["version"]) == ("accepted", 2)
    assert after.json()["responded_at"] is not None
    assert after.headers["etag"] == '"v2"'
    assert (await client.get(INVITATIONS, headers=bearer(app, ann))).json()["items"] == []
    assert (await client.get(MINE, headers=bearer(app, bob))).json()["items"] == []
    types = await Event.all().order_by("id").values_list("type", "actor_id")
    assert types[-2:] == [("member.invited", ann.id), ("member.added", bob.id)]


async def test_decline_and_revoke_are_final(
    app: FastAPI, client: httpx.AsyncClient, acme: dict[str, User]
) -> None:
    ann, bob, carl = acme["ann"], acme["bob"], acme["carl"]
    to_bob = (await invite(app, client, ann, {"username": "bob"})).json()
    to_carl = (await invite(app, client, ann, {"username": "carl"})).json()

    declined = await answer(app, client, bob, to_bob["id"], "decline")
    assert declined.status_code == 200
    assert (declined.json()["state"], declined.json()["version"]) == ("declined", 2)
    revoked = await client.delete(f"{INVITATIONS}/{to_carl['id']}", headers=bearer(app, ann))
    assert revoked.status_code == 204
    assert (await Invitation.get(id=to_carl["id"])).state == InvitationState.revoked

    for user, invitation in ((bob, to_bob), (carl, to_carl)):
        for verb in ("accept", "decline"):
            refused = await answer(app, client, user, invitation["id"], verb)
            assert refused.status_code == 409, refused.text
            assert refused.json()["code"] == "CONFLICT"
        again = await client.delete(f"{INVITATIONS}/{invitation['id']}", headers=bearer(app, ann))
        assert again.status_code == 409
    assert await role_of(bob) is None
    assert await role_of(carl) is None
    assert await Membership.filter(workspace__slug="acme").count() == 2


async def test_email_invitation_reveals_nothing(
    app: FastAPI, client: httpx.AsyncClient, acme: dict[str, User]
) -> None:
    """An address with an account and one without get the same answer, and no username."""
    known = await invite(app, client, acme["ann"], {"email": "Carl@Example.com"})
    unknown = await invite(app, client, acme["ann"], {"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 201
    assert "carl" not in known.text.replace("carl@example.com", "")
    varying = ("id", "node_id", "email", "expires_at", "created_at", "updated_at")

    def shape(body: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in body.items() if k not in varying}

    assert shape(known.json()) == shape(unknown.json())
    assert (known.json()["email"], known.json()["invitee"]) == ("carl@example.com", None)
    assert set(known.headers) == set(unknown.headers)

    # A second invitation to either address is the same conflict.
    again = [
        await invite(app, client, acme["ann"], {"email": e})
        for e in ("carl@example.com", "NOBODY@example.com")
    ]
    assert [r.status_code for r in again] == [409, 409]
    assert again[0].json()["detail"] == again[1].json()["detail"]
    invited = await Event.filter(type="member.invited").order_by("id")
    assert [e.data for e in invited[-2:]] == [{"role": "member"}, {"role": "member"}]


async def test_sign_up_after_an_email_invitation_can_accept(
    app: FastAPI, client: httpx.AsyncClient, acme: dict[str, User]
) -> None:
    sent = await invite(app, client, acme["ann"], {"email": "dora@example.com", "role": "viewer"})
    signed_up = await client.post(
        "/api/v1/users",
        json={"email": "Dora@EXAMPLE.com", "username": "dora", "password": PASSWORD},
    )
    assert signed_up.status_code == 201, signed_up.text
    token = (await sign_in(client, "dora")).json()["access_token"]
    dora = {"Authorization": f"Bearer {token}"}
    mine = (await client.get(MINE, headers=dora)).json()["items"]
    assert [i["id"] for i in mine] == [sent.json()["id"]]
    accepted = await client.post(f"{MINE}/{sent.json()['id']}/accept", headers=dora)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["role"] == "viewer"
    assert (await client.get("/api/v1/workspaces/acme", headers=dora)).status_code == 200


async def test_expired_invitation(
    app: FastAPI, client: httpx.AsyncClient, acme: dict[str, User]
) -> None:
    ann, bob = acme["ann"], acme["bob"]
    sent = (await invite(app, client, ann, {"username": "bob"})).json()
    await Invitation.filter(id=sent["id"]).update(
        expires_at=datetime.now(UTC) - timedelta(seconds=1)
    )
    read = await client.get(f"{INVITATIONS}/{sent['id']}", headers=bearer(app, ann))
    assert read.json()["state"] == "expired"
    assert (await client.get(MINE, headers=bearer(app, bob))).json()["items"] == []
    late = await answer(app, client, bob, sent["id"])
    assert late.status_code == 409
    assert "expired" in late.json()["detail"]
    assert await role_of(bob) is None
    # An admin still sees the lapsed one, may send a fresh one and revoke the old.
    listed = (await client.get(INVITATIONS, headers=bearer(app, ann))).json()["items"]
    assert [i["state"] for i in listed] == ["expired"]
    assert (await invite(app, client, ann, {"username": "bob"})).status_code == 201
    revoked = await client.delete(f"{INVITATIONS}/{sent['id']}", headers=bearer(app, ann))
    assert revoked.status_code == 204


async def test_conflicts(app: FastAPI, client: httpx.AsyncClient, acme: dict[str, User]) -> None:
    ann, mia = acme["ann"], acme["mia"]
    member = await invite(app, client, ann, {"username": "mia"})
    assert member.status_code == 409
    assert member.json()["code"] == "CONFLICT"
    assert (await invite(app, client, ann, {"username": "bob"})).status_code == 201
    assert (await invite(app, client, ann, {"username": "bob", "role": "admin"})).status_code == 409
    # By email a member's address is not looked up (that would reveal it); accepting is refused.
    by_email = await invite(app, client, ann, {"email": "mia@example.com", "role": "admin"})
    assert by_email.status_code == 201
    refused = await answer(app, client, mia, by_email.json()["id"])
    assert refused.status_code == 409
    assert await role_of(mia) == Role.member
    assert (await Invitation.get(id=by_email.json()["id"])).state == InvitationState.pending
    assert await Invitation.filter(state=InvitationState.pending).count() == 2


async def test_only_the_invitee_sees_and_answers(
    app: FastAPI, client: httpx.AsyncClient, acme: dict[str, User]
) -> None:
    ann, carl = acme["ann"], acme["carl"]
    root = await make_user("root", site_admin=True)
    by_name = (await invite(app, client, ann, {"username": "bob"})).json()
    by_email = (await invite(app, client, ann, {"email": "bob@example.com"})).json()
    missing = await answer(app, client, carl, 10**9)
    assert missing.status_code == 404
    for other in (carl, root, acme["mia"], ann):
        assert (await client.get(MINE, headers=bearer(app, other))).json()["items"] == []
        for invitation in (by_name, by_email):
            for verb in ("accept", "decline"):
                refused = await answer(app, client, other, invitation["id"], verb)
                assert refused.status_code == 404, (other.username, refused.text)
                assert refused.json()["detail"] == missing.json()["detail"]
    outsider = await client.get(f"{INVITATIONS}/{by_name['id']}", headers=bearer(app, carl))
    assert outsider.status_code == 404
    assert await Invitation.filter(state=InvitationState.pending).count() == 2
    bob_sees = (await client.get(MINE, headers=bearer(app, acme["bob"]))).json()["items"]
    assert {i["id"] for i in bob_sees} == {by_name["id"], by_email["id"]}


async def test_revoke_honours_if_match(
    app: FastAPI, client: httpx.AsyncClient, acme: dict[str, User]
) -> None:
    owner = bearer(app, acme["ann"])
    sent = (await invite(app, client, acme["ann"], {"username": "bob"})).json()
    path = f"{INVITATIONS}/{sent['id']}"
    stale = await client.delete(path, headers={**owner, "If-Match": '"v999"'})
    assert stale.status_code == 412
    assert (await Invitation.get(id=sent["id"])).state == InvitationState.pending
    assert (await client.delete(path, headers={**owner, "If-Match": '"v1"'})).status_code == 204


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"username", "email"}),
        ({"username": "bob", "email": "bob@example.com"}, {"username", "email"}),
        ({"username": "nobody"}, {"username"}),
        ({"username": "gone"}, {"username"}),
        ({"username": "b" * 40}, {"username"}),
        ({"username": "bo\u0000b"}, {"username"}),
        ({"username": 7}, {"username"}),
        ({"email": "not-an-address"}, {"email"}),
        ({"email": "a\u0000b@example.com"}, {"email"}),
        ({"email": "a" * 250 + "@example.com"}, {"email"}),
        ({"username": "bob", "role": "boss"}, {"role"}),
        ({"username": "bob", "role": "ADMIN"}, {"role"}),
        ({"username": "bob", "admin": True}, {"admin"}),
    ],
)
async def test_invite_rejects_bad_input(
    app: FastAPI,
    client: httpx.AsyncClient,
    acme: dict[str, User],
    body: dict[str, Any],
    fields: set[str],
) -> None:
    await make_user("gone", active=False)
    response = await invite(app, client, acme["ann"], body)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "VALIDATION_FAILED"
    assert {e["field"] for e in response.json()["errors"]} == fields
    assert await Invitation.filter(state=InvitationState.pending).count() == 0


async def test_huge_invitation_ids_are_refused_not_crashed(
    app: FastAPI, client: httpx.AsyncClient, acme: dict[str, User]
) -> None:
    huge = "9" * 30
    for response in (
        await client.get(f"{INVITATIONS}/{huge}", headers=bearer(app, acme["ann"])),
        await client.post(f"{MINE}/{huge}/accept", headers=bearer(app, acme["bob"])),
    ):
        assert response.status_code in (404, 422), response.text


async def test_token_scopes(app: FastAPI, client: httpx.AsyncClient, acme: dict[str, User]) -> None:
    """Inviting, revoking, accepting and declining change memberships: `admin` scope. Reading
    needs only `read`."""
    _, ann_write = await make_pat(acme["ann"], ["write"])
    _, ann_read = await make_pat(acme["ann"], ["read"])
    _, bob_write = await make_pat(acme["bob"], ["write"])
    _, bob_admin = await make_pat(acme["bob"], ["admin"])
    refused = await client.post(INVITATIONS, json={"username": "bob"}, headers=ann_write)
    assert refused.status_code == 403
    assert "'admin' scope" in refused.json()["detail"]
    sent = (await invite(app, client, acme["ann"], {"username": "bob"})).json()
    assert (await client.get(INVITATIONS, headers=ann_read)).json()["items"][0]["id"] == sent["id"]
    revoke = await client.delete(f"{INVITATIONS}/{sent['id']}", headers=ann_write)
    assert revoke.status_code == 403
    assert (await client.get(MINE, headers=bob_write)).json()["items"][0]["id"] == sent["id"]
    for verb in ("accept", "decline"):
        denied = await client.post(f"{MINE}/{sent['id']}/{verb}", headers=bob_write)
        assert denied.status_code == 403
        assert "'admin' scope" in denied.json()["detail"]
    assert await role_of(acme["bob"]) is None
    joined = await client.post(f"{MINE}/{sent['id']}/accept", headers=bob_admin)
    assert joined.status_code == 200
    assert await role_of(acme["bob"]) == Role.member


async def test_concurrent_invitations_to_one_person_make_one(
    app: FastAPI, client: httpx.AsyncClient, acme: dict[str, User]
) -> None:
    ann = acme["ann"]
    for body in ({"username": "bob"}, {"email": "someone@example.com"}):
        answers = await asyncio.gather(*(invite(app, client, ann, body) for _ in range(6)))
        assert sorted(a.status_code for a in answers) == [201] + [409] * 5, [
            a.text for a in answers
        ]
    assert await Invitation.filter(state=InvitationState.pending).count() == 2
