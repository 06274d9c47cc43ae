"""Events are written in the same transaction as their change: one per workspace, invitation and
member change, none when the change is refused, and neither survives without the other."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from tortoise.transactions import in_transaction

from gateway.core.ids import to_global_id
from gateway.repositories import events as event_repo
from gateway.services import recording
from gateway.services.recording import EventType
from models import Event, Invitation, InvitationState, Membership, User, Workspace
from tests.auth_helpers import bearer, join, make_user

WORKSPACES = "/api/v1/workspaces"
MEMBERS = "/api/v1/workspaces/acme/members"
INVITATIONS = "/api/v1/workspaces/acme/invitations"


async def log() -> list[tuple[str, str, int | None, dict[str, Any]]]:
    rows = await Event.all().order_by("id")
    return [(e.type, e.subject_id, e.actor_id, e.data) for e in rows]  # type: ignore[attr-defined]


@pytest.fixture
async def ann(app: FastAPI, client: httpx.AsyncClient) -> User:
    """ann, owner of `acme` (created through the API, so one `workspace.created` exists)."""
    user = await make_user("ann")
    response = await client.post(
        WORKSPACES, json={"slug": "acme", "name": "Acme"}, headers=bearer(app, user)
    )
    assert response.status_code == 201
    return user


async def test_each_change_records_its_event(
    app: FastAPI, client: httpx.AsyncClient, ann: User
) -> None:
    bob = await make_user("bob")
    owner = bearer(app, ann)
    workspace = await Workspace.get(slug="acme")
    ws_id = to_global_id("Workspace", workspace.id)
    await client.patch(f"{WORKSPACES}/acme", json={"name": "Acme 2"}, headers=owner)
    await client.patch(f"{WORKSPACES}/acme", json={"name": "Acme 2"}, headers=owner)  # no-op
    invited = await client.post(
        INVITATIONS, json={"username": "bob", "role": "viewer"}, headers=owner
    )
    i_id = invited.json()["node_id"]
    accepted = await client.post(
        f"/api/v1/me/invitations/{invited.json()['id']}/accept", headers=bearer(app, bob)
    )
    assert accepted.status_code == 200, accepted.text
    membership = await Membership.get(user_id=bob.id)
    m_id = to_global_id("Membership", membership.id)
    await client.patch(f"{MEMBERS}/bob", json={"role": "admin"}, headers=owner)
    await client.patch(f"{MEMBERS}/bob", json={"role": "admin"}, headers=owner)  # no-op
    await client.delete(f"{MEMBERS}/bob", headers=owner)

    bob_ref = {"user_id": to_global_id("User", bob.id), "username": "bob"}
    assert await log() == [
        ("workspace.created", ws_id, ann.id, {"slug": "acme", "name": "Acme"}),
        (
            "workspace.updated",
            ws_id,
            ann.id,
            {"changes": {"name": {"from": "Acme", "to": "Acme 2"}}},
        ),
        ("member.invited", i_id, ann.id, {**bob_ref, "role": "viewer"}),
        ("member.added", m_id, bob.id, {**bob_ref, "role": "viewer", "invitation_id": i_id}),
        ("member.role_changed", m_id, ann.id, {**bob_ref, "from": "viewer", "to": "admin"}),
        ("member.removed", m_id, ann.id, {**bob_ref, "role": "admin"}),
    ]
    assert await Event.filter(workspace_id=workspace.id).count() == 6


async def test_refused_changes_record_nothing(
    app: FastAPI, client: httpx.AsyncClient, ann: User
) -> None:
    owner = bearer(app, ann)
    vic = await make_user("vic")
    await join("acme", ann, vic, "viewer")
    before = await log()

    attempts = [
        client.post(INVITATIONS, json={"username": "vic"}, headers=owner),  # 409 a member
        client.post(INVITATIONS, json={"username": "nobody"}, headers=owner),  # 422 no user
        client.post(INVITATIONS, json={"username": "ann"}, headers=bearer(app, vic)),  # 403
        client.delete(f"{MEMBERS}/ann", headers=owner),  # 409 last owner
        client.patch(f"{MEMBERS}/ann", json={"role": "viewer"}, headers=owner),  # 409
        client.patch(f"{WORKSPACES}/acme", json={"name": "X"}, headers=bearer(app, vic)),  # 403
        client.post(WORKSPACES, json={"slug": "acme", "name": "Again"}, headers=owner),  # 409
    ]
    statuses = [(await attempt).status_code for attempt in attempts]
    assert statuses == [409, 422, 403, 409, 409, 403, 409]
    assert await log() == before
    assert await Workspace.all().count() == 1


async def test_a_failing_event_undoes_its_change(
    app: FastAPI, client: httpx.AsyncClient, ann: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The other direction: when the event cannot be written, the change is rolled back."""
    bob = await make_user("bob")
    await make_user("carl")
    owner = bearer(app, ann)
    invited = await client.post(INVITATIONS, json={"username": "bob"}, headers=owner)

    async def broken(*_: object, **__: object) -> int:
        raise RuntimeError("event store down")

    monkeypatch.setattr(event_repo, "insert", broken)
    accept = f"/api/v1/me/invitations/{invited.json()['id']}/accept"
    assert (await client.post(accept, headers=bearer(app, bob))).status_code == 500
    refused = await client.post(INVITATIONS, json={"username": "carl"}, headers=owner)
    assert refused.status_code == 500
    created = await client.post(WORKSPACES, json={"slug": "beta", "name": "B"}, headers=owner)
    assert created.status_code == 500
    assert await Membership.filter(user__username="bob").count() == 0
    invitation = await Invitation.get(id=invited.json()["id"])
    assert (invitation.state, invitation.version) == (InvitationState.pending, 1)
    assert await Invitation.filter(invitee__username="carl").count() == 0
    assert await Workspace.filter(slug="beta").count() == 0


async def test_record_rolls_back_with_its_transaction(ann: User) -> None:
    workspace = await Workspace.get(slug="acme")

    async def change_that_fails() -> None:
        async with in_transaction() as db:
            await recording.record(
                workspace.id, ann.id, EventType.workspace_updated, "x", db=db, data={"a": 1}
            )
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        await change_that_fails()
    assert await Event.filter(type="workspace.updated").count() == 0

    async with in_transaction() as db:
        event_id = await recording.record(
            workspace.id, ann.id, EventType.issue_created, "y", db=db, project_id=7, issue_id=9
        )
    stored = await Event.get(id=event_id)
    assert (stored.type, stored.project_id, stored.issue_id, stored.data) == (
        "issue.created",
        7,
        9,
        {},
    )
