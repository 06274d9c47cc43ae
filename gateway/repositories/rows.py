"""Rows: what leaves a repository instead of an ORM instance, one frozen dataclass a noun.

A row's fields are named after its model's columns (`project_id` for a foreign key), but for the
columns a query joins in, which the repository names in a `JoinedColumns` map (`username` read
from `user__username`). So the dataclass alone says which `.values()` keys a query selects
(`columns`), and one function each builds the row from such a dict (`row_of_values`, as pages
hold them) and from a model instance (`row_of_model`). Tortoise has turned every value into
its field's Python type (enums, UUIDs, JSON) by then.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final, TypeVar

from tortoise.models import Model

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

R = TypeVar("R", bound="DataclassInstance")

JoinedColumns = Mapping[str, str]
"""A row's fields read from a joined column: the field's name → the `.values()` key."""

NOTHING_JOINED: Final[JoinedColumns] = MappingProxyType({})


def columns(
    row: type[DataclassInstance], joined: JoinedColumns = NOTHING_JOINED
) -> tuple[str, ...]:
    """The `.values()` keys that fill `row`, in the order of its fields."""
    return tuple(joined.get(field.name, field.name) for field in fields(row))


def row_of_values(
    row: type[R], values: Mapping[str, Any], joined: JoinedColumns = NOTHING_JOINED
) -> R:
    """`row` from a `.values(*columns(row, joined))` dict; other keys are left out."""
    return row(**{field.name: values[joined.get(field.name, field.name)] for field in fields(row)})


def row_of_model(row: type[R], instance: Model) -> R:
    """`row` from a model instance: each field its attribute of the same name."""
    return row(**{field.name: getattr(instance, field.name) for field in fields(row)})
