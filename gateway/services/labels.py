"""Labels: the coloured tags of a project's issues. Managed by admins, read by everyone.

A label is named either by `(project, name)` (REST paths; the name matches case-insensitively)
or by primary key (GraphQL IDs). Every write checks, on the project row it locks, that the project
is not archived.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Unpack

from pydantic import AfterValidator, StringConstraints
from tortoise.backends.base.client import TransactionalDBClient
from tortoise.transactions import in_transaction

from gateway.core.errors import Conflict, FieldError, NotFound
from gateway.core.ids import to_global_id
from gateway.core.paging import Page, PageArgs
from gateway.core.validation import InputModel, Omittable
from gateway.repositories import labels as label_repo
from gateway.repositories import projects as project_repo
from gateway.repositories.labels import LabelRow
from gateway.repositories.projects import ProjectRow
from gateway.security.principal import Principal
from gateway.services import recording, workspaces
from gateway.services.access import Action, unseen_as
from gateway.services.projects import ProjectRef, locate, lock_writable, record_event
from gateway.services.recording import EventType, JSONObject
from gateway.services.versioning import check_version
from gateway.services.views import RowView, row_fields

Name = Annotated[
    str,
    # REST addresses a label by name as one path segment, so a name cannot hold `/`; control
    # characters would make it unprintable in a header or a URL.
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=50, pattern=r"^[^/\x00-\x1f\x7f]+$"
    ),
]
Color = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^#[0-9A-Fa-f]{6}$"),
    AfterValidator(str.lower),
]
"""`#rrggbb`, stored lower-case."""
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]

LabelRef = tuple[ProjectRef, str] | int
"""A label named by (project, name) or by primary key."""


class LabelCreate(InputModel):
    """A new label."""

    name: Name
    color: Color
    description: Description = ""


class LabelPatch(InputModel):
    """A change to a label: only the fields given change; none may be null."""

    name: Omittable[Name] = None
    color: Omittable[Color] = None
    description: Omittable[Description] = None


@dataclass(frozen=True, slots=True)
class LabelView(RowView, LabelRow):
    """A label as both APIs show it: its row, and its global id."""

    node_id: str


def node_id(label_id: int) -> str:
    return to_global_id("Label", label_id)


def view(row: LabelRow) -> LabelView:
    return LabelView(**row_fields(row), node_id=node_id(row.id))


async def views_by_ids(ids: Sequence[int]) -> dict[int, LabelView]:
    """Labels by id, unchecked (an issue's labels share its visibility). One statement."""
    return {pk: view(row) for pk, row in (await label_repo.by_ids(ids)).items()}


async def visible_by_pk(principal: Principal, pks: Sequence[int]) -> list[LabelView | None]:
    """Labels by id, None where missing or invisible to the caller (`node(id:)`)."""
    found = await views_by_ids(pks)
    owners = await project_repo.by_ids([v.project_id for v in found.values()])
    workspace_of = {pk: row.workspace_id for pk, row in owners.items()}
    visible = await workspaces.readable(principal, list(workspace_of.values()))
    return [
        found[pk] if pk in found and workspace_of.get(found[pk].project_id, -1) in visible else None
        for pk in pks
    ]


def row_view(row: dict[str, Any]) -> LabelView:
    """A row of `list_labels` as a `LabelView`."""
    return view(LabelRow.of_values(row))


def _name_taken(name: str) -> Conflict:
    return Conflict(
        f"The project already has a label {name!r}",
        errors=[FieldError("name", "is already taken (names ignore case)")],
    )


async def _locate(
    principal: Principal, ref: LabelRef, action: Action
) -> tuple[ProjectRow, LabelRow]:
    """The label's project and the label if the caller may do `action`; NOT_FOUND when either
    does not exist or is invisible."""
    if isinstance(ref, tuple):
        project_ref, name = ref
        _, project = await locate(principal, project_ref, action)
        label = await label_repo.find_by_name(project.id, name)
        if label is None:
            raise NotFound(f"No label {name!r}")
        return project, label
    with unseen_as("label"):
        label = await label_repo.find(ref)
        if label is None:
            raise NotFound("No such label")
        _, project = await locate(principal, label.project_id, action)
    return project, label


async def _lock(
    db: TransactionalDBClient, principal: Principal, ref: LabelRef, expected_version: int | None
) -> tuple[ProjectRow, LabelRow]:
    """The label to change and its project, both rows locked in `db`'s transaction (so the
    project cannot be archived under the write): CONFLICT when the project is archived (as for
    every write under a project, `projects.lock_writable`), then PRECONDITION_FAILED when
    `expected_version` is stale."""
    found_project, found = await _locate(principal, ref, Action.manage_labels)
    project = await lock_writable(db, found_project)
    current = await label_repo.lock(db, found.id)
    if current is None:
        raise NotFound("No such label")
    check_version(current.version, expected_version)
    return project, current


async def get_label(principal: Principal, ref: LabelRef) -> LabelView:
    """The label; NOT_FOUND when it does not exist or is invisible to the caller."""
    _, label = await _locate(principal, ref, Action.read)
    return view(label)


async def list_labels(
    principal: Principal, project: ProjectRef, **paging: Unpack[PageArgs]
) -> Page:
    """A page of the project's labels by name; rows for `row_view`."""
    _, row = await locate(principal, project, Action.read)
    return await label_repo.page_of_project(row.id, paging)


async def create_label(principal: Principal, project: ProjectRef, data: LabelCreate) -> LabelView:
    """Create a label (admins) and record `label.created`. CONFLICT when the name is taken
    (ignoring case) or the project is archived."""
    _, found = await locate(principal, project, Action.manage_labels)
    async with in_transaction() as db:
        current = await lock_writable(db, found)
        try:
            row = await label_repo.create(
                db,
                project_id=current.id,
                name=data.name,
                color=data.color,
                description=data.description,
            )
        except label_repo.NameTaken:
            raise _name_taken(data.name) from None
        created: JSONObject = {"name": row.name, "color": row.color}
        await record_event(
            db, principal, current, EventType.label_created, node_id(row.id), created
        )
    return view(row)


async def update_label(
    principal: Principal, ref: LabelRef, patch: LabelPatch, expected_version: int | None
) -> LabelView:
    """Rename or recolour a label (admins); records `label.updated` with what changed.
    PRECONDITION_FAILED when `expected_version` is stale; CONFLICT on a taken name or an
    archived project."""
    async with in_transaction() as db:
        project, current = await _lock(db, principal, ref, expected_version)
        changes = recording.changes(current, patch)
        if not changes:
            return view(current)
        name = current.name if patch.name is None else patch.name
        try:
            row = await label_repo.update(
                db,
                current.id,
                name=name,
                color=current.color if patch.color is None else patch.color,
                description=current.description if patch.description is None else patch.description,
            )
        except label_repo.NameTaken:
            raise _name_taken(name) from None
        await record_event(
            db, principal, project, EventType.label_updated, node_id(row.id), {"changes": changes}
        )
    return view(row)


async def delete_label(
    principal: Principal, ref: LabelRef, expected_version: int | None = None
) -> int:
    """Delete a label (admins), removing it from every issue; returns its id. Records
    `label.deleted`. CONFLICT when the project is archived."""
    async with in_transaction() as db:
        project, current = await _lock(db, principal, ref, expected_version)
        await label_repo.delete(db, current.id)
        deleted: JSONObject = {"name": current.name}
        await record_event(
            db, principal, project, EventType.label_deleted, node_id(current.id), deleted
        )
    return current.id
