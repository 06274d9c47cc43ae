"""Rows: what leaves a repository instead of an ORM instance, one frozen dataclass a noun.

A row's fields are named after its model's columns (`project_id` for a foreign key); a field
read from a column a query joins in says which, `username: Annotated[str,
Joined("user__username")]`. So the dataclass alone says which `.values()` keys a query selects
(`columns`), and one function each builds the row from such a dict (`row_of_values`, as pages
hold them) and from a model instance (`row_of_model`). Tortoise has turned every value into
its field's Python type (enums, UUIDs, JSON) by then.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar, get_type_hints

from tortoise.models import Model

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

R = TypeVar("R", bound="DataclassInstance")


@dataclass(frozen=True, slots=True)
class Joined:
    """Marks a row's field read from a joined column: `Annotated[str, Joined("user__username")]`."""

    column: str


@cache
def _keys(row: type[DataclassInstance]) -> tuple[tuple[str, str], ...]:
    """Each field of `row` and the `.values()` key it is read from, in the fields' order."""
    hints = get_type_hints(row, include_extras=True)
    joined = {
        name: mark.column
        for name, hint in hints.items()
        for mark in getattr(hint, "__metadata__", ())
        if isinstance(mark, Joined)
    }
    return tuple((field.name, joined.get(field.name, field.name)) for field in fields(row))


def columns(row: type[DataclassInstance]) -> tuple[str, ...]:
    """The `.values()` keys that fill `row`, in the order of its fields."""
    return tuple(key for _, key in _keys(row))


def row_of_values(row: type[R], values: Mapping[str, Any]) -> R:
    """`row` from a `.values(*columns(row))` dict; other keys are left out."""
    return row(**{name: values[key] for name, key in _keys(row)})


def row_of_model(row: type[R], instance: Model) -> R:
    """`row` from a model instance: each field its attribute of the same name."""
    return row(**{field.name: getattr(instance, field.name) for field in fields(row)})
