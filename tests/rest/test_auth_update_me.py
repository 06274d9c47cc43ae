"""The viewer changing their account: `PATCH /api/v1/me` and GraphQL `updateViewer`, with
the scope and current-password rules they share."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from gateway.security.passwords import verify_password
from gateway.services import login_throttle
from models import RefreshToken, User
from tests.auth_helpers import (
    PASSWORD,
    bearer,
    gql,
    make_pat,
    make_user,
    sign_in,
    use_memory_throttle,
)

VIEWER_MUTATION = """
mutation Update($input: UpdateViewerInput!) {
  updateViewer(input: $input) { user { id username displayName email } }
}
"""


@pytest.fixture(autouse=True)
def _throttle(app: FastAPI) -> None:
    use_memory_throttle(app)


async def test_patch_me_display_name(app: FastAPI, client: httpx.AsyncClient) -> None:
    ada = await make_user("ada")
    response = await client.patch(
        "/api/v1/me", json={"display_name": "  Countess  "}, headers=bearer(app, ada)
    )
    assert response.status_code == 200, response.text
    assert response.json()["display_name"] == "Countess"
    assert (await User.get(id=ada.id)).display_name == "Countess"


async def test_patch_me_password_needs_current_password(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    ada = await make_user("ada")
    headers = bearer(app, ada)
    missing = await client.patch("/api/v1/me", json={"password": "new-password"}, headers=headers)
    assert missing.status_code == 422
    assert [e["field"] for e in missing.json()["errors"]] == ["current_password"]
    wrong = await client.patch(
        "/api/v1/me",
        json={"password": "new-password", "current_password": "wrong-password"},
        headers=headers,
    )
    assert wrong.status_code == 422
    assert [e["field"] for e in wrong.json()["errors"]] == ["current_password"]
    assert await verify_password((await User.get(id=ada.id)).password_hash, PASSWORD)


async def test_patch_me_password_change_signs_out_sessions(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    ada = await make_user("ada")
    session = (await sign_in(client, "ada")).json()
    response = await client.patch(
        "/api/v1/me",
        json={"password": "brand-new-password", "current_password": PASSWORD},
        headers=bearer(app, ada),
    )
    assert response.status_code == 200, response.text
    assert (await sign_in(client, "ada")).status_code == 401
    assert (await sign_in(client, "ada", "brand-new-password")).status_code == 200
    refreshed = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": session["refresh_token"]}
    )
    assert refreshed.status_code == 401
    assert await RefreshToken.filter(user_id=ada.id, revoked_at__isnull=True).count() == 1


async def test_patch_me_email(app: FastAPI, client: httpx.AsyncClient) -> None:
    ada = await make_user("ada")
    await make_user("bob")
    headers = bearer(app, ada)
    taken = await client.patch(
        "/api/v1/me",
        json={"email": "BOB@example.com", "current_password": PASSWORD},
        headers=headers,
    )
    assert taken.status_code == 409
    assert taken.json()["errors"][0]["field"] == "email"
    moved = await client.patch(
        "/api/v1/me",
        json={"email": "Ada@Lovelace.org", "current_password": PASSWORD},
        headers=headers,
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["email"] == "Ada@lovelace.org"
    assert (await User.get(id=ada.id)).email_key == "ada@lovelace.org"
    assert (await sign_in(client, "ADA@LOVELACE.ORG")).status_code == 200


@pytest.mark.parametrize(
    "body",
    [{"display_name": 7}, {"is_site_admin": True}, {"password": True}, ["display_name"]],
)
async def test_patch_me_body_is_strict(app: FastAPI, client: httpx.AsyncClient, body: Any) -> None:
    ada = await make_user("ada")
    response = await client.patch("/api/v1/me", json=body, headers=bearer(app, ada))
    assert response.status_code == 422
    assert (await User.get(id=ada.id)).is_site_admin is False


async def test_wrong_current_password_is_throttled(
    app: FastAPI, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two wrong guesses allowed, then the next waits (the throttle's clock does not move here).
    monkeypatch.setattr(login_throttle, "POLICY", login_throttle.LoginPolicy(free_failures=2))
    ada = await make_user("ada")
    headers = bearer(app, ada)
    guess = {"password": "new-password", "current_password": "guess"}
    for _ in range(2):
        assert (await client.patch("/api/v1/me", json=guess, headers=headers)).status_code == 422
    blocked = await client.patch(
        "/api/v1/me", json={**guess, "current_password": PASSWORD}, headers=headers
    )
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0
    # A stolen session guessing does not lock the owner out of signing in.
    assert (await sign_in(client, "ada")).status_code == 200


async def test_update_viewer_mutation(app: FastAPI, client: httpx.AsyncClient) -> None:
    ada = await make_user("ada")
    body = await gql(
        client, VIEWER_MUTATION, bearer(app, ada), {"input": {"displayName": "Countess"}}
    )
    assert body["data"]["updateViewer"]["user"]["displayName"] == "Countess"
    bad = await gql(
        client, VIEWER_MUTATION, bearer(app, ada), {"input": {"password": "new-password"}}
    )
    assert bad["errors"][0]["extensions"]["code"] == "VALIDATION_FAILED"
    assert bad["errors"][0]["extensions"]["fields"][0]["field"] == "current_password"


async def test_read_token_cannot_write_on_either_api(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    ada = await make_user("ada")
    _, read_only = await make_pat(ada, ["read"])
    rest = await client.patch("/api/v1/me", json={"display_name": "X"}, headers=read_only)
    assert rest.status_code == 403
    assert rest.json()["code"] == "FORBIDDEN"
    assert "'write' scope" in rest.json()["detail"]
    graph = await gql(client, VIEWER_MUTATION, read_only, {"input": {"displayName": "X"}})
    assert graph["data"] == {"updateViewer": None}
    assert graph["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert "'write' scope" in graph["errors"][0]["message"]
    assert (await User.get(id=ada.id)).display_name == "Ada"
    # Reading is fine with the same token.
    assert (await client.get("/api/v1/me", headers=read_only)).status_code == 200
    _, writer = await make_pat(ada, ["write"])
    ok = await client.patch("/api/v1/me", json={"display_name": "X"}, headers=writer)
    assert ok.status_code == 200


async def test_explicit_null_is_refused_on_both_apis(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    ada = await make_user("ada")
    headers = bearer(app, ada)
    rest = await client.patch("/api/v1/me", json={"display_name": None}, headers=headers)
    assert rest.status_code == 422
    assert [e["field"] for e in rest.json()["errors"]] == ["display_name"]
    graph = await gql(client, VIEWER_MUTATION, headers, {"input": {"displayName": None}})
    assert graph["errors"][0]["extensions"]["code"] == "VALIDATION_FAILED"
    assert graph["errors"][0]["extensions"]["fields"][0]["field"] == "display_name"
    assert (await User.get(id=ada.id)).display_name == "Ada"


async def test_empty_patch_changes_nothing(app: FastAPI, client: httpx.AsyncClient) -> None:
    ada = await make_user("ada")
    response = await client.patch("/api/v1/me", json={}, headers=bearer(app, ada))
    assert response.status_code == 200
    assert response.json()["display_name"] == "Ada"
