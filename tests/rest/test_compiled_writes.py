"""A REST write answers with the object read back through the read model (gateway.rest.compiled
`written`): the statement that builds the answer is the last one sent, the answer is what the
next GET shows, headers (Location, ETag) included."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from models import Issue, User
from tests.auth_helpers import bearer, make_pat
from tests.factories import World
from tests.sql_counter import count_sql

WS = "/api/v1/workspaces"
WEB = f"{WS}/acme/projects/WEB"


Write = Callable[[int], Awaitable[httpx.Response]]


def _writes(client: httpx.AsyncClient, world: World) -> list[tuple[str, Write, str | None]]:
    """(what, the write — its argument makes each run's names unique —, the URL to GET after,
    or None when the answer's `Location` names it)."""
    owner = world.h("owner")

    def post(path: str, body: dict[str, Any]) -> Awaitable[httpx.Response]:
        return client.post(path, json=body, headers=owner)

    def patch(path: str, body: dict[str, Any]) -> Awaitable[httpx.Response]:
        return client.patch(path, json=body, headers=owner)

    return [
        ("create workspace", lambda n: post(WS, {"slug": f"w{n}-x", "name": "W"}), None),
        ("rename workspace", lambda n: patch(f"{WS}/acme", {"name": f"Acme {n}"}), f"{WS}/acme"),
        (
            "create project",
            lambda n: post(f"{WS}/acme/projects", {"key": f"P{n}X", "name": "P"}),
            None,
        ),
        ("update project", lambda n: patch(WEB, {"description": f"d{n}"}), WEB),
        (
            "create label",
            lambda n: post(f"{WEB}/labels", {"name": f"L {n} ü", "color": "#123456"}),
            None,
        ),
        ("update label", lambda n: patch(f"{WEB}/labels/BUG", {"description": f"{n}"}), None),
        (
            "change role",
            lambda n: patch(f"{WS}/acme/members/viewer", {"role": ["member", "viewer"][n % 2]}),
            f"{WS}/acme/members/viewer",
        ),
        (
            "create issue",
            lambda n: post(f"{WEB}/issues", {"title": f"t{n}", "labels": ["ui"]}),
            None,
        ),
        ("update issue", lambda n: patch(f"{WEB}/issues/1", {"title": f"t{n}"}), f"{WEB}/issues/1"),
        ("add comment", lambda n: post(f"{WEB}/issues/1/comments", {"body": f"b{n}"}), None),
    ]


async def test_write_answers_are_read_through_the_read_model(
    client: httpx.AsyncClient,
    world: World,
) -> None:
    await Issue.create(project=world.project, number=1, title="t", author=world.users["owner"])
    world.project.issue_counter = 1
    await world.project.save()
    for n, (what, write, after) in enumerate(_writes(client, world)):
        with count_sql() as sql:
            answer = await write(n)
        assert answer.status_code in (200, 201), (what, answer.text)
        last = sql.statements[-1]
        assert "json_object(" in last or "json_build_object(" in last, (what, last)
        url = after or answer.headers.get("Location") or answer.json().get("node_id")
        if what == "update label":
            url = f"{WEB}/labels/bug"
        read = await client.get(str(url), headers=world.h("owner"))
        assert read.json() == answer.json(), what
        assert read.headers["ETag"] == answer.headers["ETag"], what


async def test_a_personal_access_token_sees_what_it_wrote(
    client: httpx.AsyncClient, world: World
) -> None:
    _, writer = await make_pat(world.users["member"], ["write"])
    await Issue.create(project=world.project, number=1, title="t", author=world.users["owner"])
    made = await client.post(f"{WEB}/issues/1/comments", json={"body": "hi"}, headers=writer)
    assert made.status_code == 201, made.text
    assert made.json()["body"] == "hi"
    assert made.headers["ETag"] == '"v1"'
    again = await client.get(made.headers["Location"], headers=writer)
    assert again.json() == made.json()


async def test_sign_up_answers_the_new_user_as_they_read_themselves(
    client: httpx.AsyncClient, world: World
) -> None:
    body = {"email": "new@example.com", "username": "newbie", "password": "long enough"}
    made = await client.post("/api/v1/users", json=body)
    assert made.status_code == 201, made.text
    assert made.headers["Location"] == "/api/v1/users/newbie"
    assert made.json()["email"] == "new@example.com"
    user = await User.get(username="newbie")
    me = await client.get("/api/v1/me", headers=bearer(world.app, user))
    assert me.json() == made.json()
    assert me.headers["ETag"] == made.headers["ETag"]


async def test_a_comment_reads_as_each_caller_may(client: httpx.AsyncClient, world: World) -> None:
    await Issue.create(project=world.project, number=1, title="t", author=world.users["owner"])
    made = await client.post(
        f"{WEB}/issues/1/comments", json={"body": "hello ✓"}, headers=world.h("member")
    )
    url = made.headers["Location"]
    for who, status in (("owner", 200), ("viewer", 200), ("stranger", 404)):
        answer = await client.get(url, headers=world.h(who))
        assert answer.status_code == status, (who, answer.text)
        if status == 200:
            assert answer.json()["body"] == "hello ✓"
            tag = answer.headers["ETag"]
            cached = await client.get(url, headers={**world.h(who), "If-None-Match": tag})
            assert cached.status_code == 304
    missing = await client.get(url.rsplit("/", 1)[0] + "/999999", headers=world.h("owner"))
    assert missing.status_code == 404


async def test_users_read_as_each_caller_may(client: httpx.AsyncClient, world: World) -> None:
    """`GET /me` and `GET /users/{username}` (email shown to oneself only; an inactive user is
    not there); `PATCH /me` answers what the next `GET /me` shows."""
    await User.filter(id=world.users["stranger"].id).update(is_active=False)
    paths = ["/api/v1/me", *(f"/api/v1/users/{n}" for n in ("owner", "member", "stranger", "x"))]
    for who in ("owner", "viewer"):
        for path in paths:
            answer = await client.get(path, headers=world.h(who))
            missing = path.endswith(("/stranger", "/x"))
            assert answer.status_code == (404 if missing else 200), (who, path, answer.text)
            if not missing:
                mine = path == "/api/v1/me" or path.endswith(f"/{who}")
                assert (answer.json()["email"] is not None) == mine, (who, path)
                tag = answer.headers["ETag"]
                cached = await client.get(path, headers={**world.h(who), "If-None-Match": tag})
                assert cached.status_code == 304, (who, path)
    with count_sql() as sql:
        changed = await client.patch(
            "/api/v1/me", json={"display_name": "Ada ✓"}, headers=world.h("member")
        )
    assert changed.status_code == 200, changed.text
    assert "json_object(" in sql.statements[-1] or "json_build_object(" in sql.statements[-1]
    me = await client.get("/api/v1/me", headers=world.h("member"))
    assert me.json() == changed.json()
    assert me.headers["ETag"] == changed.headers["ETag"]
