"""`get_context`, Strawberry's `context_getter`: the GraphQL context of each request (and of
each websocket), with its loaders."""

from __future__ import annotations

from starlette.requests import HTTPConnection

from gateway.core.errors import Unauthenticated
from gateway.http.deps import SettingsDep, get_optional_principal
from schema.context import Context
from schema.loaders import Loaders


async def get_context(settings: SettingsDep, connection: HTTPConnection) -> Context:
    """FastAPI dependency used as Strawberry's `context_getter`: the same principal
    dependency as REST, so both APIs authenticate identically. A websocket whose upgrade
    request carries a bad credential is still accepted, so that `connection_init` can close it
    with graphql-ws's 4403 (`schema.http.socket`) rather than a bare HTTP refusal."""
    try:
        principal = await get_optional_principal(connection)
    except Unauthenticated:
        if connection.scope["type"] != "websocket":
            raise
        context = Context(settings, None, Loaders)
        context.credential_refused = True
        return context
    return Context(settings, principal, Loaders)
