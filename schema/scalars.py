"""Scalars shared by every type: timestamps written exactly as REST writes them."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import strawberry
from strawberry.scalars import JSON
from strawberry.schema.types.base_scalars import DateDefinition
from strawberry.schema.types.scalar import DEFAULT_SCALAR_REGISTRY
from strawberry.types.scalar import ScalarDefinition


def _serialize(value: datetime) -> str:
    # REST (pydantic) writes UTC as `Z`; so does GraphQL, so clients compare strings as-is.
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _parse(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


DATETIME = strawberry.scalar(
    name="DateTime",
    description="An ISO 8601 timestamp in UTC, e.g. `2026-11-26T06:21:39.123456Z`.",
    serialize=_serialize,
    parse_value=_parse,
)

# Strawberry's own Date (same parsing and errors), described in our words.
DATE = replace(
    DateDefinition,
    description="A calendar day, ISO 8601 `YYYY-MM-DD` (an issue's `dueDate`), no time zone.",
)

JSON_VALUE = replace(
    DEFAULT_SCALAR_REGISTRY[JSON],
    description="Any JSON value; an event's `data` holds its details, shaped by its `type`.",
)

SCALAR_MAP: dict[object, ScalarDefinition] = {datetime: DATETIME, date: DATE, JSON: JSON_VALUE}
