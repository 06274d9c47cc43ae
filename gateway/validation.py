"""Input validation shared by both APIs: a Pydantic model built from plain data (GraphQL inputs),
failing as VALIDATION_FAILED with each field listed — the same answer REST gives for the same
model."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from gateway.errors import FieldError, ValidationFailed

M = TypeVar("M", bound=BaseModel)


def validated(model: type[M], data: dict[str, Any]) -> M:
    """`model` built from `data`; VALIDATION_FAILED listing each failing field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = [
            FieldError(".".join(str(p) for p in e["loc"]) or "input", e["msg"])
            for e in exc.errors()
        ]
        names = ", ".join(sorted({e.field for e in errors}))
        raise ValidationFailed(f"Invalid input: {names}", errors=errors) from None
