"""Per-request DataLoaders: every relation a resolver follows is batched through one of these.

A `Loaders` is made once per request (the context's `loaders`), never shared: a DataLoader
caches what it loaded, and one shared between requests would serve a row loaded for one
principal (one tenant) to another, and keep serving it after it changed.

    def author_loader(info: Info[Context, None]) -> DataLoader[int, Row | None]:
        return info.context.loaders.loader("users.by_id", users.rows_by_id)

    @strawberry.field
    async def author(self, info: Info[Context, None]) -> User:
        return User.from_row(await author_loader(info).load(self.author_id))

All `load` calls made while resolving one level of the query are gathered into one call of the
batch function, so the statement count follows the query's shape, not the number of rows.
See history/adr/0006-dataloaders-per-request.md.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader
from strawberry.extensions.field_extension import AsyncExtensionResolver, FieldExtension
from strawberry.types import Info
from strawberry.types.base import get_object_definition

from gateway.core.errors import DomainError
from gateway.core.paging import Page, PageArgs

K = TypeVar("K")
V = TypeVar("V")

# PostgreSQL takes at most 32767 parameters per statement (SQLite 32766); above this many keys a
# batch is split, so a huge fan-out costs a few statements instead of failing.
MAX_BATCH_SIZE = 1000


class Loaders:
    """The DataLoaders of one request, by name."""

    def __init__(self) -> None:
        self._loaders: dict[str, DataLoader[Any, Any]] = {}

    def loader(
        self, key: str, batch_fn: Callable[[list[K]], Awaitable[Sequence[V]]]
    ) -> DataLoader[K, V]:
        """The request's DataLoader named `key`, created with `batch_fn` on first use.

        `batch_fn` takes a list of keys and returns one value per key, in the same order (None
        for a missing row; an exception instance fails only that key's `load`). Name loaders
        by what they load (`"issues.by_id"`, `"issue.labels"`): the first `batch_fn` given a
        name is the one used for the rest of the request.
        """
        existing = self._loaders.get(key)
        if existing is None:
            existing = DataLoader(load_fn=batch_fn, max_batch_size=MAX_BATCH_SIZE)
            self._loaders[key] = existing
        return existing

    def clear(self) -> None:
        """Forget everything loaded so far (`ClearLoaders` calls it after every mutation)."""
        for loader in self._loaders.values():
            loader.clear_all()


async def nested_page(
    loaders: Loaders,
    name: str,
    parent: int,
    paging: PageArgs,
    pages: Callable[[list[int]], Awaitable[Sequence[Page | DomainError]]],
    totals: DataLoader[int, int],
) -> Page:
    """`parent`'s page of the connection `name` (e.g. `"project.labels"`): every parent at one
    query level asking with the same paging arguments shares one call of `pages` (one
    statement, see `gateway.repositories.nested`), and `totalCount` one load of `totals`.
    Raises the parent's error (NOT_FOUND, a refused cursor) as its single-parent resolver
    would."""
    arguments = ",".join(f"{key}={value}" for key, value in sorted(paging.items()))
    page = await loaders.loader(f"{name}({arguments})", pages).load(parent)
    if isinstance(page, DomainError):  # the loader raises these; this narrows the type
        raise page

    async def count_total() -> int:
        return await totals.load(parent)

    return replace(page, count_total=count_total)


class ClearLoaders(FieldExtension):
    """Forgets the request's loaded values once a mutation's resolver returns, before its
    payload is resolved: every read after a write (the payload, and the rest of the document,
    as mutations run one after another) loads afresh, never a value from before the write."""

    async def resolve_async(
        self, next_: AsyncExtensionResolver, source: Any, info: Info[Any, Any], **kwargs: Any
    ) -> Any:
        try:
            return await next_(source, info, **kwargs)
        finally:  # a failed mutation may have written too (one of several steps)
            info.context.loaders.clear()


def clear_loaders_after_each(mutation: type) -> type:
    """`mutation` (the root Mutation type), each of its fields wrapped in `ClearLoaders`."""
    definition = get_object_definition(mutation, strict=True)
    for field in definition.fields:
        if not any(isinstance(e, ClearLoaders) for e in field.extensions):
            field.extensions.append(ClearLoaders())
    return mutation
