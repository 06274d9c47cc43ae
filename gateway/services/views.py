"""Views that extend their repository's row.

Where both APIs show a noun's row as the repository reads it, the service's view is that row
plus what the APIs name it by: `class LabelView(RowView, LabelRow)` adds its global id
(`node_id`), and `RowView` gives the row's `id` as `pk`, the read model's name for it. A service
builds one from a row with `LabelView(**row_fields(row), node_id=…)`.
"""

from __future__ import annotations

from dataclasses import fields
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from _typeshed import DataclassInstance


class RowView:
    """Mixed into a view that extends a repository row: the row's `id` as `pk`."""

    __slots__ = ()
    id: int

    @property
    def pk(self) -> int:
        return self.id


def row_fields(row: DataclassInstance) -> dict[str, Any]:
    """The row's fields by name, as they are (`dataclasses.asdict` would copy them deeply)."""
    return {field.name: getattr(row, field.name) for field in fields(row)}
