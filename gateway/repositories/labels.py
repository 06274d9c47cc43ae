"""Queries on labels. Rows leave this module as `LabelRow`s, never ORM instances.

Names are unique per project case-insensitively: `name_key` (the case-folded name) carries the
unique index and every lookup by name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from tortoise.backends.base.client import TransactionalDBClient
from tortoise.exceptions import IntegrityError

from gateway.core.errors import ValidationFailed
from gateway.core.paging import Page, PageArgs, keyset_page, order
from gateway.repositories.nested import count_per_parent, pages_per_parent
from gateway.repositories.rows import Row
from models import Label

BY_NAME = order("name_key", "id")


@dataclass(frozen=True, slots=True)
class LabelRow(Row):
    id: int
    project_id: int
    name: str
    color: str
    description: str
    version: int
    created_at: datetime
    updated_at: datetime


FIELDS = LabelRow.columns()


class NameTaken(Exception):
    """Another label of the project has this name, ignoring case."""


def name_key(name: str) -> str:
    """The case-insensitive form of a label name, as stored in `name_key`."""
    return name.casefold()


async def find(label_id: int) -> LabelRow | None:
    """The label with this id."""
    label = await Label.filter(id=label_id).first()
    return None if label is None else LabelRow.of_model(label)


async def find_by_name(project_id: int, name: str) -> LabelRow | None:
    """The project's label with this name, ignoring case."""
    label = await Label.filter(project_id=project_id, name_key=name_key(name)).first()
    return None if label is None else LabelRow.of_model(label)


async def by_ids(ids: Sequence[int]) -> dict[int, LabelRow]:
    """The labels with these ids, by id, in one statement (for DataLoaders)."""
    if not ids:
        return {}
    rows = await Label.filter(id__in=list(set(ids))).values(*FIELDS)
    return {int(r["id"]): LabelRow.of_values(r) for r in rows}


async def lock(db: TransactionalDBClient, label_id: int) -> LabelRow | None:
    """The label, its row locked until `db` commits."""
    label = await Label.filter(id=label_id).select_for_update().using_db(db).first()
    return None if label is None else LabelRow.of_model(label)


async def create(
    db: TransactionalDBClient, *, project_id: int, name: str, color: str, description: str
) -> LabelRow:
    """Insert a label; `NameTaken` when the project has one of that name, ignoring case."""
    try:
        label = await Label.create(
            using_db=db,
            project_id=project_id,
            name=name,
            name_key=name_key(name),
            color=color,
            description=description,
        )
    except IntegrityError as exc:
        raise NameTaken(name) from exc
    return LabelRow.of_model(label)


async def update(
    db: TransactionalDBClient, label_id: int, *, name: str, color: str, description: str
) -> LabelRow:
    """Store new values and bump the version; `NameTaken` on a clash."""
    label = await Label.filter(id=label_id).using_db(db).get()
    label.name = name
    label.name_key = name_key(name)
    label.color = color
    label.description = description
    label.version += 1
    try:
        await label.save(
            using_db=db,
            update_fields=["name", "name_key", "color", "description", "version", "updated_at"],
        )
    except IntegrityError as exc:
        raise NameTaken(name) from exc
    return LabelRow.of_model(label)


async def delete(db: TransactionalDBClient, label_id: int) -> None:
    """Delete the label; the database drops it from every issue."""
    await Label.filter(id=label_id).using_db(db).delete()


async def page_of_project(project_id: int, args: PageArgs) -> Page:
    """A page of the project's labels by name (case-insensitive); rows for `LabelRow.of_values`."""
    return await keyset_page(
        Label.filter(project_id=project_id),
        BY_NAME,
        **args,
        fields=FIELDS,
        scope=f"labels-of:{project_id}",
    )


async def pages_of_projects(
    project_ids: Sequence[int], args: PageArgs
) -> dict[int, Page | ValidationFailed]:
    """The page `page_of_project` gives for each project, all in one statement (nested
    connections); a project whose cursor is refused gets the error instead."""
    return await pages_per_parent(
        Label.all(),
        "project_id",
        project_ids,
        BY_NAME,
        **args,
        fields=FIELDS,
        scope=lambda pk: f"labels-of:{pk}",
    )


async def counts_of_projects(project_ids: Sequence[int]) -> dict[int, int]:
    """How many labels each of `project_ids` has, in one statement (nested `totalCount`)."""
    return await count_per_parent(Label.all(), "project_id", project_ids)
