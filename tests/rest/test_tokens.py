"""Personal access tokens: `/api/v1/me/tokens` and using them as bearer credentials."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from gateway.security.opaque import digest
from gateway.services.principals import LAST_USED_GRANULARITY
from models import PersonalAccessToken
from tests.auth_helpers import bearer, make_pat, make_user, use_memory_throttle

TOKENS = "/api/v1/me/tokens"


@pytest.fixture(autouse=True)
def _throttle(app: FastAPI) -> None:
    use_memory_throttle(app)


async def create(client: httpx.AsyncClient, headers: dict[str, str], **body: Any) -> httpx.Response:
    return await client.post(
        TOKENS, json={"name": "ci", "scopes": ["read"], **body}, headers=headers
    )


async def test_create_shows_the_secret_once(app: FastAPI, client: httpx.AsyncClient) -> None:
    ada = await make_user("ada")
    session = bearer(app, ada)
    response = await create(client, session, scopes=["write", "read", "write"], expires_in_days=30)
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    secret = body["token"]
    assert secret.startswith("sy_pat_")
    assert len(secret) > 40
    assert body["prefix"] == secret[:12]
    assert body["scopes"] == ["read", "write"]
    assert body["last_used_at"] is None
    expires = datetime.fromisoformat(body["expires_at"])
    assert timedelta(days=29, hours=23) < expires - datetime.now(UTC) <= timedelta(days=30)
    assert response.headers["location"] == f"{TOKENS}/{body['id']}"

    record = await PersonalAccessToken.get(id=body["id"])
    assert record.token_hash == digest(secret)
    assert secret not in record.token_hash

    listed = await client.get(TOKENS, headers=session)
    assert listed.status_code == 200
    assert "token" not in listed.json()["items"][0]
    assert secret not in listed.text
    assert {k: v for k, v in body.items() if k != "token"} == listed.json()["items"][0]
    single = await client.get(response.headers["location"], headers=session)
    assert single.status_code == 200
    assert secret not in single.text


async def test_token_without_expiry(app: FastAPI, client: httpx.AsyncClient) -> None:
    ada = await make_user("ada")
    response = await create(client, bearer(app, ada))
    assert response.status_code == 201
    assert response.json()["expires_at"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "   "}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"scopes": []}, "scopes"),
        ({"expires_in_days": 0}, "expires_in_days"),
        ({"expires_in_days": 366}, "expires_in_days"),
    ],
)
async def test_create_rules(
    app: FastAPI, client: httpx.AsyncClient, body: dict[str, Any], field: str
) -> None:
    ada = await make_user("ada")
    response = await create(client, bearer(app, ada), **body)
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert await PersonalAccessToken.all().count() == 0


@pytest.mark.parametrize(
    "body",
    [
        {"scopes": ["root"]},
        {"scopes": "read"},
        {"expires_in_days": "30"},
        {"expires_in_days": 30.5},
        {"expires_in_days": True},
        {"name": 5},
        {"secret": "sy_pat_mine"},
    ],
)
async def test_create_body_is_strict(
    app: FastAPI, client: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    ada = await make_user("ada")
    response = await create(client, bearer(app, ada), **body)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "VALIDATION_FAILED"


async def test_token_authenticates_with_its_scopes(app: FastAPI, client: httpx.AsyncClient) -> None:
    ada = await make_user("ada")
    secret = (await create(client, bearer(app, ada), scopes=["write"])).json()["token"]
    headers = {"Authorization": f"Bearer {secret}"}
    me = await client.get("/api/v1/me", headers=headers)
    assert me.status_code == 200
    assert me.json()["username"] == "ada"
    graph = await client.post(
        "/graphql", json={"query": "{ viewer { username } }"}, headers=headers
    )
    assert graph.json()["data"]["viewer"]["username"] == "ada"


@pytest.mark.parametrize("scopes", [["read"], ["write"], ["read", "write"]])
async def test_managing_tokens_needs_admin_scope(
    app: FastAPI, client: httpx.AsyncClient, scopes: list[str]
) -> None:
    ada = await make_user("ada")
    record, headers = await make_pat(ada, scopes)
    for response in (
        await client.get(TOKENS, headers=headers),
        await create(client, headers, scopes=["admin"]),
        await client.get(f"{TOKENS}/{record.id}", headers=headers),
        await client.delete(f"{TOKENS}/{record.id}", headers=headers),
    ):
        assert response.status_code == 403, response.text
        assert response.json()["code"] == "FORBIDDEN"
        assert "'admin' scope" in response.json()["detail"]
    assert await PersonalAccessToken.filter(revoked_at__isnull=True).count() == 1


async def test_admin_token_manages_tokens(app: FastAPI, client: httpx.AsyncClient) -> None:
    ada = await make_user("ada")
    _, headers = await make_pat(ada, ["admin"])
    assert (await create(client, headers)).status_code == 201
    assert len((await client.get(TOKENS, headers=headers)).json()["items"]) == 2


async def test_revoke(app: FastAPI, client: httpx.AsyncClient) -> None:
    ada = await make_user("ada")
    session = bearer(app, ada)
    body = (await create(client, session)).json()
    headers = {"Authorization": f"Bearer {body['token']}"}
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 200
    revoked = await client.delete(f"{TOKENS}/{body['id']}", headers=session)
    assert revoked.status_code == 204
    refused = await client.get("/api/v1/me", headers=headers)
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == "Bearer"
    assert (await client.get(TOKENS, headers=session)).json()["items"] == []
    again = await client.delete(f"{TOKENS}/{body['id']}", headers=session)
    assert again.status_code == 404


async def test_other_users_token_is_not_found(app: FastAPI, client: httpx.AsyncClient) -> None:
    ada = await make_user("ada")
    bob = await make_user("bob")
    record, bobs = await make_pat(bob, ["read"])
    session = bearer(app, ada)
    assert (await client.get(f"{TOKENS}/{record.id}", headers=session)).status_code == 404
    response = await client.delete(f"{TOKENS}/{record.id}", headers=session)
    assert response.status_code == 404
    assert response.json()["code"] == "NOT_FOUND"
    assert (await client.get("/api/v1/me", headers=bobs)).status_code == 200
    assert (await client.get(TOKENS, headers=session)).json()["items"] == []


async def test_expired_token_is_refused(app: FastAPI, client: httpx.AsyncClient) -> None:
    ada = await make_user("ada")
    body = (await create(client, bearer(app, ada), expires_in_days=1)).json()
    headers = {"Authorization": f"Bearer {body['token']}"}
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 200
    await PersonalAccessToken.filter(id=body["id"]).update(
        expires_at=datetime.now(UTC) - timedelta(seconds=1)
    )
    response = await client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401
    assert response.json()["code"] == "UNAUTHENTICATED"
    # Still listed (it was not revoked), so its owner can see it lapsed and clean up.
    listed = (await client.get(TOKENS, headers=bearer(app, ada))).json()["items"]
    assert [t["id"] for t in listed] == [body["id"]]


async def test_last_used_at_is_coarse(app: FastAPI, client: httpx.AsyncClient) -> None:
    ada = await make_user("ada")
    record, headers = await make_pat(ada, ["read"])
    await client.get("/api/v1/me", headers=headers)
    first = (await PersonalAccessToken.get(id=record.id)).last_used_at
    assert first is not None
    assert datetime.now(UTC) - first < timedelta(minutes=1)
    await client.get("/api/v1/me", headers=headers)
    assert (await PersonalAccessToken.get(id=record.id)).last_used_at == first

    stale = datetime.now(UTC) - LAST_USED_GRANULARITY - timedelta(seconds=1)
    await PersonalAccessToken.filter(id=record.id).update(last_used_at=stale)
    await client.get("/api/v1/me", headers=headers)
    touched = (await PersonalAccessToken.get(id=record.id)).last_used_at
    assert touched is not None
    assert touched > stale + timedelta(seconds=1)
    listed = (await client.get(TOKENS, headers=bearer(app, ada))).json()["items"][0]
    assert datetime.fromisoformat(listed["last_used_at"]) == touched


async def test_list_pages_newest_first(app: FastAPI, client: httpx.AsyncClient) -> None:
    ada = await make_user("ada")
    session = bearer(app, ada)
    ids = [(await create(client, session, name=f"t{i}")).json()["id"] for i in range(5)]
    first = await client.get(TOKENS, params={"limit": 2}, headers=session)
    assert [t["id"] for t in first.json()["items"]] == ids[:-3:-1]
    assert 'rel="next"' in first.headers["link"]
    second = await client.get(
        TOKENS, params={"limit": 2, "cursor": first.json()["next_cursor"]}, headers=session
    )
    assert [t["id"] for t in second.json()["items"]] == ids[2:0:-1]
    third = await client.get(
        TOKENS, params={"limit": 2, "cursor": second.json()["next_cursor"]}, headers=session
    )
    assert [t["id"] for t in third.json()["items"]] == ids[:1]
    assert third.json()["next_cursor"] is None
    bad = await client.get(TOKENS, params={"cursor": "garbage"}, headers=session)
    assert bad.status_code == 422
