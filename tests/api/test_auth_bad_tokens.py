"""Every bad credential is 401 UNAUTHENTICATED, identically on REST and GraphQL: JWTs forged,
expired or naming no plain user id, and personal tokens or users no longer valid."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from jose import jwt as jose_jwt

from models import User
from tests.auth_helpers import bearer, make_pat, make_user, use_memory_throttle


@pytest.fixture(autouse=True)
def _throttle(app: FastAPI) -> None:
    use_memory_throttle(app)


def _claims(app: FastAPI, user: User, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    settings = app.state.settings
    claims: dict[str, Any] = {
        "sub": str(user.id),
        "iat": now,
        "exp": now + 300,
        "jti": "a-unique-id",
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
    }
    for name, value in changes.items():
        if value is None:
            claims.pop(name)
        else:
            claims[name] = value
    return claims


def _signed(
    app: FastAPI, user: User, *, key: str | None = None, alg: str = "HS256", **changes: Any
) -> str:
    """A JWT signed with python-jose directly; by default exactly what the app would issue."""
    secret = key or app.state.settings.jwt_secret.get_secret_value()
    token: str = jose_jwt.encode(_claims(app, user, **changes), secret, algorithm=alg)
    return token


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _unsigned(app: FastAPI, user: User) -> str:
    return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims(app, user))}."


Header = Callable[[FastAPI, User], Awaitable[dict[str, str]]]


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _missing(app: FastAPI, user: User) -> dict[str, str]:
    return {}


def _jwt(**changes: Any) -> Header:
    async def header(app: FastAPI, user: User) -> dict[str, str]:
        return _auth(_signed(app, user, **changes))

    return header


def _raw(make: Callable[[FastAPI, User], str]) -> Header:
    async def header(app: FastAPI, user: User) -> dict[str, str]:
        return _auth(make(app, user))

    return header


async def _revoked_pat(app: FastAPI, user: User) -> dict[str, str]:
    return (await make_pat(user, ["admin"], revoked=True))[1]


async def _expired_pat(app: FastAPI, user: User) -> dict[str, str]:
    return (await make_pat(user, ["admin"], expires_in=timedelta(seconds=-1)))[1]


async def _inactive_user(app: FastAPI, user: User) -> dict[str, str]:
    await User.filter(id=user.id).update(is_active=False)
    return bearer(app, user)


async def _inactive_user_pat(app: FastAPI, user: User) -> dict[str, str]:
    await User.filter(id=user.id).update(is_active=False)
    return (await make_pat(user, ["admin"]))[1]


async def _deleted_user(app: FastAPI, user: User) -> dict[str, str]:
    headers = bearer(app, user)
    await User.filter(id=user.id).delete()
    return headers


async def _basic_scheme(app: FastAPI, user: User) -> dict[str, str]:
    return {"Authorization": "Basic YWRhOnBhc3N3b3Jk"}


async def _empty_bearer(app: FastAPI, user: User) -> dict[str, str]:
    return {"Authorization": "Bearer "}


def _subject(make: Callable[[int], str]) -> Header:
    """A token the app would issue in every respect but its `sub`, made from the user's id."""

    async def header(app: FastAPI, user: User) -> dict[str, str]:
        return _auth(_signed(app, user, sub=make(user.id)))

    return header


def _full_width(user_id: int) -> str:
    """The id in full-width digits (U+FF12 for 2): `str.isdigit` and `int` accept them."""
    return "".join(chr(0xFF10 + int(digit)) for digit in str(user_id))


CASES: dict[str, Header] = {
    "missing header": _missing,
    "basic scheme": _basic_scheme,
    "empty bearer": _empty_bearer,
    "malformed": _raw(lambda app, user: "not.a-jwt"),
    "garbage segments": _raw(lambda app, user: "aaaa.bbbb.cccc"),
    "tampered payload": _raw(
        lambda app, user: ".".join(
            [
                _signed(app, user).split(".")[0],
                _b64(_claims(app, user, sub="999999")),
                _signed(app, user).split(".")[2],
            ]
        )
    ),
    "alg none": _raw(_unsigned),
    "HS512 instead of HS256": _jwt(alg="HS512"),
    "signed with another key": _jwt(key="another-secret-" + "y" * 40),
    "wrong aud": _jwt(aud="someone-else"),
    "wrong iss": _jwt(iss="https://evil.example"),
    "expired": _jwt(exp=int(time.time()) - 60, iat=int(time.time()) - 400),
    "missing jti": _jwt(jti=None),
    "missing sub": _jwt(sub=None),
    "missing exp": _jwt(exp=None),
    "non-numeric sub": _jwt(sub="ada"),
    # A subject that is not a plain user id: never a user, whatever `int()` makes of it.
    "sub of 40 digits": _jwt(sub="1" * 40),
    "sub BIGINT + 1": _jwt(sub=str(2**63)),
    "sub in full-width digits": _subject(_full_width),
    "sub with a superscript digit": _subject(lambda user_id: f"{user_id}\u00b2"),
    "sub with a leading zero": _subject(lambda user_id: f"0{user_id}"),
    "sub zero": _jwt(sub="0"),
    "sub with a sign": _subject(lambda user_id: f"+{user_id}"),
    "sub with spaces": _subject(lambda user_id: f" {user_id} "),
    "unknown PAT": _raw(lambda app, user: "sy_pat_" + "x" * 43),
    "revoked PAT": _revoked_pat,
    "expired PAT": _expired_pat,
    "inactive user": _inactive_user,
    "inactive user's PAT": _inactive_user_pat,
    "deleted user": _deleted_user,
}


@pytest.mark.parametrize("api", ["rest", "graphql"])
@pytest.mark.parametrize("case", list(CASES))
async def test_bad_credentials_are_unauthenticated(
    app: FastAPI, client: httpx.AsyncClient, case: str, api: str
) -> None:
    user = await make_user("ada")
    headers = await CASES[case](app, user)
    if api == "rest":
        response = await client.get("/api/v1/me", headers=headers)
        assert response.status_code == 401, response.text
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"] == "UNAUTHENTICATED"
    else:
        response = await client.post(
            "/graphql", json={"query": "{ viewer { id } }"}, headers=headers
        )
        body = response.json()
        assert body.get("data") is None, body
        assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]


@pytest.mark.parametrize("api", ["rest", "graphql"])
async def test_the_good_credentials_of_the_same_shape_work(
    app: FastAPI, client: httpx.AsyncClient, api: str
) -> None:
    """The control group: a well-formed token built the same way as the cases above passes."""
    user = await make_user("ada")
    for headers in (_auth(_signed(app, user)), (await make_pat(user, ["read"]))[1]):
        if api == "rest":
            response = await client.get("/api/v1/me", headers=headers)
            assert response.status_code == 200, response.text
        else:
            response = await client.post(
                "/graphql", json={"query": "{ viewer { username } }"}, headers=headers
            )
            assert response.json()["data"]["viewer"]["username"] == "ada"
