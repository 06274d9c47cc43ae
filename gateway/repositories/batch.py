"""Batch loads by id, the queries behind DataLoaders: one statement however many ids.

They return plain rows (dicts from `.values()`), never ORM instances: read paths hand rows to
the API layers, and graphql-core would await every Tortoise instance it meets.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

from tortoise.models import Model

Row = dict[str, Any]


async def rows_by_id(
    model: type[Model], ids: Sequence[int], fields: Sequence[str]
) -> list[Row | None]:
    """The rows of `model` with these ids, in the order of `ids` (None where there is none),
    each with `fields` (joined names allowed) and `id`. A DataLoader batch function as is."""
    if not ids:
        return []
    columns = list(dict.fromkeys(["id", *fields]))
    rows = await model.filter(id__in=set(ids)).values(*columns)
    by_id = {row["id"]: row for row in rows}
    return [by_id.get(pk) for pk in ids]


async def rows_grouped(
    model: type[Model],
    fk_field: str,
    ids: Sequence[Hashable],
    fields: Sequence[str],
    *,
    order_by: Sequence[str] = ("id",),
) -> list[list[Row]]:
    """For each of `ids`, the rows of `model` whose `fk_field` (e.g. `issue_id`) equals it, in
    `order_by` order; an empty list where there are none. Labels of many issues:

        rows_grouped(IssueLabel, "issue_id", issue_ids, ["label__id", "label__name"],
                     order_by=["label__name_key"])

    Unbounded per parent: for small one-to-many sets only. A list that can grow (comments,
    events) is a connection and pages with `gateway.core.paging.keyset_page` instead."""
    if not ids:
        return []
    columns = list(dict.fromkeys([fk_field, *fields]))
    condition: dict[str, Any] = {f"{fk_field}__in": set(ids)}
    rows = await model.filter(**condition).order_by(*order_by).values(*columns)
    groups: dict[Hashable, list[Row]] = {}
    for row in rows:
        groups.setdefault(row[fk_field], []).append(row)
    return [list(groups.get(key, ())) for key in ids]
