"""Compiled GraphQL reads: a query the read model expresses, answered with one SQL statement
per root field and the JSON built by the database (ADR 0015).

`CompiledReads.answer` is asked first for every GraphQL request over HTTP. A document is
parsed, validated (the schema's rules and the shape limits) and planned once per
(document, operation name), in a bounded cache (`PLANS`); per request it only coerces the
variables, applies the variable-dependent checks the resolver path applies (argument guard,
page sizes and node cost, the rate-limit charge), binds the values and runs the statements.
It answers None — run the resolvers — whenever the plan does not cover the request: a
document the read model cannot express, an anonymous caller, a token without `read`, or any
input the resolvers would refuse (so every error keeps its exact wording), or a root object
that is missing or invisible (NOT_FOUND comes from the resolvers too).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from functools import partial
from typing import Any, Final

import orjson
from graphql import (
    ArgumentNode,
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    Undefined,
    parse,
    specified_rules,
    validate,
    value_from_ast,
)
from graphql.execution.values import get_variable_values
from starlette.types import Scope

from gateway.core.errors import DomainError, NotFound, RateLimited
from gateway.core.ids import from_global_id
from gateway.core.settings import Settings
from gateway.http.middleware.rate_limit import budget_of, charge_graphql
from gateway.reads.model import Dialect, camel
from gateway.reads.roots import Root, compile_nodes, compile_root, direct_pages
from gateway.reads.run import fetch_json
from gateway.reads.selection import PageRequest
from gateway.reads.sql import CannotCompile, Statement
from gateway.reads.values import caller_values, page_request, parameters, root_values
from schema.http.cost import analyse
from schema.http.limits import Limits, SingleOperation, shape_rule
from schema.inputs import argument_problems
from schema.lookup import MAX_NODES
from schema.planner import PlannedRoot, plan_roots

MAX_PLANS: Final = 512
MAX_BOUND: Final = 32  # sets of variables remembered per plan
MAX_VARIANTS: Final = 64  # statements kept per plan (cursors, filters and orders vary them)


@dataclass(frozen=True, slots=True)
class Read:
    """One root field's statement: `key` is its `"name":` in the answer, `values` those of
    its parameters but the caller's; `silent` answers null for no row, where the resolvers
    would (`node`), instead of leaving the request to them."""

    key: bytes
    statement: Statement
    values: dict[str, object]
    silent: bool


@dataclass(frozen=True, slots=True)
class Bound:
    """A plan run with one set of variables: its node cost, and each root's read."""

    cost: int
    reads: tuple[Read, ...]


@dataclass(slots=True)
class Plan:
    """A validated query's reads, their SQL per variant (`PageRequest.variant`), and the
    last few sets of variables it was bound with (None: the resolvers must answer those)."""

    document: DocumentNode
    operation: OperationDefinitionNode
    roots: list[PlannedRoot]
    statements: dict[tuple[object, ...], Statement] = field(default_factory=dict)
    bound: OrderedDict[bytes, Bound | None] = field(default_factory=OrderedDict)


class PlanCache(OrderedDict[tuple[str, str | None], Plan | None]):
    """Plans by (document text, operation name), least recently used dropped past `MAX_PLANS`;
    None remembers a document the planner leaves to the resolvers."""

    def remember(self, key: tuple[str, str | None], plan: Plan | None) -> None:
        self[key] = plan
        if len(self) > MAX_PLANS:
            self.popitem(last=False)


PLANS: Final = PlanCache()


def _plan(schema: GraphQLSchema, limits: Limits, query: str, name: str | None) -> Plan | None:
    try:
        document = parse(query, max_tokens=limits.max_tokens)
    except GraphQLError:
        return None
    rules = [*specified_rules, shape_rule(limits), *([SingleOperation] if name is None else [])]
    if validate(schema, document, rules):
        return None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = [o for o in operations if name is None or (o.name and o.name.value == name)]
    if len(chosen) != 1 or chosen[0].operation is not OperationType.QUERY:
        return None
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    try:
        roots = plan_roots(chosen[0].selection_set, fragments)
    except CannotCompile:
        return None
    return Plan(document, chosen[0], roots)


def _plain(value: object) -> object:
    """graphql-core's coerced value with enums as their values (Strawberry's internal ones)."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _arguments(
    schema: GraphQLSchema,
    type_name: str,
    field: str,
    nodes: tuple[ArgumentNode, ...],
    variables: Mapping[str, Any],
) -> dict[str, object]:
    definition = schema.get_type(type_name).fields[field]  # type: ignore[union-attr]
    values: dict[str, object] = {}
    for node in nodes:
        argument = definition.args[node.name.value]
        value = value_from_ast(node.value, argument.type, dict(variables))
        if value is not Undefined:  # a variable the request left out: the argument is absent
            values[node.name.value] = _plain(value)
    return values


class CompiledReads:
    """The compiled path of one schema."""

    def __init__(self, schema: GraphQLSchema, settings: Settings, dialect: Dialect) -> None:
        self.schema = schema
        self.settings = settings
        self.limits = Limits.from_settings(settings)
        self.dialect = dialect

    def plan(self, query: str, name: str | None) -> Plan | None:
        key = (query, name)
        if key in PLANS:
            PLANS.move_to_end(key)
            return PLANS[key]
        plan = _plan(self.schema, self.limits, query, name)
        PLANS.remember(key, plan)
        return plan

    async def answer(
        self, scope: Scope, user_id: int, query: str, name: str | None, variables: dict[str, Any]
    ) -> bytes | None:
        """The response body of `query` read by the user `user_id` (whose credential allows
        reading), or None: the resolvers answer instead (the rate limit charged here is not
        charged twice, `gateway.http.middleware.rate_limit.charge_graphql`)."""
        plan = self.plan(query, name)
        if plan is None:
            return None
        bound = self.bound(plan, variables)
        if bound is None:
            return None
        if budget_of(scope) is not None:
            try:
                await charge_graphql(scope, bound.cost, scope["app"].state.settings)
            except RateLimited:
                return None  # the resolvers' path renders the same refusal
        caller = caller_values(user_id)
        parts: list[bytes] = []
        for read in bound.reads:
            values = read.values | caller
            try:
                answer = await fetch_json(
                    read.statement.sql, parameters(read.statement.names, values)
                )
            except CannotCompile:
                return None
            if answer is None and not read.silent:
                return None  # missing, invisible or the caller inactive: the resolvers say why
            parts.append(read.key + (answer or b"null"))
        return b'{"data":{' + b",".join(parts) + b"}}"

    def bound(self, plan: Plan, variables: dict[str, Any]) -> Bound | None:
        """`plan` bound with `variables`, remembered for the next request with the same ones
        (variables that orjson cannot write, such as huge integers, are bound every time)."""
        try:
            key = orjson.dumps(variables, option=orjson.OPT_SORT_KEYS)
        except TypeError:
            return self._bind(plan, variables)
        if key in plan.bound:
            plan.bound.move_to_end(key)
            return plan.bound[key]
        bound = self._bind(plan, variables)
        plan.bound[key] = bound
        if len(plan.bound) > MAX_BOUND:
            plan.bound.popitem(last=False)
        return bound

    def _bind(self, plan: Plan, variables: dict[str, Any]) -> Bound | None:
        """The checks the resolver path applies to variables (coercion, the argument guard,
        page sizes and node cost) and every read's values; None when one fails."""
        coerced = get_variable_values(
            self.schema, plan.operation.variable_definitions or (), variables
        )
        if isinstance(coerced, list) or argument_problems(plan.document, variables):
            return None
        costs = analyse(self.schema, plan.document, variables)
        cost = next(c for c in costs if c.operation is plan.operation)
        if cost.bad or cost.nodes > self.limits.max_nodes:
            return None
        reads: list[Read] = []
        try:
            for root in plan.roots:
                kind, compile_read, pages, values = self._values(root, coerced.coerced)
                variant = (root.key, kind, *(pages[i].variant() for i in sorted(pages)))
                statement = plan.statements.get(variant)
                if statement is None:
                    statement = compile_read(pages)
                    if len(plan.statements) < MAX_VARIANTS:  # variables pick the variant
                        plan.statements[variant] = statement
                reads.append(Read(orjson.dumps(root.key) + b":", statement, values, root.silent))
        except (CannotCompile, DomainError):
            return None
        return Bound(cost.nodes, tuple(reads))

    def _values(
        self, root: PlannedRoot, variables: Mapping[str, Any]
    ) -> tuple[
        object,
        Callable[[Mapping[str, PageRequest]], Statement],
        dict[str, PageRequest],
        dict[str, object],
    ]:
        """Which read answers `root` (`node` and `nodes` pick by the ids' types), how to
        compile it, its pages and the values of its parameters."""
        arguments = _arguments(self.schema, "Query", root.field, root.arguments, variables)
        values: dict[str, object] = {}
        kind: object
        if root.field in ("node", "nodes"):
            ids = [arguments["id"]] if root.field == "node" else list(arguments["ids"])  # type: ignore[call-overload]
            if len(ids) > MAX_NODES:
                raise CannotCompile("too many ids")  # the resolver names the limit
            found: list[Root | None] = []
            for i, global_id in enumerate(ids):
                try:
                    type_name, pk = from_global_id(str(global_id))
                except NotFound:
                    found.append(None)  # not an id: null, as the resolvers answer
                    continue
                read = root.reads.get(type_name)
                if read is None:
                    raise CannotCompile(f"{type_name} nodes are left to the resolvers")
                found.append(read)
                values[f"{read.id}.pk{i}"] = pk
            kind = tuple(None if r is None else r.lookup for r in found)
            if root.field == "node":
                single = found[0]
                if single is None:
                    raise CannotCompile("not a global id")
                values = {f"{single.id}.pk": values[f"{single.id}.pk0"]}
                compile_read = partial(compile_root, single, self.dialect, checked=False)
            else:
                compile_read = partial(compile_nodes, found, self.dialect)
        else:
            read = root.reads[""]
            kind, values = "", root_values(read.id, arguments)
            compile_read = partial(compile_root, read, self.dialect)
        # A list of the root's object takes cursors bound to it: the statement checks them
        # (not under `node`, whose missing object is an answer, null, not an error).
        reads = () if root.field in ("node", "nodes") else root.reads.values()
        direct = {paged.id for paged in direct_pages(reads)}
        pages: dict[str, PageRequest] = {}
        for page_id, (relation, owner, nodes) in root.pages.items():
            given = _arguments(self.schema, owner, camel(relation.name), nodes, variables)
            pages[page_id], bound = page_request(page_id, relation, given, root=page_id in direct)
            values.update(bound)
        return kind, compile_read, pages, values
