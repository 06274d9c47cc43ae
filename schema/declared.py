"""GraphQL object types whose values are declared by the read model (`gateway.reads.nouns`).

`@declared(nouns.PROJECT, "…")` is `@strawberry.type` with a field for each of the noun's
GraphQL values (`Scalar.graphql`): its name, type, nullability and description come from the
noun, so the compiled reads, REST's models (`gateway.rest.shapes`) and this schema describe
one shape. What the class writes itself stays: resolvers for relations and computed values,
and private fields for the resolvers. `values(Type, view)` reads the declared values from a
service's view, whose attributes are named after the noun's values.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from enum import Enum
from typing import Any, Final, Optional, TypeVar

import strawberry
from strawberry.scalars import JSON
from typing_extensions import dataclass_transform

from gateway.reads.model import PYTHON_TYPES, Kind, Noun, Scalar

T = TypeVar("T", bound=type)

_TYPES: Final[dict[Kind, Any]] = {**PYTHON_TYPES, Kind.ref: strawberry.ID, Kind.json: JSON}
_DECLARED: Final = "__declared_values__"

Convert = Callable[[Any], Any]


def _converter(scalar: Scalar, enums: Mapping[str, type[Enum]]) -> tuple[Any, Convert]:
    """The field's Python type, and how a view's value becomes the field's."""
    if scalar.kind is Kind.enum:
        enum, spellings = enums[scalar.name], scalar.enum or {}
        return enum, lambda value: enum(spellings.get(value, str(value)))
    kind = _TYPES[scalar.kind]
    if scalar.kind in (Kind.ref, Kind.json):
        return kind, lambda value: None if value is None else kind(value)
    return kind, lambda value: value


@dataclass_transform()
def declared(
    noun: Noun, description: str, enums: Mapping[str, type[Enum]] | None = None
) -> Callable[[T], T]:
    """`@strawberry.type(description=…)` with the noun's GraphQL values as fields; `enums`
    names the GraphQL enum of each enum value."""

    def wrap(cls: T) -> T:
        own = dict(inspect.get_annotations(cls))
        fields: dict[str, Any] = {}
        converters: list[tuple[str, Convert]] = []
        for scalar in noun.scalars:
            if not scalar.graphql or scalar.kind is Kind.node_id or scalar.name in own:
                continue
            if scalar.name in cls.__dict__:  # the class resolves it itself
                continue
            kind, convert = _converter(scalar, enums or {})
            fields[scalar.name] = Optional[kind] if scalar.nullable else kind  # noqa: UP045
            setattr(cls, scalar.name, strawberry.field(description=scalar.doc))
            converters.append((scalar.name, convert))
        cls.__annotations__ = {**fields, **own}
        setattr(cls, _DECLARED, tuple(converters))
        return strawberry.type(cls, description=description)

    return wrap


def values(cls: type, view: object) -> dict[str, Any]:
    """The declared values of `cls` (and its `id`), read from a service's `view`."""
    found = {name: convert(getattr(view, name)) for name, convert in getattr(cls, _DECLARED)}
    return {"id": strawberry.ID(view.node_id), **found}  # type: ignore[attr-defined]
