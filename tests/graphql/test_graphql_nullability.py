"""What a client sees of a failure in GraphQL: a failing mutation nulls only its own payload
(payloads are nullable, api.md), and every root lookup answers a missing or invisible object
alike, null with a NOT_FOUND error."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from graphql import GraphQLNonNull

from gateway.core.ids import to_global_id
from models import Issue, Membership, Project, Role, Workspace
from schema import build_schema
from tests.auth_helpers import bearer, gql, make_user


def test_every_mutation_payload_is_nullable() -> None:
    mutation = build_schema()._schema.mutation_type
    assert mutation is not None
    required = [name for name, f in mutation.fields.items() if isinstance(f.type, GraphQLNonNull)]
    assert required == []


async def test_a_failing_mutation_does_not_hide_the_others(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    ada = await make_user("ada")
    workspace = await Workspace.create(slug="acme", name="Acme")
    await Membership.create(workspace=workspace, user=ada, role=Role.owner)
    project = to_global_id(
        "Project", (await Project.create(workspace=workspace, key="WEB", name="Web")).id
    )
    body = await gql(
        client,
        """mutation($project: ID!) {
          ok: createIssue(input: {projectId: $project, title: "ok"}) { issue { title } }
          bad: createIssue(input: {projectId: $project, title: ""}) { issue { title } }
        }""",
        bearer(app, ada),
        {"project": project},
    )
    assert body["data"] == {"ok": {"issue": {"title": "ok"}}, "bad": None}
    [error] = body["errors"]
    assert (error["path"], error["extensions"]["code"]) == (["bad"], "VALIDATION_FAILED")
    assert await Issue.filter(title="ok").count() == 1


LOOKUPS = {
    "workspace": '{ workspace(slug: "%s") { slug } }',
    "project": '{ project(workspace: "%s", key: "WEB") { key } }',
    "issue": '{ issue(workspace: "%s", project: "WEB", number: 1) { number } }',
}


@pytest.mark.parametrize("field", LOOKUPS)
async def test_root_lookups_answer_missing_and_invisible_alike(
    app: FastAPI, client: httpx.AsyncClient, field: str
) -> None:
    ada, bob = await make_user("ada"), await make_user("bob")
    workspace = await Workspace.create(slug="acme", name="Acme")
    await Membership.create(workspace=workspace, user=ada, role=Role.owner)
    project = await Project.create(workspace=workspace, key="WEB", name="Web", issue_counter=1)
    await Issue.create(project=project, number=1, title="One", author=ada)
    found = await gql(client, LOOKUPS[field] % "acme", bearer(app, ada))
    assert found["data"][field] is not None, found
    answers = []
    for slug in ("acme", "nope"):  # invisible to bob, and missing
        body = await gql(client, LOOKUPS[field] % slug, bearer(app, bob))
        assert body["data"] == {field: None}
        [error] = body["errors"]
        assert (error["path"], error["extensions"]["code"]) == ([field], "NOT_FOUND")
        answers.append(error["message"].replace(slug, "<slug>"))
    assert answers[0] == answers[1]
