"""One request budget per principal, shared by REST and GraphQL (see ADR 0011).

`RateLimitMiddleware` (pure ASGI, inside `RequestIdMiddleware`) identifies the caller with the
request's one authentication (`gateway.http.deps.resolve_principal`, which the route reuses),
charges one point up front and puts `RateLimit-*` headers on every answer. A GraphQL request
then costs more once its node cost is known: `schema.http.rate_cost` calls `charge_graphql` at the
end of validation, which refuses the operation before execution when the points do not fit.
Counting is `gateway.core.counters`'s fixed window (`take`), so with `GATEWAY_REDIS_URL` every
process spends from the same budget. A websocket carries many operations past the middleware,
so `schema.http.socket` charges each one's first point with `charge_socket_operation`, and the
rest as over HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.datastructures import MutableHeaders
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from tortoise.exceptions import BaseORMException

from gateway.core.counters import Charge, Throttle
from gateway.core.errors import DomainError, RateLimited, Unauthenticated
from gateway.core.settings import Settings
from gateway.http.deps import claimed_user_id
from gateway.http.docs import ASSETS_PREFIX, DOCS_URL, GRAPHQL_PATH
from gateway.http.forwarded import client_address
from gateway.http.problems import graphql_request_error, problem
from gateway.http.rate_headers import set_rate_limit_headers

WINDOW_SECONDS = 60
KEY_PREFIX = "rate:"
# Liveness, readiness and the documentation's own files never count.
EXEMPT_PATHS = frozenset({"/healthz", "/readyz", "/openapi.json", DOCS_URL})
EXEMPT_PREFIXES = (ASSETS_PREFIX + "/", DOCS_URL + "/")
_STATE_KEY = "rate_limit"


@dataclass(slots=True)
class Budget:
    """One request's view of its principal's budget; the GraphQL extension updates it."""

    throttle: Throttle
    key: str
    limit: int
    count: int = 0
    reset: int = WINDOW_SECONDS
    refused: bool = field(default=False)
    # A GraphQL operation is charged once, whichever path answers it (`charge_graphql`).
    graphql_charged: bool = False
    graphql_refusal: RateLimited | None = None

    def record(self, charge: Charge) -> None:
        self.count, self.reset = charge.count, charge.retry_after
        self.refused = not charge.admitted

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.count)

    def headers(self) -> dict[str, str]:
        """`RateLimit-*` (and `Retry-After` once refused), as draft-ietf-httpapi-ratelimit-headers
        spells them: the reset is in seconds from now."""
        values = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset),
        }
        if self.refused:
            values["Retry-After"] = str(self.reset)
        return values

    def refusal(self) -> RateLimited:
        """The answer to an arrival that did not fit."""
        return RateLimited(
            f"Over the limit of {self.limit} points per {WINDOW_SECONDS} s;"
            f" retry in {self.reset} s",
            retry_after=self.reset,
        )


def points_for(node_cost: int, settings: Settings) -> int:
    """What a GraphQL operation costs: one point, plus one per `rate_limit_node_cost_per_point`
    nodes it may return."""
    return 1 + max(0, node_cost) // settings.rate_limit_node_cost_per_point


def budget_of(scope: Scope) -> Budget | None:
    """The budget the middleware opened for this request (None when exempt or off)."""
    budget = scope.get("state", {}).get(_STATE_KEY)
    return budget if isinstance(budget, Budget) else None


async def charge_graphql(scope: Scope, node_cost: int, settings: Settings) -> None:
    """Spend the rest of a GraphQL operation's points (the middleware took one already);
    `RateLimited` when they do not fit, so the operation never runs. An operation dearer than
    the whole budget is charged the whole budget: it can run, but only on a fresh window."""
    budget = budget_of(scope)
    if budget is None:
        return
    if budget.graphql_charged:  # the compiled path charged it, then left it to the resolvers
        if budget.graphql_refusal is not None:
            raise budget.graphql_refusal
        return
    budget.graphql_charged = True
    points = points_for(node_cost, settings)
    extra = min(points, budget.limit) - 1
    if extra <= 0:
        return
    budget.record(await budget.throttle.take(budget.key, extra, budget.limit, WINDOW_SECONDS))
    set_rate_limit_headers(budget.headers())
    if budget.refused:
        budget.graphql_refusal = RateLimited(
            f"This operation costs {points} points and {budget.remaining} of {budget.limit}"
            f" remain in this window; retry in {budget.reset} s",
            retry_after=budget.reset,
        )
        raise budget.graphql_refusal


async def open_budget(scope: Scope, user_id: int | None) -> Budget:
    """Take an arrival's first point from its principal's budget: the user's when `user_id`
    is known, else the client address's (`Budget.refused` when it did not fit)."""
    settings: Settings = scope["app"].state.settings
    throttle: Throttle = scope["app"].state.throttle
    if user_id is not None:
        budget = Budget(throttle, f"{KEY_PREFIX}user:{user_id}", settings.rate_limit_per_minute)
    else:
        address = client_address(scope, settings.trusted_proxies)
        budget = Budget(
            throttle, f"{KEY_PREFIX}addr:{address}", settings.rate_limit_anonymous_per_minute
        )
    budget.record(await throttle.take(budget.key, 1, budget.limit, WINDOW_SECONDS))
    return budget


async def charge_socket_operation(scope: Scope, user_id: int | None) -> None:
    """Charge one GraphQL operation sent over a websocket, as the middleware charges an HTTP
    request on arrival (`charge_graphql` then takes the rest of its cost): `RateLimited` when
    the budget is spent. The socket's principal is fixed once connected, so its budget stays in
    the connection's scope for `charge_graphql`."""
    if not scope["app"].state.settings.rate_limit_enabled:
        return
    budget = await open_budget(scope, user_id)
    if budget.refused:
        raise budget.refusal()
    scope.setdefault("state", {})[_STATE_KEY] = budget


async def _user_id(scope: Scope) -> int | None:
    """The user a request's credential names; None for anyone else, a bad credential included
    (charged to its address; the route answers 401 from the same resolution)."""
    try:
        return await claimed_user_id(scope)
    except Unauthenticated:
        return None
    except (BaseORMException, OSError):
        return None  # the database is down: the route answers 503; count the address


def _is_exempt(path: str) -> bool:
    return path in EXEMPT_PATHS or path.startswith(EXEMPT_PREFIXES)


class RateLimitMiddleware:
    """Charges every HTTP request and labels every answer (a websocket's operations are
    charged one by one, by `charge_socket_operation`)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _is_exempt(scope["path"]):
            await self.app(scope, receive, send)
            return
        application = scope["app"]
        settings: Settings = application.state.settings
        if not settings.rate_limit_enabled:
            await self.app(scope, receive, send)
            return
        is_graphql = scope["path"].rstrip("/") == GRAPHQL_PATH
        try:
            budget = await open_budget(scope, await _user_id(scope))
        except DomainError as exc:  # the shared store is unreachable: fail closed (503)
            await _error(exc, is_graphql)(scope, receive, send)
            return
        set_rate_limit_headers(budget.headers())
        if budget.refused:
            refusal = budget.refusal()
            refusal.headers.update(budget.headers())
            await _error(refusal, is_graphql)(scope, receive, send)
            return
        scope.setdefault("state", {})[_STATE_KEY] = budget

        async def send_with_budget(message: Message) -> None:
            if message["type"] == "http.response.start":
                # Read now, not before: a GraphQL operation may have spent (or been refused) more.
                if budget.refused:
                    message["status"] = 429
                headers = MutableHeaders(scope=message)
                for name, value in budget.headers().items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_budget)


def _error(exc: DomainError, is_graphql: bool) -> JSONResponse:
    if is_graphql:
        return graphql_request_error(exc)
    return problem(exc.code, exc.detail, errors=exc.errors, headers=exc.headers)
