"""Relay connections for every GraphQL list, over `gateway.core.paging` pages.

A list field takes the paging arguments `first`, `after`, `last` and `before` from `Paged`,
which hands its resolver their values as one `paging: PageArgs`:

    @strawberry.field(description="The webhooks, oldest first.", extensions=[Paged()])
    async def webhooks(self, info: Info[Context, None], paging: PageArgs) -> Connection[Webhook]:
        return await info.context.loaders.workspace_webhooks(self.pk, paging)

and its loader (`schema.loaders`) turns the service's page into a connection, row by row:

    async def workspace_webhooks(self, workspace: int, paging: PageArgs) -> Connection[Webhook]:
        page = await webhooks.list_webhooks(self._context.viewer, workspace, **paging)
        return to_connection(page, lambda row: Webhook.of(webhooks.row_view(row)))

`Connection[Webhook]` appears in the SDL as `WebhookConnection` (edges `WebhookEdge`). Limits
(1..100) and cursors are checked by `keyset_page`, which raises VALIDATION_FAILED. Strawberry's
own `relay.ListConnection` is not used: its cursors encode offsets (see ADR 0005).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Final, Generic, TypeVar

import strawberry
from strawberry.annotation import StrawberryAnnotation
from strawberry.extensions.field_extension import AsyncExtensionResolver, FieldExtension
from strawberry.types import Info
from strawberry.types.arguments import StrawberryArgument
from strawberry.types.field import StrawberryField

from gateway.core.paging import DEFAULT_LIMIT, MAX_LIMIT, Page, PageArgs

T = TypeVar("T")

First = Annotated[
    int | None,
    strawberry.argument(
        description=f"Return the first n items (1..{MAX_LIMIT}; {DEFAULT_LIMIT} when neither"
        " first nor last is given)."
    ),
]
After = Annotated[str | None, strawberry.argument(description="Return items after this cursor.")]
Last = Annotated[
    int | None,
    strawberry.argument(description=f"Return the last n items (1..{MAX_LIMIT})."),
]
Before = Annotated[str | None, strawberry.argument(description="Return items before this cursor.")]

# The arguments `Paged` adds, as a resolver taking `first: First = None` (and so on) has them.
_PAGE_ARGUMENTS: Final = (("first", First), ("after", After), ("last", Last), ("before", Before))


class Paged(FieldExtension):
    """Gives a list field the paging arguments, after its own, and passes its resolver their
    values as one `paging: PageArgs` argument (which is not a GraphQL argument itself)."""

    def apply(self, field: StrawberryField) -> None:
        own = [argument for argument in field.arguments if argument.python_name != "paging"]
        field.arguments = [
            *own,
            *(
                StrawberryArgument(name, None, StrawberryAnnotation(annotation), default=None)
                for name, annotation in _PAGE_ARGUMENTS
            ),
        ]

    async def resolve_async(
        self,
        next_: AsyncExtensionResolver,
        source: Any,
        info: Info[Any, Any],
        *,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        **kwargs: Any,
    ) -> Any:
        paging = PageArgs(first=first, after=after, last=last, before=before)
        return await next_(source, info, paging=paging, **kwargs)


@strawberry.type(description="Where a page sits in its list.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="Whether items follow this page.")
    has_previous_page: bool = strawberry.field(
        description="Whether items precede this page. When paging forward it is true whenever"
        " `after` was given."
    )
    start_cursor: str | None = strawberry.field(
        description="The cursor of the first item; null on an empty page."
    )
    end_cursor: str | None = strawberry.field(
        description="The cursor of the last item; null on an empty page."
    )


@strawberry.type(description="One item of a list, with the cursor of its position.")
class Edge(Generic[T]):
    cursor: str = strawberry.field(description="Pass as `after` or `before` to page from here.")
    node: T = strawberry.field(description="The item.")


@strawberry.type(description="One page of a list (Relay connection).")
class Connection(Generic[T]):
    edges: list[Edge[T]] = strawberry.field(description="The items of this page, in order.")
    page_info: PageInfo = strawberry.field(description="How to reach the neighbouring pages.")
    count_total: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(
        description="The items of this page without their cursors (GitHub's shortcut for"
        " `edges { node }`)."
    )
    def nodes(self) -> list[T]:
        return [edge.node for edge in self.edges]

    @strawberry.field(description="How many items the whole list holds, across all pages.")
    async def total_count(self) -> int:
        # Counting costs a statement of its own, so it runs only when a client selects it.
        return await self.count_total()


def to_connection(page: Page, to_node: Callable[[dict[str, Any]], T]) -> Connection[T]:
    """The connection for `page`, each row turned into its GraphQL object by `to_node`."""
    return Connection(
        edges=[
            Edge(cursor=cursor, node=to_node(row))
            for row, cursor in zip(page.rows, page.cursors, strict=True)
        ],
        page_info=PageInfo(
            has_next_page=page.has_next,
            has_previous_page=page.has_previous,
            start_cursor=page.start_cursor,
            end_cursor=page.end_cursor,
        ),
        count_total=page.total_count,
    )
