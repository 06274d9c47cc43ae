"""Query protection: depth, aliases, tokens and node cost, all refused before execution.

`query_limit_extensions(settings)` gives `build_schema` its extensions:

- Strawberry's `MaxTokensLimiter`: the parser stops past `graphql_max_tokens` tokens (comments
  included), before any AST is built.
- `QueryLimits`, which adds three validation rules for each operation: Strawberry's
  `QueryDepthLimiter` (introspection fields such as `__schema` are not counted, so GraphiQL's
  deep introspection query passes) and `MaxAliasesLimiter`, and `schema.cost`'s node-cost rule
  (page sizes 1..100, total nodes up to `graphql_max_nodes`).

Every refusal carries `extensions.code` VALIDATION_FAILED (as `schema.errors` codes all
validation errors) plus `extensions.limit` (`depth`, `aliases`, `tokens`, `pageSize`, `nodes`)
and `extensions.max`. Validation errors stop Strawberry before execution, so a refused query
runs no resolver and sends no SQL.

The node cost of the operation is stashed on the GraphQL context as `context.query_cost` (an
`int`; read it with `query_cost(context)`) as soon as the document is parsed, before
validation: extensions' validation hooks, resolvers and the rate limiter can all read it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache, partial

from graphql import (
    ASTValidationRule,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSyntaxError,
    TypeInfo,
    ValidationContext,
    ValidationRule,
    Visitor,
    visit,
)
from strawberry.extensions import (
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)

from gateway.errors import ErrorCode
from gateway.settings import Settings
from schema.cost import node_cost, node_cost_rule, request_variables

__all__ = [
    "QUERY_COST_ATTRIBUTE",
    "Limits",
    "QueryLimits",
    "labelled_rule",
    "limit_rules",
    "node_cost",
    "query_cost",
    "query_limit_extensions",
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
    return {"code": ErrorCode.VALIDATION_FAILED.value, "limit": limit, "max": maximum}


class _FragmentSpreads(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.defined: set[str] = set()
        self.spread: set[str] = set()

    def enter_fragment_definition(self, node: FragmentDefinitionNode, *_: object) -> None:
        self.defined.add(node.name.value)

    def enter_fragment_spread(self, node: FragmentSpreadNode, *_: object) -> None:
        self.spread.add(node.name.value)


def labelled_rule(rule: type[ASTValidationRule], limit: str, maximum: int) -> type[ValidationRule]:
    """`rule` (one of Strawberry's limiters), its errors given our extensions, each distinct
    message once (the depth limiter reports every branch that is too deep)."""

    class LabelledLimit(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            spreads = _FragmentSpreads()
            visit(context.document, spreads)
            if not spreads.spread <= spreads.defined:
                # Strawberry's depth limiter fails on an unknown fragment; KnownFragmentNames
                # reports the document anyway.
                return
            found: list[GraphQLError] = []
            rule(
                ValidationContext(
                    context.schema, context.document, TypeInfo(context.schema), found.append
                )
            )
            for message in dict.fromkeys(e.message for e in found):
                error = next(e for e in found if e.message == message)
                context.report_error(
                    GraphQLError(message, error.nodes, extensions=_limit_extensions(limit, maximum))
                )

    LabelledLimit.__name__ = LabelledLimit.__qualname__ = f"{limit.capitalize()}Limit"
    return LabelledLimit


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


@lru_cache(maxsize=16)
def limit_rules(limits: Limits) -> tuple[type[ValidationRule], ...]:
    """The depth and alias rules for `limits`, made once: the same classes on every request,
    so Strawberry's ValidationCache (keyed by the rule classes) keeps hitting."""
    depth = QueryDepthLimiter(max_depth=limits.max_depth).validation_rules[0]
    aliases = MaxAliasesLimiter(max_alias_count=limits.max_aliases).validation_rules[0]
    return (
        labelled_rule(depth, "depth", limits.max_depth),
        labelled_rule(aliases, "aliases", limits.max_aliases),
    )


class QueryLimits(SchemaExtension):
    """Adds the depth, alias and node-cost rules; labels the parser's token-limit error; stashes
    `context.query_cost`."""

    def __init__(self, limits: Limits) -> None:
        super().__init__()
        self.limits = limits
        self.rules = limit_rules(limits)

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        # The cost rule depends on the variables; one class per distinct set keeps the
        # validation cache useful.
        cost_rule = node_cost_rule(self.limits.max_nodes, request_variables(context.variables))
        context.validation_rules = (*context.validation_rules, *self.rules, cost_rule)
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
