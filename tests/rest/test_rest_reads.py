"""REST reads, answered by the read model (`gateway.rest.shapes`): every list and object route
for several callers, first pages and following ones, the errors (404, 422, a cursor of another
list) and conditional requests (304). Every 200 body holds exactly what its documented model
(the OpenAPI schema derived from the same declaration) says, in its types; and each read costs
one statement after the caller's lookup, on both databases, whatever the page size."""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from gateway.core.paging import cursor_signature
from gateway.core.settings import Settings
from gateway.repositories.labels import BY_NAME
from gateway.rest import shapes
from gateway.rest.shapes import Shape
from models import Comment, Issue, Label, Membership, Project, Role, Workspace
from tests.auth_helpers import bearer, make_user
from tests.factories import World, make_rich_world
from tests.sql_counter import count_sql

CALLERS = ("owner", "member", "viewer", "siteadmin", "stranger", "pat")
HEADERS = ("etag", "link", "content-type")
API = "/api/v1/workspaces"
WEB = f"{API}/acme/projects/WEB"
PRINCIPAL = 1  # the caller's lookup (tests/api/test_compiled_statements.py)

# First pages (and single objects) of every converted route; `limit` small enough to page.
LISTS = (
    f"{WEB}/issues/1/comments?limit=2",
    f"{WEB}/issues/1/comments",
    f"{API}/acme/projects/web/issues/3/comments?limit=1",
    f"{WEB}/issues/5/comments",
    f"{API}/acme/projects?limit=2",
    f"{API}/acme/projects",
    f"{API}/other/projects?limit=1",
    f"{API}/acme/members?limit=3",
    f"{API}/acme/members",
    f"{API}/other/members",
    f"{WEB}/labels?limit=4",
    f"{API}/acme/projects/api/labels",
    f"{API}/other/projects/OTH/labels",
)
OBJECTS = (
    f"{API}/acme",
    f"{API}/other",
    f"{API}/acme/projects/WEB",
    f"{API}/acme/projects/web",
    f"{API}/acme/projects/OPS",
    f"{API}/other/projects/OTH",
    f"{API}/acme/members/owner",
    f"{API}/acme/members/viewer",
    f"{API}/other/members/stranger",
    f"{WEB}/labels/bug",
    f"{WEB}/labels/BUG",
    f"{WEB}/labels/%C3%89MOJI%20%F0%9F%90%9B",
    f"{WEB}/labels/%E6%97%A5%E6%9C%AC%E8%AA%9E",
    f"{API}/acme/projects/API/labels/Bug",
    f"{API}/other/projects/OTH/labels/secret",
)
MISSING = (
    f"{API}/nope/projects",
    f"{API}/nope/members",
    f"{API}/nope",
    f"{API}/acme/projects/NOPE",
    f"{API}/acme/projects/NOPE/labels",
    f"{API}/acme/members/nobody",
    f"{API}/acme/members/Owner",
    f"{API}/acme/members/stranger",
    f"{WEB}/labels/nope",
    f"{WEB}/issues/99/comments",
    f"{API}/acme/projects/NOPE/issues/1/comments",
    f"{API}/nope/projects/WEB/issues/1/comments",
)
REFUSED = (
    f"{WEB}/issues/1/comments?limit=0",
    f"{WEB}/issues/1/comments?limit=101",
    f"{WEB}/issues/1/comments?cursor=zzz",
    f"{WEB}/issues/1/comments?cursor=",
    f"{WEB}/issues/1/comments?cursor=%00",
    f"{API}/ac%00me/projects/WEB/issues/1/comments",
    f"{API}/acme/projects?limit=101",
    f"{API}/acme/projects?cursor=WyJ4Il0",
    f"{API}/acme/members?limit=0",
    f"{API}/acme/members/own%00er",
    f"{API}/ac%00me",
    f"{WEB}/labels?limit=abc",
    f"{WEB}/labels/b%00ug",
    f"{API}/acme/projects/W%00EB",
)


def _body(response: httpx.Response) -> Any:
    if not response.content:
        return None
    body = response.json()
    if isinstance(body, dict):
        body.pop("request_id", None)  # a problem names its request
    return body


@dataclass(frozen=True)
class Seen:
    status: int
    headers: dict[str, str]
    body: Any

    def __str__(self) -> str:
        return f"{self.status} {self.headers} {json.dumps(self.body, ensure_ascii=False)}"


# The documented shape of a route's objects, by the end of its path.
SHAPES: tuple[tuple[str, Shape], ...] = (
    (r"/comments(/\d+)?$", shapes.COMMENT),
    (r"/labels(/[^/]+)?$", shapes.LABEL),
    (r"/members(/[^/]+)?$", shapes.MEMBER),
    (r"/projects(/[^/]+)?$", shapes.PROJECT),
    (r"/workspaces/[^/]+$", shapes.WORKSPACE),
)


def _conforms(path: str, body: Any) -> None:
    """`body` (an object, or a page of them) holds exactly its model's fields, valid."""
    route = httpx.URL(path).path
    shape = next(s for pattern, s in SHAPES if re.search(pattern, route))
    objects = body.get("items", [body])
    if "items" in body:
        assert set(body) == {"items", "next_cursor"}, body
    for found in objects:
        assert set(found) == set(shape.model.model_fields), (path, found)
        shape.model.model_validate(found)


@dataclass
class Reader:
    """GETs a REST path (the credentials given per call) and checks what a 200 holds."""

    client: httpx.AsyncClient
    runs: int = 0

    async def rest(self, path: str, headers: dict[str, str]) -> Seen:
        response = await self.client.get(path, headers=headers)
        kept = {h: response.headers[h] for h in HEADERS if h in response.headers}
        seen = Seen(response.status_code, kept, _body(response))
        if seen.status == 200:
            _conforms(path, seen.body)
            assert seen.headers["content-type"] == "application/json", seen
        self.runs += 1
        return seen


@pytest.fixture
def parity(client: httpx.AsyncClient) -> Reader:
    return Reader(client)


def _with_cursor(path: str, cursor: str) -> str:
    return f"{path}{'&' if '?' in path else '?'}{httpx.QueryParams({'cursor': cursor})}"


@pytest.mark.parametrize("caller", CALLERS)
async def test_lists_and_their_following_pages(
    rich_world: World, parity: Reader, caller: str
) -> None:
    """Every page of every list, followed by `next_cursor` to the end."""
    headers = rich_world.h(caller)
    pages = 0
    for first in LISTS:
        path: str | None = first
        while path is not None:
            seen = await parity.rest(path, headers)
            pages += 1
            cursor = seen.body.get("next_cursor") if seen.status == 200 else None
            if cursor is not None:
                assert seen.headers["link"].endswith('>; rel="next"'), seen
            path = None if cursor is None else _with_cursor(first, cursor)
    assert pages > len(LISTS) or caller == "stranger"  # a member of `other` only


@pytest.mark.parametrize("caller", CALLERS)
async def test_objects_and_not_modified(rich_world: World, parity: Reader, caller: str) -> None:
    """Each object, then again with `If-None-Match` naming its ETag (304), a stale one and
    `*`."""
    headers = rich_world.h(caller)
    for path in OBJECTS:
        seen = await parity.rest(path, headers)
        if seen.status != 200:
            continue
        tag = seen.headers["etag"]
        for sent, status in ((tag, 304), ('"v999"', 200), ("*", 304), (f'"v0", {tag}', 304)):
            again = await parity.rest(path, {**headers, "If-None-Match": sent})
            assert again.status == status, (path, sent, again)


@pytest.mark.parametrize("caller", CALLERS)
async def test_missing_and_refused(rich_world: World, parity: Reader, caller: str) -> None:
    headers = rich_world.h(caller)
    for path in (*MISSING, *REFUSED):
        seen = await parity.rest(path, headers)
        assert seen.status in (404, 422), (path, seen)


async def test_callers_see_what_they_may(rich_world: World, parity: Reader) -> None:
    """The parity above compares like with like: here what the answers are."""
    for caller, status in (("member", 404), ("siteadmin", 200), ("stranger", 200)):
        seen = await parity.rest(f"{API}/other/projects", rich_world.h(caller))
        assert seen.status == status, (caller, seen)
    seen = await parity.rest(f"{WEB}/issues/1/comments?limit=2", rich_world.h("viewer"))
    assert [c["body"] for c in seen.body["items"]] == ["Comment 0 on #1 ✓", "Comment 1 on #1 ✓"]
    assert seen.body["items"][1]["edited_at"] is not None
    seen = await parity.rest(f"{API}/acme/members/owner", rich_world.h("pat"))
    assert seen.status == 200, seen
    assert seen.body["role"] == "owner", seen
    seen = await parity.rest(f"{WEB}/labels/BUG", rich_world.h("viewer"))
    assert seen.status == 200, seen
    assert seen.body["name"] == "bug", seen


async def test_a_cursor_of_another_list_is_refused(rich_world: World, parity: Reader) -> None:
    """A cursor minted for one list, sent to another of the same kind (another issue's
    comments, another project's labels) or of another kind: the compiled read finds no row
    and the services answer their 422."""
    headers = rich_world.h("siteadmin")
    other = await Workspace.get(slug="other")
    await Project.create(workspace=other, key="OTX", name="Second")
    cursors: dict[str, str] = {}
    for name, path in (
        ("comments-1", f"{WEB}/issues/1/comments?limit=1"),
        ("labels-web", f"{WEB}/labels?limit=1"),
        ("members", f"{API}/acme/members?limit=1"),
        ("projects", f"{API}/acme/projects?limit=1"),
        ("projects-other", f"{API}/other/projects?limit=1"),
    ):
        seen = await parity.rest(path, headers)
        cursors[name] = seen.body["next_cursor"]
        assert cursors[name] is not None, (name, seen)
    for name, path in (
        ("comments-1", f"{WEB}/issues/3/comments"),
        ("comments-1", f"{WEB}/labels"),
        ("labels-web", f"{API}/acme/projects/API/labels"),
        ("members", f"{API}/acme/projects"),
        ("members", f"{API}/other/members"),
        ("projects", f"{API}/other/projects"),
        ("projects-other", f"{API}/acme/projects"),
    ):
        seen = await parity.rest(_with_cursor(path, cursors[name]), headers)
        assert seen.status == 422, (name, path, seen)
        assert seen.body["errors"][0]["field"] == "cursor", seen


def _raw_cursor(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


async def test_odd_cursors_of_lists_bound_to_their_parent(
    rich_world: World, parity: Reader
) -> None:
    """A signature holding NUL (422); a cursor minted before v2 (which the read model cannot
    check against its list) has expired: 422 on `cursor`, asking to start again."""
    headers = rich_world.h("viewer")
    web = await Project.get(key="WEB")
    legacy = cursor_signature(Label, BY_NAME, f"labels-of:{web.id}").legacy
    bug = await Label.get(project=web, name="bug")
    for path, status in (
        (_with_cursor(f"{WEB}/issues/1/comments", _raw_cursor(b"\x00.1")), 422),
        (_with_cursor(f"{WEB}/issues/1/comments", _raw_cursor(b"ab\x00.1")), 422),
        (_with_cursor(f"{WEB}/labels", _raw_cursor(b"\x00\x01.1.2")), 422),
        (
            _with_cursor(
                f"{WEB}/labels?limit=2", _raw_cursor(json.dumps([legacy, "bug", bug.id]).encode())
            ),
            422,
        ),
    ):
        seen = await parity.rest(path, headers)
        assert seen.status == status, (path, seen)


async def test_page_of_an_invisible_parent_with_its_own_cursor(
    rich_world: World, parity: Reader
) -> None:
    """A site admin's cursor of `other`'s projects, sent by a member of acme only: 404."""
    admin, member = rich_world.h("siteadmin"), rich_world.h("member")
    seen = await parity.rest(f"{API}/other/projects?limit=1", admin)
    assert seen.status == 200
    other = await Workspace.get(slug="other")
    await Project.create(workspace=other, key="OTX", name="Second")
    seen = await parity.rest(f"{API}/other/projects?limit=1", admin)
    cursor = seen.body["next_cursor"]
    assert cursor is not None
    seen = await parity.rest(_with_cursor(f"{API}/other/projects", cursor), member)
    assert seen.status == 404, seen
    seen = await parity.rest(_with_cursor(f"{API}/other/projects", cursor), admin)
    assert seen.status == 200, seen
    assert [p["key"] for p in seen.body["items"]] == ["OTX"], seen


# -- statement counts --------------------------------------------------------------------------


async def _grow(rich_world: World) -> None:
    """Enough rows that a page of 100 is full or nearly: comments, projects, members, labels."""
    acme = await Workspace.get(slug="acme")
    web = await Project.get(key="WEB")
    issue = await Issue.get(project=web, number=1)
    owner = rich_world.users["owner"]
    for n in range(120):
        await Comment.create(issue=issue, author=owner, body=f"more {n}")
    for n in range(110):
        await Project.create(workspace=acme, key=f"P{n:03d}", name=f"P {n}")
        await Label.create(project=web, name=f"l{n:03d}", name_key=f"l{n:03d}", color="#000000")
    for n in range(105):
        user = await make_user(f"extra{n:03d}")
        await Membership.create(workspace=acme, user=user, role=Role.viewer)


ROUTES = (
    f"{WEB}/issues/1/comments",
    f"{API}/acme/projects",
    f"{API}/acme/members",
    f"{WEB}/labels",
)
SINGLES = (
    f"{API}/acme",
    f"{API}/acme/projects/WEB",
    f"{API}/acme/members/viewer",
    f"{WEB}/labels/bug",
)


@pytest.mark.parametrize("caller", ["viewer", "siteadmin"])
async def test_each_read_is_one_statement(
    client: httpx.AsyncClient,
    app: FastAPI,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    caller: str,
) -> None:
    rich_world = await make_rich_world(app)
    await _grow(rich_world)
    headers = bearer(app, rich_world.users[caller])
    for route in ROUTES:
        for limit in (1, 30, 100):
            path = f"{route}?limit={limit}"
            for page in (1, 2):  # the first page, then the next
                with count_sql() as sql:
                    response = await client.get(path, headers=headers)
                assert response.status_code == 200, response.text
                items = response.json()["items"]
                assert len(items) == limit if page == 1 else 0 < len(items) <= limit, path
                assert sql.count == PRINCIPAL + 1, sql
                cursor = response.json()["next_cursor"]
                path = _with_cursor(f"{route}?limit={limit}", cursor)
    for single in SINGLES:
        with count_sql() as sql:
            response = await client.get(single, headers=headers)
        assert response.status_code == 200, response.text
        assert sql.count == PRINCIPAL + 1, sql
        with count_sql() as sql:
            response = await client.get(
                single, headers={**headers, "If-None-Match": response.headers["etag"]}
            )
        assert response.status_code == 304
        assert sql.count == PRINCIPAL + 1, sql
