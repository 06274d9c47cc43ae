"""FastAPI dependencies shared by the REST routers and the GraphQL context getter.

They take an `HTTPConnection`, not a `Request`, so that websockets (subscriptions) can use them
too.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from fastapi.security import OAuth2PasswordBearer
from starlette.requests import HTTPConnection

from gateway.errors import Unauthenticated
from gateway.security.jwt import JwtCodec
from gateway.security.principal import Principal
from gateway.services import authn
from gateway.settings import Settings

# Documents the password flow in OpenAPI, so Swagger UI's "Authorize" button works. The token
# itself is read by `get_optional_principal`, which also serves websockets.
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def get_app_settings(connection: HTTPConnection) -> Settings:
    """The settings the app was built with (not the environment's: tests build many apps)."""
    settings: Settings = connection.app.state.settings
    return settings


def get_jwt_codec(connection: HTTPConnection) -> JwtCodec:
    codec: JwtCodec = connection.app.state.jwt
    return codec


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
JwtCodecDep = Annotated[JwtCodec, Depends(get_jwt_codec)]


async def get_optional_principal(
    connection: HTTPConnection, codec: JwtCodecDep
) -> Principal | None:
    """The caller, or None when no credential was presented; a bad credential is 401."""
    token = authn.bearer_token(connection.headers.get("authorization"))
    if token is None:
        return None
    return await authn.authenticate(token, codec)


OptionalPrincipalDep = Annotated[Principal | None, Depends(get_optional_principal)]


async def get_principal(principal: OptionalPrincipalDep) -> Principal:
    """The caller; 401 when anonymous."""
    if principal is None:
        raise Unauthenticated("Authentication required")
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]
