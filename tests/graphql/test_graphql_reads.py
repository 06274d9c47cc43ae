"""The GraphQL read side of projects, labels, comments and events: `node(id:)`, connections
walked to the end, parity with REST field by field, and statement counts (no N+1)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from gateway.services import issue_inputs, issues, labels, projects, workspaces
from models import User
from tests.auth_helpers import bearer, gql, join, make_user, principal_of
from tests.helpers import rest_items, same_items, walk
from tests.sql_counter import count_sql

ACME = "/api/v1/workspaces/acme"
WEB = f"{ACME}/projects/WEB"


@pytest.fixture
async def people() -> dict[str, User]:
    """`acme` (owner ann, viewer vic) with project WEB, its label Bug and issue 1; stranger sam
    owns `other`."""
    found = {name: await make_user(name) for name in ("ann", "vic", "sam")}
    ann = principal_of(found["ann"])
    await workspaces.create_workspace(ann, workspaces.WorkspaceCreate(slug="acme", name="Acme"))
    await workspaces.create_workspace(
        principal_of(found["sam"]), workspaces.WorkspaceCreate(slug="other", name="Other")
    )
    await join("acme", found["ann"], found["vic"], "viewer")
    await projects.create_project(ann, "acme", projects.ProjectCreate(key="WEB", name="Web"))
    await labels.create_label(ann, ("acme", "WEB"), labels.LabelCreate(name="Bug", color="#ff0000"))
    await issues.create_issue(ann, ("acme", "WEB"), issue_inputs.IssueCreate(title="Broken"))
    return found


PROJECT = "id key name description isArchived issueCount version createdAt updatedAt"
LABEL = "id name color description version createdAt updatedAt"


async def rest_objects(client: httpx.AsyncClient, ann: dict[str, str]) -> dict[str, Any]:
    """One of each object through REST (as ann), by GraphQL type name."""
    comment = await client.post(f"{WEB}/issues/1/comments", json={"body": "Hi"}, headers=ann)
    assert comment.status_code == 201, comment.text
    return {
        "Project": (await client.get(WEB, headers=ann)).json(),
        "Label": (await rest_items(client, f"{WEB}/labels", ann))[0],
        "Comment": comment.json(),
        "Event": (await rest_items(client, f"{ACME}/events", ann))[0],
    }


NODE = (
    "id ... on Project { key name } ... on Label { name color }"
    " ... on Comment { body author { username } } ... on Event { type subjectId }"
)


async def test_node_matches_rest_and_is_null_for_a_stranger(
    app: FastAPI, client: httpx.AsyncClient, people: dict[str, User]
) -> None:
    objects = await rest_objects(client, bearer(app, people["ann"]))
    expected: dict[str, dict[str, Any]] = {
        "Project": {"key": "WEB", "name": "Web"},
        "Label": {"name": "Bug", "color": "#ff0000"},
        "Comment": {"body": "Hi", "author": {"username": "ann"}},
        "Event": {"type": "comment.created", "subjectId": objects["Comment"]["node_id"]},
    }
    query = f"query($id: ID!) {{ node(id: $id) {{ __typename {NODE} }} }}"
    for type_name, rest in objects.items():
        variables = {"id": rest["node_id"]}
        body = await gql(client, query, bearer(app, people["vic"]), variables)
        want = {"__typename": type_name, "id": rest["node_id"], **expected[type_name]}
        assert body == {"data": {"node": want}}, type_name
        stranger = await gql(client, query, bearer(app, people["sam"]), variables)
        assert stranger == {"data": {"node": None}}, type_name
    ids = [rest["node_id"] for rest in objects.values()]
    many = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }"
    body = await gql(client, many, bearer(app, people["vic"]), {"ids": ids})
    assert body == {"data": {"nodes": [{"id": i} for i in ids]}}
    body = await gql(client, many, bearer(app, people["sam"]), {"ids": ids})
    assert body == {"data": {"nodes": [None] * len(ids)}}


async def test_projects_and_labels_walk_to_the_end_like_rest(
    app: FastAPI, client: httpx.AsyncClient, people: dict[str, User]
) -> None:
    ann, vic = principal_of(people["ann"]), bearer(app, people["vic"])
    for key in ("APP", "ZED", "CORE", "API", "OPS", "DOCS"):
        await projects.create_project(ann, "acme", projects.ProjectCreate(key=key, name=key))
    for name in ("feature", "Docs", "ux", "Perf", "a11y", "chore", "Z"):
        create = labels.LabelCreate(name=name, color="#00aa00", description=name * 2)
        await labels.create_label(ann, ("acme", "WEB"), create)
    await client.patch(WEB, json={"is_archived": True}, headers=bearer(app, people["ann"]))

    got = await walk(client, vic, 'workspace(slug: "acme")', "projects", PROJECT)
    rest = await rest_items(client, f"{ACME}/projects", vic)
    assert [p["key"] for p in got] == [p["key"] for p in rest] == sorted(p["key"] for p in rest)
    assert len(rest) == 7
    same_items(got, rest)

    query = (
        'query($after: String) { project(workspace: "acme", key: "WEB") {'
        " workspace { id slug } labels(first: 3, after: $after) { totalCount"
        f" pageInfo {{ hasNextPage endCursor }} edges {{ node {{ {LABEL} }} }} }} }} }}"
    )
    found: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        body = await gql(client, query, vic, {"after": after})
        assert "errors" not in body, body
        assert body["data"]["project"]["workspace"]["slug"] == "acme"
        labels_page = body["data"]["project"]["labels"]
        found.extend(edge["node"] for edge in labels_page["edges"])
        assert labels_page["totalCount"] == 8
        if not labels_page["pageInfo"]["hasNextPage"]:
            break
        after = labels_page["pageInfo"]["endCursor"]
    rest_labels = await rest_items(client, f"{WEB}/labels", vic)
    assert [x["name"] for x in found] == [x["name"] for x in rest_labels]
    assert len(found) == 8
    same_items(found, rest_labels)

    backward = (
        'query { workspace(slug: "acme") { projects(last: 2) { pageInfo { hasPreviousPage }'
        " edges { node { key } } } } }"
    )
    body = await gql(client, backward, vic)
    assert body["data"]["workspace"]["projects"]["edges"] == [
        {"node": {"key": "WEB"}},
        {"node": {"key": "ZED"}},
    ]
    assert body["data"]["workspace"]["projects"]["pageInfo"]["hasPreviousPage"] is True


async def statements(client: httpx.AsyncClient, headers: dict[str, str], query: str) -> int:
    with count_sql() as sql:
        body = await gql(client, query, headers)
    assert "errors" not in body, body
    return sql.count


async def test_a_page_of_projects_or_labels_costs_the_same_whatever_its_size(
    app: FastAPI, client: httpx.AsyncClient, people: dict[str, User]
) -> None:
    ann, vic = principal_of(people["ann"]), bearer(app, people["vic"])
    for i in range(50):
        await projects.create_project(ann, "acme", projects.ProjectCreate(key=f"P{i:02}", name="p"))
        create = labels.LabelCreate(name=f"label {i}", color="#123456")
        await labels.create_label(ann, ("acme", "WEB"), create)
    counts: dict[int, tuple[int, int]] = {}
    for size in (10, 50):
        projects_query = (
            f'query {{ workspace(slug: "acme") {{ projects(first: {size}) {{ totalCount'
            f" edges {{ node {{ {PROJECT} workspace {{ id slug viewerRole }} }} }} }} }} }}"
        )
        labels_query = (
            f'query {{ project(workspace: "acme", key: "WEB") {{ workspace {{ slug }}'
            f" labels(first: {size}) {{ totalCount edges {{ node {{ {LABEL} }} }} }} }} }}"
        )
        counts[size] = (
            await statements(client, vic, projects_query),
            await statements(client, vic, labels_query),
        )
    assert counts[10] == counts[50], counts
