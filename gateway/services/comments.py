"""Comments on issues: listing, adding, editing and deleting them.

The rules (domain.md): anyone who can read the workspace reads comments; members comment; a
member edits or deletes their **own** comment; admins may delete anyone's comment but never
edit it (putting words in someone's mouth is not moderation). Archived projects are read-only
(CONFLICT, checked on the project row each change locks). Every change records its event in the
same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Unpack

from pydantic import Field, StringConstraints
from tortoise.backends.base.client import TransactionalDBClient
from tortoise.transactions import in_transaction

from gateway.core.errors import Forbidden, NotFound
from gateway.core.ids import to_global_id
from gateway.core.paging import Page, PageArgs
from gateway.core.validation import InputModel
from gateway.repositories import comments as repo
from gateway.repositories.comments import CommentRow
from gateway.repositories.projects import ProjectRow
from gateway.security.principal import Principal
from gateway.services import issues, projects, workspaces
from gateway.services.access import Access, Action, unseen_as
from gateway.services.issues import IssueRef
from gateway.services.recording import EventType, JSONValue
from gateway.services.versioning import check_version
from gateway.services.views import RowView, row_fields

__all__ = [
    "CommentCreate",
    "CommentPatch",
    "CommentRef",
    "CommentView",
    "add_comment",
    "delete_comment",
    "get_comment",
    "list_comments",
    "node_id",
    "row_view",
    "update_comment",
    "views_by_ids",
]

MAX_BODY = 65_536

Body = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_BODY)]
"""Markdown, 1 to 65,536 characters once trimmed."""

CommentRef = tuple[tuple[str, str, int], int] | int
"""A comment named by its issue's REST path and its id, or by its id alone (global IDs)."""


class CommentCreate(InputModel):
    """A new comment."""

    body: Body = Field(description="Markdown, 1 to 65,536 characters (trimmed).")


class CommentPatch(InputModel):
    """A new body for a comment."""

    body: Body = Field(description="Markdown, 1 to 65,536 characters (trimmed).")


@dataclass(frozen=True, slots=True)
class CommentView(RowView, CommentRow):
    """A comment as both APIs show it: its row, and its and its issue's global ids."""

    node_id: str
    issue_node_id: str


def node_id(comment_id: int) -> str:
    return to_global_id("Comment", comment_id)


def _view(row: CommentRow) -> CommentView:
    return CommentView(
        **row_fields(row),
        node_id=node_id(row.id),
        issue_node_id=to_global_id("Issue", row.issue_id),
    )


def row_view(row: dict[str, Any]) -> CommentView:
    """A row of `list_comments` as a `CommentView`."""
    return _view(CommentRow.of_values(row))


async def _comment(principal: Principal, ref: CommentRef) -> tuple[Access, ProjectRow, CommentRow]:
    """The caller's (read) access, the project and the comment; NOT_FOUND when invisible."""
    if isinstance(ref, tuple):
        (slug, key, number), comment_id = ref
        access, project = await projects.locate(principal, (slug, key), Action.read)
        row = await repo.find(comment_id)
        if row is None or row.project_id != project.id or row.issue_number != number:
            raise NotFound(f"No comment {comment_id} on issue {project.key}-{number}")
        return access, project, row
    with unseen_as("comment"):
        row = await repo.find(ref)
        if row is None:
            raise NotFound("No such comment")
        access, project = await projects.locate(principal, row.project_id, Action.read)
    return access, project, row


async def _record(
    db: TransactionalDBClient,
    principal: Principal,
    project: ProjectRow,
    event: EventType,
    row: CommentRow,
    **data: JSONValue,
) -> None:
    """Record an event about the comment `row`; its data names the issue and the author."""
    about = {"issue_number": row.issue_number, "author": row.author_username, **data}
    await projects.record_event(
        db, principal, project, event, node_id(row.id), about, issue_id=row.issue_id
    )


async def list_comments(principal: Principal, issue: IssueRef, **paging: Unpack[PageArgs]) -> Page:
    """The issue's comments, oldest first; rows for `row_view`. Anyone who can read the
    workspace may list them."""
    _, row = await issues.locate(principal, issue, Action.read)
    return await repo.page_of_issue(int(row["id"]), paging)


async def get_comment(principal: Principal, comment: CommentRef) -> CommentView:
    """One comment; NOT_FOUND when it does not exist or its workspace is invisible."""
    _, _, row = await _comment(principal, comment)
    return _view(row)


async def visible_by_pk(principal: Principal, pks: Sequence[int]) -> list[CommentView | None]:
    """Comments by id, None where missing or invisible to the caller (`node(id:)`): one
    statement for the comments, two for their workspaces."""
    rows = await repo.values_by_ids(pks)
    workspace_of = {pk: int(row["issue__project__workspace_id"]) for pk, row in rows.items()}
    visible = await workspaces.readable(principal, list(workspace_of.values()))
    return [
        row_view(rows[pk]) if pk in rows and workspace_of[pk] in visible else None for pk in pks
    ]


async def views_by_ids(ids: list[int]) -> dict[int, CommentView]:
    """Comment views by id in one statement, unchecked: for DataLoaders whose callers have
    already authorized the parent."""
    return {pk: _view(row) for pk, row in (await repo.by_ids(ids)).items()}


async def add_comment(principal: Principal, issue: IssueRef, data: CommentCreate) -> CommentView:
    """Comment on an issue (members and up) and record `comment.created`.

    CONFLICT when the project is archived."""
    async with in_transaction() as db:
        target, found = await issues.locate(principal, issue, Action.write_content)
        project, issue_id = target.project, int(found["id"])
        await projects.lock_writable(db, project)
        comment_id = await repo.create(
            db, issue_id=issue_id, author_id=principal.user_id, body=data.body
        )
        row = await repo.find(comment_id, db=db)
        assert row is not None  # inserted just now, in this transaction
        await _record(db, principal, project, EventType.comment_created, row)
    return _view(row)


def _require_own(access: Access, row: CommentRow) -> None:
    """Only its author edits a comment, whatever the caller's role."""
    access.require(Action.edit_own_comment)
    if row.author_id != access.principal.user_id:
        raise Forbidden("Only its author may edit a comment")


async def update_comment(
    principal: Principal,
    comment: CommentRef,
    patch: CommentPatch,
    expected_version: int | None = None,
) -> CommentView:
    """Change the body of one's own comment and record `comment.updated`.

    FORBIDDEN for anyone but the author (admins included); CONFLICT when the project is
    archived; PRECONDITION_FAILED when `expected_version` is stale. An unchanged body changes
    nothing (no new version, no event)."""
    async with in_transaction() as db:
        access, project, found = await _comment(principal, comment)
        _require_own(access, found)
        await projects.lock_writable(db, project)
        current = await repo.lock(db, found.id)
        if current is None:  # deleted since it was read
            raise NotFound("No such comment")
        check_version(current.version, expected_version)
        if patch.body == current.body:
            return _view(current)
        await repo.update_body(db, current.id, body=patch.body, edited_at=datetime.now(UTC))
        row = await repo.find(current.id, db=db)
        assert row is not None  # locked by this transaction
        await _record(db, principal, project, EventType.comment_updated, row, version=row.version)
    return _view(row)


async def delete_comment(
    principal: Principal, comment: CommentRef, expected_version: int | None = None
) -> int:
    """Delete a comment and record `comment.deleted`; returns its id.

    Its author (a member or above) may delete it, and so may admins and owners any comment.
    CONFLICT when the project is archived; PRECONDITION_FAILED when `expected_version` is stale.
    """
    async with in_transaction() as db:
        access, project, found = await _comment(principal, comment)
        if found.author_id == principal.user_id and access.allows(Action.edit_own_comment):
            access.require(Action.edit_own_comment)
        else:
            access.require(Action.moderate)
        await projects.lock_writable(db, project)
        current = await repo.lock(db, found.id)
        if current is None:
            raise NotFound("No such comment")
        check_version(current.version, expected_version)
        await repo.delete(db, current.id)
        await _record(db, principal, project, EventType.comment_deleted, current)
    return current.id
