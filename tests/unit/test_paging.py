"""Keyset paging (`gateway.core.paging`) against the real database and models."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from gateway.core.errors import ValidationFailed
from gateway.core.paging import Ordering, Page, cursor_signature, keyset_page, order
from models import Issue, IssuePriority, IssueState, Project, User, Workspace
from tests.sql_counter import count_sql

FIELDS = ("id", "number", "title", "state", "created_at", "updated_at", "priority")
JOINED = ("number", "state", "created_at", "priority", "author__username", "project__key")
ORDERINGS = [
    order("number", "id"),
    order("-number", "-id"),
    order("created_at", "id"),
    order("-created_at", "-id"),
    order("-updated_at", "-id"),
    order("priority", "id"),
    order("-priority", "-id"),
    order("-state", "-title", "-id"),
    order("id"),
    order("-id"),
]
BASE = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
MAX_PAGES = 60  # a broken keyset condition would repeat rows forever


@pytest.fixture
async def project() -> Project:
    """25 issues by three authors; timestamps and priorities with many ties, so that every
    ordering leans on its tie-breaker."""
    authors = [
        await User.create(username=n, email=f"{n}@x.io", email_key=f"{n}@x.io", password_hash="-")
        for n in ("carol", "alice", "bob")
    ]
    workspace = await Workspace.create(slug="acme", name="Acme")
    project = await Project.create(workspace=workspace, key="ACME", name="Acme")
    for n in range(1, 26):
        issue = await Issue.create(
            project=project, number=n, title=f"Issue {n}", author=authors[n % 3]
        )
        # Queryset updates bypass auto_now, so these stay as set.
        await Issue.filter(id=issue.id).update(
            created_at=BASE + timedelta(minutes=n // 3),
            updated_at=BASE + timedelta(seconds=n * 7 % 4, microseconds=n % 2),
            priority=IssuePriority(n * 3 % 5),
            state=IssueState.closed if n % 4 == 0 else IssueState.open,
        )
    return project


async def page_of(project: Project, ordering: Ordering, **args: Any) -> Page:
    """A page of the project's issues; `fields` defaults to FIELDS."""
    args.setdefault("fields", FIELDS)
    return await keyset_page(Issue.filter(project=project), ordering, **args)


def expected(rows: list[dict[str, Any]], ordering: Ordering) -> list[int]:
    """The ordering computed in Python: stable sorts, least significant key first."""
    ordered = list(rows)
    for key in reversed(ordering):
        ordered.sort(key=lambda r: r[key.field], reverse=key.descending)
    return [r["id"] for r in ordered]


async def walk_forward(project: Project, ordering: Ordering, size: int = 7) -> list[int]:
    seen: list[int] = []
    after: str | None = None
    for _ in range(MAX_PAGES):
        page = await page_of(project, ordering, first=size, after=after)
        assert len(page.rows) == len(page.cursors)
        assert page.has_previous is (after is not None)
        assert len(page.rows) == size or not page.has_next
        seen += [r["id"] for r in page.rows]
        if not page.has_next:
            return seen
        after = page.end_cursor
    raise AssertionError(f"no end after {MAX_PAGES} pages: {seen}")


async def walk_backward(project: Project, ordering: Ordering, size: int = 7) -> list[int]:
    seen: list[int] = []
    before: str | None = None
    for _ in range(MAX_PAGES):
        page = await page_of(project, ordering, last=size, before=before)
        assert page.has_next is (before is not None)
        assert len(page.rows) == size or not page.has_previous
        seen = [r["id"] for r in page.rows] + seen
        if not page.has_previous:
            return seen
        before = page.start_cursor
    raise AssertionError(f"no start after {MAX_PAGES} pages: {seen}")


@pytest.mark.parametrize("ordering", ORDERINGS, ids=lambda o: ",".join(map(str, o)))
async def test_walks_every_row_once_in_order(project: Project, ordering: Ordering) -> None:
    rows = await Issue.filter(project=project).values(*FIELDS)
    want = expected(rows, ordering)
    assert len(set(want)) == 25
    assert await walk_forward(project, ordering) == want
    assert await walk_backward(project, ordering) == want
    assert await walk_forward(project, ordering, size=1) == want


async def test_rows_carry_the_requested_fields(project: Project) -> None:
    page = await page_of(project, order("number", "id"), fields=["title"])
    assert (len(page.rows), page.has_next, page.has_previous) == (25, False, False)  # 30 a page
    assert set(page.rows[0]) == {"title", "number", "id"}  # sort keys are always selected
    [row] = (await page_of(project, order("-created_at", "-id"), first=1, fields=JOINED)).rows
    assert row["created_at"] == BASE + timedelta(minutes=8)
    assert row["created_at"].utcoffset() == timedelta(0)
    assert (row["number"], row["priority"], row["state"]) == (25, IssuePriority.none, "open")
    assert isinstance(row["priority"], IssuePriority)
    assert row["author__username"] == "alice"


async def test_every_row_cursor_continues_right_after_its_row(project: Project) -> None:
    ordering = order("-priority", "-id")
    page = await page_of(project, ordering, first=10)
    ids = [r["id"] for r in page.rows]
    for i, cursor in enumerate(page.cursors[:-1]):
        after = await page_of(project, ordering, first=1, after=cursor)
        assert after.rows[0]["id"] == ids[i + 1]
    between = await page_of(project, ordering, after=page.cursors[2], before=page.cursors[7])
    assert [r["id"] for r in between.rows] == ids[3:7]


async def test_joined_filters_and_a_lazy_total_count(project: Project) -> None:
    queryset = Issue.filter(project=project, author__username="alice")  # issues 1, 4, ..., 25
    ordering, fields = order("-priority", "-id"), ["number", "author__username"]
    with count_sql() as sql:
        page = await keyset_page(queryset, ordering, first=5, fields=fields)
        rest = await keyset_page(queryset, ordering, after=page.end_cursor, fields=fields)
    assert sql.count == 2, sql
    rows = page.rows + rest.rows
    assert sorted(r["number"] for r in rows) == list(range(1, 26, 3))
    assert [r["priority"] for r in rows] == sorted((r["priority"] for r in rows), reverse=True)
    with count_sql() as sql:
        total = await rest.total_count()
    assert (total, sql.count, "COUNT" in sql.statements[0].upper()) == (9, 1, True), sql


@pytest.mark.parametrize("ordering", [order("-created_at", "-id"), order("priority", "id")])
async def test_statements_per_page_do_not_grow_with_depth(
    project: Project, ordering: Ordering
) -> None:
    after: str | None = None
    for _ in range(5):
        with count_sql() as sql:
            page = await page_of(project, ordering, first=5, after=after)
        assert sql.count == 1, sql
        # One row-value comparison the index answers with a seek: no OFFSET, no OR to scan.
        assert all(word not in sql.statements[0].upper() for word in (" OR ", "OFFSET")), sql
        after = page.end_cursor


async def test_writes_between_pages_neither_skip_nor_repeat(project: Project) -> None:
    newest_first = order("-created_at", "-id")
    before_writes = expected(await Issue.filter(project=project).values(*FIELDS), newest_first)
    author = await User.get(username="alice")
    first = await page_of(project, newest_first, first=7)
    # New issues land at the head of the list, the cursor's own row and the next one vanish.
    for n in (26, 27, 28):
        await Issue.create(project=project, number=n, title="new", author=author)
    gone = before_writes[6:8]
    await Issue.filter(id__in=gone).delete()
    seen = [r["id"] for r in first.rows]
    after = first.end_cursor
    for _ in range(MAX_PAGES):
        page = await page_of(project, newest_first, first=7, after=after)
        seen += [r["id"] for r in page.rows]
        after = page.next_cursor
        if after is None:
            break
    assert seen == [i for i in before_writes if i not in gone[1:]]


def tamper(ordering: Ordering, *values: object, signature: str | None = None) -> str:
    """A cursor as minted before v2 (JSON, the legacy signature) for the project's issues."""
    legacy = cursor_signature(Issue, ordering, "").legacy
    raw = json.dumps([signature or legacy, *values]).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def tamper_v2(ordering: Ordering, *tokens: str, signature: str | None = None) -> str:
    """A v2 cursor for the project's issues with these raw tokens."""
    raw = ".".join([signature or cursor_signature(Issue, ordering, ""), *tokens]).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


async def refused(project: Project, ordering: Ordering, cursor: str, *, scope: str = "") -> str:
    """The message of the error a cursor earns (both directions must refuse it)."""
    messages = []
    for direction in ("after", "before"):
        with pytest.raises(ValidationFailed) as caught:
            await page_of(project, ordering, scope=scope, **{direction: cursor})
        assert [e.field for e in caught.value.errors] == ["cursor"]
        messages.append(caught.value.errors[0].message)
    return messages[0]


async def test_a_cursor_only_serves_its_own_list(project: Project) -> None:
    cursor = (await page_of(project, order("number", "id"))).cursors[3]
    assert "another list" in await refused(project, order("-number", "-id"), cursor)
    assert "another list" in await refused(project, order("number", "id"), cursor, scope="x")
    projects = await keyset_page(Project.all(), order("id"), fields=["id"])
    assert "another list" in await refused(project, order("id"), projects.cursors[0])
    scoped = await page_of(project, order("id"), scope="state=open")
    ok = await page_of(project, order("id"), after=scoped.cursors[0], scope="state=open")
    assert len(ok.rows) == 24


async def test_garbage_cursors_are_422_not_500(project: Project) -> None:
    by_created = order("created_at", "id")
    by_priority = order("-priority", "-id")
    by_title = order("title", "id")
    raw = [
        "",
        "!!!!",
        "é",
        "A" * 5000,
        base64.urlsafe_b64encode(b"not json").decode(),
        base64.urlsafe_b64encode(b'{"a": 1}').decode(),
        base64.urlsafe_b64encode(b"[" * 600 + b"]" * 600).decode(),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    ]
    for cursor in raw:
        await refused(project, by_created, cursor)
    tampered: list[tuple[Ordering, list[object]]] = [
        (by_created, ["2024-05-01T09:30:00+00:00"]),  # too few values
        (by_created, ["2024-05-01T09:30:00+00:00", 1, 2]),  # too many
        (by_created, [5, 1]),
        (by_created, ["2024-05-01T09:30:00", 1]),  # naive
        (by_created, ["yesterday", 1]),
        (by_created, ["2024-05-01T09:30:00+00:00", "1"]),
        (by_created, ["2024-05-01T09:30:00+00:00", True]),
        (by_created, ["2024-05-01T09:30:00+00:00", 2**70]),
        (by_created, ["2024-05-01T09:30:00+00:00", 1.5]),
        (by_created, ["2024-05-01T09:30:00+00:00", None]),
        (by_priority, [99, 1]),
        (by_priority, ["high", 1]),
        (by_title, ["a\x00b", 1]),
        (by_title, ["\ud800", 1]),
        (by_title, [["Issue 1"], 1]),
        (by_title, [None, 1]),
    ]
    for ordering, values in tampered:
        await refused(project, ordering, tamper(ordering, *values))
    tampered_v2: list[tuple[Ordering, list[str]]] = [
        (by_created, ["1714555800000000"]),  # too few values
        (by_created, ["1714555800000000", "1", "2"]),  # too many
        (by_created, ["", "1"]),
        (by_created, ["1714555800000000", "+1"]),
        (by_created, ["1714555800000000", " 1"]),
        (by_created, ["1714555800000000", "1_0"]),
        (by_created, ["1714555800000000", str(2**70)]),
        (by_created, ["9" * 30, "1"]),  # beyond year 9999
        (by_created, ["2024-05-01T09:30:00+00:00", "1"]),
        (by_priority, ["99", "1"]),
        (by_title, ["610062", "1"]),  # NUL
        (by_title, ["eda080", "1"]),  # an encoded surrogate is not UTF-8
        (by_title, ["49737375652031G0", "1"]),
        (by_title, ["497", "1"]),  # odd length
        (by_title, ["4973737565", "x"]),
    ]
    for ordering, tokens in tampered_v2:
        await refused(project, ordering, tamper_v2(ordering, *tokens))
    other = base64.urlsafe_b64encode(b"AAAAAAAA.1714555800000000.1").decode()
    assert "another list" in await refused(project, by_created, other)
    # A well-formed position nobody has minted is fine: it is just a place in the order.
    for far in (
        tamper(by_created, "2999-01-01T00:00:00+00:00", 1),
        tamper_v2(by_created, "32472144000000000", "1"),
    ):
        nowhere = await page_of(project, by_created, after=far)
        assert (nowhere.rows, nowhere.start_cursor, nowhere.end_cursor) == ([], None, None)


async def test_legacy_cursors_still_decode(project: Project) -> None:
    """Cursors handed out before v2 (`[signature, *values]` as JSON) keep their position."""
    for ordering in [*ORDERINGS, order("title", "id")]:
        page = await page_of(project, ordering, first=5)
        row = page.rows[-1]
        values = [row[k.field] for k in ordering]
        values = [v.isoformat() if isinstance(v, datetime) else v for v in values]
        legacy = tamper(ordering, *values)
        assert legacy != page.cursors[-1]
        following = await page_of(project, ordering, first=5, after=page.cursors[-1])
        assert (await page_of(project, ordering, first=5, after=legacy)).rows == following.rows
        # Each format with its own signature only.
        v2 = cursor_signature(Issue, ordering, "")
        mixed = tamper(ordering, *values, signature=v2)
        assert "another list" in await refused(project, ordering, mixed)
        end = page.cursors[-1]
        tokens = base64.urlsafe_b64decode(end + "=" * (-len(end) % 4)).decode().split(".")[1:]
        mixed = tamper_v2(ordering, *tokens, signature=v2.legacy)
        assert "another list" in await refused(project, ordering, mixed)


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"first": 0}, "first"),
        ({"first": -1}, "first"),
        ({"first": 101}, "first"),
        ({"first": True}, "first"),
        ({"last": 0}, "last"),
        ({"last": 101}, "last"),
        ({"first": 5, "last": 5}, "last"),
    ],
)
async def test_limits_are_1_to_100(project: Project, args: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        await page_of(project, order("id"), **args)
    assert [e.field for e in caught.value.errors] == [field]


async def test_limit_edges_are_accepted(project: Project) -> None:
    one = await page_of(project, order("id"), first=1)
    hundred = await page_of(project, order("id"), last=100)
    assert (len(one.rows), one.has_next) == (1, True)
    assert (len(hundred.rows), hundred.has_previous) == (25, False)


@pytest.mark.parametrize(
    "ordering",
    [
        order(),
        order("number"),  # not unique
        order("-number", "id"),  # mixed directions
        order("due_date", "id"),  # nullable
        order("author__username", "id"),  # another table's column
        order("author", "id"),  # a relation, not a column
        order("nope", "id"),
        order("number", "author__id"),  # unique, but of another table
    ],
)
async def test_orderings_that_cannot_page_are_programming_errors(ordering: Ordering) -> None:
    with pytest.raises(ValueError):
        await keyset_page(Issue.all(), ordering, fields=["id"])
    with pytest.raises(ValueError, match="cannot page on a BooleanField"):
        await keyset_page(Project.all(), order("is_archived", "id"), fields=["id"])
