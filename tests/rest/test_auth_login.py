"""`POST /api/v1/auth/token`: the password grant and its uniform failures (throttling is in
test_auth_throttle.py)."""

from __future__ import annotations

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI

from gateway.security import passwords
from models import RefreshToken, User
from tests.auth_helpers import (
    PASSWORD,
    make_user,
    sign_in,
    without_request_id,
)


async def test_sign_in_by_username_and_by_email(app: FastAPI, client: httpx.AsyncClient) -> None:
    ada = await make_user("ada")
    for name in ("ada", "ADA", "ada@example.com", " Ada@Example.COM "):
        response = await sign_in(client, name)
        assert response.status_code == 200, (name, response.text)
        body = response.json()
        assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token"}
        assert body["token_type"] == "bearer"
        assert body["expires_in"] == app.state.settings.access_token_ttl_seconds
        assert body["refresh_token"].startswith("sy_rt_")
        assert response.headers["cache-control"] == "no-store"
        me = await client.get(
            "/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"}
        )
        assert me.json()["username"] == "ada"
    assert await RefreshToken.filter(user_id=ada.id).count() == 4


async def test_unknown_user_wrong_password_and_inactive_look_the_same(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    await make_user("ada")
    await make_user("zed", active=False)
    verifications: list[str] = []
    real_verify = passwords._verify

    def counting_verify(password_hash: str, password: str) -> bool:
        verifications.append(password_hash)
        return real_verify(password_hash, password)

    monkeypatch.setattr(passwords, "_verify", counting_verify)
    answers = []
    for name, password in (
        ("ada", "wrong-password"),
        ("nobody", "wrong-password"),
        ("zed", PASSWORD),
    ):
        verifications.clear()
        response = await sign_in(client, name, password)
        # Exactly one Argon2 verification on every path: the same work, so the same time.
        assert len(verifications) == 1, name
        answers.append(
            (
                response.status_code,
                without_request_id(response.json()),
                response.headers.get("www-authenticate"),
            )
        )
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][0] == 401
    assert answers[0][1]["code"] == "UNAUTHENTICATED"
    assert answers[0][2] == "Bearer"


async def test_form_fields_are_required(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/auth/token", data={"username": "ada"})
    assert response.status_code == 422
    assert response.json()["code"] == "VALIDATION_FAILED"
    wrong_grant = await client.post(
        "/api/v1/auth/token",
        data={"grant_type": "client_credentials", "username": "ada", "password": PASSWORD},
    )
    assert wrong_grant.status_code == 422


async def test_outdated_hash_is_upgraded_on_sign_in(client: httpx.AsyncClient) -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    ada = await make_user("ada")
    await User.filter(id=ada.id).update(password_hash=weak)
    assert passwords.needs_rehash(weak)
    assert (await sign_in(client, "ada")).status_code == 200
    upgraded = (await User.get(id=ada.id)).password_hash
    assert upgraded != weak
    assert not passwords.needs_rehash(upgraded)
    assert (await sign_in(client, "ada")).status_code == 200
    assert (await User.get(id=ada.id)).password_hash == upgraded
