"""Workspaces over GraphQL: `createWorkspace`, `updateWorkspace`, `deleteWorkspace`,
`workspace(slug:)`, input validation, `node(id:)` for workspaces and memberships, and
`User.workspaces`. Members are in `test_members_graphql.py`."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from gateway.core.ids import to_global_id
from models import Membership, Role, Workspace
from tests.auth_helpers import bearer, make_user
from tests.helpers import (
    CREATE_WORKSPACE,
    READ_WORKSPACE,
    UPDATE_WORKSPACE,
    error_codes,
    error_fields,
    gql_ok,
)


async def test_workspace_lifecycle(app: FastAPI, client: httpx.AsyncClient) -> None:
    ann = bearer(app, await make_user("ann"))
    created = await gql_ok(client, ann, CREATE_WORKSPACE, {"slug": "acme", "name": "  Acme  "})
    workspace = created["data"]["createWorkspace"]["workspace"]
    row = await Workspace.get(slug="acme")
    assert workspace["id"] == to_global_id("Workspace", row.id)
    assert (workspace["name"], workspace["viewerRole"]) == ("Acme", "OWNER")

    renamed = await gql_ok(
        client, ann, UPDATE_WORKSPACE, {"input": {"id": workspace["id"], "name": "Acme 2"}}
    )
    assert renamed["data"]["updateWorkspace"]["workspace"] == {
        "id": workspace["id"],
        "slug": "acme",
        "name": "Acme 2",
    }
    null_name = await gql_ok(
        client, ann, UPDATE_WORKSPACE, {"input": {"id": workspace["id"], "name": None}}
    )
    assert error_codes(null_name) == ["VALIDATION_FAILED"]
    assert error_fields(null_name) == {"name"}

    deleted = await gql_ok(
        client,
        ann,
        "mutation($id: ID!) { deleteWorkspace(input: {id: $id}) { deletedId } }",
        {"id": workspace["id"]},
    )
    assert deleted["data"]["deleteWorkspace"]["deletedId"] == workspace["id"]
    gone = await gql_ok(client, ann, READ_WORKSPACE, {"slug": "acme"})
    assert gone["data"] == {"workspace": None}
    assert error_codes(gone) == ["NOT_FOUND"]


@pytest.mark.parametrize(
    ("variables", "code", "failing"),
    [
        ({"slug": "A!", "name": "x"}, "VALIDATION_FAILED", {"slug"}),
        ({"slug": "x" * 40, "name": "x"}, "VALIDATION_FAILED", {"slug"}),
        ({"slug": "acme", "name": "n" * 101}, "VALIDATION_FAILED", {"name"}),
        ({"slug": "acme", "name": " "}, "VALIDATION_FAILED", {"name"}),
        ({"slug": 12, "name": "x"}, "VALIDATION_FAILED", set()),  # GraphQL type coercion
        ({"slug": "taken", "name": "x"}, "CONFLICT", set()),
    ],
)
async def test_create_rejects(
    app: FastAPI,
    client: httpx.AsyncClient,
    variables: dict[str, Any],
    code: str,
    failing: set[str],
) -> None:
    ann = bearer(app, await make_user("ann"))
    await gql_ok(client, ann, CREATE_WORKSPACE, {"slug": "taken", "name": "Taken"})
    result = await gql_ok(client, ann, CREATE_WORKSPACE, variables)
    assert error_codes(result) == [code]
    if failing:
        assert error_fields(result) == failing
    assert await Workspace.all().count() == 1


async def test_unknown_input_field_is_refused(app: FastAPI, client: httpx.AsyncClient) -> None:
    ann = bearer(app, await make_user("ann"))
    query = (
        'mutation { createWorkspace(input: {slug: "acme", name: "A", owner: "x"})'
        " { workspace { id } } }"
    )
    # A literal input field the schema lacks: the document does not validate.
    assert error_codes(await gql_ok(client, ann, query)) == ["GRAPHQL_VALIDATION_FAILED"]
    assert await Workspace.all().count() == 0


@pytest.fixture
async def acme(app: FastAPI, client: httpx.AsyncClient) -> dict[str, Any]:
    """`acme` owned by ann (through the API) with member mia; bob is not a member."""
    users = {n: await make_user(n) for n in ("ann", "mia", "bob")}
    owner = bearer(app, users["ann"])
    created = await gql_ok(client, owner, CREATE_WORKSPACE, {"slug": "acme", "name": "Acme"})
    ws = created["data"]["createWorkspace"]["workspace"]["id"]
    workspace = await Workspace.get(slug="acme")
    await Membership.create(workspace=workspace, user=users["mia"], role=Role.member)
    return {"ws": ws, **users}


async def test_node_lookup_respects_visibility(
    app: FastAPI, client: httpx.AsyncClient, acme: dict[str, Any]
) -> None:
    membership = await Membership.get(user_id=acme["mia"].id)
    m_id = to_global_id("Membership", membership.id)
    query = """query($ids: [ID!]!) { nodes(ids: $ids) { __typename id
      ... on Workspace { slug viewerRole } ... on Membership { role user { username } } } }"""
    variables = {"ids": [acme["ws"], m_id]}
    seen = await gql_ok(client, bearer(app, acme["mia"]), query, variables)
    assert seen["data"]["nodes"] == [
        {"__typename": "Workspace", "id": acme["ws"], "slug": "acme", "viewerRole": "MEMBER"},
        {"__typename": "Membership", "id": m_id, "role": "MEMBER", "user": {"username": "mia"}},
    ]
    hidden = await gql_ok(client, bearer(app, acme["bob"]), query, variables)
    assert hidden["data"]["nodes"] == [None, None]
    root = bearer(app, await make_user("root", site_admin=True))
    assert (await gql_ok(client, root, query, variables))["data"]["nodes"][0][
        "viewerRole"
    ] == "OWNER"


WORKSPACES_OF = """query($user: ID!, $first: Int, $after: String) {
  node(id: $user) { ... on User { workspaces(first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { slug viewerRole } }
  } } }
}"""


async def test_user_workspaces(
    app: FastAPI, client: httpx.AsyncClient, acme: dict[str, Any]
) -> None:
    ann, mia = bearer(app, acme["ann"]), bearer(app, acme["mia"])
    for slug in ("beta", "gamma"):
        await gql_ok(client, ann, CREATE_WORKSPACE, {"slug": slug, "name": slug})
    ann_id = to_global_id("User", acme["ann"].id)

    first = await gql_ok(client, ann, WORKSPACES_OF, {"user": ann_id, "first": 2})
    page = first["data"]["node"]["workspaces"]
    assert page["totalCount"] == 3
    assert [e["node"]["slug"] for e in page["edges"]] == ["acme", "beta"]
    after = page["pageInfo"]["endCursor"]
    rest = await gql_ok(client, ann, WORKSPACES_OF, {"user": ann_id, "first": 2, "after": after})
    assert [e["node"]["slug"] for e in rest["data"]["node"]["workspaces"]["edges"]] == ["gamma"]
    assert rest["data"]["node"]["workspaces"]["pageInfo"]["hasNextPage"] is False

    # Another user sees only the workspaces they share, with their own role in each.
    shared = await gql_ok(client, mia, WORKSPACES_OF, {"user": ann_id})
    assert shared["data"]["node"]["workspaces"]["edges"] == [
        {"node": {"slug": "acme", "viewerRole": "MEMBER"}}
    ]
    assert shared["data"]["node"]["workspaces"]["totalCount"] == 1
    root = bearer(app, await make_user("root", site_admin=True))
    every = await gql_ok(client, root, WORKSPACES_OF, {"user": ann_id})
    assert [e["node"]["viewerRole"] for e in every["data"]["node"]["workspaces"]["edges"]] == [
        "OWNER"
    ] * 3
