"""Queries on comments. Rows leave this module as `CommentRow`s, never ORM instances.

Every row carries its author's username and the project and workspace of its issue, joined in
the same statement, so a page of comments is one query and a lone comment can be authorized
without another.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from tortoise.backends.base.client import TransactionalDBClient

from gateway.core.errors import ValidationFailed
from gateway.core.paging import Page, PageArgs, keyset_page, order
from gateway.repositories.nested import pages_per_parent
from gateway.repositories.rows import Joined, Row
from models import Comment

# Comments read top to bottom, oldest first; ids grow with time.
OLDEST_FIRST = order("id")


@dataclass(frozen=True, slots=True)
class CommentRow(Row):
    id: int
    issue_id: int
    issue_number: Annotated[int, Joined("issue__number")]
    project_id: Annotated[int, Joined("issue__project_id")]
    workspace_id: Annotated[int, Joined("issue__project__workspace_id")]
    author_id: int
    author_username: Annotated[str, Joined("author__username")]
    body: str
    edited_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime


FIELDS = CommentRow.columns()


async def find(comment_id: int, *, db: TransactionalDBClient | None = None) -> CommentRow | None:
    """The comment with this id (read on `db` when given, so a transaction sees its writes)."""
    queryset = Comment.filter(id=comment_id)
    if db is not None:
        queryset = queryset.using_db(db)
    rows = await queryset.values(*FIELDS)
    return CommentRow.of_values(rows[0]) if rows else None


async def by_ids(ids: Sequence[int]) -> dict[int, CommentRow]:
    """The comments with these ids, by id, in one statement (for DataLoaders)."""
    return {pk: CommentRow.of_values(values) for pk, values in (await values_by_ids(ids)).items()}


async def values_by_ids(ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """The comments with these ids as `.values(*FIELDS)` dicts, like a page's rows, by id, in
    one statement (for DataLoaders and `node(id:)`)."""
    if not ids:
        return {}
    rows = await Comment.filter(id__in=list(set(ids))).values(*FIELDS)
    return {int(r["id"]): r for r in rows}


async def page_of_issue(issue_id: int, paging: PageArgs) -> Page:
    """One page of the issue's comments, oldest first; rows for `CommentRow.of_values`."""
    return await keyset_page(
        Comment.filter(issue_id=issue_id),
        OLDEST_FIRST,
        **paging,
        fields=FIELDS,
        scope=str(issue_id),
    )


async def pages_of_issues(
    issue_ids: Sequence[int], paging: PageArgs
) -> dict[int, Page | ValidationFailed]:
    """The page `page_of_issue` gives for each issue, all in one statement (nested
    connections); an issue whose cursor is refused gets the error instead."""
    return await pages_per_parent(
        Comment.all(), "issue_id", issue_ids, OLDEST_FIRST, **paging, fields=FIELDS, scope=str
    )


async def lock(db: TransactionalDBClient, comment_id: int) -> CommentRow | None:
    """The comment, its row locked until `db` commits (serialises concurrent edits)."""
    locked = await Comment.filter(id=comment_id).select_for_update().using_db(db).first()
    if locked is None:
        return None
    return await find(comment_id, db=db)


async def create(db: TransactionalDBClient, *, issue_id: int, author_id: int, body: str) -> int:
    """Insert a comment; returns its id."""
    comment = await Comment.create(using_db=db, issue_id=issue_id, author_id=author_id, body=body)
    return int(comment.id)


async def update_body(
    db: TransactionalDBClient, comment_id: int, *, body: str, edited_at: datetime
) -> None:
    """Store a new body, mark the edit and bump the version (the caller holds the row lock)."""
    comment = await Comment.filter(id=comment_id).using_db(db).get()
    comment.body = body
    comment.edited_at = edited_at
    comment.version = comment.version + 1
    await comment.save(using_db=db, update_fields=["body", "edited_at", "version", "updated_at"])


async def delete(db: TransactionalDBClient, comment_id: int) -> None:
    """Delete the comment."""
    await Comment.filter(id=comment_id).using_db(db).delete()
