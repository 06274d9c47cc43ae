"""Statement counts of compiled reads: one SQL statement per root field whatever the page
sizes, nesting and row counts, over GraphQL and REST; no SQL at all for a request that fails
validation; and no request value in the SQL text the plan cache keeps.

A compiled GraphQL read with an access token sends nothing else: its statement checks the user
is active itself (schema.http.fast_path). A personal access token is looked up first, as a REST
route looks up either kind of caller.

Measured before the compiler landed (SQLite and PostgreSQL alike): authenticating costs one
statement, `SELECT … FROM "users"` for an access token and `SELECT … FROM
"personal_access_tokens" JOIN "users"` for a personal access token; a PAT's first use in a
while also sends `UPDATE "personal_access_tokens" SET "last_used_at"`, so PAT tests spend one
request first. An anonymous request sends none."""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from graphql.language import Node

from gateway.core.ids import to_global_id
from gateway.core.settings import Settings
from models import Comment, Event, Issue, Label, Membership, Project, Role, Workspace
from tests.auth_helpers import gql, make_pat
from tests.factories import World, fill, project_of
from tests.sql_counter import count_sql

# Statements the authentication of one request costs (JWT or a PAT used recently), where the
# caller is looked up: REST routes, the resolvers, and any personal access token.
PRINCIPAL = 1
ISSUES = "/api/v1/workspaces/acme/projects/WEB/issues"


@pytest.fixture(autouse=True)
def compiled(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Compiled reads on, for every test of the module."""
    monkeypatch.setattr(settings, "compiled_reads", True)


async def counted(
    client: httpx.AsyncClient,
    query: str,
    headers: dict[str, str],
    variables: dict[str, Any] | None = None,
) -> tuple[int, dict[str, Any]]:
    """The statements one GraphQL request sent, and its answer."""
    with count_sql() as sql:
        answer = await gql(client, query, headers, variables)
    return sql.count, answer


async def answered(
    client: httpx.AsyncClient,
    query: str,
    headers: dict[str, str],
    variables: dict[str, Any] | None = None,
    *,
    statements: int,
) -> dict[str, Any]:
    """The answer to a GraphQL request, which must have no errors and send `statements`."""
    count, answer = await counted(client, query, headers, variables)
    assert answer.get("errors") is None, answer
    assert count == statements, (query, answer)
    return answer


BOARD = """{
  workspace(slug: "acme") { projects(first: 10) { nodes { key
    issues(first: 10) { nodes { number assignee { username } labels { name }
      comments(first: 1) { totalCount } } }
  } } }
}"""


async def test_the_board_costs_one_statement_whatever_its_size(
    client: httpx.AsyncClient, world: World
) -> None:
    """1 project of 1 issue, then 10 projects of 10 issues: the same single statement."""
    await fill(world, world.project, 1)
    answer = await answered(client, BOARD, world.h("viewer"), statements=1)
    (only,) = answer["data"]["workspace"]["projects"]["nodes"]
    assert [n["number"] for n in only["issues"]["nodes"]] == [1]
    for key in ("API", "OPS", "DOC", "WWW", "ENG", "QA", "HR", "OKR", "ART"):
        await fill(world, await project_of(world, key), 10)
    await Issue.filter(project=world.project).delete()
    await Label.filter(project=world.project, name__startswith="WEB-").delete()
    await fill(world, world.project, 10)
    answer = await answered(client, BOARD, world.h("viewer"), statements=1)
    projects = answer["data"]["workspace"]["projects"]["nodes"]
    assert len(projects) == 10
    for project in projects:
        nodes = project["issues"]["nodes"]
        # Issue 7 of each is closed; the default filter shows open ones.
        assert [n["number"] for n in nodes] == [1, 2, 3, 4, 5, 6, 8, 9, 10], project["key"]
        assert all(n["comments"]["totalCount"] == 1 and len(n["labels"]) == 2 for n in nodes)
        assert [n["assignee"] for n in nodes[:2]] == [{"username": "admin"}, None]


W1 = """{ project(workspace: "acme", key: "WEB") {
  issues(first: 50) { edges { node { number title assignee { username } } } } } }"""
W2 = """{ issue(workspace: "acme", project: "WEB", number: 1) {
  number title state labels { name }
  comments(last: 20) { edges { node { body author { username } } } } } }"""


async def _with_comments(world: World, issues: int, comments: int) -> None:
    """`issues` issues in WEB, issue 1 carrying `comments` comments in all."""
    await fill(world, world.project, issues)
    first = await Issue.get(project=world.project, number=1)
    for n in range(comments - 1):
        await Comment.create(issue=first, author=world.users["admin"], body=f"c{n}")


async def test_w1_a_page_of_50_issues_is_one_statement(
    client: httpx.AsyncClient, world: World
) -> None:
    await _with_comments(world, 60, 1)
    answer = await answered(client, W1, world.h("member"), statements=1)
    assert len(answer["data"]["project"]["issues"]["edges"]) == 50


async def test_w2_an_issue_and_its_last_20_comments_is_one_statement(
    client: httpx.AsyncClient, world: World
) -> None:
    await _with_comments(world, 3, 25)
    answer = await answered(client, W2, world.h("viewer"), statements=1)
    edges = answer["data"]["issue"]["comments"]["edges"]
    assert [e["node"]["body"] for e in edges] == [f"c{n}" for n in range(4, 24)]
    assert len(answer["data"]["issue"]["labels"]) == 2


async def test_a_personal_token_costs_the_same(client: httpx.AsyncClient, world: World) -> None:
    """W1 and W2 with a `read` PAT (used once before, so `last_used_at` is fresh)."""
    await _with_comments(world, 60, 25)
    _, headers = await make_pat(world.users["member"], ["read"])
    warm = await gql(client, "{ serverInfo { version } }", headers)
    assert warm.get("errors") is None, warm
    for query in (W1, W2):
        await answered(client, query, headers, statements=PRINCIPAL + 1)


async def test_two_root_fields_are_two_statements(client: httpx.AsyncClient, world: World) -> None:
    await _with_comments(world, 5, 3)
    query = W1.rstrip()[:-1] + W2.strip()[1:]
    answer = await answered(client, query, world.h("viewer"), statements=2)
    assert set(answer["data"]) == {"project", "issue"}
    await answered(
        client,
        '{ viewer { username } workspace(slug: "acme") { slug members(first: 5) { totalCount } } }',
        world.h("viewer"),
        statements=2,
    )


async def test_rest_issue_list_and_issue_are_one_statement(
    client: httpx.AsyncClient, world: World
) -> None:
    await _with_comments(world, 60, 3)
    # The list goes through its route (which looks the caller up); the issue is read before
    # routing, its statement checking the caller itself (gateway.rest.fast_path).
    for path, check, statements in (
        (f"{ISSUES}?limit=50", lambda body: len(body["items"]) == 50, PRINCIPAL + 1),
        (f"{ISSUES}/1", lambda body: body["number"] == 1, 1),
    ):
        with count_sql() as sql:
            response = await client.get(path, headers=world.h("viewer"))
        assert response.status_code == 200, response.text
        assert check(response.json())
        assert sql.count == statements, sql


# A malformed cursor is not among these: it is refused by the connection it is given to, once
# per parent that has one, so which errors (and where null bubbles) depends on the data. The
# compiled path leaves it to the resolvers; tests/api/test_compiled_parity.py holds the answers
# equal.
REFUSED: list[tuple[str, dict[str, Any]]] = [
    ('{ project(workspace: "acme", key: "WEB") { issues(first: 101) { totalCount } } }', {}),
    (
        '{ workspace(slug: "acme") { projects(first: 2) { nodes {'
        " issues(first: 101) { totalCount } } } } }",
        {},
    ),
    ('{ project(workspace: "acme", key: "WEB") { key nope } }', {}),
    (
        'query($n: Int!) { issue(workspace: "acme", project: "WEB", number: $n) { id } }',
        {"n": "one"},
    ),
    ("query($s: String!) { workspace(slug: $s) { slug } }", {"s": "ac\u0000me"}),
]


@pytest.mark.parametrize(("query", "variables"), REFUSED)
async def test_a_refused_request_sends_no_sql(
    client: httpx.AsyncClient, world: World, query: str, variables: dict[str, Any]
) -> None:
    """first: 101 (at the root and nested), unknown field, wrong variable type, NUL byte:
    refused before any read (only the principal is looked up)."""
    await fill(world, world.project, 3)
    count, answer = await counted(client, query, world.h("viewer"), variables)
    assert answer.get("errors"), answer
    assert count == PRINCIPAL


def _sql_texts(value: object, depth: int = 0) -> Iterator[str]:
    """Every `sql` string reachable from `value` (dataclasses, mappings, sequences), without
    entering GraphQL syntax trees."""
    if depth > 8 or isinstance(value, str | bytes | Node):
        return
    sql = getattr(value, "sql", None)
    if isinstance(sql, str):
        yield sql
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from _sql_texts(getattr(value, f.name), depth + 1)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _sql_texts(item, depth + 1)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from _sql_texts(item, depth + 1)


async def test_the_plan_cache_holds_no_request_value(
    client: httpx.AsyncClient, world: World
) -> None:
    """Queries carrying a distinctive slug, search text and cursor as literals and as
    variables: neither the SQL sent nor the SQL cached contains any of them."""
    # The lead's plan cache: a mapping of plans in `schema.compiled.PLANS` (name to confirm).
    plans: Any = importlib.import_module("schema.compiled").PLANS
    slug, needle = "zz-literal-slug-42", "needle-7731"
    workspace = await Workspace.create(slug=slug, name="Literal")
    for who in ("viewer", "member"):
        await Membership.create(workspace=workspace, user=world.users[who], role=Role(who))
    project = await Project.create(workspace=workspace, key="LIT", name="Literal")
    for n in range(1, 6):
        await Issue.create(
            project=project, number=n, title=f"{needle} {n}", author=world.users["member"]
        )
    page = f'issues(first: 2, filter: {{state: ALL, q: "{needle}"}})'
    first = await gql(
        client,
        f'{{ project(workspace: "{slug}", key: "LIT") {{ {page} {{'
        " pageInfo { endCursor } nodes { number } } } }",
        world.h("viewer"),
    )
    assert first.get("errors") is None, first
    cursor = first["data"]["project"]["issues"]["pageInfo"]["endCursor"]
    values = (slug, needle, cursor)
    documents = [
        (
            f'{{ workspace(slug: "{slug}") {{ slug projects(first: 5) {{ nodes {{ key'
            f' issues(first: 2, after: "{cursor}", filter: {{state: ALL, q: "{needle}"}}) {{'
            " nodes { number title } } } } } }",
            {},
        ),
        (
            f'{{ issue(workspace: "{slug}", project: "LIT", number: 3) {{ title }} }}',
            {},
        ),
        (
            'query($s: String!, $q: String, $c: String) { project(workspace: $s, key: "LIT") {'
            " issues(first: 2, after: $c, filter: {state: ALL, q: $q}) { nodes { number } } } }",
            {"s": slug, "q": needle, "c": cursor},
        ),
    ]
    for query, variables in documents:
        with count_sql() as sql:
            answer = await gql(client, query, world.h("viewer"), variables)
        assert answer.get("errors") is None, answer
        sent = "\n".join(sql.statements)
        assert not [v for v in values if v in sent], sql
    cached = [text for plan in plans.values() for text in _sql_texts(plan)]
    assert cached, "no SQL text found in the plan cache"
    leaked = [(v, text) for text in cached for v in values if v in text]
    assert not leaked, leaked[:3]


async def test_a_node_and_the_events_are_one_statement(
    client: httpx.AsyncClient, world: World
) -> None:
    await _with_comments(world, 3, 2)
    issue = await Issue.get(project=world.project, number=1)
    workspace = await Workspace.get(slug="acme")
    for n in range(3):
        await Event.create(workspace=workspace, type="x", subject_id=str(n), data={"n": n})
    node = (
        "query($id: ID!) { node(id: $id) { id ... on Issue { title"
        " comments(first: 5) { nodes { body } } } } }"
    )
    events = (
        '{ workspace(slug: "acme") {'
        " events(first: 5) { nodes { type data actor { username } } } } }"
    )
    for query, variables in (
        (node, {"id": to_global_id("Issue", issue.id)}),
        (node, {"id": to_global_id("Issue", 10**12)}),  # nobody's: null, still one statement
        (events, None),
        (
            "query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Issue { number } } }",
            {"ids": [to_global_id("Issue", issue.id), "nonsense", to_global_id("Workspace", 1)]},
        ),
    ):
        await answered(client, query, world.h("viewer"), variables, statements=1)


async def test_workspaces_of_users_cost_one_statement(
    client: httpx.AsyncClient, world: World
) -> None:
    """`User.workspaces` pages a user's memberships and shows their workspaces: the caller's
    own, and another member's cut to those the caller shares, in one statement; and `GET
    /workspaces` the same."""
    other = await Workspace.create(slug="other", name="Other")
    await Membership.create(workspace=other, user=world.users["member"], role=Role.admin)
    query = """{ viewer { workspaces { totalCount nodes { slug viewerRole } } }
      workspace(slug: "acme") { members { nodes { user { username
        workspaces(first: 5) { totalCount nodes { slug } } } } } } }"""
    answer = await answered(client, query, world.h("member"), statements=2)  # one a root field
    mine = answer["data"]["viewer"]["workspaces"]
    assert mine == {
        "totalCount": 2,
        "nodes": [
            {"slug": "acme", "viewerRole": "MEMBER"},
            {"slug": "other", "viewerRole": "ADMIN"},
        ],
    }
    for member in answer["data"]["workspace"]["members"]["nodes"]:
        seen = [w["slug"] for w in member["user"]["workspaces"]["nodes"]]
        assert seen == (["acme", "other"] if member["user"]["username"] == "member" else ["acme"])
    _, admin = await counted(client, query, world.h("viewer"))
    shared = {
        m["user"]["username"]: m["user"]["workspaces"]["totalCount"]
        for m in admin["data"]["workspace"]["members"]["nodes"]
    }
    assert shared["member"] == 1  # `other` is not the viewer's
    with count_sql() as sql:
        listed = await client.get("/api/v1/workspaces?limit=1", headers=world.h("member"))
    assert [w["slug"] for w in listed.json()["items"]] == ["acme"]
    assert sql.count == PRINCIPAL + 1, sql
    following = await client.get(
        "/api/v1/workspaces",
        params={"cursor": listed.json()["next_cursor"]},
        headers=world.h("member"),
    )
    assert [w["slug"] for w in following.json()["items"]] == ["other"], following.text


async def test_a_list_of_the_root_object_follows_its_cursors_in_one_statement(
    client: httpx.AsyncClient, world: World
) -> None:
    """A cursor names its list's parent: for the root's own lists the statement checks it
    (another list's cursor finds no row and the resolvers say why, as before)."""
    query = """query($after: String) { workspace(slug: "acme") {
      members(first: 1, after: $after) { nodes { user { username } } pageInfo { endCursor } }
    } }"""
    count, first = await counted(client, query, world.h("member"))
    assert count == 1, first
    cursor = first["data"]["workspace"]["members"]["pageInfo"]["endCursor"]
    count, second = await counted(client, query, world.h("member"), {"after": cursor})
    assert count == 1, second
    seen = [first, second]
    assert [a["data"]["workspace"]["members"]["nodes"][0] for a in seen] != [None, None]
    assert seen[0] != seen[1]
    await Label.create(project=world.project, name="a", name_key="a", color="#000000")
    await Label.create(project=world.project, name="b", name_key="b", color="#000000")
    labels = await client.post(
        "/graphql",
        json={
            "query": '{ project(workspace: "acme", key: "WEB") { labels(first: 1) {'
            " pageInfo { endCursor } } } }"
        },
        headers=world.h("member"),
    )
    foreign = labels.json()["data"]["project"]["labels"]["pageInfo"]["endCursor"]
    count, refused = await counted(client, query, world.h("member"), {"after": foreign})
    assert refused["errors"][0]["extensions"]["code"] == "VALIDATION_FAILED", refused
    assert count > 1  # the compiled statement found no row; the resolvers explained
