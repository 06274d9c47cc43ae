"""An object in a workspace the caller cannot see does not exist (domain.md): every mutation
naming one by global ID answers exactly as for an ID that was never issued, so an outsider
cannot count other tenants' objects by walking the sequential IDs. REST names objects by path
under a workspace slug; a comment's numeric id there answers alike too."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from gateway.core.ids import from_global_id, to_global_id
from schema import build_schema
from tests.auth_helpers import bearer, gql, make_user

NEVER_ISSUED = 10**6
HOOK = "https://93.184.216.34/hook"


@dataclass(frozen=True, slots=True)
class Case:
    """A mutation, the input field naming the object, and the rest of a valid input."""

    mutation: str
    field: str
    rest: dict[str, object]


CASES = (
    Case("updateWorkspace", "id", {"name": "Renamed"}),
    Case("deleteWorkspace", "id", {}),
    Case("createProject", "workspaceId", {"key": "NEW", "name": "New"}),
    Case("updateMemberRole", "workspaceId", {"userId": "", "role": "MEMBER"}),
    Case("removeMember", "workspaceId", {"userId": ""}),
    Case("inviteMember", "workspaceId", {"email": "carol@example.com"}),
    Case("revokeInvitation", "id", {}),
    Case("acceptInvitation", "id", {}),
    Case("declineInvitation", "id", {}),
    Case("updateProject", "id", {"name": "Renamed"}),
    Case("deleteProject", "id", {}),
    Case("createLabel", "projectId", {"name": "new", "color": "#123456"}),
    Case("updateLabel", "id", {"name": "renamed"}),
    Case("deleteLabel", "id", {}),
    Case("createIssue", "projectId", {"title": "Hello"}),
    Case("updateIssue", "id", {"title": "Renamed"}),
    Case("closeIssue", "id", {}),
    Case("reopenIssue", "id", {}),
    Case("deleteIssue", "id", {}),
    Case("addComment", "issueId", {"body": "Hello"}),
    Case("updateComment", "id", {"body": "Edited"}),
    Case("deleteComment", "id", {}),
    Case("createWebhook", "workspaceId", {"url": HOOK, "events": ["*"]}),
    Case("updateWebhook", "id", {"active": False}),
    Case("deleteWebhook", "id", {}),
    Case("redeliverWebhookDelivery", "id", {}),
)
# Users are public (`GET /users/{username}`), so naming one reveals nothing.
PUBLIC_ID_FIELDS = frozenset({"userId", "assigneeId"})
# Labels are named in a project already found: an unknown one is a VALIDATION_FAILED.
LABEL_LISTS = (("createIssue", "projectId"), ("updateIssue", "id"))
MUTATION = build_schema()._schema.mutation_type
# What `_tenant` makes, in order: (type, mutation, its input naming the ones made before).
TENANT = (
    ("Workspace", "createWorkspace", 'slug: "{slug}", name: "W"'),
    ("Project", "createProject", 'workspaceId: "{Workspace}", key: "WEB", name: "Web"'),
    ("Label", "createLabel", 'projectId: "{Project}", name: "bug", color: "#ff0000"'),
    ("Issue", "createIssue", 'projectId: "{Project}", title: "One"'),
    ("Comment", "addComment", 'issueId: "{Issue}", body: "Hi"'),
    ("Webhook", "createWebhook", 'workspaceId: "{Workspace}", url: "{hook}", events: ["*"]'),
    ("Invitation", "inviteMember", 'workspaceId: "{Workspace}", email: "dan@example.com"'),
)


async def _ok(client: httpx.AsyncClient, headers: dict[str, str], query: str) -> dict[str, Any]:
    body = await gql(client, query, headers)
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


async def _tenant(client: httpx.AsyncClient, headers: dict[str, str], slug: str) -> dict[str, str]:
    """A workspace with each of TENANT and the delivery of a webhook; their global IDs."""
    ids: dict[str, str] = {}
    for kind, mutation, given in TENANT:
        fields = given.format(slug=slug, hook=HOOK, **ids)
        made = kind.lower()
        data = await _ok(
            client, headers, f"mutation {{ {mutation}(input: {{{fields}}}) {{ {made} {{ id }} }} }}"
        )
        ids[kind] = data[mutation][made]["id"]
    data = await _ok(  # the invitation's event made a delivery
        client,
        headers,
        f'{{ node(id: "{ids["Webhook"]}")'
        " { ... on Webhook { deliveries { nodes { id } } } } }",
    )
    ids["WebhookDelivery"] = data["node"]["deliveries"]["nodes"][0]["id"]
    return ids


def _document(mutation: str) -> str:
    """`mutation` with its input as the variable `$input`."""
    assert MUTATION is not None
    input_type = MUTATION.fields[mutation].args["input"].type
    return f"mutation($input: {input_type}) {{ {mutation}(input: $input) {{ __typename }} }}"


def test_every_mutation_naming_an_object_is_covered() -> None:
    """A new mutation taking a global ID must join CASES."""
    assert MUTATION is not None
    naming: set[tuple[str, str]] = set()
    for name, field in MUTATION.fields.items():
        argument = field.args.get("input")
        if argument is None:
            continue
        input_type = getattr(argument.type, "of_type", argument.type)
        for field_name, input_field in input_type.fields.items():
            if "ID" in str(input_field.type) and field_name not in PUBLIC_ID_FIELDS:
                naming.add((name, field_name))
    named = {(case.mutation, case.field) for case in CASES}
    assert naming == named | {(mutation, "labelIds") for mutation, _ in LABEL_LISTS}


@pytest.mark.parametrize("case", CASES, ids=lambda case: f"{case.mutation}.{case.field}")
async def test_a_foreign_id_answers_as_one_never_issued(
    app: FastAPI, client: httpx.AsyncClient, case: Case
) -> None:
    ada, bob = await make_user("ada"), await make_user("bob")
    theirs = await _tenant(client, bearer(app, ada), "acme")
    await _tenant(client, bearer(app, bob), "bobs")
    rest = {k: (to_global_id("User", bob.id) if k == "userId" else v) for k, v in case.rest.items()}
    kind = _type_of(case)
    foreign, never = theirs[kind], to_global_id(kind, NEVER_ISSUED)
    document = _document(case.mutation)
    answers = []
    for object_id in (foreign, never):
        body = await gql(
            client, document, bearer(app, bob), {"input": {case.field: object_id, **rest}}
        )
        assert body["data"] == {case.mutation: None}, body
        answers.append([(e["message"], e["extensions"]) for e in body["errors"]])
    assert answers[0] == answers[1]
    assert answers[0][0][1]["code"] == "NOT_FOUND"


def _type_of(case: Case) -> str:
    """The type of object `case.field` names: `closeIssue.id` an Issue, `projectId` a Project."""
    if case.field != "id":
        return case.field.removesuffix("Id").capitalize()
    for verb in ("update", "delete", "close", "reopen", "revoke", "accept", "decline", "redeliver"):
        if case.mutation.startswith(verb):
            return case.mutation.removeprefix(verb)
    raise AssertionError(case)


@pytest.mark.parametrize(("mutation", "field"), LABEL_LISTS)
async def test_a_foreign_label_id_answers_as_one_never_issued(
    app: FastAPI, client: httpx.AsyncClient, mutation: str, field: str
) -> None:
    ada, bob = await make_user("ada"), await make_user("bob")
    theirs = await _tenant(client, bearer(app, ada), "acme")
    mine = await _tenant(client, bearer(app, bob), "bobs")
    target = mine["Project" if field == "projectId" else "Issue"]
    document = _document(mutation)
    answers = []
    for label in (theirs["Label"], to_global_id("Label", NEVER_ISSUED)):
        given = {field: target, "title": "Hello", "labelIds": [label]}
        body = await gql(client, document, bearer(app, bob), {"input": given})
        [error] = body["errors"]
        assert error["extensions"]["code"] == "VALIDATION_FAILED"
        said = json.dumps([error["message"], error["extensions"]])
        answers.append(re.sub(rf"\b{from_global_id(label)[1]}\b", "<pk>", said))
    assert answers[0] == answers[1]


async def test_rest_comment_ids_answer_alike(app: FastAPI, client: httpx.AsyncClient) -> None:
    ada, bob = await make_user("ada"), await make_user("bob")
    theirs = await _tenant(client, bearer(app, ada), "acme")
    await _tenant(client, bearer(app, bob), "bobs")
    _, comment = from_global_id(theirs["Comment"])
    base = "/api/v1/workspaces/bobs/projects/WEB/issues/1/comments"
    answers = []
    for comment_id in (comment, NEVER_ISSUED):
        response = await client.get(f"{base}/{comment_id}", headers=bearer(app, bob))
        assert response.status_code == 404
        problem = response.json()
        detail = problem["detail"].replace(f"comment {comment_id} ", "comment <id> ")
        answers.append((problem["code"], detail))
    assert answers[0] == answers[1]
