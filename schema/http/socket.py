"""GraphQL over a websocket (graphql-transport-ws): the caller and the rate limit.

One socket carries any number of operations past the HTTP middleware, so each `subscribe`
message pays its arrival point here (`MeteredTransportWSHandler`) and then its node cost like
any operation (`schema.http.rate_cost`), from the budget HTTP requests spend. The caller is the
upgrade request's `Authorization` header, or the `Authorization` entry of `connection_init`'s
payload (browsers cannot set headers on a websocket); a bad credential closes the socket.
Once acknowledged, an idle socket is pinged every `subscription_keepalive_seconds`, so proxies
keep it open and a client notices a dead server.
"""

from __future__ import annotations

import asyncio
import contextlib

from graphql import GraphQLError
from starlette.types import Scope
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import ConnectionInitMessage

from gateway.core.errors import DomainError
from gateway.http.middleware.rate_limit import charge_socket_operation
from gateway.security.jwt import JwtCodec
from gateway.services import principals
from schema.context import Context
from schema.http.errors import to_catalogue


def _scope(context: Context) -> Scope:
    assert context.request is not None  # Strawberry's context getter sets it
    return context.request.scope


async def authenticate_connection(context: Context) -> None:
    """Take the caller from `connection_init`'s payload when it names one; a credential that
    is not valid, there or in the upgrade request, refuses the connection (close code 4403)."""
    if context.credential_refused:  # in the upgrade request's header
        raise ConnectionRejectionError
    params = context.connection_params or {}
    raw = params.get("Authorization", params.get("authorization"))
    if raw is None:
        return
    if not isinstance(raw, str):
        raise ConnectionRejectionError
    codec: JwtCodec = _scope(context)["app"].state.jwt
    try:
        token = principals.bearer_token(raw)
        if token is not None:  # always, for a string: a malformed one raises
            context.principal = await principals.authenticate(token, codec)
    except DomainError as exc:
        raise ConnectionRejectionError from exc


class MeteredTransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """Strawberry's graphql-transport-ws handler, each operation charged before it runs, and
    the socket kept alive with `ping`s."""

    _keepalive: asyncio.Task[None] | None = None

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        await super().handle_connection_init(message)
        if self.connection_acknowledged and self._keepalive is None:
            self._keepalive = asyncio.create_task(self._ping_while_open())

    async def shutdown(self) -> None:
        if self._keepalive is not None:
            self._keepalive.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._keepalive
        await super().shutdown()

    async def _ping_while_open(self) -> None:
        interval = self.context.settings.subscription_keepalive_seconds
        # A closed socket ends the loop; the handler's own shutdown follows.
        with contextlib.suppress(WebSocketDisconnected, OSError, RuntimeError):
            while True:
                await asyncio.sleep(interval)
                await self.send_message({"type": "ping"})

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        principal = self.context.principal
        user_id = None if principal is None else principal.user_id
        try:
            await charge_socket_operation(_scope(self.context), user_id)
        except DomainError as exc:  # over the limit, or the shared store is unreachable
            error = to_catalogue(GraphQLError(exc.detail, original_error=exc))
            await operation.send_initial_errors([error])
            return
        # This runs in the operation's own task: the loaders stay its own.
        self.context.start_operation()
        await super().run_operation(operation)
