"""Helpers for GraphQL input objects, and `ArgumentGuard`: the limits every argument keeps.

`ArgumentGuard` refuses, before any resolver runs, an operation whose arguments — literals in
the document, variables, variable defaults — hold a NUL character (which PostgreSQL cannot
store) or a list of more than `MAX_LIST_ITEMS` items. The answer is VALIDATION_FAILED naming
each argument by its path (`input.title`, `filter.labels`), as REST names its fields.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final

import strawberry
from graphql import (
    SKIP,
    ArgumentNode,
    DocumentNode,
    ValueNode,
    VariableDefinitionNode,
    Visitor,
    value_from_ast_untyped,
    visit,
)
from strawberry.extensions import SchemaExtension

from gateway.core.errors import FieldError, ValidationFailed
from gateway.core.validation import NUL_MESSAGE, nul_fields

MAX_LIST_ITEMS: Final = 100
"""The most items any list argument holds; some lists have a lower cap of their own."""


def given(**fields: Any) -> dict[str, Any]:
    """The input fields the client set: UNSET ones are left out, so that an omitted field
    differs from an explicit null (PATCH semantics, as in REST)."""
    return {name: value for name, value in fields.items() if value is not strawberry.UNSET}


def expected_version_field(noun: str) -> Any:
    """The optional `expectedVersion` field of an input that changes a `noun` (a Strawberry
    field, as `strawberry.field` gives)."""
    return strawberry.field(
        default=None, description=f"PRECONDITION_FAILED unless the {noun} is at this version."
    )


class _Arguments(Visitor):
    """Every argument value of a document, and every variable default, with its path."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, ValueNode]] = []

    def enter_argument(self, node: ArgumentNode, *_: object) -> object:
        self.found.append((node.name.value, node.value))
        return SKIP

    def enter_variable_definition(self, node: VariableDefinitionNode, *_: object) -> object:
        if node.default_value is not None:
            self.found.append((f"${node.variable.name.value}", node.default_value))
        return SKIP


def _problems(value: object, path: str) -> Iterator[FieldError]:
    if isinstance(value, list) and len(value) > MAX_LIST_ITEMS:
        yield FieldError(path, f"at most {MAX_LIST_ITEMS} items")
    elif isinstance(value, list | dict):
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            yield from _problems(item, f"{path}.{key}")
    else:
        yield from (FieldError(where, NUL_MESSAGE) for where in nul_fields(value, path))


def argument_problems(document: DocumentNode, variables: Mapping[str, Any]) -> list[FieldError]:
    """What `ArgumentGuard` refuses in `document` run with `variables` (as the client sent
    them: a list variable is measured before it is coerced)."""
    arguments = _Arguments()
    visit(document, arguments)
    values = dict(variables)
    return [
        problem
        for path, node in arguments.found
        for problem in _problems(value_from_ast_untyped(node, values), path)
    ]


class ArgumentGuard(SchemaExtension):
    """Refuses NUL characters and over-long lists in arguments before execution."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is not None:
            errors = argument_problems(context.graphql_document, context.variables or {})
            if errors:
                names = ", ".join(dict.fromkeys(e.field for e in errors))
                raise ValidationFailed(f"Invalid input: {names}", errors=errors)
        yield
