"""Helpers for GraphQL input objects."""

from __future__ import annotations

from typing import Any

import strawberry


def given(**fields: Any) -> dict[str, Any]:
    """The input fields the client set: UNSET ones are left out, so that an omitted field
    differs from an explicit null (PATCH semantics, as in REST)."""
    return {name: value for name, value in fields.items() if value is not strawberry.UNSET}
