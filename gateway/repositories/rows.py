"""Rows: what leaves a repository instead of an ORM instance, one frozen dataclass a noun.

A row's fields are named after its model's columns (`project_id` for a foreign key); a field
read from a column a query joins in says which, `username: Annotated[str,
Joined("user__username")]`. So the dataclass alone says which `.values()` keys a query selects
(`Row.columns`), and builds itself from such a dict (`Row.of_values`, as pages hold them) or
from a model instance (`Row.of_model`). Tortoise has turned every value into its field's Python
type (enums, UUIDs, JSON) by then.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import Field, dataclass, fields
from typing import Any, ClassVar, Self, get_type_hints

from tortoise.models import Model


@dataclass(frozen=True, slots=True)
class Joined:
    """Marks a row's field read from a joined column: `Annotated[str, Joined("user__username")]`."""

    column: str


class Row:
    """The base of every repository's row dataclass."""

    __slots__ = ()
    __dataclass_fields__: ClassVar[dict[str, Field[Any]]]

    @classmethod
    def columns(cls) -> tuple[str, ...]:
        """The `.values()` keys that fill this row, in the order of its fields."""
        return tuple(key for _, key in _keys(cls))

    @classmethod
    def of_values(cls, values: Mapping[str, Any]) -> Self:
        """The row from a `.values(*columns())` dict; other keys are left out."""
        return cls(**{name: values[key] for name, key in _keys(cls)})

    @classmethod
    def of_model(cls, instance: Model) -> Self:
        """The row from a model instance: each field its attribute of the same name."""
        return cls(**{field.name: getattr(instance, field.name) for field in fields(cls)})


_KEYS: dict[type[Row], tuple[tuple[str, str], ...]] = {}


def _keys(row: type[Row]) -> tuple[tuple[str, str], ...]:
    """Each field of `row` and the `.values()` key it is read from, in the fields' order (read
    off the class once)."""
    if row not in _KEYS:
        hints = get_type_hints(row, include_extras=True)
        joined = {
            name: mark.column
            for name, hint in hints.items()
            for mark in getattr(hint, "__metadata__", ())
            if isinstance(mark, Joined)
        }
        _KEYS[row] = tuple(
            (field.name, joined.get(field.name, field.name)) for field in fields(row)
        )
    return _KEYS[row]
