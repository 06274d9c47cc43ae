"""The GraphQL context: what every resolver may use (the settings, the caller, the request's
loaders). `schema.http.context.get_context` makes one per request, from the same FastAPI
dependencies as the REST routes.

The loaders (`schema.loaders`) build the objects of every type module, which all import this
module: it takes them as a factory rather than importing them, so nothing here imports a type.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING

from strawberry.fastapi import BaseContext

from gateway.core.errors import Unauthenticated
from gateway.core.settings import Settings
from gateway.security.principal import Principal

if TYPE_CHECKING:
    from schema.loaders import Loaders

# Set inside each websocket operation's own task (`Context.start_operation`): one socket's
# context serves every operation on it, and a loader kept across operations would answer from
# before the socket's own mutations.
_operation_loaders: ContextVar[Loaders | None] = ContextVar("operation_loaders", default=None)


class Context(BaseContext):
    """What every resolver may use: the settings, the caller and the request's loaders."""

    def __init__(
        self,
        settings: Settings,
        principal: Principal | None,
        loaders: Callable[[Context], Loaders],
    ) -> None:
        super().__init__()
        self.settings = settings
        self.principal = principal
        self.credential_refused = False  # a websocket's upgrade request had a bad credential
        self._new_loaders = loaders
        self._loaders = loaders(self)  # per request: a shared loader would leak rows across tenants

    @property
    def loaders(self) -> Loaders:
        """The loaders of this request (over HTTP) or of this operation (over a socket)."""
        return _operation_loaders.get() or self._loaders

    @property
    def viewer(self) -> Principal:
        """The caller, for fields that need one; UNAUTHENTICATED when anonymous."""
        if self.principal is None:
            raise Unauthenticated("Authentication required")
        return self.principal

    def start_operation(self) -> None:
        """Give the websocket operation (or subscription event) running in the current task
        loaders of its own."""
        _operation_loaders.set(self._new_loaders(self))
