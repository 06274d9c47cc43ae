"""Accounts: sign-up, `GET /me`, `GET /users/{username}` and the GraphQL `viewer`."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from gateway.core.ids import to_global_id
from models import User
from tests.auth_helpers import (
    bearer,
    gql,
    make_user,
    sign_in,
    use_memory_throttle,
)

SIGNUP = "/api/v1/users"
GOOD = {"email": "Ada@Example.COM", "username": "ada", "password": "s3cret-enough"}


@pytest.fixture(autouse=True)
def _throttle(app: FastAPI) -> None:
    use_memory_throttle(app)


# ---- sign-up ----


async def test_sign_up_creates_a_user_who_can_sign_in(client: httpx.AsyncClient) -> None:
    response = await client.post(SIGNUP, json={**GOOD, "display_name": "  Ada L.  "})
    assert response.status_code == 201, response.text
    body = response.json()
    user = await User.get(username="ada")
    assert body == {
        "node_id": to_global_id("User", user.id),
        "username": "ada",
        "email": "Ada@example.com",  # email-validator lower-cases the domain only
        "display_name": "Ada L.",
        "is_site_admin": False,
        "version": 1,
        "created_at": body["created_at"],
    }
    assert response.headers["location"] == "/api/v1/users/ada"
    assert user.email_key == "ada@example.com"
    assert user.password_hash.startswith("$argon2id$")
    assert "password_hash" not in response.text
    assert user.password_hash not in response.text
    assert (await sign_in(client, "ada", GOOD["password"])).status_code == 200


async def test_sign_up_folds_username_case(client: httpx.AsyncClient) -> None:
    response = await client.post(SIGNUP, json={**GOOD, "username": "Ada-99"})
    assert response.status_code == 201
    assert response.json()["username"] == "ada-99"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"username": "ADA"}, "username"),
        ({"email": "ADA@example.com"}, "email"),
    ],
)
async def test_duplicate_username_or_email_is_conflict(
    client: httpx.AsyncClient, change: dict[str, str], field: str
) -> None:
    assert (await client.post(SIGNUP, json=GOOD)).status_code == 201
    other = {"email": "someone@else.org", "username": "someone", "password": "long-enough"}
    response = await client.post(SIGNUP, json={**other, **change})
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "CONFLICT"
    assert [e["field"] for e in body["errors"]] == [field]
    assert await User.all().count() == 1


async def test_database_uniqueness_is_conflict_even_past_the_check(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two sign-ups racing: both pass the pre-check, the database refuses the second."""
    assert (await client.post(SIGNUP, json=GOOD)).status_code == 201
    from gateway.repositories import users as users_repo

    async def never_taken(*_: object, **__: object) -> bool:
        return False

    monkeypatch.setattr(users_repo, "username_taken", never_taken)
    monkeypatch.setattr(users_repo, "email_taken", never_taken)
    response = await client.post(SIGNUP, json={**GOOD, "username": "ada2"})
    assert response.status_code == 409, response.text
    assert response.json()["code"] == "CONFLICT"
    monkeypatch.undo()
    assert await User.all().count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"username": "a"}, "username"),
        ({"username": "a" * 40}, "username"),
        ({"username": "al_ice"}, "username"),
        ({"username": "al ice"}, "username"),
        ({"email": "not-an-email"}, "email"),
        ({"password": "short"}, "password"),
        ({"password": "x" * 257}, "password"),
        ({"display_name": "x" * 101}, "display_name"),
    ],
)
async def test_sign_up_rules(client: httpx.AsyncClient, change: dict[str, str], field: str) -> None:
    response = await client.post(SIGNUP, json={**GOOD, **change})
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "VALIDATION_FAILED"
    assert [e["field"] for e in body["errors"]] == [field]
    assert await User.all().count() == 0


async def test_sign_up_lists_every_failing_field(client: httpx.AsyncClient) -> None:
    response = await client.post(SIGNUP, json={"email": "x", "username": "_", "password": "1"})
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"username", "email", "password"}


@pytest.mark.parametrize(
    "body",
    [
        {**GOOD, "is_site_admin": True},  # unknown field: no privilege escalation by body
        {**GOOD, "username": 123},
        {**GOOD, "password": ["s3cret-enough"]},
        {**GOOD, "display_name": 5},
        {"email": GOOD["email"], "username": "ada"},  # no password
    ],
)
async def test_sign_up_body_is_strict(client: httpx.AsyncClient, body: dict[str, Any]) -> None:
    response = await client.post(SIGNUP, json=body)
    assert response.status_code == 422
    assert response.json()["code"] == "VALIDATION_FAILED"
    assert await User.all().count() == 0


async def test_sign_up_disabled_is_forbidden(
    app: FastAPI, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app.state.settings, "signup_enabled", False)
    response = await client.post(SIGNUP, json=GOOD)
    assert response.status_code == 403
    assert response.json()["code"] == "FORBIDDEN"
    assert await User.all().count() == 0


# ---- reading users ----


async def test_me_shows_own_email(app: FastAPI, client: httpx.AsyncClient) -> None:
    ada = await make_user("ada")
    response = await client.get("/api/v1/me", headers=bearer(app, ada))
    assert response.status_code == 200
    assert response.json()["email"] == "ada@example.com"
    assert response.json()["node_id"] == to_global_id("User", ada.id)


async def test_other_users_email_only_to_site_admins(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await make_user("ada")
    bob = await make_user("bob")
    root = await make_user("root", site_admin=True)
    as_bob = await client.get("/api/v1/users/ada", headers=bearer(app, bob))
    assert as_bob.status_code == 200
    assert as_bob.json()["email"] is None
    as_root = await client.get("/api/v1/users/ADA", headers=bearer(app, root))
    assert as_root.json()["email"] == "ada@example.com"
    missing = await client.get("/api/v1/users/nobody", headers=bearer(app, bob))
    assert missing.status_code == 404


async def test_graphql_viewer(app: FastAPI, client: httpx.AsyncClient) -> None:
    ada = await make_user("ada")
    body = await gql(
        client,
        "{ viewer { id username displayName email isSiteAdmin createdAt } }",
        bearer(app, ada),
    )
    viewer = body["data"]["viewer"]
    assert viewer["id"] == to_global_id("User", ada.id)
    assert viewer["username"] == "ada"
    assert viewer["displayName"] == "Ada"
    assert viewer["email"] == "ada@example.com"
    assert viewer["isSiteAdmin"] is False


async def test_graphql_viewer_anonymous(client: httpx.AsyncClient) -> None:
    body = await gql(client, "{ viewer { id } }")
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_node_fetches_users(app: FastAPI, client: httpx.AsyncClient) -> None:
    ada = await make_user("ada")
    bob = await make_user("bob")
    gone = await make_user("gone", active=False)
    ids = [to_global_id("User", u.id) for u in (bob, ada, gone)] + [to_global_id("User", 10**9)]
    body = await gql(
        client,
        "query($ids: [ID!]!) { nodes(ids: $ids) { id ... on User { username email } } }",
        bearer(app, ada),
        {"ids": ids},
    )
    assert body["data"]["nodes"] == [
        {"id": ids[0], "username": "bob", "email": None},
        {"id": ids[1], "username": "ada", "email": "ada@example.com"},
        None,
        None,
    ]
    single = await gql(
        client,
        "query($id: ID!) { node(id: $id) { __typename id } }",
        bearer(app, bob),
        {"id": ids[1]},
    )
    assert single["data"]["node"] == {"__typename": "User", "id": ids[1]}
