"""Comments: REST `…/issues/{number}/comments` and the GraphQL comment mutations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from gateway.core.ids import pk_of, to_global_id
from gateway.security.principal import Principal, Scope, TokenKind
from gateway.services import comments, issue_inputs, issues, projects, workspaces
from models import Comment, Event, Project, User
from tests.auth_helpers import bearer, join, make_user
from tests.helpers import assert_invalid, rest_items, same_fields, walk
from tests.sql_counter import count_sql

ISSUE = "/api/v1/workspaces/acme/projects/WEB/issues/1"
COMMENTS = f"{ISSUE}/comments"
ROLES = {"adi": "admin", "mel": "member", "meg": "member", "vic": "viewer"}


def principal_of(user: User) -> Principal:
    return Principal(user.id, user.username, user.is_site_admin, TokenKind.access, frozenset(Scope))


@pytest.fixture
async def users() -> dict[str, User]:
    """`acme` (owner ann, admin adi, members mel and meg, viewer vic) with project WEB and its
    issue 1; sam is a stranger."""
    people = {n: await make_user(n) for n in ("ann", "adi", "mel", "meg", "vic", "sam")}
    owner = principal_of(people["ann"])
    await workspaces.create_workspace(owner, workspaces.WorkspaceCreate(slug="acme", name="Acme"))
    for name, role in ROLES.items():
        await join("acme", people["ann"], people[name], role)
    await projects.create_project(owner, "acme", projects.ProjectCreate(key="WEB", name="Web"))
    await issues.create_issue(owner, ("acme", "WEB"), issue_inputs.IssueCreate(title="Bug"))
    return people


async def add(app: FastAPI, client: httpx.AsyncClient, user: User, body: str) -> dict[str, Any]:
    response = await client.post(COMMENTS, json={"body": body}, headers=bearer(app, user))
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_rest_crud_with_events(
    app: FastAPI, client: httpx.AsyncClient, users: dict[str, User]
) -> None:
    mel = users["mel"]
    headers = bearer(app, mel)
    created = await client.post(COMMENTS, json={"body": "  first!  "}, headers=headers)
    assert created.status_code == 201, created.text
    comment = created.json()
    assert comment["body"] == "first!"
    assert comment["author"] == {
        "node_id": to_global_id("User", mel.id),
        "username": "mel",
        "display_name": mel.display_name,
    }
    assert comment["node_id"] == to_global_id("Comment", comment["id"])
    assert comment["edited_at"] is None
    assert comment["version"] == 1
    location = created.headers["Location"]
    assert location == f"{COMMENTS}/{comment['id']}"

    fetched = await client.get(location, headers=headers)
    assert fetched.json() == comment
    assert fetched.headers["ETag"] == '"v1"'
    cached = await client.get(location, headers={**headers, "If-None-Match": '"v1"'})
    assert cached.status_code == 304

    patched = await client.patch(
        location, json={"body": "second"}, headers={**headers, "If-Match": '"v1"'}
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["body"] == "second"
    assert patched.json()["version"] == 2
    assert patched.json()["edited_at"] is not None
    assert patched.headers["ETag"] == '"v2"'
    stale = await client.patch(
        location, json={"body": "third"}, headers={**headers, "If-Match": '"v1"'}
    )
    assert stale.status_code == 412
    assert stale.json()["code"] == "PRECONDITION_FAILED"
    stale_delete = await client.delete(location, headers={**headers, "If-Match": '"v1"'})
    assert stale_delete.status_code == 412

    listed = (await client.get(COMMENTS, headers=bearer(app, users["vic"]))).json()
    assert listed == {"items": [patched.json()], "next_cursor": None}

    assert (await client.delete(location, headers=headers)).status_code == 204
    assert (await client.get(location, headers=headers)).status_code == 404
    stored = await Event.filter(type__startswith="comment.").order_by("id").values("type")
    types = [row["type"] for row in stored]
    assert types == ["comment.created", "comment.updated", "comment.deleted"]


# One expectation table for both APIs: (actor, action on mel's comment) → outcome.
RULES = [
    ("mel", "edit", "OK"),
    ("meg", "edit", "FORBIDDEN"),
    ("adi", "edit", "FORBIDDEN"),
    ("ann", "edit", "FORBIDDEN"),
    ("vic", "edit", "FORBIDDEN"),
    ("sam", "edit", "NOT_FOUND"),
    ("mel", "delete", "OK"),
    ("meg", "delete", "FORBIDDEN"),
    ("adi", "delete", "OK"),
    ("ann", "delete", "OK"),
    ("vic", "delete", "FORBIDDEN"),
    ("sam", "delete", "NOT_FOUND"),
]
STATUS = {"OK": (200, 204), "FORBIDDEN": (403,), "NOT_FOUND": (404,)}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"body": "   "}, "body"),
        ({"body": "x" * 65_537}, "body"),
        ({"body": 5}, "body"),
        ({}, "body"),
        ({"body": "ok", "pinned": True}, "pinned"),
    ],
)
async def test_bad_input_lists_the_field(
    app: FastAPI, client: httpx.AsyncClient, users: dict[str, User], body: Any, field: str
) -> None:
    headers = bearer(app, users["mel"])
    assert_invalid(await client.post(COMMENTS, json=body, headers=headers), field)
    comment = await add(app, client, users["mel"], "fine")
    patched = await client.patch(f"{COMMENTS}/{comment['id']}", json=body, headers=headers)
    assert_invalid(patched, field)


async def test_longest_body_is_accepted(
    app: FastAPI, client: httpx.AsyncClient, users: dict[str, User]
) -> None:
    comment = await add(app, client, users["mel"], "y" * 65_536)
    assert len(comment["body"]) == 65_536


async def test_unknown_comment_issue_and_strangers(
    app: FastAPI, client: httpx.AsyncClient, users: dict[str, User]
) -> None:
    headers = bearer(app, users["mel"])
    assert (
        await client.patch(f"{COMMENTS}/999", json={"body": "x"}, headers=headers)
    ).status_code == 404
    assert (await client.delete(f"{COMMENTS}/999", headers=headers)).status_code == 404
    other_issue = "/api/v1/workspaces/acme/projects/WEB/issues/2/comments"
    assert (await client.get(other_issue, headers=headers)).status_code == 404
    comment = await add(app, client, users["mel"], "here")
    # The comment exists, but not under another issue's path.
    assert (await client.get(f"{other_issue}/{comment['id']}", headers=headers)).status_code == 404
    stranger = await client.get(COMMENTS, headers=bearer(app, users["sam"]))
    assert stranger.status_code == 404
    assert stranger.json()["code"] == "NOT_FOUND"
    posted = await client.post(COMMENTS, json={"body": "hi"}, headers=bearer(app, users["sam"]))
    assert posted.status_code == 404
    viewer = await client.post(COMMENTS, json={"body": "hi"}, headers=bearer(app, users["vic"]))
    assert viewer.status_code == 403


async def test_archived_project_is_read_only_and_leaves_no_event(
    app: FastAPI, client: httpx.AsyncClient, users: dict[str, User]
) -> None:
    comment = await add(app, client, users["mel"], "before")
    await Project.filter(key="WEB").update(is_archived=True)
    events_before = await Event.all().count()
    headers = bearer(app, users["mel"])
    url = f"{COMMENTS}/{comment['id']}"
    answers = [
        await client.post(COMMENTS, json={"body": "x"}, headers=headers),
        await client.patch(url, json={"body": "x"}, headers=headers),
        await client.delete(url, headers=headers),
    ]
    assert [a.status_code for a in answers] == [409, 409, 409]
    assert await Event.all().count() == events_before
    assert (await client.get(COMMENTS, headers=headers)).status_code == 200


async def test_comment_page_statement_count_is_constant(
    app: FastAPI, client: httpx.AsyncClient, users: dict[str, User]
) -> None:
    issue = await issues.get_issue(principal_of(users["ann"]), ("acme", "WEB", 1))
    authors = list(users.values())[:5]

    async def fill(n: int) -> None:
        await Comment.bulk_create(
            [Comment(issue_id=issue.pk, author=authors[i % 5], body=f"c{i}") for i in range(n)]
        )

    async def statements(n: int) -> int:
        await Comment.all().delete()
        await fill(n)
        with count_sql() as sql:
            response = await client.get(f"{COMMENTS}?limit=100", headers=bearer(app, users["vic"]))
        assert len(response.json()["items"]) == n
        return sql.count

    assert await statements(10) == await statements(50)
    assert comments.MAX_BODY == 65_536


FIELDS = "comment { id body editedAt version createdAt updatedAt }"
ADD = f"mutation($input: AddCommentInput!) {{ addComment(input: $input) {{ {FIELDS} }} }}"
UPDATE = f"mutation($input: UpdateCommentInput!) {{ updateComment(input: $input) {{ {FIELDS} }} }}"
DELETE = "mutation($input: DeleteCommentInput!) { deleteComment(input: $input) { deletedId } }"


async def gql(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any], headers: dict[str, str]
) -> dict[str, Any]:
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    body: dict[str, Any] = response.json()
    return body


def instant(value: str | None) -> datetime | None:
    """The same moment, whichever ISO form an API wrote (`Z` or `+00:00`)."""
    return None if value is None else datetime.fromisoformat(value)


def code_of(body: dict[str, Any]) -> str:
    if "errors" not in body:
        return "OK"
    code: str = body["errors"][0]["extensions"]["code"]
    return code


async def issue_node_id(users: dict[str, User]) -> str:
    issue = await issues.get_issue(principal_of(users["ann"]), ("acme", "WEB", 1))
    return issue.node_id


async def test_graphql_crud_matches_rest_field_by_field(
    app: FastAPI,
    client: httpx.AsyncClient,
    users: dict[str, User],
) -> None:
    headers = bearer(app, users["mel"])
    issue_id = await issue_node_id(users)
    added = await gql(client, ADD, {"input": {"issueId": issue_id, "body": " hi "}}, headers)
    node = added["data"]["addComment"]["comment"]
    pk = pk_of(node["id"], "Comment")
    rest = (await client.get(f"{COMMENTS}/{pk}", headers=headers)).json()

    def same(node: dict[str, Any], rest: dict[str, Any]) -> None:
        assert node["id"] == rest["node_id"]
        assert node["body"] == rest["body"]
        assert node["version"] == rest["version"]
        for name, rest_name in [
            ("editedAt", "edited_at"),
            ("createdAt", "created_at"),
            ("updatedAt", "updated_at"),
        ]:
            assert instant(node[name]) == instant(rest[rest_name])

    assert node["body"] == "hi"
    same(node, rest)
    update = {"id": node["id"], "body": "edited", "expectedVersion": 1}
    updated = await gql(client, UPDATE, {"input": update}, headers)
    changed = updated["data"]["updateComment"]["comment"]
    assert changed["version"] == 2
    assert changed["editedAt"] is not None
    same(changed, (await client.get(f"{COMMENTS}/{pk}", headers=headers)).json())
    stale = await gql(client, UPDATE, {"input": update}, headers)
    assert code_of(stale) == "PRECONDITION_FAILED"
    deleted = await gql(client, DELETE, {"input": {"id": node["id"]}}, headers)
    assert deleted["data"]["deleteComment"] == {"deletedId": node["id"]}
    assert (await client.get(f"{COMMENTS}/{pk}", headers=headers)).status_code == 404
    again = await gql(client, DELETE, {"input": {"id": node["id"]}}, headers)
    assert code_of(again) == "NOT_FOUND"


async def attempt(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    api: str,
    action: str,
    comment: dict[str, Any],
) -> str:
    """Edit or delete `comment` over `api`; the outcome ("OK" or the error code)."""
    if api == "graphql":
        if action == "edit":
            variables = {"input": {"id": comment["node_id"], "body": "changed"}}
            return code_of(await gql(client, UPDATE, variables, headers))
        return code_of(await gql(client, DELETE, {"input": {"id": comment["node_id"]}}, headers))
    url = f"{COMMENTS}/{comment['id']}"
    if action == "edit":
        response = await client.patch(url, json={"body": "changed"}, headers=headers)
    else:
        response = await client.delete(url, headers=headers)
    if response.status_code in STATUS["OK"]:
        return "OK"
    code = str(response.json()["code"])
    assert response.status_code in STATUS[code], response.text
    return code


@pytest.mark.parametrize("api", ["rest", "graphql"])
@pytest.mark.parametrize(("actor", "action", "outcome"), RULES)
async def test_edit_and_delete_rules(
    app: FastAPI,
    client: httpx.AsyncClient,
    users: dict[str, User],
    actor: str,
    action: str,
    outcome: str,
    api: str,
) -> None:
    comment = await add(app, client, users["mel"], "mine")
    assert await attempt(client, bearer(app, users[actor]), api, action, comment) == outcome
    stored = await Comment.filter(id=comment["id"]).first()
    if action == "delete":
        assert (stored is None) == (outcome == "OK")
    else:
        assert stored is not None
        assert (stored.body == "changed") == (outcome == "OK")


@pytest.mark.parametrize("text", ["   ", "x" * 65_537])
async def test_graphql_bad_body_lists_the_field(
    app: FastAPI, client: httpx.AsyncClient, users: dict[str, User], text: str
) -> None:
    headers = bearer(app, users["mel"])
    variables = {"input": {"issueId": await issue_node_id(users), "body": text}}
    body = await gql(client, ADD, variables, headers)
    assert code_of(body) == "VALIDATION_FAILED"
    assert [f["field"] for f in body["errors"][0]["extensions"]["fields"]] == ["body"]
    wrong_type = await gql(client, ADD, {"input": {**variables["input"], "body": 5}}, headers)
    assert code_of(wrong_type) == "VALIDATION_FAILED"
    assert await Comment.all().count() == 0


# --- the read side: Comment.author / Comment.issue, Issue.comments, node(id:) --------------

COMMENT = "id body editedAt version createdAt updatedAt author { id username } issue { id }"


async def test_graphql_comments_walk_to_the_end_like_rest(
    app: FastAPI, client: httpx.AsyncClient, users: dict[str, User]
) -> None:
    for i, name in enumerate(("mel", "meg", "adi", "mel", "ann", "meg", "mel")):
        await add(app, client, users[name], f"comment {i}")
    first = (await client.get(COMMENTS, headers=bearer(app, users["mel"]))).json()["items"][0]
    edit = await client.patch(
        f"{COMMENTS}/{first['id']}", json={"body": "edited"}, headers=bearer(app, users["mel"])
    )
    assert edit.status_code == 200, edit.text
    vic = bearer(app, users["vic"])
    issue = 'issue(workspace: "acme", project: "WEB", number: 1)'
    got = await walk(client, vic, issue, "comments", COMMENT)
    rest = await rest_items(client, COMMENTS, vic)
    assert [c["body"] for c in got] == ["edited", *(f"comment {i}" for i in range(1, 7))]
    assert len(rest) == len(got) == 7
    for got_one, rest_one in zip(got, rest, strict=True):
        same_fields(got_one, rest_one, skip=("id", "author", "issue_id"))
        author = rest_one["author"]
        assert got_one["author"] == {"id": author["node_id"], "username": author["username"]}
        assert got_one["issue"] == {"id": rest_one["issue_id"]}


async def test_graphql_comment_page_costs_the_same_for_10_or_50(
    app: FastAPI, client: httpx.AsyncClient, users: dict[str, User]
) -> None:
    issue = await issues.get_issue(principal_of(users["ann"]), ("acme", "WEB", 1))
    authors = list(users.values())
    await Comment.bulk_create(
        [Comment(issue_id=issue.pk, author=authors[i % 6], body=f"c{i}") for i in range(50)]
    )
    counts: dict[int, int] = {}
    for size in (10, 50):
        query = (
            f'query {{ issue(workspace: "acme", project: "WEB", number: 1)'
            f" {{ comments(first: {size}) {{ edges {{ node {{ {COMMENT} }} }} }} }} }}"
        )
        with count_sql() as sql:
            body = await gql(client, query, {}, bearer(app, users["vic"]))
        assert "errors" not in body, body
        assert len(body["data"]["issue"]["comments"]["edges"]) == size
        counts[size] = sql.count
    assert counts[10] == counts[50], counts
