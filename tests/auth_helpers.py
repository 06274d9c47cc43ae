"""Test helpers for identities: users and bearer headers, made straight through the models and
the real token code (no endpoint needed)."""

from __future__ import annotations

from fastapi import FastAPI

from gateway.security.jwt import JwtCodec
from gateway.security.passwords import hash_password
from models import User

PASSWORD = "correct horse battery staple"


async def make_user(username: str, *, site_admin: bool = False, active: bool = True) -> User:
    email = f"{username}@example.com"
    return await User.create(
        username=username,
        email=email,
        email_key=email.lower(),
        display_name=username.title(),
        password_hash=await hash_password(PASSWORD),
        is_site_admin=site_admin,
        is_active=active,
    )


def bearer(app: FastAPI, user: User) -> dict[str, str]:
    """An `Authorization` header with a fresh access token for `user`."""
    codec: JwtCodec = app.state.jwt
    token, _ = codec.issue(user.id)
    return {"Authorization": f"Bearer {token}"}
