"""Query protection: depth, aliases, tokens, expanded size and node cost, all refused before
execution.

`query_limit_extensions(settings)` gives `build_schema` its extensions:

- Strawberry's `MaxTokensLimiter`: the parser stops past `graphql_max_tokens` tokens (comments
  included), before any AST is built.
- `QueryLimits`, which adds validation rules for each operation: `shape_rule` (depth, with
  introspection fields such as `__schema` not counted so GraphiQL's deep introspection query
  passes; aliases; and the fields of the document with its fragments expanded, at most one per
  token allowed), `schema.http.cost`'s node-cost rule (page sizes 1..100, total nodes up to
  `graphql_max_nodes`), and `SingleOperation` when the request names no operation.

The shape and the cost are measured with every fragment analysed once (`schema.shape`,
`schema.http.cost`), so validation takes time linear in the document whatever it spreads: the
validation cache is an optimisation, not a defence.

Every refusal carries `extensions.code` GRAPHQL_VALIDATION_FAILED (api.md, "Malformed
documents") plus `extensions.limit` (`depth`, `aliases`, `tokens`, `fields`, `pageSize`,
`nodes`) and `extensions.max`. Validation errors stop Strawberry before execution, so a refused
query runs no resolver and sends no SQL.

The node cost of the operation is stashed on the GraphQL context as `context.query_cost` (an
`int`; read it with `query_cost(context)`) as soon as the document is parsed, before
validation: extensions' validation hooks, resolvers and the rate limiter can all read it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache, partial

from graphql import (
    SKIP,
    DocumentNode,
    GraphQLError,
    GraphQLSyntaxError,
    Node,
    OperationDefinitionNode,
    ValidationRule,
    VisitorAction,
)
from strawberry.extensions import MaxTokensLimiter, SchemaExtension
from strawberry.types import ExecutionContext

from gateway.core.errors import GraphQLErrorCode
from gateway.core.settings import Settings
from schema.http.cost import node_cost, node_cost_rule, request_variables
from schema.shape import measure

__all__ = [
    "QUERY_COST_ATTRIBUTE",
    "Limits",
    "QueryLimits",
    "SingleOperation",
    "node_cost",
    "query_cost",
    "query_limit_extensions",
    "shape_rule",
]

QUERY_COST_ATTRIBUTE = "query_cost"

_DEFAULTS = Settings.model_fields


@dataclass(frozen=True, slots=True)
class Limits:
    """The limits in force; defaults are the settings' defaults."""

    max_depth: int = _DEFAULTS["graphql_max_depth"].default
    max_aliases: int = _DEFAULTS["graphql_max_aliases"].default
    max_tokens: int = _DEFAULTS["graphql_max_tokens"].default
    max_nodes: int = _DEFAULTS["graphql_max_nodes"].default

    @classmethod
    def from_settings(cls, settings: Settings | None) -> Limits:
        if settings is None:
            return cls()
        return cls(
            max_depth=settings.graphql_max_depth,
            max_aliases=settings.graphql_max_aliases,
            max_tokens=settings.graphql_max_tokens,
            max_nodes=settings.graphql_max_nodes,
        )


def _limit_extensions(limit: str, maximum: int) -> dict[str, object]:
    return {
        "code": GraphQLErrorCode.GRAPHQL_VALIDATION_FAILED.value,
        "limit": limit,
        "max": maximum,
    }


@lru_cache(maxsize=16)
def shape_rule(limits: Limits) -> type[ValidationRule]:
    """The depth, alias and size rule for `limits`, made once: the same class on every
    request, so Strawberry's ValidationCache (keyed by the rule classes) keeps hitting. It
    measures the document with its fragments expanded, in linear time (`schema.shape`)."""

    class ShapeLimit(ValidationRule):
        def refuse(self, message: str, node: Node | None, limit: str, maximum: int) -> None:
            self.report_error(
                GraphQLError(message, node, extensions=_limit_extensions(limit, maximum))
            )

        def enter_document(self, node: DocumentNode, *_: object) -> VisitorAction:
            shapes = measure(node)
            for operation, shape in shapes:
                if shape.depth > limits.max_depth:
                    name = operation.name.value if operation.name else "anonymous"
                    message = f"'{name}' exceeds maximum operation depth of {limits.max_depth}"
                    self.refuse(message, operation, "depth", limits.max_depth)
            aliases = sum(shape.aliases for _, shape in shapes)
            if aliases > limits.max_aliases:
                message = f"{aliases} aliases found. Allowed: {limits.max_aliases}"
                self.refuse(message, None, "aliases", limits.max_aliases)
            # A field costs at least one token, so fragments cannot make a document larger than
            # one spelt out in full could be.
            fields = sum(shape.fields for _, shape in shapes)
            if fields > limits.max_tokens:
                message = (
                    f"The document expands to {fields:,} fields where its fragments are"
                    f" spread; the limit is {limits.max_tokens:,}"
                )
                self.refuse(message, None, "fields", limits.max_tokens)
            return SKIP

    return ShapeLimit


class SingleOperation(ValidationRule):
    """Without an `operationName`, the document must hold one operation (GraphQL's
    GetOperation: a request error, not a silent choice of the first)."""

    def enter_document(self, node: DocumentNode, *_: object) -> VisitorAction:
        operations = [d for d in node.definitions if isinstance(d, OperationDefinitionNode)]
        if len(operations) > 1:
            self.report_error(
                GraphQLError(
                    "Must provide operation name if query contains multiple operations.",
                    operations,
                    extensions={"code": GraphQLErrorCode.GRAPHQL_VALIDATION_FAILED.value},
                )
            )
        return SKIP


def _label_token_errors(errors: list[GraphQLError] | None, max_tokens: int) -> None:
    # The parser's own wording, so an unrelated syntax error is never mistaken for this one.
    marker = f"Document contains more than {max_tokens} tokens."
    for error in errors or ():
        if isinstance(error, GraphQLSyntaxError) and marker in error.message:
            error.extensions = {
                **(error.extensions or {}),
                **_limit_extensions("tokens", max_tokens),
            }


def query_cost(context: object) -> int | None:
    """The node cost `QueryLimits` stashed on a GraphQL context (None before parsing)."""
    value = getattr(context, QUERY_COST_ATTRIBUTE, None)
    return value if isinstance(value, int) else None


def _names_no_operation(context: ExecutionContext) -> bool:
    # Strawberry's `operation_name` falls back to the first operation; the name the client sent
    # (or None) is only kept here.
    return getattr(context, "_provided_operation_name", None) is None


class QueryLimits(SchemaExtension):
    """Adds the shape (depth, aliases, expanded fields), node-cost and single-operation rules;
    labels the parser's token-limit error; stashes `context.query_cost`."""

    def __init__(self, limits: Limits) -> None:
        super().__init__()
        self.limits = limits
        self.shape_rule = shape_rule(limits)

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        # The cost rule depends on the variables; one class per distinct set keeps the
        # validation cache useful.
        cost_rule = node_cost_rule(self.limits.max_nodes, request_variables(context.variables))
        rules: tuple[type[ValidationRule], ...] = (self.shape_rule, cost_rule)
        if _names_no_operation(context):
            rules = (*rules, SingleOperation)
        context.validation_rules = (*context.validation_rules, *rules)
        try:
            yield
        except GraphQLSyntaxError as error:
            # With ParserCache the parse error escapes the parsing hook and passes through here.
            _label_token_errors([error], self.limits.max_tokens)
            raise

    def on_parse(self) -> Iterator[None]:
        yield
        # Without ParserCache, Strawberry catches the parse error and keeps it here.
        _label_token_errors(self.execution_context.pre_execution_errors, self.limits.max_tokens)

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and context.context is not None:
            cost = node_cost(context.schema, document, context.variables, context.operation_name)
            setattr(context.context, QUERY_COST_ATTRIBUTE, cost)
        yield


# What Strawberry accepts in `extensions`: a class or a factory, called once per operation.
ExtensionFactory = Callable[[], SchemaExtension]


def query_limit_extensions(settings: Settings | None = None) -> list[ExtensionFactory]:
    """The extensions enforcing `settings`' limits (the settings' defaults when None)."""
    limits = Limits.from_settings(settings)
    tokens: ExtensionFactory = partial(MaxTokensLimiter, max_token_count=limits.max_tokens)
    rules: ExtensionFactory = partial(QueryLimits, limits)
    return [tokens, rules]
