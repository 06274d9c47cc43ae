"""FastAPI dependencies shared by the REST routers and the GraphQL context getter.

They take an `HTTPConnection`, not a `Request`, so that websockets (subscriptions) can use them
too.
"""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import Depends
from fastapi.security import OAuth2PasswordBearer
from starlette.requests import HTTPConnection
from starlette.types import Scope

from gateway.errors import Unauthenticated
from gateway.security.jwt import JwtCodec
from gateway.security.principal import Principal
from gateway.services import authn
from gateway.settings import Settings

# Documents the password flow in OpenAPI, so Swagger UI's "Authorize" button works. The token
# itself is read by `get_optional_principal`, which also serves websockets.
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


# Where `resolve_principal` keeps its outcome in `scope["state"]`.
_PRINCIPAL: Final = "principal"


# The getters are `async def`: FastAPI runs a plain `def` dependency in its thread pool, a hop
# per request for an attribute read.
async def get_app_settings(connection: HTTPConnection) -> Settings:
    """The settings the app was built with (not the environment's: tests build many apps)."""
    settings: Settings = connection.app.state.settings
    return settings


async def get_jwt_codec(connection: HTTPConnection) -> JwtCodec:
    codec: JwtCodec = connection.app.state.jwt
    return codec


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
JwtCodecDep = Annotated[JwtCodec, Depends(get_jwt_codec)]


async def resolve_principal(scope: Scope) -> Principal | None:
    """The caller of this request, or None when no credential was presented; a bad credential
    is `Unauthenticated`. Whoever asks first (the rate limiter, idempotency, the route)
    authenticates, once: the outcome, a refusal included, is kept in `scope["state"]` for the
    others. A database failure is not kept, so the route asks again and answers 503 as usual."""
    state = scope.setdefault("state", {})
    if _PRINCIPAL not in state:
        try:
            state[_PRINCIPAL] = await _authenticate(scope)
        except Unauthenticated as exc:
            state[_PRINCIPAL] = exc
    outcome: Principal | Unauthenticated | None = state[_PRINCIPAL]
    if isinstance(outcome, Unauthenticated):
        raise outcome
    return outcome


async def _authenticate(scope: Scope) -> Principal | None:
    # The first `Authorization` header, as Starlette's `Headers.get` reads it.
    raw = next((value for name, value in scope["headers"] if name == b"authorization"), None)
    token = authn.bearer_token(None if raw is None else raw.decode("latin-1"))
    if token is None:
        return None
    codec: JwtCodec = scope["app"].state.jwt
    return await authn.authenticate(token, codec)


async def get_optional_principal(connection: HTTPConnection) -> Principal | None:
    """The caller, or None when no credential was presented; a bad credential is 401."""
    return await resolve_principal(connection.scope)


OptionalPrincipalDep = Annotated[Principal | None, Depends(get_optional_principal)]


async def get_principal(principal: OptionalPrincipalDep) -> Principal:
    """The caller; 401 when anonymous."""
    if principal is None:
        raise Unauthenticated("Authentication required")
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]
