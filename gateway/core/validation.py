"""Input validation shared by both APIs.

- `InputModel`, the base of every input model (REST bodies, and what GraphQL inputs are
  validated into): unknown fields are refused, types are not coerced, and no text may hold a
  NUL character (PostgreSQL cannot store one, so it is refused on every database alike).
- `validated`: a model built from plain data (GraphQL inputs), failing as VALIDATION_FAILED with
  each field listed — the same answer REST gives for the same model.
- `nul_fields` / `reject_nul`: the same NUL rule for plain data, which REST parameters
  (`gateway.rest.params`) and GraphQL arguments (`schema.inputs.ArgumentGuard`) apply.
- `Omittable[X]`: a PATCH field that may be omitted but not null (`field: Omittable[X] = None`);
  `not_nullable` is its OpenAPI hint, for parameters that cannot use the type.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Annotated, Any, Final, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)
from pydantic_core import PydanticCustomError

from gateway.core.errors import FieldError, ValidationFailed

NUL: Final = "\x00"
NUL_MESSAGE: Final = "must not contain NUL characters"

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


def nul_fields(value: object, path: str = "") -> Iterator[str]:
    """The dotted paths (list items by index) of the strings in `value` that hold a NUL."""
    if isinstance(value, str):
        if NUL in value:
            yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from nul_fields(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from nul_fields(item, f"{path}.{index}" if path else str(index))


def reject_nul(fields: Iterable[tuple[str, object]]) -> None:
    """VALIDATION_FAILED listing each of these (name, value) pairs that holds a NUL."""
    errors = [
        FieldError(path, NUL_MESSAGE) for name, value in fields for path in nul_fields(value, name)
    ]
    if errors:
        names = ", ".join(dict.fromkeys(e.field for e in errors))
        raise ValidationFailed(f"Invalid input: {names}", errors=errors)


class InputModel(BaseModel):
    """Base of the input models: strict, closed, and free of NUL characters."""

    model_config = ConfigDict(extra="forbid", strict=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: object) -> object:
        if next(nul_fields(value), None) is not None:
            raise PydanticCustomError("nul_character", NUL_MESSAGE)
        return value


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


def _refuse_null(value: object) -> object:
    # Defaults skip validation, so only a null given by the caller is refused.
    if value is None:
        raise ValueError("may be omitted but not null")
    return value


def not_nullable(schema: dict[str, Any]) -> None:
    """`json_schema_extra` for an optional input (`X | None = None`) that may be omitted but
    not null: OpenAPI documents only `X`. Validation keeps the plain optional type (so its
    errors name the field, not a union member); `Omittable` refuses the null."""
    alternatives = schema.pop("anyOf", [])
    schema.update(next(s for s in alternatives if s.get("type") != "null"))


Omittable = Annotated[
    T | None, Field(json_schema_extra=not_nullable), BeforeValidator(_refuse_null)
]
"""A field that may be omitted but not null (an explicit null would be a silent no-op):
`name: Omittable[Name] = None`. OpenAPI documents only `X`."""
