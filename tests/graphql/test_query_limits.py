"""Query protection (ADR 0009): depth, alias, token and node-cost limits refuse a query before
it runs (no resolver, no SQL), with GRAPHQL_VALIDATION_FAILED (VALIDATION_FAILED for a page
size) and `extensions.limit`; the node cost arithmetic; introspection and GraphiQL in
development and production."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import strawberry
from fastapi import FastAPI
from graphql import get_introspection_query

from gateway.core.settings import Environment, Settings
from gateway.http.app import create_app
from gateway.security.principal import Principal, Scope, TokenKind
from schema import SwitchyardSchema, build_schema
from schema.connection import After, Before, Connection, First, Last, PageInfo
from schema.context import Context
from schema.http.cost import node_cost
from schema.http.limits import query_cost
from schema.loaders import Loaders
from tests.auth_helpers import bearer, gql, make_user
from tests.sql_counter import count_sql

CALLS: list[str] = []


async def _no_rows() -> int:
    return 0


def _empty() -> Connection[Thing]:
    info = PageInfo(
        has_next_page=False, has_previous_page=False, start_cursor=None, end_cursor=None
    )
    return Connection(edges=[], page_info=info, count_total=_no_rows)


@strawberry.type(description="A probe object: every resolver records that it ran.")
class Thing:
    id: int

    @strawberry.field
    def parent(self) -> Thing:
        CALLS.append("parent")
        return Thing(id=self.id + 1)

    @strawberry.field
    def children(
        self, first: First = None, after: After = None, last: Last = None, before: Before = None
    ) -> Connection[Thing]:
        CALLS.append("children")
        return _empty()


@strawberry.type
class ProbeQuery:
    @strawberry.field
    def thing(self) -> Thing:
        CALLS.append("thing")
        return Thing(id=1)

    @strawberry.field
    def things(
        self, first: First = None, after: After = None, last: Last = None, before: Before = None
    ) -> Connection[Thing]:
        CALLS.append("things")
        return _empty()


def probe_schema(settings: Settings) -> strawberry.Schema:
    """The probe query with exactly the extensions `build_schema` gives the real schema."""
    return SwitchyardSchema(query=ProbeQuery, extensions=build_schema(settings).extensions)


async def run(
    schema: strawberry.Schema, query: str, variables: dict[str, Any] | None = None
) -> tuple[Any, Context, list[str]]:
    """Execute anonymously on `schema`; the result, the context and the resolvers that ran."""
    CALLS.clear()
    context = Context(Settings.model_construct(), None, Loaders)
    result = await schema.execute(query, variable_values=variables, context_value=context)
    return result, context, list(CALLS)


def limit_errors(errors: list[Any]) -> list[tuple[str | None, str]]:
    """(extensions.limit, message) of each error, GraphQLError or decoded JSON."""
    pairs: list[tuple[str | None, str]] = []
    for error in errors:
        extensions = error["extensions"] if isinstance(error, dict) else error.extensions
        message = error["message"] if isinstance(error, dict) else error.message
        limit = extensions.get("limit")
        # A page size out of range is bad input; every other limit is the document's fault.
        code = "VALIDATION_FAILED" if limit == "pageSize" else "GRAPHQL_VALIDATION_FAILED"
        assert extensions["code"] == code, error
        pairs.append((limit, message))
    return pairs


DEPTH_BOMB = "{ thing " + "{ parent " * 40 + "{ id }" + " }" * 41
ALIAS_BOMB = "{ " + " ".join(f"a{i}: thing {{ id }}" for i in range(31)) + " }"
TOKEN_BOMB = "{ thing { " + "id " * 2100 + "} }"
PAGE_BOMB = "{ things(first: 10000) { edges { node { id } } } }"
NESTED = (
    "query($n: Int) { things(first: 100) { edges { node {"
    " children(first: 100) { edges { node { children(first: $n) { totalCount } } } } } } } }"
)


@pytest.mark.parametrize(
    ("query", "variables", "limit", "message"),
    [
        (DEPTH_BOMB, None, "depth", "exceeds maximum operation depth of 12"),
        (ALIAS_BOMB, None, "aliases", "31 aliases found. Allowed: 30"),
        (TOKEN_BOMB, None, "tokens", "Document contains more than 2000 tokens"),
        (PAGE_BOMB, None, "pageSize", "ProbeQuery.things: first must be between 1 and 100"),
        (NESTED, {"n": 4}, "nodes", "Query would fetch up to 50,100 nodes; the limit is 50,000"),
    ],
    ids=["depth", "aliases", "tokens", "first-10000", "nodes"],
)
async def test_bombs_are_refused_before_any_resolver_runs(
    settings: Settings, query: str, variables: dict[str, Any] | None, limit: str, message: str
) -> None:
    with count_sql() as sql:
        result, _, ran = await run(probe_schema(settings), query, variables)
    assert result.data is None
    assert ran == []
    assert sql.count == 0, sql
    [(found_limit, found_message)] = limit_errors(result.errors)
    assert found_limit == limit
    assert message in found_message


async def test_a_big_but_legal_query_runs(settings: Settings) -> None:
    result, context, ran = await run(probe_schema(settings), NESTED, {"n": 3})
    assert result.errors is None
    assert result.data == {"things": {"edges": []}}
    assert ran == ["things"]
    assert query_cost(context) == 100 + 100 * 100 + 100 * 100 * 3


async def test_variables_change_the_verdict_despite_the_validation_cache(
    settings: Settings,
) -> None:
    schema = probe_schema(settings)
    for n, refused in ((3, False), (4, True), (3, False), (4, True)):
        result, _, _ = await run(schema, NESTED, {"n": n})
        assert (result.errors is not None) is refused, (n, result.errors)


@pytest.mark.parametrize("value", [0, -1, 101])
async def test_page_sizes_outside_1_to_100_are_refused(settings: Settings, value: int) -> None:
    query = "query($v: Int) { thing { children(last: $v) { totalCount } } }"
    result, _, ran = await run(probe_schema(settings), query, {"v": value})
    assert ran == []
    [(limit, message)] = limit_errors(result.errors)
    assert limit == "pageSize"
    assert message == f"Thing.children: last must be between 1 and 100; got {value}"


def test_node_cost_follows_githubs_arithmetic(settings: Settings) -> None:
    schema = probe_schema(settings)
    # GitHub's worked example: 50 repositories x 10 issues x 60 labels.
    github = (
        "{ things(first: 50) { edges { node { children(first: 10) { edges { node {"
        " children(first: 60) { totalCount } } } } } } } }"
    )
    assert node_cost(schema, github) == 50 + 50 * 10 + 50 * 10 * 60
    assert node_cost(schema, "{ things { totalCount } }") == 30  # the default page size
    assert node_cost(schema, "{ thing { id parent { id } } }") == 0


def test_node_cost_reads_variables_fragments_and_defaults(settings: Settings) -> None:
    schema = probe_schema(settings)
    query = """
        query Q($n: Int = 7, $m: Int) {
          things(first: $n) { edges { node { ...F } } }
          thing { ... on Thing { children(last: 5) { totalCount } } }
        }
        fragment F on Thing {
          children(first: $m) { edges { node { children { totalCount } } } }
        }
    """
    # things: n; F per thing: m * (1 + 30); the inline fragment: 5.
    assert node_cost(schema, query, {"m": 10}) == 7 + 7 * 10 * 31 + 5
    assert node_cost(schema, query) == 7 + 7 * 30 * 31 + 5
    assert node_cost(schema, query, {"n": 2, "m": 3}) == 2 + 2 * 3 * 31 + 5
    assert node_cost(schema, query, {"n": 2, "m": 3}, operation_name="Other") == 0


def test_a_fragment_spread_often_is_costed_once_and_counted_each_time(
    settings: Settings,
) -> None:
    # Each level doubles the spreads; costed naively that is 2^40 walks.
    levels = 40
    fragments = " ".join(
        f"fragment F{i} on Thing {{ parent {{ ...F{i + 1} }} p: parent {{ ...F{i + 1} }} }}"
        for i in range(levels)
    )
    last = f"fragment F{levels} on Thing {{ children(first: 1) {{ totalCount }} }}"
    query = f"{{ thing {{ ...F0 }} }} {fragments} {last}"
    assert node_cost(probe_schema(settings), query) == 2**levels


async def test_the_cost_is_stashed_on_the_context(settings: Settings) -> None:
    result, context, _ = await run(probe_schema(settings), "{ things(first: 12) { totalCount } }")
    assert result.errors is None
    assert context.query_cost == 12  # type: ignore[attr-defined]
    assert query_cost(context) == 12


async def test_limits_follow_settings(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    tight = settings.model_copy(
        update={
            "graphql_max_depth": 2,
            "graphql_max_aliases": 1,
            "graphql_max_tokens": 100,
            "graphql_max_nodes": 20,
        }
    )
    schema = probe_schema(tight)
    cases = {
        "{ thing { parent { id } } }": None,
        "{ thing { parent { parent { id } } } }": "depth",
        "{ a: thing { id } }": None,
        "{ a: thing { id } b: thing { id } }": "aliases",
        "{ thing { " + "id " * 100 + "} }": "tokens",
        "{ things(first: 20) { totalCount } }": None,
        "{ things(first: 21) { totalCount } }": "nodes",
    }
    for query, limit in cases.items():
        result, _, _ = await run(schema, query)
        found = [found for found, _ in limit_errors(result.errors or [])]
        assert found == ([] if limit is None else [limit]), query
    monkeypatch.setenv("GATEWAY_GRAPHQL_MAX_NODES", "123")
    monkeypatch.setenv("GATEWAY_GRAPHQL_MAX_DEPTH", "5")
    from_env = Settings()
    assert (from_env.graphql_max_nodes, from_env.graphql_max_depth) == (123, 5)


async def test_graphiqls_introspection_query_passes_in_development(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    introspection = get_introspection_query(descriptions=True)
    body = await gql(client, introspection)
    assert "errors" not in body, body
    assert body["data"]["__schema"]["queryType"]["name"] == "Query"
    # Deep as it is, it passes even a depth limit of 1: introspection fields are not counted.
    shallow = settings.model_copy(update={"graphql_max_depth": 1})
    result, _, _ = await run(probe_schema(shallow), introspection)
    assert result.errors is None


HTTP_BOMBS = {
    "depth": "{ viewer " + "{ username " * 30 + "}" * 31,
    "aliases": "{ " + " ".join(f"a{i}: serverInfo {{ version }}" for i in range(31)) + " }",
    "tokens": "{ serverInfo { " + "version " * 2100 + "} }",
    "pageSize": '{ workspace(slug: "acme") { members(first: 10000) { totalCount } } }',
}


@pytest.mark.parametrize("limit", list(HTTP_BOMBS))
async def test_bombs_over_http_touch_no_database(client: httpx.AsyncClient, limit: str) -> None:
    with count_sql() as sql:
        body = await gql(client, HTTP_BOMBS[limit])
    assert sql.count == 0, sql
    assert body.get("data") is None
    assert limit in [found for found, _ in limit_errors(body["errors"])]


async def test_the_same_query_within_limits_does_touch_the_database(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings
) -> None:
    """The control for the 0-statement assertions: the refused page size, made legal, runs."""
    owner = await make_user("owner")
    created = await gql(
        client,
        'mutation { createWorkspace(input: {slug: "acme", name: "Acme"}) { workspace { id } } }',
        bearer(app, owner),
    )
    assert "errors" not in created, created
    schema = build_schema(settings)
    principal = Principal(owner.id, owner.username, False, TokenKind.access, frozenset(Scope))
    principal_context = Context(settings, principal, Loaders)
    legal = '{ workspace(slug: "acme") { members(first: 100) { totalCount } } }'
    with count_sql() as sql:
        result = await schema.execute(legal, context_value=principal_context)
    assert result.errors is None
    assert result.data == {"workspace": {"members": {"totalCount": 1}}}
    assert sql.count > 0
    with count_sql() as sql:
        refused = await schema.execute(
            legal.replace("100", "10000"), context_value=principal_context
        )
    assert sql.count == 0, sql
    assert refused.data is None


async def test_production_hides_introspection_and_graphiql(settings: Settings) -> None:
    production = Settings(
        environment=Environment.production,
        database_url=settings.database_url,
        jwt_secret="production-secret-0123456789-abcdefghijklmnop",
    )
    assert not production.introspection
    assert not production.graphiql
    for config, hidden in ((settings, False), (production, True)):
        transport = httpx.ASGITransport(app=create_app(config), raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            body = await gql(http, "{ __schema { queryType { name } } }")
            page = await http.get("/graphql", headers={"Accept": "text/html"})
        if hidden:
            assert body.get("data") is None
            assert "introspection has been disabled" in body["errors"][0]["message"]
            assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
            assert "graphiql" not in page.text.lower()
        else:
            assert body["data"] == {"__schema": {"queryType": {"name": "Query"}}}
            assert page.status_code == 200
            assert "graphiql" in page.text.lower()


async def test_an_unknown_fragment_is_a_validation_error_not_a_crash(
    client: httpx.AsyncClient,
) -> None:
    body = await gql(client, "{ ...Missing }")
    assert [e["extensions"]["code"] for e in body["errors"]] == ["GRAPHQL_VALIDATION_FAILED"]
