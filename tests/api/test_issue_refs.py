"""Issues named by reference: GraphQL's global IDs (project, issue, assignee, labels) resolve
straight to rows, REST's names (slug, key, number, username, label names) through the same
rules, so both APIs write in as few statements, with the same errors and the same events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from gateway.core.ids import to_global_id
from models import Event, Label, Membership, Project, Role, User, Workspace
from tests.auth_helpers import bearer, gql, make_user
from tests.sql_counter import SqlLog, count_sql

API = "/api/v1/workspaces/acme/projects/WEB/issues"
CREATE = """mutation($input: CreateIssueInput!) {
  createIssue(input: $input) { issue { id number assignee { username } labels { name } } }
}"""
UPDATE = """mutation($input: UpdateIssueInput!) {
  updateIssue(input: $input) { issue { id version assignee { username } labels { name } } }
}"""


@dataclass
class Acme:
    """Workspace `acme`: `ann` (member), `bob` (admin), `eve` (no member); project WEB with
    the labels `bug` and `UI`."""

    app: FastAPI
    users: dict[str, User]
    project: Project
    labels: dict[str, Label]

    def headers(self, who: str = "ann") -> dict[str, str]:
        return bearer(self.app, self.users[who])

    def user_id(self, who: str) -> str:
        return to_global_id("User", self.users[who].id)

    def label_id(self, name: str) -> str:
        return to_global_id("Label", self.labels[name].id)


@pytest.fixture
async def acme(app: FastAPI) -> Acme:
    workspace = await Workspace.create(slug="acme", name="Acme")
    users = {name: await make_user(name) for name in ("ann", "bob", "eve")}
    await Membership.create(workspace=workspace, user=users["ann"], role=Role.member)
    await Membership.create(workspace=workspace, user=users["bob"], role=Role.admin)
    project = await Project.create(workspace=workspace, key="WEB", name="Web")
    labels = {
        name: await Label.create(project=project, name=name, name_key=name.casefold(), color=c)
        for name, c in (("bug", "#ff0000"), ("UI", "#00ff00"))
    }
    return Acme(app, users, project, labels)


def _writes(sql: SqlLog) -> int:
    """The statements of a write, less PostgreSQL's `pg_notify` per event (the fan-out to
    other processes, which SQLite does in-process)."""
    return sum("pg_notify" not in s for s in sql.statements)


async def _create(client: httpx.AsyncClient, acme: Acme, **fields: Any) -> dict[str, Any]:
    variables = {"input": {"projectId": to_global_id("Project", acme.project.id), **fields}}
    return await gql(client, CREATE, acme.headers(), variables)


async def test_graphql_writes_resolve_ids_straight_to_rows(
    client: httpx.AsyncClient, acme: Acme
) -> None:
    """No id becomes a name and then an id again, and the view a write hands back is one
    statement: createIssue sent 18 statements and updateIssue 22 before (users and labels
    read by id, then again by name; labels and comment counts nobody rendered)."""
    labels = [acme.label_id("UI"), acme.label_id("bug")]
    with count_sql() as created:
        answer = await _create(
            client, acme, title="Broken", assigneeId=acme.user_id("bob"), labelIds=labels
        )
    assert answer.get("errors") is None, answer
    issue = answer["data"]["createIssue"]["issue"]
    assert issue["assignee"] == {"username": "bob"}
    assert [x["name"] for x in issue["labels"]] == ["bug", "UI"]
    update = {"id": issue["id"], "assigneeId": acme.user_id("ann"), "labelIds": labels[:1]}
    with count_sql() as updated:
        answer = await gql(client, UPDATE, acme.headers(), {"input": update})
    assert answer.get("errors") is None, answer
    assert answer["data"]["updateIssue"]["issue"]["assignee"] == {"username": "ann"}
    assert _writes(created) == 14, created
    assert _writes(updated) == 19, updated
    lookups = created.statements + updated.statements
    assert not [s for s in lookups if '"username" "username"' in s]  # users by id, for names
    assert not [s for s in lookups if '"name_key" IN' in s]


async def test_both_apis_record_the_same_events(client: httpx.AsyncClient, acme: Acme) -> None:
    rest = await client.post(
        API, json={"title": "R", "assignee": "bob", "labels": ["ui", "BUG"]}, headers=acme.headers()
    )
    assert rest.status_code == 201, rest.text
    graphql = await _create(
        client,
        acme,
        title="G",
        assigneeId=acme.user_id("bob"),
        labelIds=[acme.label_id("UI"), acme.label_id("bug")],
    )
    assert graphql.get("errors") is None, graphql
    changed = await client.patch(
        f"{API}/1", json={"assignee": None, "labels": ["Bug", "bug"]}, headers=acme.headers()
    )
    assert changed.status_code == 200, changed.text
    update = {
        "id": graphql["data"]["createIssue"]["issue"]["id"],
        "assigneeId": None,
        "labelIds": [acme.label_id("bug"), acme.label_id("bug")],
    }
    answer = await gql(client, UPDATE, acme.headers(), {"input": update})
    assert answer.get("errors") is None, answer

    events = await Event.filter(type__in=["issue.assigned", "issue.labeled"]).order_by("id")
    data = [(e.type, {k: v for k, v in e.data.items() if k != "number"}) for e in events]
    assert (
        data
        == [
            ("issue.assigned", {"assignee": None}),
            ("issue.labeled", {"labels": ["bug"]}),
        ]
        * 2
    )
    for number in (1, 2):
        issue = (await client.get(f"{API}/{number}", headers=acme.headers())).json()
        assert (issue["assignee"], [x["name"] for x in issue["labels"]]) == (None, ["bug"])


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"assigneeId": "eve"}, "assignee", "'eve' is not a member of this workspace"),
        ({"assigneeId": to_global_id("User", 999)}, "assignee", "no such user"),
        ({"labelIds": [to_global_id("Label", 999)]}, "labels", "unknown label id(s): 999"),
        (
            {"labelIds": [to_global_id("Label", n) for n in range(21)]},
            "labels",
            "at most 20 labels",
        ),
    ],
)
async def test_graphql_refs_fail_on_the_rest_field(
    client: httpx.AsyncClient,
    acme: Acme,
    fields: dict[str, Any],
    field: str,
    message: str,
) -> None:
    if fields.get("assigneeId") == "eve":
        fields = {"assigneeId": acme.user_id("eve")}
    answer = await _create(client, acme, title="T", **fields)
    error = answer["errors"][0]["extensions"]
    assert error["code"] == "VALIDATION_FAILED", answer
    assert error["fields"] == [{"field": field, "message": message}], answer


async def test_rest_names_fail_on_their_field(client: httpx.AsyncClient, acme: Acme) -> None:
    for body, field, message in (
        ({"assignee": "eve"}, "assignee", "'eve' is not a member of this workspace"),
        ({"labels": ["bug", "nope", "Nope"]}, "labels", "unknown label(s): nope"),
    ):
        answer = await client.post(API, json={"title": "T", **body}, headers=acme.headers())
        assert answer.status_code == 422, answer.text
        assert answer.json()["errors"] == [{"field": field, "message": message}]
