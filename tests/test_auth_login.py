"""`POST /api/v1/auth/token`: the password grant, its uniform failures and its throttling."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI

from gateway.security import passwords
from gateway.services import auth
from models import RefreshToken, User
from tests.auth_helpers import (
    PASSWORD,
    FakeClock,
    client_at,
    make_user,
    sign_in,
    use_memory_throttle,
    without_request_id,
)


@pytest.fixture
def clock(app: FastAPI) -> FakeClock:
    clock = FakeClock()
    use_memory_throttle(app, clock)
    return clock


@pytest.fixture(autouse=True)
def _fast_policy(clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    """Production limits and windows, without the real waits (one test measures those)."""
    monkeypatch.setattr(auth, "POLICY", auth.LoginPolicy(first_delay=0.0))


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


async def test_account_is_blocked_after_repeated_failures(
    app: FastAPI, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    await make_user("ada")
    limit = auth.POLICY.per_account.block_after
    # Spread over addresses and over username/email: the account counter sees them all.
    for attempt in range(limit):
        name = "ada" if attempt % 2 else "ada@example.com"
        async with client_at(app, f"10.0.0.{attempt}") as elsewhere:
            assert (await sign_in(elsewhere, name, "wrong")).status_code == 401
    blocked = await sign_in(client, "ada")  # the right password, from a fresh address
    assert blocked.status_code == 429
    assert blocked.json()["code"] == "RATE_LIMITED"
    retry_after = int(blocked.headers["retry-after"])
    assert 0 < retry_after <= auth.POLICY.window_seconds
    clock.advance(auth.POLICY.window_seconds - 60)
    assert (await sign_in(client, "ada")).status_code == 429
    clock.advance(61)
    assert (await sign_in(client, "ada")).status_code == 200


async def test_unknown_accounts_are_throttled_like_real_ones(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await make_user("ada")
    limit = auth.POLICY.per_account.block_after
    for name in ("ada", "nobody"):
        for attempt in range(limit):
            async with client_at(app, f"10.1.{len(name)}.{attempt}") as elsewhere:
                assert (await sign_in(elsewhere, name, "wrong")).status_code == 401
    real = await sign_in(client, "ada", "wrong")
    unknown = await sign_in(client, "nobody", "wrong")
    assert real.status_code == unknown.status_code == 429
    assert without_request_id(real.json()) == without_request_id(unknown.json())


async def test_address_is_blocked_across_accounts(
    app: FastAPI, client: httpx.AsyncClient, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        auth, "POLICY", auth.LoginPolicy(first_delay=0.0, per_address=auth.Limit(2, 4))
    )
    await make_user("ada")
    async with client_at(app, "192.0.2.7") as attacker:
        for name in ("u1", "u2", "u3", "u4"):
            assert (await sign_in(attacker, name, "wrong")).status_code == 401
        blocked = await sign_in(attacker, "ada")
        assert blocked.status_code == 429
        assert int(blocked.headers["retry-after"]) > 0
        # Another address is not affected.
        assert (await sign_in(client, "ada")).status_code == 200
        clock.advance(auth.POLICY.window_seconds)
        assert (await sign_in(attacker, "ada")).status_code == 200


async def test_success_does_not_count_against_the_address(
    app: FastAPI, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        auth, "POLICY", auth.LoginPolicy(first_delay=0.0, per_address=auth.Limit(1, 2))
    )
    await make_user("ada")
    for _ in range(4):
        assert (await sign_in(client, "ada")).status_code == 200


async def test_attempts_slow_down_before_they_are_refused(
    app: FastAPI, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = auth.LoginPolicy(per_account=auth.Limit(2, 4), first_delay=0.4, max_delay=0.6)
    monkeypatch.setattr(auth, "POLICY", policy)
    waits: list[float] = []
    real_sleep = asyncio.sleep

    async def recording_sleep(delay: float) -> None:
        if delay > 0:
            waits.append(delay)
        await real_sleep(delay)

    monkeypatch.setattr(asyncio, "sleep", recording_sleep)
    await make_user("ada")
    timings = []
    for _ in range(4):
        started = time.monotonic()
        assert (await sign_in(client, "ada", "wrong")).status_code == 401
        timings.append(time.monotonic() - started)
    # Attempts 3 and 4 follow 2 and 3 failures: delayed 0.4 s, then 0.8 s capped to 0.6 s.
    assert waits == [0.4, 0.6]
    assert timings[2] >= 0.4
    assert timings[3] >= 0.6
    started = time.monotonic()
    refused = await sign_in(client, "ada")
    assert refused.status_code == 429
    # A refusal is immediate: no password check, no wait.
    assert waits == [0.4, 0.6]
    assert time.monotonic() - started < timings[3]
