"""One principal resolution per request: the rate limiter, idempotency and the route (REST or
GraphQL) share it, so a JWT is verified once and a personal access token looked up once, while
a bad credential is still charged to the address and answered 401 by the route."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from gateway.security.jwt import AccessClaims, JwtCodec
from models import IdempotencyRecord
from tests.auth_helpers import bearer, make_pat, make_user
from tests.sql_counter import SqlLog, count_sql

WORKSPACES = "/api/v1/workspaces"


def _token_lookups(sql: SqlLog) -> int:
    return sum('FROM "personal_access_tokens"' in s for s in sql.selects)


def _user_lookups(sql: SqlLog) -> int:
    tables = ('FROM "users"', "FROM users")  # the ORM quotes names, the caller lookup does not
    return sum(s.split(" WHERE ")[0].rstrip().endswith(tables) for s in sql.selects)


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The tokens `JwtCodec.decode` verified while the test ran."""
    seen: list[str] = []
    verify = JwtCodec.decode

    def counting(codec: JwtCodec, token: str) -> AccessClaims:
        seen.append(token)
        return verify(codec, token)

    monkeypatch.setattr(JwtCodec, "decode", counting)
    return seen


async def test_a_personal_token_is_looked_up_once_per_request(
    client: httpx.AsyncClient,
) -> None:
    ann = await make_user("ann")
    _, headers = await make_pat(ann, ["admin"])
    keyed = {**headers, "Idempotency-Key": "pat-1"}
    with count_sql() as created:
        answer = await client.post(WORKSPACES, json={"slug": "acme", "name": "A"}, headers=keyed)
    assert answer.status_code == 201, answer.text
    with count_sql() as listed:
        answer = await client.get(WORKSPACES, headers=headers)
    assert answer.status_code == 200, answer.text

    assert _token_lookups(created) == 1, created
    assert _token_lookups(listed) == 1, listed
    assert await IdempotencyRecord.all().count() == 1


async def test_an_access_token_is_verified_once_per_request(
    app: FastAPI, client: httpx.AsyncClient, decodes: list[str]
) -> None:
    ann = await make_user("ann")
    headers = bearer(app, ann)
    keyed = {**headers, "Idempotency-Key": "jwt-1"}
    with count_sql() as created:
        answer = await client.post(WORKSPACES, json={"slug": "acme", "name": "A"}, headers=keyed)
    assert answer.status_code == 201, answer.text
    listed = await client.get(WORKSPACES, headers=headers)
    asked = await client.post(
        "/graphql", json={"query": "{ viewer { username } }"}, headers=headers
    )

    assert listed.status_code == 200, listed.text
    assert asked.json() == {"data": {"viewer": {"username": "ann"}}}
    assert len(decodes) == 3
    assert _user_lookups(created) == 1, created


async def test_a_bad_credential_is_charged_to_the_address_and_answered_by_the_route(
    client: httpx.AsyncClient, decodes: list[str]
) -> None:
    headers = {"Authorization": "Bearer not.a.jwt", "Idempotency-Key": "bad-1"}
    answer = await client.post(WORKSPACES, json={"slug": "acme", "name": "A"}, headers=headers)

    assert answer.status_code == 401
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["WWW-Authenticate"] == "Bearer"
    assert answer.json()["code"] == "UNAUTHENTICATED"
    assert answer.json()["detail"] == "Malformed access token"
    anonymous = await client.get(WORKSPACES)
    # The anonymous budget of this address, spent by both requests.
    assert int(anonymous.headers["RateLimit-Remaining"]) == (
        int(answer.headers["RateLimit-Remaining"]) - 1
    )
    assert int(answer.headers["RateLimit-Limit"]) == int(anonymous.headers["RateLimit-Limit"])
    assert decodes == ["not.a.jwt"]
    assert await IdempotencyRecord.all().count() == 0


async def test_a_revoked_token_is_refused_on_the_next_request(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    ann = await make_user("ann")
    record, headers = await make_pat(ann, ["admin"])
    assert (await client.get(WORKSPACES, headers=headers)).status_code == 200
    revoked = await client.delete(f"/api/v1/me/tokens/{record.id}", headers=bearer(app, ann))
    assert revoked.status_code == 204, revoked.text

    refused = await client.get(WORKSPACES, headers=headers)
    assert refused.status_code == 401
    assert refused.json()["code"] == "UNAUTHENTICATED"


async def test_a_personal_token_is_looked_up_once_per_graphql_request(
    client: httpx.AsyncClient,
) -> None:
    ann = await make_user("ann")
    _, headers = await make_pat(ann, ["admin"])
    create = 'mutation { createWorkspace(input: {slug: "acme", name: "A"}) { workspace { slug } } }'
    read = '{ viewer { username } workspace(slug: "acme") { projects(first: 5) { totalCount } } }'
    logs = []
    for query in (create, read, "{ viewer { username } }"):
        with count_sql() as sql:
            answer = await client.post("/graphql", json={"query": query}, headers=headers)
        assert answer.status_code == 200, answer.text
        assert "errors" not in answer.json(), answer.text
        logs.append(sql)

    assert [_token_lookups(sql) for sql in logs] == [1, 1, 1], logs
