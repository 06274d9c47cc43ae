"""Input hardening (issue 8, items 3 to 5): list caps and a flat label filter, NUL characters
refused on every text input of both APIs, bounded integer path parameters, and the security
headers on an unexpected 500."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from gateway.core.ids import to_global_id
from gateway.core.settings import Settings
from gateway.core.validation import InputModel
from gateway.http.app import create_app
from gateway.repositories import issues as issue_repo
from gateway.repositories.issues import IssueFilter
from models import Issue, IssueLabel, Label, User, Workspace
from tests.auth_helpers import PASSWORD, gql, sign_in
from tests.factories import World

ISSUES = "/api/v1/workspaces/acme/projects/WEB/issues"
FILTER = """query($labels: [String!], $q: String) {
  project(workspace: "acme", key: "WEB") {
    issues(filter: {state: ALL, labels: $labels, q: $q}) { edges { node { number } } }
  }
}"""
CREATE = """mutation($input: CreateIssueInput!) {
  createIssue(input: $input) { issue { number title } }
}"""


async def labelled_issues(world: World, count: int) -> list[Label]:
    """`count` labels, issue 1 carrying all of them and issue 2 all but the last."""
    labels = [
        await Label.create(project=world.project, name=f"l{i}", name_key=f"l{i}", color="#000000")
        for i in range(count)
    ]
    for number, carried in ((1, labels), (2, labels[:-1])):
        issue = await Issue.create(
            project=world.project, number=number, title=f"I{number}", author=world.users["owner"]
        )
        for label in carried:
            await IssueLabel.create(issue=issue, label=label)
    return labels


def fields(answer: dict[str, Any]) -> list[str]:
    """The failing fields of a REST problem or of a GraphQL answer's first error."""
    if "errors" in answer and "extensions" in answer["errors"][0]:
        return [f["field"] for f in answer["errors"][0]["extensions"].get("fields", [])]
    return [e["field"] for e in answer["errors"]]


def code(answer: dict[str, Any]) -> str:
    return str(answer["errors"][0]["extensions"]["code"])


# --- item 3: list caps and a flat "all labels" filter -------------------------------------------


async def test_rest_label_filter_is_capped_at_20(client: httpx.AsyncClient, world: World) -> None:
    await labelled_issues(world, 20)
    names = "&".join(f"label=L{i}" for i in range(20))
    ok = await client.get(f"{ISSUES}?state=all&{names}", headers=world.h("owner"))
    assert ok.status_code == 200, ok.text
    assert [i["number"] for i in ok.json()["items"]] == [1]

    for count in (21, 1000):
        names = "&".join(f"label=l{i}" for i in range(count))
        refused = await client.get(f"{ISSUES}?{names}", headers=world.h("owner"))
        assert refused.status_code == 422, refused.text
        assert refused.json()["code"] == "VALIDATION_FAILED"
        assert fields(refused.json()) == ["label"]


async def test_graphql_label_filter_is_capped_at_20(
    client: httpx.AsyncClient, world: World
) -> None:
    await labelled_issues(world, 20)
    ok = await gql(client, FILTER, world.h("owner"), {"labels": [f"l{i}" for i in range(20)]})
    assert ok["data"]["project"]["issues"]["edges"] == [{"node": {"number": 1}}], ok

    for count in (21, 40_000):
        started = time.perf_counter()
        refused = await gql(
            client, FILTER, world.h("owner"), {"labels": [f"l{i}" for i in range(count)]}
        )
        assert time.perf_counter() - started < 2
        assert code(refused) == "VALIDATION_FAILED", refused
        assert fields(refused) == ["filter.labels"], refused


async def test_label_filter_sql_does_not_nest_per_label(world: World) -> None:
    # Below the services' cap this once built one nested AND per label: RecursionError at 1,000.
    await labelled_issues(world, 3)
    many = IssueFilter(state=None, labels=tuple(f"l{i}" for i in range(1000)))
    assert await issue_repo.counts([world.project.id], many) == {world.project.id: 0}
    three = IssueFilter(state=None, labels=("l0", "l1", "l2"))
    assert await issue_repo.counts([world.project.id], three) == {world.project.id: 1}
    two = IssueFilter(state=None, labels=("l0", "l1"))
    assert await issue_repo.counts([world.project.id], two) == {world.project.id: 2}


async def test_an_issue_carries_at_most_20_labels(client: httpx.AsyncClient, world: World) -> None:
    labels = [
        await Label.create(project=world.project, name=f"l{i}", name_key=f"l{i}", color="#000000")
        for i in range(21)
    ]
    names = [label.name for label in labels]
    rest = await client.post(ISSUES, json={"title": "T", "labels": names}, headers=world.h("owner"))
    assert rest.status_code == 422, rest.text
    assert fields(rest.json()) == ["labels"]

    ids = [to_global_id("Label", label.id) for label in labels]
    project_id = to_global_id("Project", world.project.id)
    answer = await gql(
        client,
        CREATE,
        world.h("owner"),
        {"input": {"projectId": project_id, "title": "T", "labelIds": ids}},
    )
    assert code(answer) == "VALIDATION_FAILED", answer
    assert fields(answer) == ["labels"]
    assert await Issue.all().count() == 0

    twenty = await client.post(
        ISSUES, json={"title": "T", "labels": names[:20]}, headers=world.h("owner")
    )
    assert twenty.status_code == 201, twenty.text


async def test_token_scopes_are_capped(client: httpx.AsyncClient, world: World) -> None:
    body = {"name": "ci", "scopes": ["read", "write", "admin", "read"]}
    refused = await client.post("/api/v1/me/tokens", json=body, headers=world.h("owner"))
    assert refused.status_code == 422, refused.text
    assert fields(refused.json()) == ["scopes"]


async def test_graphql_list_arguments_are_capped(client: httpx.AsyncClient, world: World) -> None:
    # Any list argument, before a resolver decodes its items (issues have a lower cap of 20).
    project_id = to_global_id("Project", world.project.id)
    ids = [to_global_id("Label", n) for n in range(1, 102)]
    payload = {"projectId": project_id, "title": "T", "labelIds": ids}
    answer = await gql(client, CREATE, world.h("owner"), {"input": payload})
    assert code(answer) == "VALIDATION_FAILED", answer
    assert fields(answer) == ["input.labelIds"]


def _arrays(schema: Any, path: str) -> list[str]:
    """Paths of the array schemas under `schema` that lack `maxItems`."""
    found: list[str] = []
    if isinstance(schema, dict):
        if schema.get("type") == "array" and "maxItems" not in schema:
            found.append(path)
        for key, value in schema.items():
            found.extend(_arrays(value, f"{path}.{key}"))
    elif isinstance(schema, list):
        for index, value in enumerate(schema):
            found.extend(_arrays(value, f"{path}.{index}"))
    return found


async def test_every_rest_list_input_is_capped_in_openapi(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    schemas = spec["components"]["schemas"]
    uncapped: list[str] = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                where = f"{method} {path} {parameter['name']}"
                uncapped.extend(_arrays(parameter.get("schema", {}), where))
            content = operation.get("requestBody", {}).get("content", {})
            for media in content.values():
                ref = media.get("schema", {}).get("$ref", "")
                name = ref.rsplit("/", 1)[-1]
                uncapped.extend(_arrays(schemas.get(name, media.get("schema")), name))
    assert uncapped == []


# --- item 4: NUL characters ---------------------------------------------------------------------


def _api_routes(routes: Iterable[BaseRoute]) -> Iterator[APIRoute]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        included = getattr(route, "original_router", None)  # FastAPI's included routers
        if included is not None:
            yield from _api_routes(included.routes)


def test_every_rest_body_is_an_input_model(app: FastAPI) -> None:
    bodies = {
        param.field_info.annotation
        for route in _api_routes(app.routes)
        for param in route.dependant.body_params
    }
    models = {b for b in bodies if isinstance(b, type)}
    assert models, "no body models found"
    # The OAuth2 password form is not a model: `text_parameters` checks its fields.
    assert {m.__name__ for m in models if not issubclass(m, InputModel)} == set()


NUL = "a\x00b"


async def test_rest_bodies_refuse_nul(client: httpx.AsyncClient, world: World) -> None:
    await Issue.create(project=world.project, number=1, title="I", author=world.users["owner"])
    issue = f"{ISSUES}/1"
    cases: list[tuple[str, str, dict[str, Any], str]] = [
        ("POST", ISSUES, {"title": NUL}, "title"),
        ("POST", ISSUES, {"title": "T", "body": NUL}, "body"),
        ("POST", ISSUES, {"title": "T", "labels": ["ok", NUL]}, "labels"),
        ("PATCH", issue, {"title": NUL}, "title"),
        ("POST", f"{issue}/comments", {"body": NUL}, "body"),
        ("POST", "/api/v1/workspaces", {"slug": "nul", "name": NUL}, "name"),
        ("PATCH", "/api/v1/me", {"display_name": NUL}, "display_name"),
        ("POST", "/api/v1/me/tokens", {"name": NUL, "scopes": ["read"]}, "name"),
        (
            "POST",
            "/api/v1/workspaces/acme/projects/WEB/labels",
            {"name": "x", "color": "#000000", "description": NUL},
            "description",
        ),
        ("POST", "/api/v1/workspaces/acme/projects", {"key": "NUL", "name": NUL}, "name"),
    ]
    for method, url, body, field in cases:
        response = await client.request(method, url, json=body, headers=world.h("owner"))
        assert response.status_code == 422, (url, body, response.text)
        assert response.json()["code"] == "VALIDATION_FAILED"
        assert fields(response.json()) == [field], (url, response.text)
    assert [issue.title for issue in await Issue.all()] == ["I"]
    assert await Workspace.all().count() == 1


async def test_sign_up_and_sign_in_refuse_nul(client: httpx.AsyncClient, world: World) -> None:
    good = {"email": "bob@example.com", "username": "bob", "password": PASSWORD}
    for field in good:
        response = await client.post("/api/v1/users", json={**good, field: NUL})
        assert response.status_code == 422, response.text
        assert fields(response.json()) == [field]
    assert await User.filter(username="bob").count() == 0

    for field in ("username", "password"):
        form = {"grant_type": "password", "username": "owner", "password": PASSWORD, field: NUL}
        response = await client.post("/api/v1/auth/token", data=form)
        assert response.status_code == 422, response.text
        assert fields(response.json()) == [field]
    assert (await sign_in(client, "owner")).status_code == 200


async def test_rest_parameters_refuse_nul(client: httpx.AsyncClient, world: World) -> None:
    for url, field in (
        (f"{ISSUES}?q=a%00b", "q"),
        (f"{ISSUES}?label=bug&label=a%00b", "label"),
        (f"{ISSUES}?assignee=a%00b", "assignee"),
        ("/api/v1/workspaces/ac%00me", "slug"),
        ("/api/v1/workspaces/acme/projects/W%00B/issues", "key"),
        ("/api/v1/users/al%00ice", "username"),
    ):
        response = await client.get(url, headers=world.h("owner"))
        assert response.status_code == 422, (url, response.text)
        assert fields(response.json()) == [field], url


async def test_graphql_arguments_refuse_nul(client: httpx.AsyncClient, world: World) -> None:
    project_id = to_global_id("Project", world.project.id)
    by_variable = await gql(
        client, CREATE, world.h("owner"), {"input": {"projectId": project_id, "title": NUL}}
    )
    literal = (
        'mutation { createIssue(input: {projectId: "%s", title: "a\\u0000b"})'
        " { issue { number } } }"
    )
    by_literal = await gql(client, literal % project_id, world.h("owner"))
    in_list = await gql(client, FILTER, world.h("owner"), {"labels": ["bug", NUL]})
    in_text = await gql(client, FILTER, world.h("owner"), {"q": NUL})
    slug = await gql(client, 'query { workspace(slug: "ac\\u0000me") { id } }', world.h("owner"))
    default = await gql(
        client, 'query($s: String! = "a\\u0000") { workspace(slug: $s) { id } }', world.h("owner")
    )
    for answer, field in (
        (by_variable, "input.title"),
        (by_literal, "input.title"),
        (in_list, "filter.labels.1"),
        (in_text, "filter.q"),
        (slug, "slug"),
        (default, "$s"),
    ):
        assert code(answer) == "VALIDATION_FAILED", answer
        assert fields(answer) == [field], answer
    assert await Issue.all().count() == 0


# --- item 5: huge integers in paths, and headers on a 500 -----------------------------------------


async def test_huge_path_integers_are_refused(client: httpx.AsyncClient, world: World) -> None:
    await Issue.create(project=world.project, number=1, title="I", author=world.users["owner"])
    for url, field in (
        (f"{ISSUES}/1/comments/999999999999999999999999999999", "comment_id"),
        (f"{ISSUES}/1/comments/0", "comment_id"),
        (f"{ISSUES}/2147483648/comments", "number"),
        (f"{ISSUES}/2147483648", "number"),
        ("/api/v1/me/tokens/9223372036854775808", "token_id"),
    ):
        response = await client.get(url, headers=world.h("owner"))
        assert response.status_code == 422, (url, response.text)
        assert fields(response.json()) == [field], url
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    for url in (
        f"{ISSUES}/1/comments/9223372036854775807",
        f"{ISSUES}/2147483647/comments",
        "/api/v1/me/tokens/9223372036854775807",
    ):
        response = await client.get(url, headers=world.h("owner"))
        assert response.status_code == 404, (url, response.text)
    delete = await client.delete("/api/v1/me/tokens/9223372036854775808", headers=world.h("owner"))
    assert delete.status_code == 422


async def test_openapi_bounds_path_integers(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    bounds = {
        (parameter["name"], parameter["schema"].get("minimum"), parameter["schema"].get("maximum"))
        for operations in spec["paths"].values()
        for operation in operations.values()
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "path" and parameter["schema"].get("type") == "integer"
    }
    assert ("comment_id", 1, 2**63 - 1) in bounds
    assert ("token_id", 1, 2**63 - 1) in bounds
    assert ("number", 1, 2**31 - 1) in bounds
    assert all(low is not None and high is not None for _, low, high in bounds), bounds


async def test_graphql_huge_numbers_are_not_found(client: httpx.AsyncClient, world: World) -> None:
    huge = to_global_id("Issue", 10**30)
    node = await gql(
        client, "query($id: ID!) { node(id: $id) { id } }", world.h("owner"), {"id": huge}
    )
    assert node["data"] == {"node": None}, node
    number = await gql(
        client, 'query { issue(workspace: "acme", project: "WEB", number: 2147483648) { id } }'
    )
    assert number.get("data") is None, number
    assert number["errors"], number


async def test_an_unexpected_500_carries_the_security_headers(settings: Settings) -> None:
    app = create_app(settings)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("boom")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        response = await http.get("/boom", headers={"Authorization": "Bearer x"})
    assert response.status_code == 500
    assert response.json()["code"] == "INTERNAL"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert response.headers["Cache-Control"] == "private, no-cache"
    assert response.headers["X-Request-ID"] == response.json()["request_id"]
