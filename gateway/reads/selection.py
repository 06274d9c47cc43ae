"""What a read asks of the read model: a tree of picks over the nouns, with output keys.

The GraphQL planner builds one from a validated operation (keys are the response names,
spellings GraphQL's); REST routes declare theirs once (keys are REST's names). The compiler
turns a tree into SQL; request-time values (page sizes, cursors, filters) are not in the tree
but in a `PageRequest` per connection, named by the connection's `id`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from gateway.reads.model import Connection, Noun, Scalar, ToMany, ToOne
from gateway.repositories.events import EventFilter
from gateway.repositories.issues import IssueFilter

Api = Literal["graphql", "rest"]


@dataclass(frozen=True, slots=True)
class Typename:
    """A constant string: GraphQL's `__typename`."""

    name: str


@dataclass(frozen=True, slots=True)
class Obj:
    """An object of `noun` with these picks, in order; enums spelled as `api` spells them."""

    noun: Noun
    picks: tuple[Pick, ...]
    api: Api = "graphql"


@dataclass(frozen=True, slots=True)
class Nested:
    relation: ToOne
    obj: Obj


@dataclass(frozen=True, slots=True)
class Listed:
    relation: ToMany
    obj: Obj


@dataclass(frozen=True, slots=True)
class Cursor:
    """An edge's cursor."""


@dataclass(frozen=True, slots=True)
class Total:
    """How many rows the whole filtered list holds."""


@dataclass(frozen=True, slots=True)
class Edges:
    picks: tuple[tuple[str, Cursor | Obj | Typename], ...]


@dataclass(frozen=True, slots=True)
class Items:
    """The page's objects without cursors (GraphQL `nodes`, REST `items`)."""

    obj: Obj


PageInfoField = Literal["hasNextPage", "hasPreviousPage", "startCursor", "endCursor"]


@dataclass(frozen=True, slots=True)
class PageInfo:
    picks: tuple[tuple[str, PageInfoField | Typename], ...]


@dataclass(frozen=True, slots=True)
class NextCursor:
    """REST's `next_cursor`: the last row's cursor when more follow, else null."""


Part = Total | Edges | Items | PageInfo | NextCursor | Typename


@dataclass(frozen=True, slots=True)
class Paged:
    """A connection: `id` names its `PageRequest`; `parts` are what the page shows."""

    relation: Connection
    id: str
    parts: tuple[tuple[str, Part], ...]


Pick = tuple[str, Scalar | Typename | Nested | Listed | Paged]


@dataclass(frozen=True, slots=True)
class PageRequest:
    """One connection's page, as this request asks for it (values checked and decoded)."""

    ordering: str  # a key of the connection's `orderings`
    limit: int
    backward: bool
    after: tuple[object, ...] | None = None  # database values of the sort keys
    before: tuple[object, ...] | None = None
    where: IssueFilter | EventFilter | None = None  # filtered connections only
    signature: str | None = None  # the cursors' signature when it does not depend on the parent

    def variant(self) -> tuple[object, ...]:
        """What changes the SQL text (every value itself is a parameter)."""
        where = self.where
        shape: tuple[object, ...] | None = None
        if isinstance(where, IssueFilter):
            shape = (
                where.state is not None,
                None if where.assignee is None else where.assignee == "none",
                bool(where.labels),
                where.q is not None,
            )
        elif isinstance(where, EventFilter):
            shape = (where.type is not None, where.project is not None)
        return (self.ordering, self.backward, self.after is None, self.before is None, shape)
