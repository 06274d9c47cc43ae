"""Charges a GraphQL operation's node cost to the caller's rate-limit budget (ADR 0011).

An operation has paid one point on arrival:
`gateway.http.middleware.rate_limit.RateLimitMiddleware` takes it for an HTTP request,
`schema.http.socket` for each operation over a websocket. Once the document has parsed and
validated, this extension takes the rest (`1 + cost // 100` in all by default), as
execution starts. When they do not fit, the operation is refused with RATE_LIMITED before a
resolver runs (over HTTP the middleware turns the answer into a 429 with `Retry-After`).
Documents that fail to parse or validate cost only the first point.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from strawberry.extensions import SchemaExtension

from gateway.core.settings import Settings
from gateway.http.middleware.rate_limit import budget_of, charge_graphql
from schema.http.cost import node_cost
from schema.http.limits import query_cost


class RateCost(SchemaExtension):
    """Spends the operation's points as execution starts (an error raised here reaches the
    client over HTTP and over websockets alike; one raised at the end of validation would
    escape a websocket's operation)."""

    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context
        document = context.graphql_document
        request = getattr(context.context, "request", None)
        scope = getattr(request, "scope", None)
        if document is not None and isinstance(scope, dict) and budget_of(scope) is not None:
            settings: Settings = scope["app"].state.settings
            # `schema.http.limits.QueryLimits` stashes the cost on the context; a websocket's
            # context serves all its operations, so there it is computed for this one.
            cost = query_cost(context.context) if scope["type"] == "http" else None
            if cost is None:
                cost = node_cost(
                    context.schema, document, context.variables, context.operation_name
                )
            await charge_graphql(scope, cost, settings)
        yield
