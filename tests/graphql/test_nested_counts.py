"""Statement counts of issue lists over GraphQL, and the batched first pages behind nested
connections (`gateway.repositories.nested`): same rows, cursors and `hasNext` as the keyset
path, one statement whatever the number of parents."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from tortoise.expressions import Q

from gateway.core.paging import Page, keyset_page
from gateway.repositories.issues import ISSUE_FIELDS, ORDERINGS
from gateway.repositories.nested import count_per_parent, pages_per_parent
from models import Issue, Label
from tests.auth_helpers import gql
from tests.factories import World, fill, project_of
from tests.sql_counter import count_sql


@pytest.mark.parametrize("ordering", sorted(ORDERINGS))
async def test_first_pages_match_keyset_pages(world: World, ordering: tuple[str, bool]) -> None:
    projects = [await project_of(world, key) for key in ("WEB", "API", "OPS")]
    await fill(world, projects[0], 7)
    await fill(world, projects[1], 3)
    queryset = Issue.filter(Q(title__icontains="#") | Q(body__icontains="#"))
    ids = [p.id for p in projects]
    with count_sql() as sql:
        pages = await pages_per_parent(
            queryset,
            "project_id",
            ids,
            ORDERINGS[ordering],
            first=3,
            fields=ISSUE_FIELDS,
            scope=lambda _: "s",
        )
    assert sql.count == 1, sql
    for project in projects:
        single = queryset.filter(project_id=project.id)
        alone = await keyset_page(
            single, ORDERINGS[ordering], first=3, fields=ISSUE_FIELDS, scope="s"
        )
        page = pages[project.id]
        assert isinstance(page, Page)
        assert [r["id"] for r in page.rows] == [r["id"] for r in alone.rows]
        assert page.cursors == alone.cursors
        assert (page.has_next, page.has_previous) == (alone.has_next, False)
        if page.has_next:  # the batched cursor continues on the keyset path
            rest = await keyset_page(
                single,
                ORDERINGS[ordering],
                first=100,
                after=page.end_cursor,
                fields=ISSUE_FIELDS,
                scope="s",
            )
            whole = await keyset_page(
                single, ORDERINGS[ordering], first=100, fields=ISSUE_FIELDS, scope="s"
            )
            assert [r["id"] for r in page.rows + rest.rows] == [r["id"] for r in whole.rows]
    with count_sql() as sql:
        counts = await count_per_parent(queryset, "project_id", ids)
    assert sql.count == 1
    assert counts == {ids[0]: 7, ids[1]: 3, ids[2]: 0}


PAGE = """query($first: Int!) {
  project(workspace: "acme", key: "WEB") {
    issues(first: $first, filter: {state: ALL}) {
      totalCount
      edges { node {
        number author { username } assignee { username } labels { name } commentCount
        project { key }
      } }
    }
  }
}"""


async def test_page_statements_do_not_grow(client: httpx.AsyncClient, world: World) -> None:
    await fill(world, world.project, 100)
    counts = []
    for first in (10, 100):
        with count_sql() as sql:
            answer = await gql(client, PAGE, world.h("viewer"), {"first": first})
        assert answer.get("errors") is None, answer
        issues = answer["data"]["project"]["issues"]
        assert issues["totalCount"] == 100
        nodes = [e["node"] for e in issues["edges"]]
        assert [n["number"] for n in nodes] == list(range(1, first + 1))
        assert all(len(n["labels"]) == 2 and n["commentCount"] == 1 for n in nodes)
        assert all(n["author"]["username"] == "member" for n in nodes)
        assert nodes[0]["assignee"] == {"username": "admin"}
        assert nodes[1]["assignee"] is None
        assert {n["project"]["key"] for n in nodes} == {"WEB"}
        counts.append(sql.count)
    assert counts[0] == counts[1], counts


NESTED = """{
  workspace(slug: "acme") { projects(first: 10) { edges { node { key
    issues(first: 20) { totalCount pageInfo { hasNextPage endCursor }
      edges { node { number assignee { username } labels { name } } } }
  } } } }
}"""

CONTINUE = """query($key: String!, $after: String!) {
  project(workspace: "acme", key: $key) {
    issues(first: 100, after: $after) { edges { node { number } } }
  }
}"""


async def _nested(http: httpx.AsyncClient, world: World) -> tuple[int, dict[str, Any]]:
    with count_sql() as sql:
        answer = await gql(http, NESTED, world.h("viewer"))
    assert answer.get("errors") is None, answer
    return sql.count, answer


async def test_nested_statements_depend_only_on_shape(
    client: httpx.AsyncClient, world: World
) -> None:
    for key in ("WEB", "API"):
        await fill(world, await project_of(world, key), 3)
    small, _ = await _nested(client, world)
    await Issue.all().delete()
    await Label.all().delete()
    keys = ("WEB", "API", "OPS", "DOC", "WWW")
    for key in keys:
        await fill(world, await project_of(world, key), 24)
    big, answer = await _nested(client, world)
    assert small == big, (small, big)

    projects = answer["data"]["workspace"]["projects"]["edges"]
    assert sorted(p["node"]["key"] for p in projects) == sorted(keys)
    open_numbers = [i for i in range(1, 25) if i % 7]  # the default filter: open issues
    for edge in projects:
        issues = edge["node"]["issues"]
        numbers = [e["node"]["number"] for e in issues["edges"]]
        assert numbers == open_numbers[:20]
        assert issues["totalCount"] == len(open_numbers)
        assert issues["pageInfo"]["hasNextPage"] is True
        assert all(len(e["node"]["labels"]) == 2 for e in issues["edges"])
        rest = await gql(
            client,
            CONTINUE,
            world.h("viewer"),
            {"key": edge["node"]["key"], "after": issues["pageInfo"]["endCursor"]},
        )
        more = [e["node"]["number"] for e in rest["data"]["project"]["issues"]["edges"]]
        assert numbers + more == open_numbers
