"""Queries on projects. Rows leave this module as `ProjectRow`s, never ORM instances."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from tortoise.backends.base.client import TransactionalDBClient
from tortoise.exceptions import IntegrityError

from gateway.core.errors import ValidationFailed
from gateway.core.paging import Page, PageArgs, keyset_page, order
from gateway.repositories.nested import count_per_parent, pages_per_parent
from gateway.repositories.rows import Row
from models import Project

# Projects list alphabetically by key; `id` breaks no ties (keys are unique per workspace) but
# keyset paging needs a globally unique last key.
BY_KEY = order("key", "id")


@dataclass(frozen=True, slots=True)
class ProjectRow(Row):
    id: int
    workspace_id: int
    key: str
    name: str
    description: str
    is_archived: bool
    issue_counter: int
    version: int
    created_at: datetime
    updated_at: datetime


FIELDS = ProjectRow.columns()


class KeyTaken(Exception):
    """Another project of the workspace has this key (the unique index said so)."""


async def find(project_id: int) -> ProjectRow | None:
    """The project with this id."""
    project = await Project.filter(id=project_id).first()
    return None if project is None else ProjectRow.of_model(project)


async def find_by_key(workspace_id: int, key: str) -> ProjectRow | None:
    """The project of the workspace with this key (keys are stored upper-case)."""
    project = await Project.filter(workspace_id=workspace_id, key=key).first()
    return None if project is None else ProjectRow.of_model(project)


async def by_ids(ids: Sequence[int]) -> dict[int, ProjectRow]:
    """The projects with these ids, by id, in one statement (for DataLoaders)."""
    if not ids:
        return {}
    rows = await Project.filter(id__in=list(set(ids))).values(*FIELDS)
    return {int(r["id"]): ProjectRow.of_values(r) for r in rows}


async def lock(db: TransactionalDBClient, project_id: int) -> ProjectRow | None:
    """The project, its row locked until `db` commits (serialises concurrent edits)."""
    project = await Project.filter(id=project_id).select_for_update().using_db(db).first()
    return None if project is None else ProjectRow.of_model(project)


async def create(
    db: TransactionalDBClient, *, workspace_id: int, key: str, name: str, description: str
) -> ProjectRow:
    """Insert a project; `KeyTaken` when the key is in use in the workspace."""
    try:
        project = await Project.create(
            using_db=db, workspace_id=workspace_id, key=key, name=name, description=description
        )
    except IntegrityError as exc:
        raise KeyTaken(key) from exc
    return ProjectRow.of_model(project)


async def update(
    db: TransactionalDBClient,
    project_id: int,
    *,
    name: str,
    description: str,
    is_archived: bool,
) -> ProjectRow:
    """Store new values and bump the version (the caller holds the row lock)."""
    project = await Project.filter(id=project_id).using_db(db).get()
    project.name = name
    project.description = description
    project.is_archived = is_archived
    project.version += 1
    await project.save(
        using_db=db,
        update_fields=["name", "description", "is_archived", "version", "updated_at"],
    )
    return ProjectRow.of_model(project)


async def delete(db: TransactionalDBClient, project_id: int) -> None:
    """Delete the project; the database cascades to its labels, issues and comments."""
    await Project.filter(id=project_id).using_db(db).delete()


async def page_of_workspace(workspace_id: int, args: PageArgs) -> Page:
    """A page of the workspace's projects by key; rows for `ProjectRow.of_values`. One statement."""
    page = await keyset_page(
        Project.filter(workspace_id=workspace_id),
        BY_KEY,
        **args,
        fields=FIELDS,
        scope=f"projects-of:{workspace_id}",
    )
    return replace(page, rows=[dict(r) for r in page.rows])


async def pages_of_workspaces(
    workspace_ids: Sequence[int], args: PageArgs
) -> dict[int, Page | ValidationFailed]:
    """The page `page_of_workspace` gives for each workspace, all in one statement (nested
    connections); a workspace whose cursor is refused gets the error instead."""
    return await pages_per_parent(
        Project.all(),
        "workspace_id",
        workspace_ids,
        BY_KEY,
        **args,
        fields=FIELDS,
        scope=lambda pk: f"projects-of:{pk}",
    )


async def counts_of_workspaces(workspace_ids: Sequence[int]) -> dict[int, int]:
    """How many projects each of `workspace_ids` has, in one statement (nested `totalCount`)."""
    return await count_per_parent(Project.all(), "workspace_id", workspace_ids)
