"""Test helpers for identities: users and bearer headers, made straight through the models and
the real token code (no endpoint needed)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import redis
from fastapi import FastAPI
from redis.asyncio import Redis

from gateway.core.counters import MemoryThrottle, RedisThrottle
from gateway.security.jwt import JwtCodec
from gateway.security.opaque import PAT_DISPLAY_LENGTH, PAT_PREFIX, digest, new_secret
from gateway.security.passwords import hash_password
from gateway.security.principal import Principal, Scope, TokenKind
from gateway.services import invitations
from models import PersonalAccessToken, Role, User

PASSWORD = "correct horse battery staple"
REDIS_URL = os.environ.get("GATEWAY_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


_HASHES: dict[str, str] = {}


async def _password_hash() -> str:
    # Argon2 takes ~0.3 s; one hash of PASSWORD serves every test user (salts need not differ).
    if PASSWORD not in _HASHES:
        _HASHES[PASSWORD] = await hash_password(PASSWORD)
    return _HASHES[PASSWORD]


async def make_user(username: str, *, site_admin: bool = False, active: bool = True) -> User:
    email = f"{username}@example.com"
    return await User.create(
        username=username,
        email=email,
        email_key=email.lower(),
        display_name=username.title(),
        password_hash=await _password_hash(),
        is_site_admin=site_admin,
        is_active=active,
    )


def principal_of(user: User) -> Principal:
    """`user` signed in with a session (every scope), as the services see them."""
    return Principal(user.id, user.username, user.is_site_admin, TokenKind.access, frozenset(Scope))


async def join(slug: str, inviter: User, invitee: User, role: str = "member") -> None:
    """Make `invitee` a member of workspace `slug` the only way there is: `inviter` invites them
    by username and they accept (through the services, so events are recorded as in use)."""
    data = invitations.InvitationCreate(username=invitee.username, role=Role(role))
    invitation = await invitations.invite(principal_of(inviter), slug, data)
    await invitations.accept(principal_of(invitee), invitation.pk)


def bearer(app: FastAPI, user: User) -> dict[str, str]:
    """An `Authorization` header with a fresh access token for `user`."""
    codec: JwtCodec = app.state.jwt
    token, _ = codec.issue(user.id)
    return {"Authorization": f"Bearer {token}"}


async def make_pat(
    user: User,
    scopes: list[str],
    *,
    expires_in: timedelta | None = None,
    revoked: bool = False,
) -> tuple[PersonalAccessToken, dict[str, str]]:
    """A personal access token for `user` and its `Authorization` header."""
    secret = new_secret(PAT_PREFIX)
    now = datetime.now(UTC)
    record = await PersonalAccessToken.create(
        user=user,
        name="test",
        token_hash=digest(secret),
        prefix=secret[:PAT_DISPLAY_LENGTH],
        scopes=scopes,
        expires_at=now + expires_in if expires_in is not None else None,
        revoked_at=now if revoked else None,
    )
    return record, {"Authorization": f"Bearer {secret}"}


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def use_memory_throttle(app: FastAPI, clock: FakeClock | None = None) -> MemoryThrottle:
    """Give the (session-wide) app a fresh throttle, so failed sign-ins of one test never slow
    down or block another."""
    throttle = MemoryThrottle(clock or FakeClock())
    app.state.throttle = throttle
    return throttle


def require_redis(url: str = REDIS_URL) -> None:
    """Skip the test where no Redis answers at `url` (CI has one: `GATEWAY_TEST_REDIS_URL`)."""
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip(f"no Redis at {url}")
    finally:
        client.close()


@asynccontextmanager
async def throttle_on_redis() -> AsyncIterator[RedisThrottle]:
    """A throttle on the test Redis, in a namespace of its own whose keys go afterwards; the
    test is skipped where there is no Redis (CI has one: `GATEWAY_TEST_REDIS_URL`)."""
    client = Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except Exception:
        await client.aclose()
        pytest.skip(f"no Redis at {REDIS_URL}")
    namespace = f"switchyard-test:{uuid.uuid4().hex}:"
    throttle = RedisThrottle(client, namespace)
    try:
        yield throttle
    finally:
        keys = [key async for key in client.scan_iter(match=f"{namespace}*")]
        if keys:
            await client.delete(*keys)
        await throttle.aclose()


@asynccontextmanager
async def client_at(app: FastAPI, address: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client whose requests come from `address` (for per-address limits)."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def sign_in(
    client: httpx.AsyncClient, username: str, password: str = PASSWORD
) -> httpx.Response:
    """`POST /api/v1/auth/token` with the password grant form."""
    return await client.post(
        "/api/v1/auth/token",
        data={"grant_type": "password", "username": username, "password": password},
    )


async def gql(
    client: httpx.AsyncClient,
    query: str,
    headers: dict[str, str] | None = None,
    variables: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """POST a GraphQL operation; the decoded answer."""
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
    )
    body: dict[str, Any] = response.json()
    return body


def without_request_id(body: dict[str, Any]) -> dict[str, Any]:
    """A problem body minus its per-request id, to compare two answers."""
    return {k: v for k, v in body.items() if k != "request_id"}
