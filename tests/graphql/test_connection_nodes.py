"""`nodes`, GitHub's shortcut for `edges { node }` on every connection (api.md)."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from graphql import parse

from schema import build_schema
from schema.http.cost import node_cost
from tests.auth_helpers import bearer, gql, make_user

BOTH = """{ project(workspace: "acme", key: "WEB") { issues(first: 2) {
  nodes { number title } edges { node { number title } } } } }"""


async def test_nodes_are_the_edges_nodes(app: FastAPI, client: httpx.AsyncClient) -> None:
    auth = bearer(app, await make_user("ada"))
    await client.post("/api/v1/workspaces", json={"slug": "acme", "name": "Acme"}, headers=auth)
    await client.post(
        "/api/v1/workspaces/acme/projects", json={"key": "WEB", "name": "Web"}, headers=auth
    )
    for title in ("one", "two", "three"):
        await client.post(
            "/api/v1/workspaces/acme/projects/WEB/issues", json={"title": title}, headers=auth
        )
    issues = (await gql(client, BOTH, auth))["data"]["project"]["issues"]
    assert issues["nodes"] == [edge["node"] for edge in issues["edges"]]
    assert [node["number"] for node in issues["nodes"]] == [1, 2]


def test_nodes_cost_what_edges_cost() -> None:
    by_nodes = """{ viewer { workspaces(first: 10) { nodes {
      projects(first: 20) { nodes { id } } } } } }"""
    by_edges = """{ viewer { workspaces(first: 10) { edges { node {
      projects(first: 20) { edges { node { id } } } } } } } }"""
    schema = build_schema()
    costs = {node_cost(schema, parse(query), {}) for query in (by_nodes, by_edges)}
    assert costs == {10 + 10 * 20}
