"""Queries on issues: filters, keyset orderings, batch loads and writes.

Rows leave this module as dicts from `.values()` (or small dataclasses), never ORM instances.
The list is one page query that joins author, assignee and project through `.values()`; labels
and comment counts load in one batched query each, whatever the page size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient, TransactionalDBClient
from tortoise.expressions import F, Q, Subquery
from tortoise.functions import Count

from gateway.core.errors import ValidationFailed
from gateway.core.paging import Ordering, Page, PageArgs, keyset_page, order
from gateway.repositories import labels as label_repo
from gateway.repositories.labels import LabelRow
from gateway.repositories.nested import count_per_parent, pages_per_parent
from models import Comment, Issue, IssueLabel, Label, Membership, User

ISSUE_FIELDS = (
    "id",
    "number",
    "title",
    "body",
    "state",
    "priority",
    "due_date",
    "closed_at",
    "created_at",
    "updated_at",
    "version",
    "project_id",
    "project__key",
    "project__workspace_id",
    "author_id",
    "author__username",
    "author__display_name",
    "assignee_id",
    "assignee__username",
    "assignee__display_name",
)

# Every ordering ends in `id`, so positions are unique and keyset paging never skips a tie.
ORDERINGS: dict[tuple[str, bool], Ordering] = {
    (sort, desc): order(*(("-" if desc else "") + f for f in (column, "id")))
    for sort, column in (
        ("number", "number"),
        ("created", "created_at"),
        ("updated", "updated_at"),
        ("priority", "priority"),
    )
    for desc in (False, True)
}


_NEXT_NUMBER = "UPDATE projects SET issue_counter = issue_counter + 1 WHERE id = "
_RETURNING = " RETURNING issue_counter"


@dataclass(frozen=True, slots=True)
class IssueFilter:
    """A list filter in canonical form (its `scope()` binds cursors to it)."""

    state: str | None = "open"  # None: all
    assignee: str | None = None  # a username, or "none" for unassigned
    labels: tuple[str, ...] = ()  # lower-cased label names, all must match
    q: str | None = None

    def scope(self) -> str:
        return repr((self.state, self.assignee, tuple(sorted(self.labels)), self.q))


def _matching(project_ids: Sequence[int], where: IssueFilter) -> Any:
    """Issues of these projects matching `where` (one project for a page, many for a batch)."""
    qs = Issue.filter(project_id__in=list(project_ids))
    if where.state is not None:
        qs = qs.filter(state=where.state)
    if where.assignee == "none":
        qs = qs.filter(assignee_id__isnull=True)
    elif where.assignee is not None:
        qs = qs.filter(assignee__username=where.assignee)
    if where.labels:
        # One flat subquery whatever the number of labels: the issues carrying every one of
        # them (names are unique per project, so distinct matches count distinct names).
        names = sorted(set(where.labels))
        tagged = (
            IssueLabel.filter(label__project_id__in=list(project_ids), label__name_key__in=names)
            .group_by("issue_id")
            .annotate(matched=Count("label_id", distinct=True))
            .filter(matched=len(names))
        )
        qs = qs.filter(id__in=Subquery(tagged.values("issue_id")))
    if where.q:
        qs = qs.filter(Q(title__icontains=where.q) | Q(body__icontains=where.q))
    return qs


async def page(
    project_id: int, where: IssueFilter, sort: str, descending: bool, args: PageArgs
) -> Page:
    """One page of a project's issues (`ISSUE_FIELDS` rows); cursors bound to sort and filter."""
    return await keyset_page(
        _matching([project_id], where),
        ORDERINGS[sort, descending],
        **args,
        fields=ISSUE_FIELDS,
        scope=where.scope(),
    )


async def pages(
    project_ids: Sequence[int], where: IssueFilter, sort: str, descending: bool, args: PageArgs
) -> dict[int, Page | ValidationFailed]:
    """The page `page` gives for each project, all in one statement (nested connections); a
    project whose cursor is refused gets the error instead."""
    return await pages_per_parent(
        _matching(project_ids, where),
        "project_id",
        project_ids,
        ORDERINGS[sort, descending],
        **args,
        fields=ISSUE_FIELDS,
        scope=lambda _: where.scope(),
    )


async def counts(project_ids: Sequence[int], where: IssueFilter) -> dict[int, int]:
    """How many issues of each project match `where`, in one statement."""
    return await count_per_parent(_matching(project_ids, where), "project_id", project_ids)


async def by_number(project_id: int, number: int) -> dict[str, Any] | None:
    rows = await Issue.filter(project_id=project_id, number=number).limit(1).values(*ISSUE_FIELDS)
    return rows[0] if rows else None


async def by_ids(ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Issue rows by id, in one statement (DataLoaders and `node(id:)`)."""
    if not ids:
        return {}
    rows = await Issue.filter(id__in=list(ids)).values(*ISSUE_FIELDS)
    return {row["id"]: row for row in rows}


async def label_rows_by_issue(issue_ids: Sequence[int]) -> dict[int, list[LabelRow]]:
    """Each issue's labels as full `LabelRow`s, by name, in one statement (GraphQL `Label`)."""
    grouped: dict[int, list[LabelRow]] = {i: [] for i in issue_ids}
    if not issue_ids:
        return grouped
    columns = {name: f"label__{name}" for name in label_repo.FIELDS}
    rows = (
        await IssueLabel.filter(issue_id__in=list(issue_ids))
        .order_by("label__name_key", "label_id")
        .values("issue_id", **columns)
    )
    for row in rows:
        grouped[row["issue_id"]].append(LabelRow.of_values(row))
    return grouped


async def comment_counts(issue_ids: Sequence[int]) -> dict[int, int]:
    """Each issue's number of comments, in one statement."""
    counts = dict.fromkeys(issue_ids, 0)
    if not issue_ids:
        return counts
    rows = (
        await Comment.filter(issue_id__in=list(issue_ids))
        .annotate(n=Count("id"))
        .group_by("issue_id")
        .values("issue_id", "n")
    )
    for row in rows:
        counts[row["issue_id"]] = row["n"]
    return counts


async def username(user_id: int) -> str | None:
    """The username of the user with this id, if any."""
    rows = await User.filter(id=user_id).limit(1).values("username")
    return rows[0]["username"] if rows else None


async def member(workspace_id: int, who: str | int) -> tuple[int, str] | None:
    """The id and username of the active user `who` (a username or an id) if they belong to
    the workspace."""
    named = {"user__username": who} if isinstance(who, str) else {"user_id": who}
    rows = (
        await Membership.filter(workspace_id=workspace_id, user__is_active=True, **named)
        .limit(1)
        .values("user_id", "user__username")
    )
    return (rows[0]["user_id"], rows[0]["user__username"]) if rows else None


async def labels_among(
    project_id: int, keys: Sequence[str | int]
) -> dict[str | int, tuple[int, str]]:
    """Those of the project's labels that `keys` name, all by `name_key` or all by id: each
    label's id and name key under the key that named it."""
    column = "name_key" if all(isinstance(k, str) for k in keys) else "id"
    wanted = {f"{column}__in": list(keys)}
    rows = await Label.filter(project_id=project_id, **wanted).values("id", "name_key")
    return {row[column]: (row["id"], row["name_key"]) for row in rows}


async def next_number(db: TransactionalDBClient, project_id: int) -> int:
    """Hand out the project's next issue number inside the creating transaction.

    On PostgreSQL the UPDATE takes the project's row lock until commit, so concurrent creations
    serialise and each sees the previous one's counter. On SQLite Tortoise already serialises
    write transactions: `in_transaction()` holds a per-connection asyncio lock for the whole
    transaction (SqliteTransactionContext), so no two run interleaved within the process.
    """
    placeholder = "$1" if db.capabilities.dialect == "postgres" else "?"
    rows = await db.execute_query_dict(_NEXT_NUMBER + placeholder + _RETURNING, [project_id])
    return int(rows[0]["issue_counter"])


async def insert(db: TransactionalDBClient, **values: Any) -> int:
    issue = await Issue.create(using_db=db, **values)
    return int(issue.id)


async def lock(db: TransactionalDBClient, issue_id: int) -> dict[str, Any] | None:
    """The issue's version and state, row-locked until commit (PostgreSQL)."""
    rows = (
        await Issue.filter(id=issue_id)
        .using_db(db)
        .select_for_update()
        .values("id", "version", "state", "assignee_id")
    )
    return rows[0] if rows else None


async def update(db: TransactionalDBClient, issue_id: int, changes: dict[str, Any]) -> None:
    """Apply `changes`, bump `version` and `updated_at`."""
    await (
        Issue.filter(id=issue_id)
        .using_db(db)
        .update(**changes, version=F("version") + 1, updated_at=datetime.now(UTC))
    )


async def label_ids_of(db: BaseDBAsyncClient, issue_id: int) -> set[int]:
    rows = await IssueLabel.filter(issue_id=issue_id).using_db(db).values("label_id")
    return {row["label_id"] for row in rows}


async def add_labels(db: TransactionalDBClient, issue_id: int, label_ids: Sequence[int]) -> None:
    """Put these labels on the issue (none of which it carries)."""
    if label_ids:
        await IssueLabel.bulk_create(
            [IssueLabel(issue_id=issue_id, label_id=i) for i in label_ids], using_db=db
        )


async def set_labels(db: TransactionalDBClient, issue_id: int, label_ids: Sequence[int]) -> None:
    """Replace the issue's label set."""
    await IssueLabel.filter(issue_id=issue_id).using_db(db).delete()
    await add_labels(db, issue_id, label_ids)


async def delete(db: TransactionalDBClient, issue_id: int) -> None:
    await Issue.filter(id=issue_id).using_db(db).delete()
