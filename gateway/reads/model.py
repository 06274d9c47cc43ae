"""The read model's vocabulary: a noun's readable fields and relations, declared once.

A `Noun` names its table and lists what a client may read: `Scalar` columns (with how each is
printed: an id, a timestamp, an enum spelled per API…), `ToOne` relations through a foreign
key, `ToMany` lists (an issue's labels) and `Connection`s (paged lists with keyset orderings).
Framework-free: `gateway.reads.nouns` declares the nouns, `gateway.reads.compiler` turns a
selection of them into one SQL statement, and the GraphQL planner (`schema.compiled`) and the
REST routes each select from the same declarations. See history/adr/0015-compiled-reads.md.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Final, Literal

from gateway.core.paging import Ordering

Dialect = Literal["postgres", "sqlite"]


class Kind(StrEnum):
    """How a value is printed in both APIs."""

    integer = "integer"
    text = "text"
    boolean = "boolean"
    timestamp = "timestamp"  # `2026-11-26T06:21:39.123456Z`
    date = "date"  # `2026-11-26`
    enum = "enum"  # REST lower-case, GraphQL upper-case
    node_id = "node_id"  # the global id of the noun's row
    ref = "ref"  # the global id of another noun's row (text; GraphQL `ID`)
    json = "json"  # a stored JSON document, as it is
    texts = "texts"  # a stored JSON array of strings, as it is


PYTHON_TYPES: Final[Mapping[Kind, type]] = MappingProxyType(
    {
        Kind.integer: int,
        Kind.text: str,
        Kind.boolean: bool,
        Kind.timestamp: datetime,
        Kind.date: date,
        Kind.node_id: str,
        Kind.ref: str,
        Kind.texts: list[str],
    }
)
"""The Python type of a value of each kind, as both APIs' models type it (each adds its own
for enums and JSON, and GraphQL its `ID`)."""

Expression = Callable[["Scope"], str]
"""SQL for a computed value, given the table alias and the principal's parameters."""


RowCondition = Callable[["Scope", str], str]
"""SQL keeping a list's rows (alias given) as the parent's `Scope` may see them."""


@dataclass(frozen=True, slots=True)
class Scope:
    """What a computed expression may refer to: the row's table alias and placeholders for
    the principal (`viewer` user id, `admin` whether a site admin) and the time (`now`)."""

    alias: str
    viewer: str
    admin: str
    dialect: Dialect
    now: str  # the request's time, as the database stores timestamps


@dataclass(frozen=True, slots=True)
class Scalar:
    """A readable value: a column (`column`) or computed SQL (`compute`), described once for
    both APIs (`doc`: GraphQL's description, OpenAPI's). `graphql=False`: REST only (ids in
    REST paths, global ids GraphQL reaches through a relation instead)."""

    name: str  # the domain's snake_case name: REST's key; GraphQL's field is its camelCase
    kind: Kind
    doc: str
    column: str | None = None
    compute: Expression | None = None
    enum: Mapping[object, str] | None = None  # stored value → lower-case API spelling
    nullable: bool = False
    graphql: bool = True

    def __post_init__(self) -> None:
        if (self.column is None) == (self.compute is None):
            raise ValueError(f"{self.name}: give a column or a computed expression")
        if (self.kind is Kind.enum) != (self.enum is not None):
            raise ValueError(f"{self.name}: an enum needs its spellings, and only an enum")


@dataclass(frozen=True, slots=True)
class ToOne:
    """A related object through a foreign key of this noun's table (`fk`)."""

    name: str
    target: str  # the related noun's name
    fk: str
    doc: str
    nullable: bool = False
    active_only: bool = False  # a user: null once their account is deactivated
    graphql_type: str | None = None  # GraphQL's type for it, when not the noun's own


@dataclass(frozen=True, slots=True)
class ToMany:
    """A small, unpaged list: the targets joined through `via` (a link table with `via_parent`
    naming this noun and `via_target` the target), in `order` (columns of the target)."""

    name: str
    target: str
    via: str
    via_parent: str
    via_target: str
    order: tuple[str, ...]
    doc: str


@dataclass(frozen=True, slots=True)
class Connection:
    """A paged list of `target` rows whose column `fk` names this noun's row.

    `orderings` maps a sort name to its keyset ordering (the first is the default);
    `scope_prefix` with the parent's id is what cursors are bound to, as the resolvers bind
    them (`gateway.core.paging.cursor_signature`). `filter` names the filter the list takes:
    `issues` (cursors bound to the filter, `gateway.repositories.issues.IssueFilter`) or
    `events` (the prefix grows with it, `gateway.repositories.events.EventFilter`). A list
    `through` a relation pages the target's rows (a user's memberships) but shows the related
    object of each (its workspace); `rows` keeps the rows the caller may see, and
    `scope_suffix` binds cursors to what that depends on (both given the parent's `Scope`).
    A `guard`ed list is compiled only as a list of the root's object, whose statement then
    finds no row where the guard fails: the resolvers answer (FORBIDDEN, or null).
    """

    name: str
    target: str
    fk: str | None  # None: `rows` alone says which rows are the parent's
    orderings: Mapping[str, Ordering]
    scope_prefix: str | None = None
    filter: Literal["issues", "events"] | None = None
    through: str | None = None  # a `ToOne` of the target: its object is each item
    rows: RowCondition | None = None  # which of the target's rows the caller sees
    scope_suffix: Expression | None = None  # SQL text after the parent's id in cursors' scope
    guard: Expression | None = (
        None  # the list is readable only where this holds (else FORBIDDEN or null)
    )


Relation = ToOne | ToMany | Connection


@dataclass(frozen=True, slots=True)
class Noun:
    """One noun's readable shape: its table, its values and its relations."""

    name: str  # the GraphQL type name and the global id's type
    table: str
    scalars: tuple[Scalar, ...]
    relations: tuple[Relation, ...] = ()
    by_name: dict[str, Scalar | Relation] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        entries: dict[str, Scalar | Relation] = {}
        for entry in (*self.scalars, *self.relations):
            if entry.name in entries:
                raise ValueError(f"{self.name}.{entry.name} is declared twice")
            entries[entry.name] = entry
        object.__setattr__(self, "by_name", entries)

    def get(self, name: str) -> Scalar | Relation | None:
        return self.by_name.get(name)


def camel(name: str) -> str:
    """GraphQL's field name for a domain name: `display_name` → `displayName`."""
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
