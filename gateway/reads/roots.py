"""The reads' roots: the object a read starts from, found by a lookup the caller may see, and
the statements answering one root (`compile_root`) or `nodes(ids:)` (`compile_nodes`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, Literal

from gateway.reads.compiler import Compiler
from gateway.reads.expressions import manages
from gateway.reads.model import Dialect
from gateway.reads.selection import Obj, Paged, PageRequest
from gateway.reads.sql import MAX_KEYS, CannotCompile, Statement

Lookup = Literal[
    "viewer",
    "workspace",
    "project",
    "issue",
    "member",
    "label",
    "comment",
    "user",
    "invitation",
    "invitation:mine",
    "webhook",
    "delivery",
    "event",
    "node:User",
    "node:Workspace",
    "node:Membership",
    "node:Project",
    "node:Label",
    "node:Issue",
    "node:Comment",
    "node:Event",
]


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
        # An invitation of a workspace, to its admins (`services.access`, `see_invitations`).
        "invitation": "FROM invitations t JOIN workspaces w ON w.id = t.workspace_id"
        " WHERE w.slug = {slug} AND t.id = {pk} AND {manages}",
        # An invitation addressed to the caller, in any state (what they answered).
        "invitation:mine": "FROM invitations t WHERE t.id = {pk} AND (t.invitee_id = {viewer}"
        " OR t.email_key IN (SELECT ie.email_key FROM users ie WHERE ie.id = {viewer}))"
        " AND EXISTS (SELECT 1 FROM users va WHERE va.id = {viewer} AND va.is_active)",
        # A webhook and a delivery of one, to the workspace's admins (`see_webhooks`).
        "webhook": "FROM webhooks t JOIN workspaces w ON w.id = t.workspace_id"
        " WHERE w.slug = {slug} AND t.id = {pk} AND {manages}",
        "delivery": "FROM webhook_deliveries t JOIN webhooks tw ON tw.id = t.webhook_id"
        " JOIN workspaces w ON w.id = tw.workspace_id"
        " WHERE w.slug = {slug} AND tw.id = {parent} AND t.id = {pk} AND {manages}",
        # An event by id with no caller: what a webhook delivers (authorized when the webhook
        # was registered by an admin of the event's workspace).
        "event": "FROM events t WHERE t.id = {pk}",
        # Any active user, to any active caller (`GET /users/{username}`, `node(id:)`).
        "user": "FROM users t WHERE t.username = {username} AND t.is_active"
        " AND EXISTS (SELECT 1 FROM users va WHERE va.id = {viewer} AND va.is_active)",
        "comment": "FROM comments t JOIN issues ti ON ti.id = t.issue_id"
        " JOIN projects tp ON tp.id = ti.project_id JOIN workspaces w ON w.id = tp.workspace_id"
        " WHERE w.slug = {slug} AND tp.key = {key} AND ti.number = {number} AND t.id = {pk}"
        " AND {visible}",
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


def compile_root(
    root: Root, dialect: Dialect, pages: Mapping[str, PageRequest], *, checked: bool = True
) -> Statement:
    """The statement answering `root` with one row holding its JSON text (no row, or NULL,
    when the object is missing or invisible). `checked`: no row also where a cursor or a
    guard of the root's own lists fails (`direct_pages`); a root whose missing object is an
    answer (`node`) is not, and leaves such lists to the resolvers."""
    direct = direct_pages([root]) if checked else []
    compiler = Compiler(dialect, pages, frozenset(p.id for p in direct))
    if root.obj is not None:
        value = compiler.obj(root.obj, "t")
    elif root.paged is not None:
        value = f"({compiler.paged(root.paged, 't')})"
    else:
        raise CannotCompile("a root answers an object or a page")
    if dialect == "postgres":
        value = f"({value})::text"
    source = _source(compiler, root, "pk")
    for paged in direct:
        source += "".join(f" AND {check}" for check in compiler.page_checks(paged, "t"))
    return compiler.params.number(f"SELECT {value} {source}")


def direct_pages(roots: Iterable[Root]) -> list[Paged]:
    """The lists of the roots' own objects (or the roots' pages): their cursors name the
    root's object, so its statement checks them (`Compiler.page_checks`) and finds no row for
    a cursor of another list."""
    found = []
    for root in roots:
        if root.paged is not None:
            found.append(root.paged)
        if root.obj is not None:
            found.extend(p for _, p in root.obj.picks if isinstance(p, Paged))
    return found


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
        parent=compiler.params(f"{root.id}.parent", "bigint"),
        visible=compiler.visible("t.id" if root.lookup == "workspace" else "w.id"),
        manages=manages(compiler.scope("w")),
    )
