"""`gateway.reads.encoding` against the real database: what its SQL writes for real rows must be
byte-identical to what Python writes (global ids, timestamps, dates, keyset cursors)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model
from tortoise.transactions import in_transaction

from gateway.core.ids import NODE_TYPES, to_global_id
from gateway.core.paging import (
    Ordering,
    cursor_signature,
    decode_cursor,
    encode_cursor,
    keyset_page,
    ordering_plan,
    signature_text,
)
from gateway.reads.encoding import (
    Dialect,
    KeyKind,
    api_timestamp,
    cursor_sql,
    date_sql,
    key_kind,
    node_id_sql,
    signature_sql,
    timestamp_sql,
)
from gateway.repositories.issues import ORDERINGS
from gateway.repositories.labels import BY_NAME
from gateway.repositories.projects import BY_KEY
from models import Issue, IssuePriority, Label, Project, User, Workspace
from schema.scalars import _serialize

BIG = 9_007_199_254_740_993  # past 2**53: exact only if nothing goes through a float
WHOLE = datetime(2026, 1, 1, 10, 0, tzinfo=UTC)
INSTANTS = [
    WHOLE,
    WHOLE + timedelta(microseconds=1),
    WHOLE + timedelta(microseconds=120_000),
    datetime(1969, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
    datetime(2026, 7, 1, 1, 2, 3, 456_789, tzinfo=timezone(timedelta(hours=2))),
]
NAMES = ["ascii", "ünïcødé 🐛", "a.b.c", "", "Ã©\\'\"%_?$1", "🐛" * 50]


def db() -> BaseDBAsyncClient:
    client: BaseDBAsyncClient = connections.get("default")
    return client


def dialect() -> Dialect:
    name = db().schema_generator.DIALECT
    assert name in ("postgres", "sqlite")
    return "postgres" if name == "postgres" else "sqlite"


def param(n: int) -> str:
    return f"${n}" if dialect() == "postgres" else f"?{n}"


async def select(expression: str, table: str, pk: int, *values: object) -> Any:
    """`expression` for the row `pk` of `table`; `values` bind `param(2)` onwards."""
    sql = f'SELECT {expression} AS v FROM "{table}" WHERE id = {param(1)}'
    rows = await db().execute_query_dict(sql, [pk, *values])
    return rows[0]["v"]


@pytest.fixture
async def project() -> Project:
    workspace = await Workspace.create(slug="acme", name="Acme")
    return await Project.create(workspace=workspace, key="ACME", name="Acme")


@pytest.fixture
async def author() -> User:
    return await User.create(username="ann", email="a@x.io", email_key="a@x.io", password_hash="-")


async def test_node_ids(project: Project, author: User) -> None:
    issue = await Issue.create(id=BIG, project=project, number=1, title="t", author=author)
    for type_name in sorted(NODE_TYPES):
        assert await select(node_id_sql(dialect(), type_name, "id"), "issues", issue.id) == (
            to_global_id(type_name, BIG)
        )
    assignee = node_id_sql(dialect(), "User", "assignee_id")
    assert await select(assignee, "issues", issue.id) is None
    with pytest.raises(AssertionError):
        node_id_sql(dialect(), "Nope'; DROP TABLE issues; --", "id")


async def test_timestamps(project: Project, author: User) -> None:
    issue = await Issue.create(project=project, number=1, title="t", author=author)
    assert await select(timestamp_sql(dialect(), "closed_at"), "issues", issue.id) is None
    for instant in INSTANTS:
        await Issue.filter(id=issue.id).update(closed_at=instant)
        stored = await Issue.get(id=issue.id)
        assert stored.closed_at is not None
        written = api_timestamp(instant)
        assert written == _serialize(stored.closed_at)
        assert await select(timestamp_sql(dialect(), "closed_at"), "issues", issue.id) == written
    assert api_timestamp(WHOLE) == "2026-01-01T10:00:00Z"


async def test_dates(project: Project, author: User) -> None:
    issue = await Issue.create(project=project, number=1, title="t", author=author)
    assert await select(date_sql(dialect(), "due_date"), "issues", issue.id) is None
    for day in (date(2026, 1, 1), date(1999, 12, 31), date(2, 3, 4)):
        await Issue.filter(id=issue.id).update(due_date=day)
        assert await select(date_sql(dialect(), "due_date"), "issues", issue.id) == day.isoformat()


async def test_in_a_transaction_in_any_time_zone(project: Project, author: User) -> None:
    issue = await Issue.create(project=project, number=1, title="t", author=author)
    await Issue.filter(id=issue.id).update(created_at=INSTANTS[4], closed_at=INSTANTS[4])
    ordering = ORDERINGS["created", True]
    signature = cursor_signature(Issue, ordering, "")
    keys = [('"created_at"', KeyKind.timestamp), ('"id"', KeyKind.integer)]
    sql = (
        f"SELECT {timestamp_sql(dialect(), 'closed_at')} AS t,"
        f" {node_id_sql(dialect(), 'Issue', 'id')} AS n,"
        f" {cursor_sql(dialect(), param(2), keys)} AS c"
        f" FROM issues WHERE id = {param(1)}"
    )
    async with in_transaction() as connection:
        if dialect() == "postgres":
            await connection.execute_script("SET LOCAL TIME ZONE 'Asia/Kolkata'")
        rows = await connection.execute_query_dict(sql, [issue.id, signature])
    assert rows == [
        {
            "t": api_timestamp(INSTANTS[4]),
            "n": to_global_id("Issue", issue.id),
            "c": encode_cursor(signature, [INSTANTS[4], issue.id]),
        }
    ]


async def test_signatures_bound_to_a_parent(project: Project) -> None:
    big = await Project.create(id=BIG, workspace=project.workspace, key="BIG", name="Big")
    for prefix in ("labels-of:", "", "ünï|cødé 🐛:"):
        text = signature_text(Label, BY_NAME, prefix)
        for parent in (project.id, big.id):
            sql = signature_sql(dialect(), param(2), "id")
            signature = cursor_signature(Label, BY_NAME, f"{prefix}{parent}")
            assert await select(sql, "projects", parent, text) == signature


async def check_cursors(model: type[Model], table: str, ordering: Ordering, scope: str) -> None:
    """Every row's SQL cursor is `encode_cursor`'s, decodes to its values, and pages on."""
    keys = ordering_plan(model, ordering)
    signature = cursor_signature(model, ordering, scope)
    columns = [(f'"{k.column}"', key_kind(k.target)) for k in keys]
    expression = cursor_sql(dialect(), param(2), columns)
    rows = await model.all().order_by(*(k.field for k in keys)).values(*(k.field for k in keys))
    listed = await keyset_page(model.all(), ordering, fields=["id"], scope=scope, first=100)
    assert len(rows) == len(listed.rows) > 1
    for row in rows:
        values = [row[k.field] for k in keys]
        cursor = await select(expression, table, row["id"], signature)
        assert cursor == encode_cursor(signature, values)
        assert decode_cursor(cursor, keys, signature) == values
        at = [r["id"] for r in listed.rows].index(row["id"])
        assert cursor == listed.cursors[at]
        after = await keyset_page(
            model.all(), ordering, fields=["id"], scope=scope, first=100, after=cursor
        )
        assert [r["id"] for r in after.rows] == [r["id"] for r in listed.rows[at + 1 :]]


async def test_cursors_of_issues(project: Project, author: User) -> None:
    # The app stores UTC only (on SQLite, the text of other offsets would not sort by time).
    for n, instant in enumerate([i.astimezone(UTC) for i in INSTANTS] * 2):
        issue = await Issue.create(
            id=BIG + n, project=project, number=n, title=NAMES[n % len(NAMES)], author=author
        )
        await Issue.filter(id=issue.id).update(
            created_at=instant,
            updated_at=instant + timedelta(microseconds=n % 2),
            priority=IssuePriority(n % 5),
        )
    for ordering in ORDERINGS.values():
        await check_cursors(Issue, "issues", ordering, scope="state=open")


async def test_cursors_of_text_keys(project: Project) -> None:
    for n, name in enumerate(NAMES):
        await Label.create(project=project, name=name or "-", name_key=name, color="#000000")
        await Project.create(workspace=project.workspace, key=name[:10], name=f"P{n}")
    await check_cursors(Label, "labels", BY_NAME, scope="")
    await check_cursors(Project, "projects", BY_KEY, scope="archived")


def test_key_kinds() -> None:
    fields = Issue._meta.fields_map
    assert key_kind(fields["id"]) is KeyKind.integer
    assert key_kind(fields["priority"]) is KeyKind.integer
    assert key_kind(fields["title"]) is KeyKind.text
    assert key_kind(fields["state"]) is KeyKind.text
    assert key_kind(fields["created_at"]) is KeyKind.timestamp
    with pytest.raises(ValueError, match="cannot page"):
        key_kind(fields["due_date"])
