"""Running reads of the read model: a root (`gateway.reads.roots.Root`) with its pages,
the statement cached per (read, variant), the JSON text returned as bytes.

REST routes describe their answer with their response model (`rest_obj` maps its fields onto
the noun's declaration, so the model and the SQL cannot drift apart); the GraphQL planner
(`schema.compiled`) builds its own roots and uses `statement_for` and `fetch_json` too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, get_args, get_origin

from pydantic import BaseModel

from gateway.core.settings import Settings
from gateway.reads.model import Connection, Dialect, Scalar, ToMany, ToOne
from gateway.reads.nouns import NOUNS
from gateway.reads.roots import Root, compile_root
from gateway.reads.run import fetch_json
from gateway.reads.selection import Items, Listed, Nested, NextCursor, Obj, Paged, PageRequest
from gateway.reads.sql import CannotCompile, Statement
from gateway.reads.values import caller_values, page_request, parameters, root_values

_STATEMENTS: Final[dict[tuple[object, ...], Statement]] = {}
_REST_NAMES: Final = {"node_id": "id", "id": "pk"}  # REST name → the noun's


def dialect_of(settings: Settings) -> Dialect:
    """Which SQL the compiler writes for the configured database."""
    return "postgres" if settings.database_url.startswith(("postgres", "asyncpg")) else "sqlite"


def _model_of(annotation: Any) -> type[BaseModel]:
    """The model inside `X`, `X | None` or `list[X]`."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        if arg is not type(None):
            return _model_of(arg)
    raise TypeError(f"no model in {annotation!r} ({get_origin(annotation)})")


def rest_obj(noun_name: str, model: type[BaseModel]) -> Obj:
    """The REST representation `model` as a selection of the noun's declaration: every field
    must be declared there (`node_id` is the noun's `id`), relations with their own models."""
    noun = NOUNS[noun_name]
    picks: list[tuple[str, Any]] = []
    for name, info in model.model_fields.items():
        entry = noun.get(_REST_NAMES.get(name, name))
        if isinstance(entry, Scalar):
            picks.append((name, entry))
        elif isinstance(entry, ToOne):
            picks.append((name, Nested(entry, rest_obj(entry.target, _model_of(info.annotation)))))
        elif isinstance(entry, ToMany):
            picks.append((name, Listed(entry, rest_obj(entry.target, _model_of(info.annotation)))))
        else:
            raise TypeError(f"{model.__name__}.{name} is not declared on {noun.name}")
    return Obj(noun, tuple(picks), api="rest")


def rest_page(noun_name: str, relation: str, item: Obj) -> Paged:
    """A REST list of the noun's `relation`: `{"items": [...], "next_cursor": ...}`."""
    connection = NOUNS[noun_name].get(relation)
    assert isinstance(connection, Connection)
    return Paged(connection, "c1", (("items", Items(item)), ("next_cursor", NextCursor())))


def statement_for(root: Root, dialect: Dialect, pages: Mapping[str, PageRequest]) -> Statement:
    """The statement of `root` (a route's constant) for these pages' variant, compiled once."""
    key = (id(root), dialect, *(pages[i].variant() for i in sorted(pages)))
    statement = _STATEMENTS.get(key)
    if statement is None:
        statement = compile_root(root, dialect, pages)
        _STATEMENTS[key] = statement
    return statement


async def read_root(
    root: Root,
    dialect: Dialect,
    user_id: int,
    arguments: Mapping[str, object],
    page: Mapping[str, object] | None = None,
) -> bytes | None:
    """The JSON of one REST read by the user `user_id`, or None when the object is missing or
    invisible (or the user inactive). `ValidationFailed` (and other domain errors) as the
    services raise them."""
    values = root_values(root.id, arguments) | caller_values(user_id)
    pages: dict[str, PageRequest] = {}
    if root.paged is not None:
        pages["c1"], bound = page_request("c1", root.paged.relation, page or {}, root=True)
        values.update(bound)
    statement = statement_for(root, dialect, pages)
    try:
        return await fetch_json(statement.sql, parameters(statement.names, values))
    except KeyError as exc:  # a parameter the request did not bind: a bug, not input
        raise CannotCompile(str(exc)) from exc
