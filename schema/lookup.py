"""`node(id:)` and `nodes(ids:)`: any object by its global ID, through a registry of resolvers.

Each noun module registers, at import, how to fetch its objects by primary key (here
`schema.issues`):

    async def issues_by_pk(info: Info[Context, None], pks: list[int]) -> list[Node | None]:
        views = await issue_reads.visible_by_pk(info.context.viewer, pks)  # the service decides
        return [None if view is None else Issue.of(view) for view in views]

    register_node("Issue", issues_by_pk)

A resolver returns one object per pk, in order, and None for what does not exist or is not
visible to the caller (so existence does not leak). A malformed id, or one naming a type nobody
registered, is simply null.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated

import strawberry
from strawberry.types import Info

from gateway.core.errors import NotFound, ValidationFailed
from gateway.core.ids import NODE_TYPES, from_global_id
from schema.context import Context
from schema.node import Node

MAX_NODES = 100

NodeResolver = Callable[[Info[Context, None], list[int]], Awaitable[Sequence[Node | None]]]


class NodeRegistry:
    """Global-ID type name → the resolver fetching objects of that type."""

    def __init__(self) -> None:
        self._resolvers: dict[str, NodeResolver] = {}

    def register(self, type_name: str, resolve: NodeResolver) -> None:
        if type_name not in NODE_TYPES:
            raise ValueError(f"{type_name!r} is not a global ID type (gateway.core.ids.NODE_TYPES)")
        if type_name in self._resolvers:
            # Two modules claiming one type would make `node` depend on import order.
            raise ValueError(f"a node resolver for {type_name!r} is already registered")
        self._resolvers[type_name] = resolve

    async def resolve(
        self, info: Info[Context, None], global_ids: Sequence[str]
    ) -> list[Node | None]:
        """One object (or None) per id, in order; one resolver call per type involved."""
        wanted: list[tuple[str, int] | None] = []
        for global_id in global_ids:
            try:
                wanted.append(from_global_id(global_id))
            except NotFound:
                wanted.append(None)
        by_type: dict[str, list[int]] = {}
        for item in wanted:
            if item is not None and item[0] in self._resolvers:
                pks = by_type.setdefault(item[0], [])
                if item[1] not in pks:
                    pks.append(item[1])
        found: dict[tuple[str, int], Node | None] = {}
        for type_name, pks in by_type.items():
            objects = await self._resolvers[type_name](info, pks)
            if len(objects) != len(pks):
                raise RuntimeError(f"the {type_name} node resolver broke the one-per-pk rule")
            found.update(((type_name, pk), obj) for pk, obj in zip(pks, objects, strict=True))
        return [found.get(item) if item is not None else None for item in wanted]


registry = NodeRegistry()


def register_node(type_name: str, resolve: NodeResolver) -> None:
    """Make `node(id:)` able to fetch objects of `type_name` (call once, at import)."""
    registry.register(type_name, resolve)


@strawberry.type
class NodeQuery:
    @strawberry.field(
        description="Any object by its global ID; null when it does not exist or is not"
        " visible to you."
    )
    async def node(
        self,
        info: Info[Context, None],
        id: Annotated[strawberry.ID, strawberry.argument(description="A global ID.")],
    ) -> Node | None:
        [found] = await registry.resolve(info, [id])
        return found

    @strawberry.field(
        description=f"Objects by their global IDs (at most {MAX_NODES}), in the order asked;"
        " null for each that does not exist or is not visible to you."
    )
    async def nodes(
        self,
        info: Info[Context, None],
        ids: Annotated[list[strawberry.ID], strawberry.argument(description="Global IDs.")],
    ) -> list[Node | None]:
        if len(ids) > MAX_NODES:
            raise ValidationFailed.on("ids", f"at most {MAX_NODES} ids per request")
        return await registry.resolve(info, ids)
