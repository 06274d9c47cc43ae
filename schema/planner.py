"""GraphQL operation → read-model selections (`gateway.reads.selection`), one per root field.

Walks a validated query's selection sets as graphql-core's executor would (fragments spread,
inline fragments applied by type condition, fields with one response key merged), mapping each
field of `schema.graphql` onto the read model of `gateway.reads.nouns`. Argument values are not
read here: each connection keeps its argument nodes, evaluated per request by
`schema.compiled`. Anything unmapped (introspection, directives, a field outside the read
model) raises `CannotCompile`, and the operation runs through the resolvers instead.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Final, cast, get_args

from graphql import (
    ArgumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    SelectionSetNode,
)

from gateway.reads.model import Connection, Noun, Scalar, ToMany, ToOne, camel
from gateway.reads.nouns import NOUNS, node_noun
from gateway.reads.roots import Lookup, Root
from gateway.reads.selection import (
    Cursor,
    Edges,
    Items,
    Listed,
    Nested,
    Obj,
    Paged,
    PageInfo,
    PageInfoField,
    Part,
    Pick,
    Total,
    Typename,
)
from gateway.reads.sql import CannotCompile

_ROOTS: Final[Mapping[str, tuple[Lookup, str]]] = {
    "viewer": ("viewer", "User"),
    "workspace": ("workspace", "Workspace"),
    "project": ("project", "Project"),
    "issue": ("issue", "Issue"),
}
_NODES: Final = ("User", "Workspace", "Membership", "Project", "Label", "Issue", "Comment", "Event")
_PAGE_INFO: Final = frozenset(get_args(PageInfoField))
_FIELDS: Final[Mapping[str, Mapping[str, Scalar | ToOne | ToMany | Connection]]] = {
    noun.name: {camel(name): entry for name, entry in noun.by_name.items()}
    for noun in NOUNS.values()
}


@dataclass(frozen=True, slots=True)
class PlannedRoot:
    """One root field: its response key, its reads (one per type `node(id:)` may find, else
    one under ""), and the argument nodes of the lookup and of each connection (by id)."""

    key: str
    field: str
    reads: Mapping[str, Root]
    arguments: tuple[ArgumentNode, ...]
    pages: Mapping[str, tuple[Connection, str, tuple[ArgumentNode, ...]]]

    @property
    def silent(self) -> bool:
        """Whether a missing or invisible object is simply null (no error): `node`."""
        return self.field == "node"


@dataclass(slots=True)
class Planner:
    fragments: Mapping[str, FragmentDefinitionNode]
    pages: dict[str, tuple[Connection, str, tuple[ArgumentNode, ...]]] = field(default_factory=dict)
    counter: int = 0

    def collect(self, selections: SelectionSetNode, type_name: str) -> dict[str, list[FieldNode]]:
        """The fields of a selection set by response key, fragments applied (type conditions
        checked against `type_name` and the `Node` interface every noun implements)."""
        found: dict[str, list[FieldNode]] = {}
        for node in self._fields(selections, type_name, set()):
            found.setdefault((node.alias or node.name).value, []).append(node)
        return found

    def _fields(
        self, selections: SelectionSetNode, type_name: str, seen: set[str]
    ) -> Iterator[FieldNode]:
        for selection in selections.selections:
            if selection.directives:
                raise CannotCompile("directives are left to the resolvers")
            if isinstance(selection, FieldNode):
                yield selection
                continue
            if isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name in seen:
                    continue
                seen.add(name)
                fragment = self.fragments[name]
                if fragment.directives:
                    raise CannotCompile("directives are left to the resolvers")
                condition: str | None = fragment.type_condition.name.value
                inner = fragment.selection_set
            else:
                assert isinstance(selection, InlineFragmentNode)
                condition = (
                    selection.type_condition.name.value if selection.type_condition else None
                )
                inner = selection.selection_set
            if condition not in (None, type_name, "Node"):
                continue  # validation allows it only where it cannot apply
            yield from self._fields(inner, type_name, seen)

    def obj(self, noun: Noun, nodes: list[FieldNode], type_name: str | None = None) -> Obj:
        """The picks of `nodes` on an object of `noun` (GraphQL's `type_name`, where the
        schema shows the noun under another type, e.g. an invitation's `WorkspaceInfo`)."""
        picks: list[Pick] = []
        fields = _FIELDS[noun.name]
        shown = type_name or noun.name
        for key, group in self._merged(nodes, shown).items():
            name = group[0].name.value
            if name == "__typename":
                picks.append((key, Typename(shown)))
                continue
            entry = fields.get(name)
            if entry is None:
                raise CannotCompile(f"{noun.name}.{name} is not in the read model")
            if isinstance(entry, Scalar):
                picks.append((key, entry))
            elif isinstance(entry, ToOne):
                target = NOUNS[entry.target]
                picks.append((key, Nested(entry, self.obj(target, group, entry.graphql_type))))
            elif isinstance(entry, ToMany):
                picks.append((key, Listed(entry, self.obj(NOUNS[entry.target], group))))
            else:
                picks.append((key, self.paged(entry, noun.name, group)))
        return Obj(noun, tuple(picks))

    def _merged(self, nodes: list[FieldNode], type_name: str) -> dict[str, list[FieldNode]]:
        """The sub-fields of `nodes` (fields sharing one response key), merged by key."""
        merged: dict[str, list[FieldNode]] = {}
        for node in nodes:
            if node.selection_set is None:
                raise CannotCompile("a leaf where an object was expected")
            for key, group in self.collect(node.selection_set, type_name).items():
                merged.setdefault(key, []).extend(group)
        return merged

    def paged(self, relation: Connection, owner: str, nodes: list[FieldNode]) -> Paged:
        self.counter += 1
        page_id = f"c{self.counter}"
        self.pages[page_id] = (relation, owner, tuple(nodes[0].arguments or ()))
        target = node_noun(relation)
        parts: list[tuple[str, Part]] = []
        for key, group in self._merged(nodes, f"{target.name}Connection").items():
            name = group[0].name.value
            if name == "__typename":
                parts.append((key, Typename(f"{target.name}Connection")))
            elif name == "totalCount":
                parts.append((key, Total()))
            elif name == "nodes":
                parts.append((key, Items(self.obj(target, group))))
            elif name == "edges":
                parts.append((key, Edges(self.edges(target, group))))
            elif name == "pageInfo":
                parts.append((key, PageInfo(self.page_info(group))))
            else:
                raise CannotCompile(f"{target.name}Connection.{name}")
        return Paged(relation, page_id, tuple(parts))

    def edges(
        self, target: Noun, nodes: list[FieldNode]
    ) -> tuple[tuple[str, Cursor | Obj | Typename], ...]:
        picks: list[tuple[str, Cursor | Obj | Typename]] = []
        for key, group in self._merged(nodes, f"{target.name}Edge").items():
            name = group[0].name.value
            if name == "cursor":
                picks.append((key, Cursor()))
            elif name == "node":
                picks.append((key, self.obj(target, group)))
            elif name == "__typename":
                picks.append((key, Typename(f"{target.name}Edge")))
            else:
                raise CannotCompile(f"{target.name}Edge.{name}")
        return tuple(picks)

    def page_info(self, nodes: list[FieldNode]) -> tuple[tuple[str, PageInfoField | Typename], ...]:
        picks: list[tuple[str, PageInfoField | Typename]] = []
        for key, group in self._merged(nodes, "PageInfo").items():
            name = group[0].name.value
            if name == "__typename":
                picks.append((key, Typename("PageInfo")))
            elif name in _PAGE_INFO:
                picks.append((key, name))  # type: ignore[arg-type]  # checked just above
            else:
                raise CannotCompile(f"PageInfo.{name}")
        return tuple(picks)


def plan_roots(
    selections: SelectionSetNode, fragments: Mapping[str, FragmentDefinitionNode]
) -> list[PlannedRoot]:
    """One planned read per root field of a query, in response order."""
    planner = Planner(fragments)
    roots: list[PlannedRoot] = []
    for index, (key, group) in enumerate(planner.collect(selections, "Query").items()):
        name = group[0].name.value
        planner.pages = {}
        reads: dict[str, Root] = {}
        if name in ("node", "nodes"):
            for type_name in _NODES:
                try:  # a type whose fragments ask for more than its noun holds is left out
                    obj = planner.obj(NOUNS[type_name], group)
                except CannotCompile:
                    continue
                lookup = cast(Lookup, f"node:{type_name}")
                reads[type_name] = Root(lookup, f"r{index}", obj=obj)
            if not reads:
                raise CannotCompile("no node type to read")
        elif name in _ROOTS:
            lookup, type_name = _ROOTS[name]
            reads[""] = Root(lookup, f"r{index}", obj=planner.obj(NOUNS[type_name], group))
        else:
            raise CannotCompile(f"Query.{name} is left to the resolvers")
        arguments = tuple(group[0].arguments or ())
        roots.append(PlannedRoot(key, name, reads, arguments, planner.pages))
    return roots
