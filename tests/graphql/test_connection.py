"""The list shapes of both APIs on small apps of their own: GraphQL `Connection[T]` over keyset
pages with per-request DataLoaders over batch loads, and REST `PageOut[T]` with its `Link`."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import strawberry
from fastapi import FastAPI, Request, Response
from graphql import GraphQLObjectType
from pydantic import BaseModel
from strawberry.types import Info

from gateway.core.ids import to_global_id
from gateway.core.paging import PageArgs, keyset_page, order
from gateway.core.settings import Settings
from gateway.http.problems import install_problem_handlers
from gateway.rest.pages import PageOut, PageParamsDep, page_out
from models import Issue, IssueLabel, Label, Project, User, Workspace
from schema.connection import After, Before, Connection, First, Last, to_connection
from schema.context import Context
from schema.http.errors import CatalogueErrors
from schema.loaders import Loaders
from schema.node import Node
from tests.sql_counter import count_sql


def new_context() -> Context:
    """An anonymous request's context, with loaders of its own."""
    return Context(Settings.model_construct(), None, Loaders)


Row = dict[str, Any]


async def users_by_id(ids: list[int]) -> list[str | None]:
    names = dict(await User.filter(id__in=ids).values_list("id", "username"))
    return [names.get(pk) for pk in ids]


async def labels_of(issue_ids: list[int]) -> list[list[str]]:
    rows = await (
        IssueLabel.filter(issue_id__in=issue_ids)
        .order_by("label__name_key")
        .values_list("issue_id", "label__name")
    )
    groups: dict[int, list[str]] = {pk: [] for pk in issue_ids}
    for issue_id, name in rows:
        groups[issue_id].append(name)
    return [groups[pk] for pk in issue_ids]


@strawberry.type(name="Issue")
class IssueNode(Node):
    number: int
    pk: strawberry.Private[int]
    author_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: Row) -> IssueNode:
        return cls(
            id=strawberry.ID(to_global_id("Issue", row["id"])),
            number=row["number"],
            pk=row["id"],
            author_id=row["author_id"],
        )

    @strawberry.field
    async def author(self, info: Info[Context, None]) -> str | None:
        return await info.context.loaders.loader("users.by_id", users_by_id).load(self.author_id)

    @strawberry.field
    async def labels(self, info: Info[Context, None]) -> list[str]:
        return await info.context.loaders.loader("issue.labels", labels_of).load(self.pk)


@strawberry.type(name="Query")
class ListQuery:
    @strawberry.field
    async def issues(
        self, first: First = None, after: After = None, last: Last = None, before: Before = None
    ) -> Connection[IssueNode]:
        args = PageArgs(first=first, after=after, last=last, before=before)
        page = await keyset_page(Issue.all(), order("number", "id"), **args, fields=["author_id"])
        return to_connection(page, IssueNode.from_row)


SCHEMA = strawberry.Schema(query=ListQuery, extensions=[CatalogueErrors])


async def run(query: str, **variables: Any) -> dict[str, Any]:
    result = await SCHEMA.execute(query, variable_values=variables, context_value=new_context())
    errors = [e.formatted for e in result.errors or []]
    return {"data": result.data, "errors": errors}


@pytest.fixture
async def issues() -> list[Issue]:
    """12 issues by 3 authors, each issue with up to two of 3 labels."""
    workspace = await Workspace.create(slug="acme", name="Acme")
    project = await Project.create(workspace=workspace, key="ACME", name="Acme")
    authors = [
        await User.create(username=n, email=f"{n}@x.io", email_key=f"{n}@x.io", password_hash="-")
        for n in ("ann", "ben", "cy")
    ]
    labels = [
        await Label.create(project=project, name=n, name_key=n.lower(), color="#ffffff")
        for n in ("bug", "UI", "api")
    ]
    for n in range(1, 13):
        issue = await Issue.create(project=project, number=n, title=f"#{n}", author=authors[n % 3])
        for label in labels[n % 3 : n % 3 + n % 2 + 1]:
            await IssueLabel.create(issue=issue, label=label)
    return await Issue.all().order_by("number")


def sdl_fields(type_name: str) -> dict[str, str]:
    """`{field: type}` of one object type of the schema, arguments included."""
    graphql_type = SCHEMA._schema.get_type(type_name)
    assert isinstance(graphql_type, GraphQLObjectType), type_name
    return {
        name + "".join(f" {a}:{arg.type}" for a, arg in f.args.items()): str(f.type)
        for name, f in graphql_type.fields.items()
    }


def test_connection_types_are_named_after_their_node() -> None:
    connection = {
        "edges": "[IssueEdge!]!",
        "nodes": "[Issue!]!",
        "pageInfo": "PageInfo!",
        "totalCount": "Int!",
    }
    assert sdl_fields("IssueConnection") == connection
    assert sdl_fields("IssueEdge") == {"cursor": "String!", "node": "Issue!"}
    assert sdl_fields("PageInfo") == {
        "hasNextPage": "Boolean!",
        "hasPreviousPage": "Boolean!",
        "startCursor": "String",
        "endCursor": "String",
    }
    assert sdl_fields("Query") == {
        "issues first:Int after:String last:Int before:String": "IssueConnection!"
    }


PAGE = """query($first: Int, $after: String, $last: Int, $before: String) {
  issues(first: $first, after: $after, last: $last, before: $before) {
    edges { cursor node { number } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"""


async def test_pages_forward_and_back(issues: list[Issue]) -> None:
    numbers: list[int] = []
    after = None
    for _ in range(10):
        result = await run(PAGE, first=5, after=after)
        connection = result["data"]["issues"]
        numbers += [e["node"]["number"] for e in connection["edges"]]
        info = connection["pageInfo"]
        assert info["startCursor"] == connection["edges"][0]["cursor"]
        assert info["endCursor"] == connection["edges"][-1]["cursor"]
        assert info["hasPreviousPage"] is (after is not None)
        if not info["hasNextPage"]:
            break
        after = info["endCursor"]
    assert numbers == list(range(1, 13))
    back = (await run(PAGE, last=5, before=after))["data"]["issues"]
    assert [e["node"]["number"] for e in back["edges"]] == list(range(5, 10))
    assert back["pageInfo"]["hasPreviousPage"]
    assert back["pageInfo"]["hasNextPage"]


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"first": 101}, "first"),
        ({"first": 0}, "first"),
        ({"last": 101}, "last"),
        ({"first": 1, "last": 1}, "last"),
        ({"after": "bm90IGEgY3Vyc29y"}, "cursor"),
    ],
)
async def test_bad_arguments_are_validation_failed(
    issues: list[Issue], variables: dict[str, Any], field: str
) -> None:
    result = await run(PAGE, **variables)
    assert result["data"] is None  # the field is non-null, so the null reaches the root
    [error] = result["errors"]
    assert error["extensions"]["code"] == "VALIDATION_FAILED"
    assert [f["field"] for f in error["extensions"]["fields"]] == [field]


DEEP = "query($first: Int) { issues(first: $first) { edges { node { number author labels } } } }"


@pytest.mark.parametrize("first", [2, 12])
async def test_relations_cost_one_statement_each_whatever_the_page_size(
    issues: list[Issue], first: int
) -> None:
    with count_sql() as sql:
        result = await run(DEEP, first=first)
    assert not result["errors"]
    edges = result["data"]["issues"]["edges"]
    assert len(edges) == first
    assert sql.count == 3, sql  # the page, the authors, the labels
    by_number = {e["node"]["number"]: e["node"] for e in edges}
    assert by_number[1] == {"number": 1, "author": "ben", "labels": ["api", "UI"]}  # by name_key
    assert by_number[2] == {"number": 2, "author": "cy", "labels": ["api"]}


async def test_total_count_runs_only_when_selected(issues: list[Issue]) -> None:
    with count_sql() as sql:
        await run("{ issues(first: 3) { edges { cursor } } }")
    assert sql.count == 1, sql
    with count_sql() as sql:
        result = await run("{ issues(first: 3) { totalCount edges { cursor } } }")
    assert sql.count == 2, sql
    assert result["data"]["issues"]["totalCount"] == 12


async def test_loaders_are_named_per_request_and_cleared_after_writes() -> None:
    calls: list[list[int]] = []

    async def echo(keys: list[int]) -> list[int]:
        calls.append(keys)
        return keys

    request = new_context().loaders
    assert request.loader("a", echo) is request.loader("a", echo)
    assert request.loader("a", echo) is not request.loader("b", echo)
    assert new_context().loaders.loader("a", echo) is not request.loader("a", echo)
    assert [await request.loader("a", echo).load(3) for _ in range(2)] == [3, 3]
    request.clear()
    assert await request.loader("a", echo).load(3) == 3
    assert calls == [[3], [3]]


class Item(BaseModel):
    number: int


def rest_app() -> FastAPI:
    api = FastAPI()
    install_problem_handlers(api)

    @api.get("/issues")
    async def list_issues(
        paging: PageParamsDep, request: Request, response: Response
    ) -> PageOut[Item]:
        queryset = Issue.all()
        page = await keyset_page(queryset, order("number", "id"), **paging.args(), fields=[])
        return page_out(
            page, lambda r: Item(number=r["number"]), request=request, response=response
        )

    return api


async def test_rest_pages_follow_their_link_headers(issues: list[Issue]) -> None:
    transport = httpx.ASGITransport(app=rest_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        url, numbers = "/issues?limit=5&label=a&label=b&q=x%20y", []
        for _ in range(10):
            response = await http.get(url)
            body = response.json()
            numbers += [item["number"] for item in body["items"]]
            if body["next_cursor"] is None:
                assert "link" not in response.headers
                break
            link = response.headers["link"]
            assert link.endswith('>; rel="next"')
            url = link[1 : link.index(">")]
            assert parse_qs(urlsplit(url).query) == {
                "limit": ["5"],
                "label": ["a", "b"],
                "q": ["x y"],
                "cursor": [body["next_cursor"]],
            }
        assert numbers == list(range(1, 13))
        default = (await http.get("/issues")).json()
        assert (len(default["items"]), default["next_cursor"]) == (12, None)
        for query, field in [
            ("limit=0", "limit"),
            ("limit=101", "limit"),
            ("limit=x", "limit"),
            ("cursor=garbage", "cursor"),
            ("cursor=" + "a" * 1025, "cursor"),
        ]:
            response = await http.get(f"/issues?{query}")
            assert response.status_code == 422
            assert response.headers["content-type"] == "application/problem+json"
            assert [e["field"] for e in response.json()["errors"]] == [field]
