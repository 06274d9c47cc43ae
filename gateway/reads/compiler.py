"""A selection of the read model → one SQL statement whose single value is the JSON answer.

PostgreSQL builds the JSON with `json_build_object`/`json_agg`, SQLite with `json_object`/
`json_group_array`; relations are correlated subqueries, a connection one subquery over its
page (`LIMIT n + 1` in keyset order, numbered, then aggregated: edges, `pageInfo`, cursors).
Every value is a bind parameter named in `Statement.names` (`gateway.reads.plan` fills them per
request); the text depends only on the selection and on each page's `variant()`, so it is
cached. Names (aliases) are inlined only after checking they are GraphQL names.
See history/adr/0015-compiled-reads.md.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, Literal

from tortoise.models import Model

from gateway.paging import Ordering, ordering_plan
from gateway.reads import encoding
from gateway.reads.model import Dialect, Kind, Noun, Scalar, Scope
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
from models import Comment, Event, Issue, Label, Membership, Project, User, Workspace

Lookup = Literal[
    "viewer",
    "workspace",
    "project",
    "issue",
    "member",
    "label",
    "node:User",
    "node:Workspace",
    "node:Membership",
    "node:Project",
    "node:Label",
    "node:Issue",
    "node:Comment",
    "node:Event",
]
_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]*")
MAX_KEYS = 50  # PostgreSQL functions take at most 100 arguments


class CannotCompile(Exception):
    """The selection needs something the compiler does not express: use the resolvers."""


_MARK = re.compile("\x01([^\x02]+)\x02([a-z]+)\x03")


@dataclass(slots=True)
class Params:
    """Placeholders by name: the same name is the same parameter. Marked while the text is
    built and numbered at the end (`number`), so a parameter the text ended up not using is
    never sent (asyncpg insists on exactly the parameters a statement has)."""

    dialect: Dialect

    def __call__(self, name: str, sql_type: str) -> str:
        return f"\x01{name}\x02{sql_type}\x03"

    def number(self, text: str) -> Statement:
        names: list[str] = []

        def placeholder(match: re.Match[str]) -> str:
            name, sql_type = match.group(1), match.group(2)
            if name not in names:
                names.append(name)
            number = names.index(name) + 1
            return f"${number}::{sql_type}" if self.dialect == "postgres" else f"?{number}"

        return Statement(_MARK.sub(placeholder, text), tuple(names))


@dataclass(frozen=True, slots=True)
class Statement:
    sql: str
    names: tuple[str, ...]


def _literal(text: str) -> str:
    """A constant of the code (never a request's value) as an SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _key(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise CannotCompile(f"not a name: {name!r}")
    return f"'{name}'"


class Compiler:
    """Renders one statement; `pages` holds the request's page of each connection."""

    def __init__(self, dialect: Dialect, pages: Mapping[str, PageRequest]) -> None:
        self.dialect = dialect
        self.pages = pages
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
        return Scope(alias, self.viewer, self.admin, self.dialect)

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
        args = ", ".join(f"{_key(k)}, {v}" for k, v in pairs)
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

    # -- objects -----------------------------------------------------------------------------

    def obj(self, obj: Obj, alias: str) -> str:
        pairs: list[tuple[str, str]] = []
        for key, what in obj.picks:
            if isinstance(what, Scalar):
                pairs.append((key, self.scalar(obj, what, alias)))
            elif isinstance(what, Typename):
                pairs.append((key, _literal(what.name)))
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
            case Kind.json:
                return value if self.pg else f"json({value})"
            case Kind.enum:
                assert scalar.enum is not None
                spell = str.upper if obj.api == "graphql" else str.lower
                whens = " ".join(
                    f"WHEN {stored if isinstance(stored, int) else _literal(str(stored))}"
                    f" THEN {_literal(spell(name))}"
                    for stored, name in scalar.enum.items()
                )
                return f"(CASE {value} {whens} END)"
            case _:
                return value

    def nested(self, nested: Nested, alias: str) -> str:
        target = NOUNS[nested.relation.target]
        inner = self.alias()
        body = self.obj(nested.obj, inner)
        return self.embed(
            f"SELECT {body} FROM {target.table} {inner}"
            f" WHERE {inner}.id = {alias}.{nested.relation.fk}"
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
        target = NOUNS[rel.target]
        ordering = rel.orderings[page.ordering]
        keys = sort_columns(target, ordering)
        rows, node = self.alias(), self.alias()
        conditions = [f"{rows}.{rel.fk} = {parent}.id", *self.filters(paged.id, page, rows)]
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
            return _literal(part.name)
        if isinstance(part, Total):
            counted = self.alias()
            rel = paged.relation
            conditions = [
                f"{counted}.{rel.fk} = {parent}.id",
                *self.filters(paged.id, page, counted),
            ]
            table = NOUNS[rel.target].table
            return f"(SELECT count(*) FROM {table} {counted} WHERE {' AND '.join(conditions)})"
        if isinstance(part, Items):
            return self.aggregate(self.obj(part.obj, view.node), view)
        if isinstance(part, Edges):
            element = self.json_object([(k, self.edge_part(v, view)) for k, v in part.picks])
            return self.aggregate(element, view)
        if isinstance(part, NextCursor):
            return f"CASE WHEN {view.more} THEN {self.edge_cursor(view, first=False)} END"
        assert isinstance(part, PageInfo)
        pairs: list[tuple[str, str]] = []
        for key, name in part.picks:
            if isinstance(name, Typename):
                pairs.append((key, _literal(name.name)))
            elif name == "hasNextPage":
                given = "true" if page.before is not None else "false"
                pairs.append((key, self.boolean(given if page.backward else view.more)))
            elif name == "hasPreviousPage":
                given = "true" if page.after is not None else "false"
                pairs.append((key, self.boolean(view.more if page.backward else given)))
            else:
                pairs.append((key, self.edge_cursor(view, first=name == "startCursor")))
        return self.json_object(pairs)

    def edge_part(self, value: Cursor | Obj | Typename, view: _Page) -> str:
        if isinstance(value, Cursor):
            return view.cursor
        if isinstance(value, Typename):
            return _literal(value.name)
        return self.obj(value, view.node)

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

    def cursor(
        self,
        paged: Paged,
        ordering: Ordering,
        keys: list[tuple[str, encoding.KeyKind]],
        node: str,
        parent: str,
    ) -> str:
        rel = paged.relation
        if rel.filtered:
            signature = self.params(f"{paged.id}.signature", "text")
        else:
            prefix = self.params(f"{paged.id}.scope", "text")
            signature = encoding.signature_sql(self.dialect, prefix, f"{parent}.id")
        return encoding.cursor_sql(
            self.dialect, signature, [(f"{node}.{column}", kind) for column, kind in keys]
        )

    def cursor_checks(self, paged: Paged, parent: str) -> list[str]:
        """For a root's page of a list bound to its parent's id: the cursors given were
        decoded unchecked (`gateway.reads.values.page_request`), so the parent must be the one
        their signatures name; a cursor of another list finds no row."""
        page = self.pages.get(paged.id)
        rel = paged.relation
        if page is None or rel.filtered:
            return []
        prefix = self.params(f"{paged.id}.scope", "text")
        expected = encoding.signature_sql(self.dialect, prefix, f"{parent}.id")
        return [
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
        (`gateway.paging._beyond`)."""
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
        """The issue filter (`gateway.repositories.issues._matching`), as parameters."""
        where = page.where
        if where is None:
            return []

        def p(name: str, kind: str = "text") -> str:
            return self.params(f"{page_id}.{name}", kind)

        found: list[str] = []
        if where.state is not None:
            found.append(f"{rows}.state = {p('state')}")
        if where.assignee == "none":
            found.append(f"{rows}.assignee_id IS NULL")
        elif where.assignee is not None:
            found.append(
                f"{rows}.assignee_id IN"
                f" (SELECT fu.id FROM users fu WHERE fu.username = {p('assignee')})"
            )
        if where.labels:
            names = (
                f"SELECT json_array_elements_text({p('labels')}::json)"
                if self.pg
                else f"SELECT value FROM json_each({p('labels')})"
            )
            found.append(
                f"(SELECT count(DISTINCT fl.label_id) FROM issue_labels fl JOIN labels fn"
                f" ON fn.id = fl.label_id WHERE fl.issue_id = {rows}.id AND fn.name_key IN"
                f" ({names})) = {p('label_count', 'int')}"
            )
        if where.q is not None:
            q = p("q")
            found.append(
                f"(upper({rows}.title) LIKE upper({q}) ESCAPE '\\'"
                f" OR upper({rows}.body) LIKE upper({q}) ESCAPE '\\')"
            )
        return found


@dataclass(frozen=True, slots=True)
class _Page:
    """How a connection's parts refer to its rows."""

    node: str  # the alias of the numbered rows
    cursor: str  # SQL for a row's cursor
    included: str  # the rows shown (not the extra one)
    more: str  # whether rows follow the page
    shown: str  # ASC or DESC: the order rows are shown in, by fetch number


def model_of(noun: Noun) -> type[Model]:
    """The Tortoise model of a noun's table (for its sort keys' columns and types)."""
    return _MODELS[noun.table]


def sort_columns(noun: Noun, ordering: Ordering) -> list[tuple[str, encoding.KeyKind]]:
    """The columns of an ordering with how their cursor values are printed."""
    keys = ordering_plan(model_of(noun), ordering)
    return [(key.column, encoding.key_kind(key.target)) for key in keys]


_MODELS: Final[Mapping[str, type[Model]]] = MappingProxyType(
    {
        m._meta.db_table: m
        for m in (Comment, Event, Issue, Label, Membership, Project, User, Workspace)
    }
)


@dataclass(frozen=True, slots=True)
class Root:
    """One read: an object found by `lookup` (and visible to the caller), answered as `obj`,
    or as one of its connections (`paged`: REST lists). `id` names the lookup's arguments
    (`<id>.slug`, `<id>.key`, `<id>.number`)."""

    lookup: Lookup
    id: str
    obj: Obj | None = None
    paged: Paged | None = None


_LOOKUPS: Final[Mapping[Lookup, str]] = MappingProxyType(
    {
        "viewer": "FROM users t WHERE t.id = {viewer} AND t.is_active",
        "workspace": "FROM workspaces t WHERE t.slug = {slug} AND {visible}",
        "project": "FROM projects t JOIN workspaces w ON w.id = t.workspace_id"
        " WHERE w.slug = {slug} AND t.key = {key} AND {visible}",
        "issue": "FROM issues t JOIN projects tp ON tp.id = t.project_id"
        " JOIN workspaces w ON w.id = tp.workspace_id"
        " WHERE w.slug = {slug} AND tp.key = {key} AND t.number = {number} AND {visible}",
        "member": "FROM memberships t JOIN workspaces w ON w.id = t.workspace_id"
        " JOIN users tu ON tu.id = t.user_id"
        " WHERE w.slug = {slug} AND tu.username = {username} AND {visible}",
        "label": "FROM labels t JOIN projects tp ON tp.id = t.project_id"
        " JOIN workspaces w ON w.id = tp.workspace_id"
        " WHERE w.slug = {slug} AND tp.key = {key} AND t.name_key = {name} AND {visible}",
        # `node(id:)`: any active user is visible to every active caller (as
        # `GET /users/{username}` is); everything else through its workspace.
        "node:User": "FROM users t WHERE t.id = {pk} AND t.is_active"
        " AND EXISTS (SELECT 1 FROM users va WHERE va.id = {viewer} AND va.is_active)",
        "node:Workspace": "FROM workspaces t JOIN workspaces w ON w.id = t.id"
        " WHERE t.id = {pk} AND {visible}",
        "node:Membership": "FROM memberships t JOIN workspaces w ON w.id = t.workspace_id"
        " WHERE t.id = {pk} AND {visible}",
        "node:Project": "FROM projects t JOIN workspaces w ON w.id = t.workspace_id"
        " WHERE t.id = {pk} AND {visible}",
        "node:Label": "FROM labels t JOIN projects tp ON tp.id = t.project_id"
        " JOIN workspaces w ON w.id = tp.workspace_id WHERE t.id = {pk} AND {visible}",
        "node:Issue": "FROM issues t JOIN projects tp ON tp.id = t.project_id"
        " JOIN workspaces w ON w.id = tp.workspace_id WHERE t.id = {pk} AND {visible}",
        "node:Comment": "FROM comments t JOIN issues ti ON ti.id = t.issue_id"
        " JOIN projects tp ON tp.id = ti.project_id JOIN workspaces w ON w.id = tp.workspace_id"
        " WHERE t.id = {pk} AND {visible}",
        "node:Event": "FROM events t JOIN workspaces w ON w.id = t.workspace_id"
        " WHERE t.id = {pk} AND {visible}",
    }
)


def compile_root(root: Root, dialect: Dialect, pages: Mapping[str, PageRequest]) -> Statement:
    """The statement answering `root` with one row holding its JSON text (no row, or NULL,
    when the object is missing or invisible)."""
    compiler = Compiler(dialect, pages)
    if root.obj is not None:
        value = compiler.obj(root.obj, "t")
    elif root.paged is not None:
        value = f"({compiler.paged(root.paged, 't')})"
    else:
        raise CannotCompile("a root answers an object or a page")
    if dialect == "postgres":
        value = f"({value})::text"
    source = _source(compiler, root, "pk")
    if root.paged is not None:
        source += "".join(f" AND {check}" for check in compiler.cursor_checks(root.paged, "t"))
    return compiler.params.number(f"SELECT {value} {source}")


def compile_nodes(
    reads: Sequence[Root | None], dialect: Dialect, pages: Mapping[str, PageRequest]
) -> Statement:
    """`nodes(ids:)`: one array, an element per read in order (`<id>.pk<i>` naming the i-th
    object's key), null where the read is None, missing or invisible."""
    compiler = Compiler(dialect, pages)
    items: list[str] = []
    for i, root in enumerate(reads):
        if root is None or root.obj is None:
            items.append("NULL")
            continue
        found = f"SELECT {compiler.obj(root.obj, 't')} {_source(compiler, root, f'pk{i}')}"
        items.append(compiler.embed(found))
    if len(items) > 2 * MAX_KEYS:
        raise CannotCompile("too many nodes for one array")
    array = (
        f"json_build_array({', '.join(items)})"
        if dialect == "postgres"
        else (f"json_array({', '.join(items)})")
    )
    value = f"({array})::text" if dialect == "postgres" else array
    return compiler.params.number(f"SELECT {value}")


def _source(compiler: Compiler, root: Root, pk: str) -> str:
    """`FROM … WHERE …` finding the root's object (parameters it does not use are never sent)."""
    return _LOOKUPS[root.lookup].format(
        viewer=compiler.viewer,
        slug=compiler.params(f"{root.id}.slug", "text"),
        key=compiler.params(f"{root.id}.key", "text"),
        number=compiler.params(f"{root.id}.number", "bigint"),
        username=compiler.params(f"{root.id}.username", "text"),
        name=compiler.params(f"{root.id}.name", "text"),
        pk=compiler.params(f"{root.id}.{pk}", "bigint"),
        visible=compiler.visible("t.id" if root.lookup == "workspace" else "w.id"),
    )
