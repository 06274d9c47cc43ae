"""Refresh-token rotation, reuse detection and sign-out (`/api/v1/auth/refresh`, `/logout`)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from gateway.security.opaque import digest
from models import RefreshToken, User
from tests.auth_helpers import make_user, sign_in, use_memory_throttle

REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"


@pytest.fixture(autouse=True)
def _throttle(app: FastAPI) -> None:
    use_memory_throttle(app)


async def session(client: httpx.AsyncClient) -> dict[str, Any]:
    await make_user("ada")
    response = await sign_in(client, "ada")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


async def refresh(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post(REFRESH, json={"refresh_token": token})


async def test_refresh_rotates_within_the_family(client: httpx.AsyncClient) -> None:
    first = await session(client)
    response = await refresh(client, first["refresh_token"])
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    second = response.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["token_type"] == "bearer"
    me = await client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {second['access_token']}"}
    )
    assert me.status_code == 200
    old = await RefreshToken.get(token_hash=digest(first["refresh_token"]))
    new = await RefreshToken.get(token_hash=digest(second["refresh_token"]))
    assert old.used_at is not None
    assert old.revoked_at is None
    assert new.used_at is None
    assert new.family_id == old.family_id
    # Only hashes are stored.
    assert await RefreshToken.filter(token_hash=first["refresh_token"]).count() == 0
    third = await refresh(client, second["refresh_token"])
    assert third.status_code == 200


async def test_reuse_revokes_the_whole_family(client: httpx.AsyncClient) -> None:
    first = await session(client)
    second = (await refresh(client, first["refresh_token"])).json()
    other_session = (await sign_in(client, "ada")).json()

    replay = await refresh(client, first["refresh_token"])
    assert replay.status_code == 401
    assert replay.json()["code"] == "UNAUTHENTICATED"
    assert replay.headers["www-authenticate"] == "Bearer"
    # The newer token of the same family dies with it; another sign-in's family does not.
    assert (await refresh(client, second["refresh_token"])).status_code == 401
    assert (await refresh(client, other_session["refresh_token"])).status_code == 200


async def test_concurrent_use_of_one_token_wins_once(client: httpx.AsyncClient) -> None:
    first = await session(client)
    answers = await asyncio.gather(*(refresh(client, first["refresh_token"]) for _ in range(3)))
    codes = sorted(a.status_code for a in answers)
    # One rotation; every other presentation is reuse and revokes the family (the new
    # token included).
    assert codes == [200, 401, 401]
    live = await RefreshToken.filter(revoked_at__isnull=True, used_at__isnull=True).count()
    assert live == 0


async def test_expired_refresh_token(client: httpx.AsyncClient) -> None:
    first = await session(client)
    await RefreshToken.filter(token_hash=digest(first["refresh_token"])).update(
        expires_at=datetime.now(UTC) - timedelta(seconds=1)
    )
    assert (await refresh(client, first["refresh_token"])).status_code == 401


async def test_inactive_user_cannot_refresh(client: httpx.AsyncClient) -> None:
    first = await session(client)
    await User.filter(username="ada").update(is_active=False)
    assert (await refresh(client, first["refresh_token"])).status_code == 401


@pytest.mark.parametrize(
    "body",
    [{}, {"refresh_token": 5}, {"refresh_token": "x", "extra": 1}, ["x"]],
)
async def test_refresh_body_is_strict(client: httpx.AsyncClient, body: Any) -> None:
    response = await client.post(REFRESH, json=body)
    assert response.status_code == 422
    assert response.json()["code"] == "VALIDATION_FAILED"


async def test_unknown_refresh_token(client: httpx.AsyncClient) -> None:
    assert (await refresh(client, "sy_rt_made-up")).status_code == 401


async def test_logout_revokes_the_family(client: httpx.AsyncClient) -> None:
    first = await session(client)
    second = (await refresh(client, first["refresh_token"])).json()
    # Signing out with the spent predecessor still ends the session it belongs to.
    response = await client.post(LOGOUT, json={"refresh_token": first["refresh_token"]})
    assert response.status_code == 204
    assert response.content == b""
    assert (await refresh(client, second["refresh_token"])).status_code == 401
    again = await client.post(LOGOUT, json={"refresh_token": second["refresh_token"]})
    assert again.status_code == 204
    unknown = await client.post(LOGOUT, json={"refresh_token": "sy_rt_made-up"})
    assert unknown.status_code == 401
    assert await RefreshToken.filter(revoked_at__isnull=True).count() == 0


async def test_refresh_token_is_not_a_bearer_credential(client: httpx.AsyncClient) -> None:
    first = await session(client)
    response = await client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {first['refresh_token']}"}
    )
    assert response.status_code == 401
