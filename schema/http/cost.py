"""Node cost: how many objects a GraphQL operation may fetch, known before it runs.

In the spirit of GitHub's node limit: every connection field (a field whose type is a
`…Connection` object and that takes `first` or `last`) fetches up to its page size for each
object of the connections around it. The cost of an operation is the sum, over its connection
fields, of their page size times the page sizes of the connections they are nested in:

    workspace { members(first: 50) { edges { node {
        issues(first: 20) { edges { node { comments(first: 10) { totalCount } } } } } } } }

costs 50 + 50·20 + 50·20·10 = 11,050. The page size is `first` or `last` (a literal or a
variable, the operation's default for an absent variable), `gateway.core.paging.DEFAULT_LIMIT` when
neither is given; fragments and inline fragments count where they are spread. A field selected
twice counts twice (the estimate may exceed, never undercut, what runs).

`node_cost` is the public entry (the rate limiter charges by it); `node_cost_rule` is the
graphql-core validation rule that refuses an over-limit operation (`extensions.code`
GRAPHQL_VALIDATION_FAILED) and a page size outside 1..`MAX_LIMIT` (VALIDATION_FAILED with
`fields`: bad input, as REST's `?limit=` is), with `extensions.limit` naming the limit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

import strawberry
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    ValueNode,
    VariableNode,
    get_named_type,
    parse,
    value_from_ast_untyped,
)

from gateway.core.errors import ErrorCode, GraphQLErrorCode
from gateway.core.paging import DEFAULT_LIMIT, MAX_LIMIT

PAGE_ARGUMENTS = ("first", "last")
# Nesting is bounded far lower by the depth limit (at most 100); beyond this the walk stops, so
# that a document nested through fragments cannot exhaust the interpreter's stack.
MAX_NESTING = 200

Variables = Mapping[str, object]


@dataclass(frozen=True, slots=True)
class BadPageSize:
    """A `first`/`last` outside 1..MAX_LIMIT, found before execution."""

    field: str  # "Workspace.members"
    argument: str  # "first" or "last"
    value: int
    node: FieldNode


@dataclass(slots=True)
class _Walk:
    """One operation's analysis: its variables, the fragments already costed, what was found."""

    schema: GraphQLSchema
    fragments: dict[str, FragmentDefinitionNode]
    variables: Mapping[str, object]
    bad: list[BadPageSize]
    memo: dict[str, int] = field(default_factory=dict)
    active: set[str] = field(default_factory=set)


@dataclass(frozen=True, slots=True)
class OperationCost:
    operation: OperationDefinitionNode
    nodes: int
    bad: tuple[BadPageSize, ...]


def is_connection(field_def: GraphQLField) -> bool:
    """A paged list: a `…Connection` object type taking `first` or `last`."""
    named = get_named_type(field_def.type)
    return (
        isinstance(named, GraphQLObjectType)
        and named.name.endswith("Connection")
        and any(name in field_def.args for name in PAGE_ARGUMENTS)
    )


def _as_int(value: object) -> int | None:
    # What GraphQL's Int accepts from variables: ints, and floats without a fraction.
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _argument(node: ValueNode, variables: Mapping[str, object]) -> int | None:
    if isinstance(node, VariableNode):
        return _as_int(variables.get(node.name.value))
    if isinstance(node, IntValueNode):
        return int(node.value)
    return None  # null, or a literal of the wrong type (validation reports that)


def _page_size(walk: _Walk, parent: GraphQLNamedType, node: FieldNode) -> int:
    sizes: list[int] = []
    for argument in node.arguments or ():
        name = argument.name.value
        if name not in PAGE_ARGUMENTS:
            continue
        value = _argument(argument.value, walk.variables)
        if value is None:
            continue
        if not 1 <= value <= MAX_LIMIT:
            walk.bad.append(BadPageSize(f"{parent.name}.{node.name.value}", name, value, node))
        sizes.append(max(0, value))
    return max(sizes) if sizes else DEFAULT_LIMIT


def _unit_cost(
    walk: _Walk, selection_set: SelectionSetNode, parent: GraphQLNamedType | None, nesting: int
) -> int:
    """The nodes one object of type `parent` adds by this selection set. Cost is linear in the
    enclosing multiplier, so a fragment is costed once however often it is spread."""
    if parent is None or nesting > MAX_NESTING:
        return 0
    total = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            fields = (
                parent.fields
                if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType)
                else {}
            )
            field_def = fields.get(selection.name.value)
            if field_def is None:
                continue  # __typename, introspection, or an unknown field (validation's job)
            inner = 0
            if selection.selection_set is not None:
                child = get_named_type(field_def.type)
                inner = _unit_cost(walk, selection.selection_set, child, nesting + 1)
            if is_connection(field_def):
                total += _page_size(walk, parent, selection) * (1 + inner)
            else:
                total += inner
        elif isinstance(selection, InlineFragmentNode):
            condition = selection.type_condition
            target = walk.schema.get_type(condition.name.value) if condition else parent
            total += _unit_cost(walk, selection.selection_set, target, nesting + 1)
        elif isinstance(selection, FragmentSpreadNode):
            total += _fragment_cost(walk, selection.name.value, nesting + 1)
    return total


def _fragment_cost(walk: _Walk, name: str, nesting: int) -> int:
    if name in walk.memo:
        return walk.memo[name]
    fragment = walk.fragments.get(name)
    if fragment is None or name in walk.active:
        return 0  # unknown or cyclic: NoFragmentCycles / KnownFragmentNames report it
    walk.active.add(name)
    target = walk.schema.get_type(fragment.type_condition.name.value)
    cost = _unit_cost(walk, fragment.selection_set, target, nesting)
    walk.active.discard(name)
    walk.memo[name] = cost
    return cost


def _root_type(schema: GraphQLSchema, operation: OperationType) -> GraphQLObjectType | None:
    if operation is OperationType.MUTATION:
        return schema.mutation_type
    if operation is OperationType.SUBSCRIPTION:
        return schema.subscription_type
    return schema.query_type


def analyse(
    schema: GraphQLSchema, document: DocumentNode, variables: Variables | None = None
) -> list[OperationCost]:
    """The cost of every operation in `document`, with the page sizes out of range."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    costs: list[OperationCost] = []
    for operation in document.definitions:
        if not isinstance(operation, OperationDefinitionNode):
            continue
        # Defaults of the operation's own variables apply when the request leaves them out.
        values: dict[str, object] = {
            d.variable.name.value: value_from_ast_untyped(d.default_value)
            for d in operation.variable_definitions or ()
            if d.default_value is not None
        }
        values.update(variables or {})
        walk = _Walk(schema, fragments, values, [])
        root = _root_type(schema, operation.operation)
        nodes = _unit_cost(walk, operation.selection_set, root, 0)
        costs.append(OperationCost(operation, nodes, tuple(walk.bad)))
    return costs


def node_cost(
    schema: GraphQLSchema | strawberry.Schema,
    document: DocumentNode | str,
    variables: Variables | None = None,
    operation_name: str | None = None,
) -> int:
    """How many nodes the operation may fetch (0 when it reads no connection). With several
    operations in the document and no `operation_name`, the dearest one."""
    graphql_schema = schema._schema if isinstance(schema, strawberry.Schema) else schema
    parsed = parse(document) if isinstance(document, str) else document
    costs = [
        c.nodes
        for c in analyse(graphql_schema, parsed, variables)
        if operation_name is None
        or (c.operation.name is not None and c.operation.name.value == operation_name)
    ]
    return max(costs, default=0)


def _limit_error(
    message: str,
    nodes: list[FieldNode] | OperationDefinitionNode,
    code: ErrorCode | GraphQLErrorCode,
    **extensions: object,
) -> GraphQLError:
    return GraphQLError(message, nodes, extensions={"code": code.value, **extensions})


def request_variables(variables: Variables | None) -> tuple[tuple[str, int | None], ...]:
    """The variables that can be page sizes, as a hashable key: one rule class per distinct
    key, so Strawberry's ValidationCache still hits for repeated requests."""
    key: list[tuple[str, int | None]] = []
    for name, value in (variables or {}).items():
        number = _as_int(value)
        if number is not None or value is None:
            key.append((name, number))
    return tuple(sorted(key))


@lru_cache(maxsize=256)
def node_cost_rule(
    max_nodes: int, variables: tuple[tuple[str, int | None], ...] = ()
) -> type[ValidationRule]:
    """A validation rule refusing page sizes outside 1..MAX_LIMIT and operations dearer than
    `max_nodes`, for a request with these (`request_variables`) variables."""
    values = dict(variables)

    class NodeCostRule(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            for cost in analyse(context.schema, context.document, values):
                for bad in cost.bad:
                    context.report_error(
                        _limit_error(
                            f"{bad.field}: {bad.argument} must be between 1 and {MAX_LIMIT};"
                            f" got {bad.value}",
                            [bad.node],
                            ErrorCode.VALIDATION_FAILED,  # a bad value, as `?limit=` is on REST
                            limit="pageSize",
                            max=MAX_LIMIT,
                            value=bad.value,
                            fields=[
                                {
                                    "field": bad.argument,
                                    "message": f"must be between 1 and {MAX_LIMIT}",
                                }
                            ],
                        )
                    )
                if not cost.bad and cost.nodes > max_nodes:
                    context.report_error(
                        _limit_error(
                            f"Query would fetch up to {cost.nodes:,} nodes;"
                            f" the limit is {max_nodes:,}",
                            cost.operation,
                            GraphQLErrorCode.GRAPHQL_VALIDATION_FAILED,
                            limit="nodes",
                            max=max_nodes,
                            cost=cost.nodes,
                        )
                    )

    return NodeCostRule
