"""The resolver + DataLoader path stays correct and shape-bounded: no loader value outlives a
mutation in the same document, and nested connections cost a fixed number of statements per
level whatever the number of parents or rows (statement counts recorded in the asserts)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from gateway.core.errors import ValidationFailed
from gateway.core.ids import to_global_id
from gateway.core.paging import Page, keyset_page
from gateway.core.settings import Settings
from gateway.repositories.issues import ISSUE_FIELDS, ORDERINGS
from gateway.repositories.nested import pages_per_parent
from models import Comment, Issue, Label, Membership, Project, Role, Workspace
from tests.auth_helpers import gql
from tests.factories import World, fill, project_of
from tests.sql_counter import count_sql


@pytest.fixture(autouse=True)
def resolvers_only(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests measure the fallback: the resolvers with their DataLoaders."""
    monkeypatch.setattr(settings, "compiled_reads", False)


ISSUE_READ = """title commentCount comments(first: 1) { totalCount } labels { name }
  assignee { username } project { labels(first: 10) { totalCount edges { node { name } } } }"""

MUTATIONS = f"""mutation($issue: ID!, $project: ID!, $bug: ID!, $admin: ID!) {{
  one: addComment(input: {{issueId: $issue, body: "one"}}) {{
    comment {{ issue {{ commentCount }} }}
  }}
  two: addComment(input: {{issueId: $issue, body: "two"}}) {{
    comment {{ issue {{ {ISSUE_READ} }} }}
  }}
  update: updateIssue(
    input: {{id: $issue, title: "Renamed", labelIds: [$bug], assigneeId: $admin}}
  ) {{ issue {{ version }} }}
  label: createLabel(input: {{projectId: $project, name: "fresh", color: "#123456"}}) {{
    label {{ name }}
  }}
  three: addComment(input: {{issueId: $issue, body: "three"}}) {{
    comment {{ issue {{ {ISSUE_READ} }} }}
  }}
}}"""


async def test_no_loader_value_outlives_a_mutation(client: httpx.AsyncClient, world: World) -> None:
    issue = await Issue.create(
        project=world.project, number=1, title="Original", author=world.users["member"]
    )
    variables = {
        "issue": to_global_id("Issue", issue.id),
        "project": world.project_id,
        "bug": world.label_id("bug"),
        "admin": world.user_id("admin"),
    }
    answer = await gql(client, MUTATIONS, world.h("admin"), variables)
    assert answer.get("errors") is None, answer
    data = answer["data"]
    assert data["one"]["comment"]["issue"]["commentCount"] == 1
    two = data["two"]["comment"]["issue"]
    assert (two["commentCount"], two["comments"]["totalCount"]) == (2, 2)
    assert (two["title"], two["labels"], two["assignee"]) == ("Original", [], None)
    assert two["project"]["labels"]["totalCount"] == 3
    three = data["three"]["comment"]["issue"]
    assert (three["commentCount"], three["comments"]["totalCount"]) == (3, 3)
    assert three["title"] == "Renamed"
    assert three["labels"] == [{"name": "bug"}]
    assert three["assignee"] == {"username": "admin"}
    names = [e["node"]["name"] for e in three["project"]["labels"]["edges"]]
    assert names == ["bug", "Docs", "fresh", "ui"]
    assert three["project"]["labels"]["totalCount"] == 4


PAGE_WITH_COMMENTS = """query($first: Int!) {
  project(workspace: "acme", key: "WEB") {
    issues(first: $first, filter: {state: ALL}) { edges { node { number
      comments(first: 1) { totalCount pageInfo { hasNextPage endCursor } edges { node { body } } }
    } } }
  }
}"""


async def test_nested_comments_cost_the_same_for_10_and_100_issues(
    client: httpx.AsyncClient, world: World
) -> None:
    await fill(world, world.project, 100)
    issue = await Issue.get(project=world.project, number=2)
    await Comment.create(issue=issue, author=world.users["member"], body="second")
    counts = []
    for first in (10, 100):
        with count_sql() as sql:
            answer = await gql(client, PAGE_WITH_COMMENTS, world.h("viewer"), {"first": first})
        assert answer.get("errors") is None, answer
        nodes = [e["node"] for e in answer["data"]["project"]["issues"]["edges"]]
        assert len(nodes) == first
        assert [n["comments"]["totalCount"] for n in nodes[:3]] == [1, 2, 1]
        assert [n["comments"]["pageInfo"]["hasNextPage"] for n in nodes[:3]] == [False, True, False]
        assert all(n["comments"]["edges"] == [{"node": {"body": "hi"}}] for n in nodes)
        counts.append(sql.count)
    # principal 1, project(...) 2, issues page 3, comments page 3 + totals 1 (both databases)
    assert counts == [10, 10], counts


BOARD = """{
  workspace(slug: "acme") { projects(first: 10) { edges { node { key
    issues(first: 10) { edges { node { number labels { name } } } }
  } } } }
}"""


async def _board(client: httpx.AsyncClient, world: World) -> tuple[int, list[dict[str, Any]]]:
    with count_sql() as sql:
        answer = await gql(client, BOARD, world.h("viewer"))
    assert answer.get("errors") is None, answer
    edges: list[dict[str, Any]] = answer["data"]["workspace"]["projects"]["edges"]
    return sql.count, edges


async def test_board_costs_the_same_whatever_the_parents_and_rows(
    client: httpx.AsyncClient, world: World
) -> None:
    await fill(world, world.project, 2)
    small, _ = await _board(client, world)
    for key in ("API", "OPS", "DOC", "WWW", "ENG", "QA", "HR", "OKR", "ART"):
        await fill(world, await project_of(world, key), 12)
    big, projects = await _board(client, world)
    # principal 1, workspace 1, projects 2 (access, page), issues 3 (projects, access, page),
    # labels 1; the same on SQLite and PostgreSQL
    assert (small, big) == (8, 8)
    assert len(projects) == 10
    for edge in projects:
        issues = edge["node"]["issues"]["edges"]
        numbers = [1, 2] if edge["node"]["key"] == "WEB" else [1, 2, 3, 4, 5, 6, 8, 9, 10, 11]
        assert [e["node"]["number"] for e in issues] == numbers
        assert all(len(e["node"]["labels"]) == 2 for e in issues)


@pytest.mark.parametrize(
    "paging",
    [
        {"first": 2, "after": 1},
        {"last": 2},
        {"last": 2, "before": 5},
        {"first": 5, "after": 1, "before": 4},
        {"last": 1, "after": 1, "before": 4},
    ],
)
async def test_batched_pages_match_keyset_pages(world: World, paging: dict[str, int]) -> None:
    """Cursors (here positions of the first project's rows) bound every parent's page alike,
    in one statement, as `keyset_page` bounds each alone."""
    projects = [await project_of(world, key) for key in ("WEB", "API", "OPS")]
    await fill(world, projects[0], 7)
    await fill(world, projects[1], 3)
    ordering = ORDERINGS["number", False]
    queryset = Issue.all()
    ids = [p.id for p in projects]
    whole = await keyset_page(
        queryset.filter(project_id=ids[0]), ordering, first=100, fields=ISSUE_FIELDS, scope="s"
    )
    args: dict[str, Any] = {
        k: whole.cursors[v] if k in ("after", "before") else v for k, v in paging.items()
    }
    with count_sql() as sql:
        pages = await pages_per_parent(
            queryset, "project_id", ids, ordering, **args, fields=ISSUE_FIELDS, scope=lambda _: "s"
        )
    assert sql.count == 1, sql
    for pk in ids:
        alone = await keyset_page(
            queryset.filter(project_id=pk), ordering, **args, fields=ISSUE_FIELDS, scope="s"
        )
        page = pages[pk]
        assert isinstance(page, Page)
        assert [r["id"] for r in page.rows] == [r["id"] for r in alone.rows]
        assert page.cursors == alone.cursors
        assert (page.has_next, page.has_previous) == (alone.has_next, alone.has_previous)


async def test_a_cursor_of_another_parent_fails_only_there(world: World) -> None:
    projects = [await project_of(world, key) for key in ("WEB", "API")]
    await fill(world, projects[0], 3)
    ordering = ORDERINGS["number", False]
    ids = [p.id for p in projects]
    first = await keyset_page(
        Issue.filter(project_id=ids[0]), ordering, first=1, fields=ISSUE_FIELDS, scope=str(ids[0])
    )
    pages = await pages_per_parent(
        Issue.all(),
        "project_id",
        ids,
        ordering,
        first=5,
        after=first.end_cursor,
        fields=ISSUE_FIELDS,
        scope=str,
    )
    own = pages[ids[0]]
    assert isinstance(own, Page)
    assert [r["number"] for r in own.rows] == [2, 3]
    assert isinstance(pages[ids[1]], ValidationFailed)


WORKSPACES = """{
  viewer { workspaces(first: 10) { edges { node { slug
    members(first: 2) { totalCount edges { node { role user { username } } } }
    events(first: 2) { totalCount edges { node { type } } }
    projects(first: 5) { totalCount edges { node { key
      labels(first: 2) { totalCount pageInfo { hasNextPage } edges { node { name } } }
    } } }
  } } } }
}"""


async def _workspaces(client: httpx.AsyncClient, world: World) -> tuple[int, dict[str, Any]]:
    with count_sql() as sql:
        answer = await gql(client, WORKSPACES, world.h("viewer"))
    assert answer.get("errors") is None, answer
    found = {e["node"]["slug"]: e["node"] for e in answer["data"]["viewer"]["workspaces"]["edges"]}
    return sql.count, found


async def _workspace_of(world: World, slug: str, projects: int) -> None:
    """Workspace `slug` with the viewer and admin as members, `projects` projects of 3 labels."""
    workspace = await Workspace.create(slug=slug, name=slug)
    for who in ("viewer", "admin"):
        await Membership.create(workspace=workspace, user=world.users[who], role=Role(who))
    for n in range(projects):
        project = await Project.create(workspace=workspace, key=f"P{n}", name=f"P{n}")
        for name in ("a", "b", "c"):
            await Label.create(project=project, name=name, name_key=name, color="#000000")


async def test_workspace_connections_are_batched_per_level(
    client: httpx.AsyncClient, world: World
) -> None:
    await _workspace_of(world, "two", 1)
    small, _ = await _workspaces(client, world)
    for slug in ("three", "four", "five"):
        await _workspace_of(world, slug, 4)
    big, found = await _workspaces(client, world)
    # principal 1, viewer 1, workspaces 1; members: access 2, page, total, users; projects:
    # access 2, page, total; labels: projects, access 2, page, total; events: access 2, page,
    # total (SQLite and PostgreSQL)
    assert (small, big) == (21, 21)
    assert set(found) == {"acme", "two", "three", "four", "five"}
    assert found["acme"]["members"]["totalCount"] == 4
    assert [e["node"]["role"] for e in found["acme"]["members"]["edges"]] == ["VIEWER", "MEMBER"]
    four = found["four"]
    assert (four["members"]["totalCount"], four["projects"]["totalCount"]) == (2, 4)
    assert found["acme"]["events"] == {"totalCount": 0, "edges": []}
    assert [e["node"]["key"] for e in four["projects"]["edges"]] == ["P0", "P1", "P2", "P3"]
    for edge in four["projects"]["edges"]:
        labels = edge["node"]["labels"]
        assert [e["node"]["name"] for e in labels["edges"]] == ["a", "b"]
        assert (labels["totalCount"], labels["pageInfo"]["hasNextPage"]) == (3, True)
