"""The GraphQL context, built by the same FastAPI dependencies as the REST routes."""

from __future__ import annotations

from contextvars import ContextVar

from starlette.requests import HTTPConnection
from strawberry.fastapi import BaseContext

from gateway.core.errors import Unauthenticated
from gateway.core.settings import Settings
from gateway.http.deps import SettingsDep, get_optional_principal
from gateway.security.principal import Principal
from schema.loaders import Loaders

# Set inside each websocket operation's own task (see `schema.http.socket`): one socket's context
# serves every operation on it, and a loader kept across operations would answer from before
# the socket's own mutations.
_operation_loaders: ContextVar[Loaders | None] = ContextVar("operation_loaders", default=None)


class Context(BaseContext):
    """What every resolver may use: the settings and the caller."""

    def __init__(self, settings: Settings, principal: Principal | None) -> None:
        super().__init__()
        self.settings = settings
        self.principal = principal
        self.credential_refused = False  # a websocket's upgrade request had a bad credential
        self._loaders = Loaders()  # per request: a shared loader would leak rows across tenants

    @property
    def loaders(self) -> Loaders:
        """The DataLoaders of this request (over HTTP) or of this operation (over a socket)."""
        return _operation_loaders.get() or self._loaders

    @property
    def viewer(self) -> Principal:
        """The caller, for fields that need one; UNAUTHENTICATED when anonymous."""
        if self.principal is None:
            raise Unauthenticated("Authentication required")
        return self.principal


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
        context = Context(settings, None)
        context.credential_refused = True
        return context
    return Context(settings, principal)


def start_operation() -> None:
    """Give the websocket operation running in the current task loaders of its own."""
    _operation_loaders.set(Loaders())
