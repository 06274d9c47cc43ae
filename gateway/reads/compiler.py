"""A selection of the read model → one SQL statement whose single value is the JSON answer.

PostgreSQL builds the JSON with `json_build_object`/`json_agg`, SQLite with `json_object`/
`json_group_array`; relations are correlated subqueries, a connection one subquery over its
page (`LIMIT n + 1` in keyset order, numbered, then aggregated: edges, `pageInfo`, cursors).
Every value is a bind parameter named in `Statement.names` (`gateway.reads.values` gives them
per request); the text depends only on the selection and on each page's `variant()`, so it is
cached. Names (aliases) are inlined only after checking they are GraphQL names (`sql`). Which
rows a list holds and its keysets are `gateway.reads.keysets`'; roots, and whole statements,
`gateway.reads.roots`'. See history/adr/0015-compiled-reads.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.reads import encoding
from gateway.reads.keysets import KeysetCompiler, model_of, sort_columns
from gateway.reads.model import Connection, Kind, Scalar, ToOne
from gateway.reads.nouns import NOUNS
from gateway.reads.selection import (
    Cursor,
    Edges,
    Items,
    Listed,
    Nested,
    NextCursor,
    Obj,
    Paged,
    PageInfo,
    PageRequest,
    Total,
    Typename,
)
from gateway.reads.sql import CannotCompile, literal

__all__ = ["Compiler", "model_of", "sort_columns"]


class Compiler(KeysetCompiler):
    """Renders one statement's JSON: objects, relations and connections."""

    # -- objects -----------------------------------------------------------------------------

    def obj(self, obj: Obj, alias: str) -> str:
        pairs: list[tuple[str, str]] = []
        for key, what in obj.picks:
            if isinstance(what, Scalar):
                pairs.append((key, self.scalar(obj, what, alias)))
            elif isinstance(what, Typename):
                pairs.append((key, literal(what.name)))
            elif isinstance(what, Nested):
                pairs.append((key, self.nested(what, alias)))
            elif isinstance(what, Listed):
                pairs.append((key, self.listed(what, alias)))
            else:
                pairs.append((key, self.embed(self.paged(what, alias))))
        return self.json_object(pairs)

    def scalar(self, obj: Obj, scalar: Scalar, alias: str) -> str:
        value = (
            f"{alias}.{scalar.column}"
            if scalar.column is not None
            else scalar.compute(self.scope(alias))  # type: ignore[misc]  # one of the two
        )
        match scalar.kind:
            case Kind.node_id:
                return encoding.node_id_sql(self.dialect, obj.noun.name, value)
            case Kind.timestamp:
                return encoding.timestamp_sql(self.dialect, value)
            case Kind.date:
                return encoding.date_sql(self.dialect, value)
            case Kind.boolean:
                return self.boolean(value)
            case Kind.json | Kind.texts:
                return value if self.pg else f"json({value})"
            case Kind.enum:
                assert scalar.enum is not None
                spell = str.upper if obj.api == "graphql" else str.lower
                whens = " ".join(
                    f"WHEN {stored if isinstance(stored, int) else literal(str(stored))}"
                    f" THEN {literal(spell(name))}"
                    for stored, name in scalar.enum.items()
                )
                return f"(CASE {value} {whens} END)"
            case _:
                return value

    def nested(self, nested: Nested, alias: str) -> str:
        target = NOUNS[nested.relation.target]
        inner = self.alias()
        body = self.obj(nested.obj, inner)
        active = f" AND {inner}.is_active" if nested.relation.active_only else ""
        return self.embed(
            f"SELECT {body} FROM {target.table} {inner}"
            f" WHERE {inner}.id = {alias}.{nested.relation.fk}{active}"
        )

    def listed(self, listed: Listed, alias: str) -> str:
        rel = listed.relation
        target = NOUNS[rel.target]
        inner, link = self.alias(), self.alias()
        body = self.obj(listed.obj, inner)
        order = ", ".join(f"{inner}.{c}" for c in rel.order)
        source = (
            f"FROM {rel.via} {link} JOIN {target.table} {inner}"
            f" ON {inner}.id = {link}.{rel.via_target}"
            f" WHERE {link}.{rel.via_parent} = {alias}.id"
        )
        if self.pg:
            return f"(SELECT coalesce(json_agg({body} ORDER BY {order}), '[]'::json) {source})"
        rows = self.alias()
        return (
            f"json((SELECT json_group_array(json({rows}.j)) FROM"
            f" (SELECT {body} AS j {source} ORDER BY {order} LIMIT -1) {rows}))"
        )

    # -- connections -------------------------------------------------------------------------

    def paged(self, paged: Paged, parent: str) -> str:
        """The subquery whose value is the connection's JSON object: the page's rows fetched
        in keyset order (`n + 1` of them, the extra one telling whether more follow), numbered,
        then aggregated in the order shown."""
        rel = paged.relation
        page = self.pages.get(paged.id)
        if page is None:
            raise CannotCompile(f"no page for {paged.id}")
        if rel.guard is not None and paged.id not in self.direct:
            raise CannotCompile(f"{rel.name} is guarded: only the root's own list is compiled")
        target = NOUNS[rel.target]
        ordering = rel.orderings[page.ordering]
        keys = sort_columns(target, ordering)
        rows, node = self.alias(), self.alias()
        conditions = self.conditions(paged, page, parent, rows)
        for bound, forward in ((page.after, True), (page.before, False)):
            if bound is not None:
                conditions.append(self.beyond(paged.id, ordering, keys, rows, bound, forward))
        fetch = "DESC" if ordering[0].descending != page.backward else "ASC"
        shown = "DESC" if page.backward else "ASC"
        order = ", ".join(f"{rows}.{column} {fetch}" for column, _ in keys)
        limit = self.params(f"{paged.id}.n1", "int")
        # The window numbers rows as the index yields them, so LIMIT still stops the scan.
        source = (
            f"SELECT {rows}.*, row_number() OVER (ORDER BY {order}) AS rn"
            f" FROM {target.table} {rows} WHERE {' AND '.join(conditions)}"
            f" ORDER BY {order} LIMIT {limit}"
        )
        if not self.pg and page.backward:  # SQLite aggregates in its source's order
            source = f"SELECT * FROM ({source}) ORDER BY rn DESC LIMIT -1"
        view = _Page(
            node=node,
            cursor=self.cursor(paged, ordering, keys, node, parent),
            included=f"{node}.rn <= {self.params(f'{paged.id}.n', 'int')}",
            more=f"count(*) > {self.params(f'{paged.id}.n', 'int')}",
            shown=shown,
        )
        pairs = [(key, self.part(part, view, paged, page, parent)) for key, part in paged.parts]
        body = self.json_object(pairs)
        if view.included not in body and view.more not in body:
            return f"SELECT {body}"  # counts and constants only: the rows are not needed
        # An aggregate query: one row, even for an empty page.
        return f"SELECT {body} FROM ({source}) {node}"

    def part(self, part: object, view: _Page, paged: Paged, page: PageRequest, parent: str) -> str:
        if isinstance(part, Typename):
            return literal(part.name)
        if isinstance(part, Total):
            counted = self.alias()
            conditions = self.conditions(paged, page, parent, counted)
            table = NOUNS[paged.relation.target].table
            return f"(SELECT count(*) FROM {table} {counted} WHERE {' AND '.join(conditions)})"
        if isinstance(part, Items):
            return self.aggregate(self.item(paged.relation, part.obj, view.node), view)
        if isinstance(part, Edges):
            element = self.json_object(
                [(k, self.edge_part(paged.relation, v, view)) for k, v in part.picks]
            )
            return self.aggregate(element, view)
        if isinstance(part, NextCursor):
            return f"CASE WHEN {view.more} THEN {self.edge_cursor(view, first=False)} END"
        assert isinstance(part, PageInfo)
        pairs: list[tuple[str, str]] = []
        for key, name in part.picks:
            if isinstance(name, Typename):
                pairs.append((key, literal(name.name)))
            elif name == "hasNextPage":
                given = "true" if page.before is not None else "false"
                pairs.append((key, self.boolean(given if page.backward else view.more)))
            elif name == "hasPreviousPage":
                given = "true" if page.after is not None else "false"
                pairs.append((key, self.boolean(view.more if page.backward else given)))
            else:
                pairs.append((key, self.edge_cursor(view, first=name == "startCursor")))
        return self.json_object(pairs)

    def edge_part(self, rel: Connection, value: Cursor | Obj | Typename, view: _Page) -> str:
        if isinstance(value, Cursor):
            return view.cursor
        if isinstance(value, Typename):
            return literal(value.name)
        return self.item(rel, value, view.node)

    def item(self, rel: Connection, obj: Obj, row: str) -> str:
        """A list's item: the row's object, or the object it points to `through`."""
        if rel.through is None:
            return self.obj(obj, row)
        through = NOUNS[rel.target].get(rel.through)
        assert isinstance(through, ToOne)
        return self.nested(Nested(through, obj), row)

    def aggregate(self, element: str, view: _Page) -> str:
        """The JSON array of `element` over the rows shown, in the order shown."""
        if self.pg:
            return (
                f"coalesce(json_agg({element} ORDER BY {view.node}.rn {view.shown})"
                f" FILTER (WHERE {view.included}), '[]'::json)"
            )
        # SQLite aggregates in the order of its (unflattened, `LIMIT`ed) source subquery.
        return f"json_group_array({element}) FILTER (WHERE {view.included})"

    def edge_cursor(self, view: _Page, *, first: bool) -> str:
        """The cursor of the first (or last) row shown; null on an empty page."""
        if self.pg:
            order = view.shown if first else ("ASC" if view.shown == "DESC" else "DESC")
            return (
                f"(array_agg({view.cursor} ORDER BY {view.node}.rn {order})"
                f" FILTER (WHERE {view.included}))[1]"
            )
        path = "$[0]" if first else "$[#-1]"
        shown = f"json_group_array({view.cursor}) FILTER (WHERE {view.included})"
        return f"json_extract({shown}, '{path}')"


@dataclass(frozen=True, slots=True)
class _Page:
    """How a connection's parts refer to its rows."""

    node: str  # the alias of the numbered rows
    cursor: str  # SQL for a row's cursor
    included: str  # the rows shown (not the extra one)
    more: str  # whether rows follow the page
    shown: str  # ASC or DESC: the order rows are shown in, by fetch number
