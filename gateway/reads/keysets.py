"""The SQL basics every compiled statement uses, and its lists' rows and keysets: which rows a
list holds (its parent's, those the caller may see, those its filter keeps), where a page starts
(`beyond` a cursor's position) and what a cursor is signed with. `gateway.reads.compiler` builds
the JSON on top. Every value is a bind parameter (`gateway.reads.sql.Params`)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from tortoise.models import Model

import models
from gateway.core.paging import Ordering, ordering_plan
from gateway.reads import encoding
from gateway.reads.filters import where_sql
from gateway.reads.model import Connection, Dialect, Noun, Scope
from gateway.reads.selection import Paged, PageRequest
from gateway.reads.sql import MAX_KEYS, CannotCompile, Params, json_key
from gateway.repositories.events import EventFilter


class KeysetCompiler:
    """SQL helpers and lists' rows and keysets; `pages` holds the request's page of each
    connection."""

    def __init__(
        self,
        dialect: Dialect,
        pages: Mapping[str, PageRequest],
        direct: frozenset[str] = frozenset(),
    ) -> None:
        self.dialect = dialect
        self.pages = pages
        self.direct = direct  # the ids of the root's own lists (`roots.direct_pages`)
        self.params = Params(dialect)
        self._aliases = 0

    # -- helpers -----------------------------------------------------------------------------

    def alias(self) -> str:
        self._aliases += 1
        return f"t{self._aliases}"

    @property
    def pg(self) -> bool:
        return self.dialect == "postgres"

    def scope(self, alias: str) -> Scope:
        now = self.params("now", "timestamptz")
        return Scope(alias, self.viewer, self.admin, self.dialect, now)

    @property
    def viewer(self) -> str:
        return self.params("viewer", "bigint")

    @property
    def admin(self) -> str:
        """Whether the caller is a site admin, read with the rows (not taken from the caller's
        credential): the statement needs nothing but the caller's id."""
        return f"(SELECT va.is_site_admin FROM users va WHERE va.id = {self.viewer})"

    def json_object(self, pairs: list[tuple[str, str]]) -> str:
        if len(pairs) > MAX_KEYS:
            raise CannotCompile("too many keys in one object")
        args = ", ".join(f"{json_key(k)}, {v}" for k, v in pairs)
        return f"json_build_object({args})" if self.pg else f"json_object({args})"

    def embed(self, subquery: str) -> str:
        """A subquery's JSON as a value of an enclosing object or array."""
        return f"({subquery})" if self.pg else f"json(({subquery}))"

    def boolean(self, condition: str) -> str:
        if self.pg:
            return f"({condition})"
        return f"json(CASE WHEN {condition} THEN 'true' ELSE 'false' END)"

    def visible(self, workspace_id: str) -> str:
        """The caller, an active user, may read the workspace: a member, or a site admin."""
        member = (
            f"EXISTS (SELECT 1 FROM memberships vm WHERE vm.workspace_id = {workspace_id}"
            f" AND vm.user_id = va.id)"
        )
        return (
            f"EXISTS (SELECT 1 FROM users va WHERE va.id = {self.viewer} AND va.is_active"
            f" AND (va.is_site_admin OR {member}))"
        )

    # -- rows and keysets --------------------------------------------------------------------

    def conditions(self, paged: Paged, page: PageRequest, parent: str, rows: str) -> list[str]:
        """Which of the target's rows the list holds: the parent's, those the caller may see,
        those the filter keeps."""
        rel = paged.relation
        found = [] if rel.fk is None else [f"{rows}.{rel.fk} = {parent}.id"]
        if rel.rows is not None:
            found.append(rel.rows(self.scope(parent), rows))
        return found + self.filters(paged.id, page, rows)

    def bound_to(self, rel: Connection, parent: str) -> str:
        """What follows a list's scope prefix in its cursors' signature: the parent's id (and
        the suffix the list adds)."""
        if rel.scope_suffix is None:
            return f"{parent}.id"
        return f"({parent}.id || {rel.scope_suffix(self.scope(parent))})"

    def cursor(
        self,
        paged: Paged,
        ordering: Ordering,
        keys: list[tuple[str, encoding.KeyKind]],
        node: str,
        parent: str,
    ) -> str:
        rel = paged.relation
        if rel.filter == "issues":
            signature = self.params(f"{paged.id}.signature", "text")
        else:
            prefix = self.params(f"{paged.id}.scope", "text")
            signature = encoding.signature_sql(self.dialect, prefix, self.bound_to(rel, parent))
        return encoding.cursor_sql(
            self.dialect, signature, [(f"{node}.{column}", kind) for column, kind in keys]
        )

    def page_checks(self, paged: Paged, parent: str) -> list[str]:
        """For a root's page: the cursors given to a list bound to its parent's id were
        decoded unchecked (`gateway.reads.values.page_request`), so the parent must be the one
        their signatures name (a cursor of another list finds no row); a feed filtered by
        project finds no workspace without that project (the services' NOT_FOUND); a guarded
        list's parent is found only where its guard holds."""
        page = self.pages.get(paged.id)
        rel = paged.relation
        checks = [] if rel.guard is None else [rel.guard(self.scope(parent))]
        if page is None or rel.filter == "issues":
            return checks
        if isinstance(page.where, EventFilter) and page.where.project is not None:
            project = self.params(f"{paged.id}.project", "text")
            checks.append(
                f"EXISTS (SELECT 1 FROM projects fp WHERE fp.workspace_id = {parent}.id"
                f" AND fp.key = {project})"
            )
        prefix = self.params(f"{paged.id}.scope", "text")
        expected = encoding.signature_sql(self.dialect, prefix, self.bound_to(rel, parent))
        return checks + [
            f"{expected} = {self.params(f'{paged.id}.{side}sig', 'text')}"
            for bound, side in ((page.after, "a"), (page.before, "b"))
            if bound is not None
        ]

    def beyond(
        self,
        page_id: str,
        ordering: Ordering,
        keys: list[tuple[str, encoding.KeyKind]],
        rows: str,
        values: tuple[object, ...],
        forward: bool,
    ) -> str:
        """Rows strictly after (or before) a position, as one row-value comparison
        (`gateway.core.paging._beyond`)."""
        side = "a" if forward else "b"
        types = {
            encoding.KeyKind.integer: "bigint",
            encoding.KeyKind.text: "text",
            encoding.KeyKind.timestamp: "timestamptz",
        }
        placeholders = ", ".join(
            self.params(f"{page_id}.{side}{i}", types[kind]) for i, (_, kind) in enumerate(keys)
        )
        columns = ", ".join(f"{rows}.{column}" for column, _ in keys)
        operator = ">" if ordering[0].descending != forward else "<"
        if not values:
            raise CannotCompile("an empty position")
        return f"({columns}) {operator} ({placeholders})"

    def filters(self, page_id: str, page: PageRequest, rows: str) -> list[str]:
        """The list's filter as conditions on `rows`, every value a parameter."""
        if page.where is None:
            return []

        def param(name: str, kind: str = "text") -> str:
            return self.params(f"{page_id}.{name}", kind)

        return where_sql(page.where, rows, param, pg=self.pg)


def model_of(noun: Noun) -> type[Model]:
    """The Tortoise model of a noun's table (for its sort keys' columns and types)."""
    return _MODELS[noun.table]


def sort_columns(noun: Noun, ordering: Ordering) -> list[tuple[str, encoding.KeyKind]]:
    """The columns of an ordering with how their cursor values are printed."""
    keys = ordering_plan(model_of(noun), ordering)
    return [(key.column, encoding.key_kind(key.target)) for key in keys]


_MODELS: Final[Mapping[str, type[Model]]] = MappingProxyType(
    {
        found._meta.db_table: found
        for found in vars(models).values()
        if isinstance(found, type) and issubclass(found, Model) and not found._meta.abstract
    }
)
