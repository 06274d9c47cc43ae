"""Pages of many parents' lists in one statement: the batched path of nested connections.

A connection under a list (`projects { issues(first: 20) }`, `issues { comments(first: 5) }`)
would cost one keyset statement per parent: a per-parent LIMIT cannot be expressed as one
`IN (...)`. Every parent asks for the same thing ("the first n rows in this ordering", after or
before the same cursor), so one statement answers all of them:

    SELECT <fields> FROM issues <joins> WHERE issues.id IN (
        SELECT ranked.id FROM (
            SELECT issues.id, ROW_NUMBER() OVER (PARTITION BY issues.project_id
                                                 ORDER BY issues.number, issues.id) AS row_rank
            FROM issues WHERE issues.project_id IN (?, ?, ...) AND <the list's filters>
                          AND (issues.number, issues.id) > (?, ?)   -- `after`, if given
        ) ranked WHERE ranked.row_rank <= ?                         -- first + 1
    ) ORDER BY issues.project_id, issues.number, issues.id

Window functions run on SQLite (3.25+) and PostgreSQL alike. The statement is built from the
caller's Tortoise queryset and pypika terms, so every value travels as a bound parameter. Each
parent's `Page` is the one `gateway.core.paging.keyset_page` gives for that parent alone (same
rows, cursors, `has_next`/`has_previous`, same errors), so cursors move freely between the two
paths. `count_per_parent` is the matching batched `totalCount`: one GROUP BY.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Unpack

from pypika_tortoise.analytics import RowNumber
from pypika_tortoise.enums import Order
from pypika_tortoise.queries import Query, QueryBuilder, Selectable
from pypika_tortoise.terms import Field, ValueWrapper
from tortoise.expressions import Q, ResolveContext, Subquery
from tortoise.functions import Count
from tortoise.query_utils import QueryModifier
from tortoise.queryset import QuerySet

from gateway.core.errors import ValidationFailed
from gateway.core.paging import (
    Ordering,
    Page,
    PageArgs,
    cursor_signature,
    encode_cursor,
    keyset_bound,
    ordering_plan,
    page_size,
)

RANK = "row_rank"


class _IdIn(Q):
    """`<table>.<pk> IN (<pypika subquery>)`: Tortoise cannot filter on a raw pypika query, so
    this Q hands its resolver a ready criterion (the Tortoise 1.x `Q.resolve` protocol, as
    `gateway.core.paging` does for row values). The subquery's parameters join the outer
    statement's, in order, when the SQL is generated."""

    def __init__(self, column: str, picked: QueryBuilder) -> None:
        super().__init__()
        self.picked = (column, picked)

    def resolve(self, resolve_context: ResolveContext) -> QueryModifier:
        column, picked = self.picked
        return QueryModifier(where_criterion=resolve_context.table[column].isin(picked))


def _ranked_ids(
    queryset: QuerySet[Any], fk_field: str, ordering: Ordering, keep: int, *, backward: bool
) -> QueryBuilder:
    """`SELECT id FROM (SELECT id, ROW_NUMBER() OVER (...) row_rank ...) WHERE row_rank <= keep`."""
    model = queryset.model
    keys = ordering_plan(model, ordering)
    table = model._meta.basetable
    fk_column = model._meta.fields_db_projection[fk_field]
    direction = Order.desc if keys[0].descending != backward else Order.asc
    rank = (
        RowNumber()
        .over(table[fk_column])
        .orderby(*(table[k.column] for k in keys), order=direction)
    )
    ranked: Selectable = Subquery(
        queryset.annotate(**{RANK: rank}).values(model._meta.pk_attr, RANK)
    ).as_("ranked")
    return (
        Query.from_(ranked)
        .select(Field(model._meta.pk_attr, table=ranked))
        .where(Field(RANK, table=ranked) <= ValueWrapper(keep))
    )


def _bounded(
    queryset: QuerySet[Any],
    ordering: Ordering,
    signature: str,
    after: str | None,
    before: str | None,
) -> QuerySet[Any]:
    if after is not None:
        queryset = keyset_bound(queryset, ordering, after, signature, forward=True)
    if before is not None:
        queryset = keyset_bound(queryset, ordering, before, signature, forward=False)
    return queryset


async def pages_per_parent(
    queryset: QuerySet[Any],
    fk_field: str,
    parent_ids: Sequence[int],
    ordering: Ordering,
    *,
    fields: Sequence[str],
    scope: Callable[[int], str],
    **paging: Unpack[PageArgs],
) -> dict[int, Page | ValidationFailed]:
    """The page of `queryset` (filtered, not ordered or limited, not yet narrowed to the
    parents) for each of `parent_ids`, where `fk_field` (e.g. `"project_id"`) names the parent,
    in ONE statement. A parent with no rows gets an empty page.

    Each page is what `keyset_page(queryset.filter(<fk_field>=parent), ordering, **paging,
    fields=fields, scope=scope(parent))` returns (rows with `fk_field` too); a cursor that
    list refuses (minted for another parent, say) is that parent's error instead. Its
    `count_total` counts that one parent's rows; batch counts with `count_per_parent`.
    """
    limit, backward = page_size(paging.get("first"), paging.get("last"))
    after, before = paging.get("after"), paging.get("before")
    model = queryset.model
    keys = ordering_plan(model, ordering)
    signatures = {p: cursor_signature(model, ordering, scope(p)) for p in parent_ids}
    answers: dict[int, Page | ValidationFailed] = {}
    window: QuerySet[Any] | None = None
    for parent, signature in signatures.items():
        try:  # the same cursor decodes to the same bounds for every parent it belongs to
            window = _bounded(queryset, ordering, signature, after, before)
        except ValidationFailed as exc:
            answers[parent] = exc
    parents = [p for p in signatures if p not in answers]
    if window is None or not parents:
        return answers
    narrowed = window.filter(**{f"{fk_field}__in": parents})
    picked = _ranked_ids(narrowed, fk_field, ordering, limit + 1, backward=backward)
    terms = [("-" if k.descending != backward else "") + k.field for k in keys]
    columns = list(dict.fromkeys([*fields, fk_field, *(k.field for k in keys)]))
    rows = (
        await model.filter(_IdIn(model._meta.db_pk_column, picked))
        .order_by(fk_field, *terms)
        .values(*columns)
    )
    grouped: dict[int, list[dict[str, Any]]] = {parent: [] for parent in parents}
    for row in rows:
        grouped[row[fk_field]].append(row)
    for parent, found in grouped.items():
        more = len(found) > limit
        del found[limit:]
        if backward:
            found.reverse()
        answers[parent] = Page(
            rows=found,
            cursors=[
                encode_cursor(signatures[parent], [row[k.field] for k in keys]) for row in found
            ],
            has_next=before is not None if backward else more,
            has_previous=more if backward else after is not None,
            count_total=_counter(queryset.filter(**{fk_field: parent})),
        )
    return answers


def _counter(queryset: QuerySet[Any]) -> Callable[[], Awaitable[int]]:
    async def count_total() -> int:
        return await queryset.count()

    return count_total


async def count_per_parent(
    queryset: QuerySet[Any], fk_field: str, parent_ids: Sequence[int]
) -> dict[int, int]:
    """How many rows of `queryset` each of `parent_ids` has (0 for none): one GROUP BY."""
    counts = dict.fromkeys(parent_ids, 0)
    if not counts:
        return counts
    rows = (
        await queryset.filter(**{f"{fk_field}__in": list(counts)})
        .annotate(row_count=Count(queryset.model._meta.pk_attr))
        .group_by(fk_field)
        .values(fk_field, "row_count")
    )
    for row in rows:
        counts[row[fk_field]] = int(row["row_count"])
    return counts
