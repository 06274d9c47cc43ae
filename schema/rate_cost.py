"""Charges a GraphQL operation's node cost to the caller's rate-limit budget (ADR 0011).

`gateway.ratelimit.RateLimitMiddleware` has taken one point when the request arrived; once the
document has parsed and validated, this extension takes the rest (`1 + cost // 100` in all by
default). When they do not fit, the operation is refused with RATE_LIMITED before a resolver
runs, and the middleware turns the answer into a 429 with `Retry-After`. Documents that fail to
parse or validate cost only the first point; websockets (subscriptions) are not metered here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from strawberry.extensions import SchemaExtension

from gateway.ratelimit import budget_of, charge_graphql
from gateway.settings import Settings
from schema.cost import node_cost
from schema.limits import query_cost


class RateCost(SchemaExtension):
    """Spends the operation's points at the end of validation."""

    async def on_validate(self) -> AsyncIterator[None]:
        yield
        context = self.execution_context
        document = context.graphql_document
        if context.pre_execution_errors or document is None:
            return
        request = getattr(context.context, "request", None)
        scope = getattr(request, "scope", None)
        if not isinstance(scope, dict) or scope.get("type") != "http" or budget_of(scope) is None:
            return
        settings: Settings = scope["app"].state.settings
        # `schema.limits.QueryLimits` has usually stashed it already; compute it if not.
        cost = query_cost(context.context)
        if cost is None:
            cost = node_cost(context.schema, document, context.variables, context.operation_name)
        await charge_graphql(scope, cost, settings)
