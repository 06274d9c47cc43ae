"""The workloads of `quality.md`, each as the request Switchyard gets and the floor's twin.

The dataset is `gateway seed`'s: workspace `demo`, ten projects; `WEB` issue #1 carries a
30-comment thread.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson

WORKSPACE, PROJECT, THREAD_ISSUE = "demo", "WEB", 1
ISSUES = f"/api/v1/workspaces/{WORKSPACE}/projects/{PROJECT}/issues"

W1_QUERY = """query W1($ws: String!, $key: String!) {
  project(workspace: $ws, key: $key) {
    issues(first: 50, orderBy: {field: NUMBER, direction: ASC}) {
      edges { node { number title assignee { username } } }
    }
  }
}"""
W2_QUERY = """query W2($ws: String!, $key: String!, $number: Int!) {
  issue(workspace: $ws, project: $key, number: $number) {
    number title state labels { name }
    comments(last: 20) { edges { node { body author { username } } } }
  }
}"""
W3_QUERY = """query W3($ws: String!) {
  workspace(slug: $ws) {
    projects(first: 10) {
      edges {
        node {
          key name
          issues(first: 10) {
            edges { node { number title assignee { username } labels { name } } }
          }
        }
      }
    }
  }
}"""


@dataclass(frozen=True, slots=True)
class Call:
    """One HTTP request, repeated by wrk."""

    method: str
    path: str
    body: bytes = b""


@dataclass(frozen=True, slots=True)
class Workload:
    name: str
    form: str
    server: Call
    floor: Call


def _graphql(name: str, query: str, **variables: object) -> Workload:
    body = orjson.dumps({"query": query, "variables": variables})
    return Workload(
        name, "GraphQL", Call("POST", "/graphql", body), Call("POST", f"/graphql/{name}", body)
    )


def _rest(name: str, form: str, path: str) -> Workload:
    return Workload(name, form, Call("GET", path), Call("GET", path))


THREAD = f"{ISSUES}/{THREAD_ISSUE}"
WORKLOADS = (
    _rest("W1", "REST", f"{ISSUES}?limit=50&sort=number&direction=asc"),
    _graphql("W1", W1_QUERY, ws=WORKSPACE, key=PROJECT),
    _rest("W2", "REST issue", THREAD),
    # REST lists comments oldest first: the page of 20 stands in for "the 20 latest".
    _rest("W2", "REST comments", f"{THREAD}/comments?limit=20"),
    _graphql("W2", W2_QUERY, ws=WORKSPACE, key=PROJECT, number=THREAD_ISSUE),
    _graphql("W3", W3_QUERY, ws=WORKSPACE),
)
