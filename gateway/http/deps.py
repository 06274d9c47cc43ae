"""FastAPI dependencies shared by the REST routers and the GraphQL context getter.

They take an `HTTPConnection`, not a `Request`, so that websockets (subscriptions) can use them
too.
"""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import Depends
from fastapi.security import HTTPBearer, OAuth2PasswordBearer
from starlette.requests import HTTPConnection
from starlette.types import Scope
from tortoise.exceptions import BaseORMException

from gateway.core.counters import Throttle
from gateway.core.errors import Unauthenticated
from gateway.core.settings import Settings
from gateway.security.jwt import AccessClaims, JwtCodec
from gateway.security.opaque import is_personal_token
from gateway.security.principal import Principal
from gateway.security.principal import Scope as TokenScope
from gateway.services import principals

# Documents the password flow in OpenAPI, so Swagger UI's "Authorize" button works. The token
# itself is read by `get_optional_principal`, which also serves websockets.
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)
# And a plain bearer scheme, so a personal access token (`sy_pat_…`) can be pasted there too.
bearer_scheme = HTTPBearer(
    scheme_name="BearerToken",
    description="A personal access token (`sy_pat_…`) or an access token, pasted as is.",
    auto_error=False,
)


# Where `resolve_principal` keeps its outcome in `scope["state"]`.
_PRINCIPAL: Final = "principal"
_CLAIMS: Final = "access_claims"  # a verified access token's claims, kept like the principal


# The getters are `async def`: FastAPI runs a plain `def` dependency in its thread pool, a hop
# per request for an attribute read.
async def get_app_settings(connection: HTTPConnection) -> Settings:
    """The settings the app was built with (not the environment's: tests build many apps)."""
    settings: Settings = connection.app.state.settings
    return settings


async def get_jwt_codec(connection: HTTPConnection) -> JwtCodec:
    codec: JwtCodec = connection.app.state.jwt
    return codec


def get_throttle(connection: HTTPConnection) -> Throttle:
    """The app's throttle (a dependency for REST routes and GraphQL resolvers alike)."""
    throttle: Throttle = connection.app.state.throttle
    return throttle


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
JwtCodecDep = Annotated[JwtCodec, Depends(get_jwt_codec)]
ThrottleDep = Annotated[Throttle, Depends(get_throttle)]


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


async def claimed_user_id(scope: Scope) -> int | None:
    """The user a request's credential names, for what needs only an identity (the rate
    limiter, the compiled reads, whose statements check the user is active): a verified access
    token's subject, without the database; a personal access token is resolved in full (its
    digest must be looked up anyway). None when anonymous; `Unauthenticated` when bad."""
    if _PRINCIPAL not in scope.setdefault("state", {}):
        token = bearer_of(scope)
        if token is None:
            return None
        if not is_personal_token(token):
            return _access_claims(scope, token).user_id
    principal = await resolve_principal(scope)
    return None if principal is None else principal.user_id


async def reader_id(scope: Scope) -> int | None:
    """The user behind a credential that may read, for the compiled reads' fast paths; None
    for anyone else (anonymous, a bad credential, a token without `read`, the database down),
    whom the routes answer in their own words."""
    try:
        user_id = await claimed_user_id(scope)
        if user_id is not None and is_personal_token(bearer_of(scope) or ""):
            principal = await resolve_principal(scope)  # resolved already: check its scope
            if principal is None or not principal.allows(TokenScope.read):
                return None
    except (Unauthenticated, BaseORMException, OSError):
        return None
    return user_id


def _access_claims(scope: Scope, token: str) -> AccessClaims:
    """The access token's claims, verified once per request (a refusal too)."""
    state = scope["state"]
    if _CLAIMS not in state:
        codec: JwtCodec = scope["app"].state.jwt
        try:
            state[_CLAIMS] = codec.decode(token)
        except Unauthenticated as exc:
            state[_CLAIMS] = exc
    outcome: AccessClaims | Unauthenticated = state[_CLAIMS]
    if isinstance(outcome, Unauthenticated):
        raise outcome
    return outcome


def bearer_of(scope: Scope) -> str | None:
    """The request's bearer token (None without one; `Unauthenticated` when malformed)."""
    # The first `Authorization` header, as Starlette's `Headers.get` reads it.
    raw = next((value for name, value in scope["headers"] if name == b"authorization"), None)
    return principals.bearer_token(None if raw is None else raw.decode("latin-1"))


async def _authenticate(scope: Scope) -> Principal | None:
    token = bearer_of(scope)
    if token is None:
        return None
    if is_personal_token(token):
        return await principals.authenticate(token, scope["app"].state.jwt)
    return await principals.access_principal(_access_claims(scope, token))


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
