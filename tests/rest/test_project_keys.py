"""Project keys are stored upper-case and read in any case, on every REST route and GraphQL
lookup alike (one normalisation, in the service)."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from gateway.services.projects import canonical_key
from models import Membership, Project, Role, Workspace
from tests.auth_helpers import bearer, gql, make_user

BASE = "/api/v1/workspaces/acme/projects"


async def _acme(app: FastAPI) -> dict[str, str]:
    """Workspace `acme` owned by ada, with project WEB; ada's headers."""
    ada = await make_user("ada")
    workspace = await Workspace.create(slug="acme", name="Acme")
    await Membership.create(workspace=workspace, user=ada, role=Role.owner)
    await Project.create(workspace=workspace, key="WEB", name="Web")
    return bearer(app, ada)


async def test_rest_routes_take_the_key_in_any_case(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    headers = await _acme(app)
    issue = await client.post(f"{BASE}/web/issues", json={"title": "One"}, headers=headers)
    assert issue.status_code == 201, issue.text
    assert issue.headers["Location"] == f"{BASE}/WEB/issues/1"
    label = await client.post(
        f"{BASE}/wEb/labels", json={"name": "bug", "color": "#ff0000"}, headers=headers
    )
    assert label.status_code == 201, label.text
    assert label.headers["Location"] == f"{BASE}/WEB/labels/bug"
    comment = await client.post(
        f"{BASE}/Web/issues/1/comments", json={"body": "Hi"}, headers=headers
    )
    assert comment.status_code == 201, comment.text
    assert comment.headers["Location"] == f"{BASE}/WEB/issues/1/comments/{comment.json()['id']}"
    patched = await client.patch(f"{BASE}/web/issues/1", json={"title": "Uno"}, headers=headers)
    assert patched.status_code == 200, patched.text
    comment_path = f"/issues/1/comments/{comment.json()['id']}"
    for path in ("", "/issues", "/issues/1", "/labels", "/issues/1/comments", comment_path):
        for key in ("web", "Web", "WEB"):
            answer = await client.get(f"{BASE}/{key}{path}", headers=headers)
            assert answer.status_code == 200, (key, path, answer.text)
    events = await client.get("/api/v1/workspaces/acme/events?project=web", headers=headers)
    assert events.status_code == 200, events.text
    assert events.json()["items"]


async def test_graphql_lookups_take_the_key_in_any_case(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    headers = await _acme(app)
    assert (
        await client.post(f"{BASE}/WEB/issues", json={"title": "One"}, headers=headers)
    ).is_success
    body = await gql(
        client,
        """{ project(workspace: "acme", key: "web") { key }
             issue(workspace: "acme", project: "wEb", number: 1) { title project { key } } }""",
        headers,
    )
    assert body == {
        "data": {
            "project": {"key": "WEB"},
            "issue": {"title": "One", "project": {"key": "WEB"}},
        }
    }


def test_only_ascii_letters_fold() -> None:
    assert canonical_key("web1") == "WEB1"
    # Python upper-cases the long s and the dotless i to ASCII; a key never comes from them.
    assert canonical_key("\u017fite") == "\u017fite"
    assert canonical_key("\u0131d") == "\u0131d"
