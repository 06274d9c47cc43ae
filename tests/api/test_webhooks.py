"""Managing webhooks over REST and GraphQL: CRUD with conditional requests, the secret shown
once and stored encrypted, the SSRF guard on `url`, bad input, who may do what, and parity of
the two APIs. Delivery is in `test_webhooks_delivery.py`."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from gateway.core.ids import to_global_id
from gateway.rest import shapes
from models import Project, Webhook, WebhookDelivery, Workspace
from tests.auth_helpers import gql, make_pat
from tests.factories import World
from tests.sql_counter import count_sql

HOOKS = "/api/v1/workspaces/acme/webhooks"
PROJECTS = "/api/v1/workspaces/acme/projects"
PUBLIC = "https://93.184.216.34/hook"  # a public address literal: no DNS needed


async def create(client: httpx.AsyncClient, w: World, **body: Any) -> httpx.Response:
    return await client.post(
        HOOKS, json={"url": PUBLIC, "events": ["issue.created"], **body}, headers=w.h("admin")
    )


async def test_create_get_list_update_delete(client: httpx.AsyncClient, empty_world: World) -> None:
    created = await create(
        client, empty_world, events=["issue.closed", "issue.created", "issue.closed"]
    )
    assert created.status_code == 201, created.text
    body = created.json()
    hook = await Webhook.get(id=body["id"])
    assert created.headers["location"] == f"{HOOKS}/{hook.id}"
    assert body["node_id"] == to_global_id("Webhook", hook.id)
    assert (body["url"], body["events"], body["active"], body["version"]) == (
        PUBLIC,
        ["issue.closed", "issue.created"],
        True,
        1,
    )
    assert body["secret"].startswith("whsec_")
    assert len(body["secret"]) > 40
    assert body["secret"] not in hook.secret_token  # stored encrypted

    read = await client.get(f"{HOOKS}/{hook.id}", headers=empty_world.h("admin"))
    assert read.status_code == 200
    assert read.json() == {k: v for k, v in body.items() if k != "secret"}
    assert read.headers["etag"] == '"v1"'
    cached = await client.get(
        f"{HOOKS}/{hook.id}", headers={**empty_world.h("admin"), "If-None-Match": '"v1"'}
    )
    assert cached.status_code == 304

    listed = await client.get(HOOKS, headers=empty_world.h("owner"))
    assert [item["id"] for item in listed.json()["items"]] == [hook.id]
    assert "secret" not in listed.json()["items"][0]

    patched = await client.patch(
        f"{HOOKS}/{hook.id}",
        json={"events": ["*"], "active": False},
        headers={**empty_world.h("admin"), "If-Match": '"v1"'},
    )
    assert patched.status_code == 200, patched.text
    assert (patched.json()["events"], patched.json()["active"]) == (["*"], False)
    assert patched.headers["etag"] == '"v2"'
    stale = await client.patch(
        f"{HOOKS}/{hook.id}",
        json={"active": True},
        headers={**empty_world.h("admin"), "If-Match": '"v1"'},
    )
    assert stale.status_code == 412
    stale_delete = await client.delete(
        f"{HOOKS}/{hook.id}", headers={**empty_world.h("admin"), "If-Match": '"v1"'}
    )
    assert stale_delete.status_code == 412
    deleted = await client.delete(f"{HOOKS}/{hook.id}", headers=empty_world.h("admin"))
    assert deleted.status_code == 204
    assert (
        await client.get(f"{HOOKS}/{hook.id}", headers=empty_world.h("admin"))
    ).status_code == 404


async def test_a_given_secret_is_used_and_a_new_one_replaces_it(
    client: httpx.AsyncClient, empty_world: World, settings: Any
) -> None:
    from gateway.webhooks.secrets import unseal

    created = await create(client, empty_world, secret="my-own-secret-0123")
    assert created.json()["secret"] == "my-own-secret-0123"
    hook = await Webhook.get(id=created.json()["id"])
    assert unseal(settings, hook.secret_token) == "my-own-secret-0123"
    rotated = await client.patch(
        f"{HOOKS}/{hook.id}", json={"secret": "another-secret-4567"}, headers=empty_world.h("admin")
    )
    assert rotated.status_code == 200
    assert "secret" not in rotated.json()
    assert rotated.json()["version"] == 2
    await hook.refresh_from_db()
    assert unseal(settings, hook.secret_token) == "another-secret-4567"


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"url", "events"}),
        ({"url": PUBLIC}, {"events"}),
        ({"url": 5, "events": ["*"]}, {"url"}),
        ({"url": PUBLIC, "events": "issue.created"}, {"events"}),
        ({"url": PUBLIC, "events": []}, {"events"}),
        ({"url": PUBLIC, "events": ["issue.exploded"]}, {"events"}),
        ({"url": PUBLIC, "events": ["*"], "secret": "short"}, {"secret"}),
        ({"url": PUBLIC, "events": ["*"], "secret": None}, {"secret"}),
        ({"url": PUBLIC, "events": ["*"], "active": "yes"}, {"active"}),
        ({"url": PUBLIC, "events": ["*"], "colour": "red"}, {"colour"}),
    ],
)
async def test_bad_bodies_are_refused(
    client: httpx.AsyncClient, empty_world: World, body: dict[str, Any], fields: set[str]
) -> None:
    response = await client.post(HOOKS, json=body, headers=empty_world.h("admin"))
    assert response.status_code == 422, response.text
    assert {e["field"] for e in response.json()["errors"]} == fields
    assert await Webhook.all().count() == 0


@pytest.mark.parametrize(
    "url",
    [
        "ftp://93.184.216.34/hook",
        "93.184.216.34/hook",
        "https://",
        "https://user:pw@93.184.216.34/hook",
        "https://93.184.216.34:99999/hook",
        "https://93.184.216.34/" + "a" * 2048,
        "http://127.0.0.1:8000/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://172.16.0.1/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://[fe80::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://224.0.0.1/hook",
        "http://0.0.0.0/hook",
        "http://100.64.0.1/hook",
        "http://240.0.0.1/hook",
        "http://no-such-host.invalid/hook",
    ],
)
async def test_the_ssrf_guard_refuses_with_422_on_url(
    client: httpx.AsyncClient, empty_world: World, url: str
) -> None:
    response = await client.post(
        HOOKS, json={"url": url, "events": ["*"]}, headers=empty_world.h("admin")
    )
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["url"]
    hook = await create(client, empty_world)
    moved = await client.patch(
        f"{HOOKS}/{hook.json()['id']}", json={"url": url}, headers=empty_world.h("admin")
    )
    assert moved.status_code == 422
    assert [e["field"] for e in moved.json()["errors"]] == ["url"]


async def test_private_targets_are_allowed_when_the_setting_says_so(
    app: FastAPI, client: httpx.AsyncClient, empty_world: World
) -> None:
    original = app.state.settings
    app.state.settings = original.model_copy(update={"webhook_allow_private": True})
    try:
        response = await create(client, empty_world, url="http://127.0.0.1:9/hook")
    finally:
        app.state.settings = original
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    ("who", "read", "write"),
    [
        ("owner", 200, 201),
        ("admin", 200, 201),
        ("member", 403, 403),
        ("viewer", 403, 403),
        ("stranger", 404, 404),
    ],
)
async def test_only_admins_see_and_manage_webhooks(
    client: httpx.AsyncClient, empty_world: World, who: str, read: int, write: int
) -> None:
    hook = (await create(client, empty_world)).json()
    one = f"{HOOKS}/{hook['id']}"
    h = empty_world.h(who)
    assert (await client.get(HOOKS, headers=h)).status_code == read
    assert (await client.get(one, headers=h)).status_code == read
    assert (await client.get(f"{one}/deliveries", headers=h)).status_code == read
    posted = await client.post(HOOKS, json={"url": PUBLIC, "events": ["*"]}, headers=h)
    assert posted.status_code == write
    expected = 200 if write == 201 else write
    assert (await client.patch(one, json={"active": False}, headers=h)).status_code == expected
    assert (await client.delete(one, headers=h)).status_code == (204 if write == 201 else write)


async def test_token_scopes(client: httpx.AsyncClient, empty_world: World) -> None:
    hook = (await create(client, empty_world)).json()
    _, reader = await make_pat(empty_world.users["admin"], ["read"])
    _, admin = await make_pat(empty_world.users["admin"], ["admin"])
    assert (await client.get(f"{HOOKS}/{hook['id']}", headers=reader)).status_code == 200
    refused = await client.post(HOOKS, json={"url": PUBLIC, "events": ["*"]}, headers=reader)
    assert refused.status_code == 403
    assert "admin" in refused.json()["detail"]
    assert (
        await client.post(HOOKS, json={"url": PUBLIC, "events": ["*"]}, headers=admin)
    ).status_code == 201


async def test_unknown_and_foreign_ids_are_not_found(
    client: httpx.AsyncClient, empty_world: World
) -> None:
    other = await Workspace.create(slug="other", name="Other")
    foreign = await Webhook.create(workspace=other, url=PUBLIC, events=["*"], secret_token="x")
    mine = (await create(client, empty_world)).json()
    h = empty_world.h("owner")
    for path in (
        f"{HOOKS}/{foreign.id}",
        f"{HOOKS}/999999",
        f"{HOOKS}/{foreign.id}/deliveries",
        "/api/v1/workspaces/nope/webhooks",
        f"{HOOKS}/{mine['id']}/deliveries/999999/redeliver",
    ):
        method = "POST" if path.endswith("redeliver") else "GET"
        assert (await client.request(method, path, headers=h)).status_code == 404, path
    assert (await client.get(f"{HOOKS}/abc", headers=h)).status_code == 422
    assert (await client.get(f"{HOOKS}/0", headers=h)).status_code == 422


async def test_deliveries_are_listed_newest_first_and_paged(
    client: httpx.AsyncClient, empty_world: World
) -> None:
    hook = (await create(client, empty_world, events=["project.created"])).json()
    for key in ("AAA", "BBB", "CCC"):
        made = await client.post(
            "/api/v1/workspaces/acme/projects",
            json={"key": key, "name": key},
            headers=empty_world.h("admin"),
        )
        assert made.status_code == 201
    first = await client.get(
        f"{HOOKS}/{hook['id']}/deliveries?limit=2", headers=empty_world.h("admin")
    )
    assert first.status_code == 200
    page = first.json()
    assert [d["event_type"] for d in page["items"]] == ["project.created"] * 2
    assert [d["state"] for d in page["items"]] == ["pending", "pending"]
    assert 'rel="next"' in first.headers["link"]
    rest = await client.get(
        f"{HOOKS}/{hook['id']}/deliveries?limit=2&cursor={page['next_cursor']}",
        headers=empty_world.h("admin"),
    )
    items = page["items"] + rest.json()["items"]
    assert rest.json()["next_cursor"] is None
    assert [d["id"] for d in items] == sorted((d["id"] for d in items), reverse=True)
    assert len({d["guid"] for d in items}) == 3
    redelivered = await client.post(
        f"{HOOKS}/{hook['id']}/deliveries/{items[0]['id']}/redeliver",
        headers=empty_world.h("admin"),
    )
    assert redelivered.status_code == 202
    assert redelivered.json()["guid"] == items[0]["guid"]
    member = await client.post(
        f"{HOOKS}/{hook['id']}/deliveries/{items[0]['id']}/redeliver",
        headers=empty_world.h("member"),
    )
    assert member.status_code == 403


async def test_only_matching_active_webhooks_get_deliveries(
    client: httpx.AsyncClient, empty_world: World
) -> None:
    everything = (await create(client, empty_world, events=["*"])).json()
    issues_only = (await create(client, empty_world, events=["issue.created"])).json()
    paused = (await create(client, empty_world, events=["*"], active=False)).json()
    made = await client.post(
        "/api/v1/workspaces/acme/projects",
        json={"key": "WEB", "name": "Web"},
        headers=empty_world.h("admin"),
    )
    assert made.status_code == 201
    counts = {
        hook["id"]: await WebhookDelivery.filter(webhook_id=hook["id"]).count()
        for hook in (everything, issues_only, paused)
    }
    assert counts == {everything["id"]: 1, issues_only["id"]: 0, paused["id"]: 0}


async def test_a_rolled_back_change_leaves_no_delivery(
    empty_world: World, client: httpx.AsyncClient
) -> None:
    await create(client, empty_world, events=["*"])
    await Project.create(workspace=empty_world.workspace, key="WEB", name="Web")
    clash = await client.post(
        "/api/v1/workspaces/acme/projects",
        json={"key": "WEB", "name": "Again"},
        headers=empty_world.h("admin"),
    )
    assert clash.status_code == 409
    assert await WebhookDelivery.all().count() == 0


# --- GraphQL ----------------------------------------------------------------------------------

CREATE = """mutation($input: CreateWebhookInput!) {
  createWebhook(input: $input) { secret webhook { id url events active version } }
}"""
UPDATE = """mutation($input: UpdateWebhookInput!) {
  updateWebhook(input: $input) { webhook { id url events active version } }
}"""
DELETE = "mutation($input: DeleteWebhookInput!) { deleteWebhook(input: $input) { deletedId } }"
REDELIVER = """mutation($id: ID!) {
  redeliverWebhookDelivery(input: {id: $id}) { webhookDelivery { id guid state attempts } }
}"""
LIST = """query { workspace(slug: "acme") { webhooks(first: 10) { totalCount nodes {
  id url events deliveries(first: 5) { totalCount nodes { id guid eventType state attempts
    event { id type } } }
} } } }"""


def _code(answer: dict[str, Any]) -> str:
    return str(answer["errors"][0]["extensions"]["code"])


async def test_graphql_crud_and_parity_with_rest(
    client: httpx.AsyncClient, empty_world: World
) -> None:
    workspace = to_global_id("Workspace", empty_world.workspace.id)
    made = await gql(
        client,
        CREATE,
        empty_world.h("admin"),
        {"input": {"workspaceId": workspace, "url": PUBLIC, "events": ["project.created"]}},
    )
    assert "errors" not in made, made
    hook = made["data"]["createWebhook"]["webhook"]
    assert made["data"]["createWebhook"]["secret"].startswith("whsec_")
    rest = await client.get(HOOKS, headers=empty_world.h("admin"))
    assert [item["node_id"] for item in rest.json()["items"]] == [hook["id"]]

    await client.post(
        "/api/v1/workspaces/acme/projects",
        json={"key": "WEB", "name": "Web"},
        headers=empty_world.h("admin"),
    )
    listed = await gql(client, LIST, empty_world.h("admin"))
    assert "errors" not in listed, listed
    [node] = listed["data"]["workspace"]["webhooks"]["nodes"]
    assert node["deliveries"]["totalCount"] == 1
    [delivery] = node["deliveries"]["nodes"]
    assert (delivery["eventType"], delivery["state"], delivery["event"]["type"]) == (
        "project.created",
        "PENDING",
        "project.created",
    )
    found = await gql(
        client,
        "query($id: ID!) { node(id: $id) { id ... on Webhook { url } } }",
        empty_world.h("admin"),
        {"id": hook["id"]},
    )
    assert found["data"]["node"] == {"id": hook["id"], "url": PUBLIC}
    hidden = await gql(
        client,
        "query($id: ID!) { node(id: $id) { id } }",
        empty_world.h("member"),
        {"id": hook["id"]},
    )
    assert hidden["data"]["node"] is None

    redone = await gql(client, REDELIVER, empty_world.h("admin"), {"id": delivery["id"]})
    assert redone["data"]["redeliverWebhookDelivery"]["webhookDelivery"]["guid"] == delivery["guid"]

    stale = await gql(
        client,
        UPDATE,
        empty_world.h("admin"),
        {"input": {"id": hook["id"], "expectedVersion": 7, "active": False}},
    )
    assert stale["data"]["updateWebhook"] is None
    assert _code(stale) == "PRECONDITION_FAILED"
    changed = await gql(
        client,
        UPDATE,
        empty_world.h("admin"),
        {"input": {"id": hook["id"], "expectedVersion": 1, "events": ["*"], "active": False}},
    )
    assert changed["data"]["updateWebhook"]["webhook"]["events"] == ["*"]
    assert changed["data"]["updateWebhook"]["webhook"]["version"] == 2
    gone = await gql(client, DELETE, empty_world.h("admin"), {"input": {"id": hook["id"]}})
    assert gone["data"]["deleteWebhook"]["deletedId"] == hook["id"]


async def test_graphql_errors_match_rest(client: httpx.AsyncClient, empty_world: World) -> None:
    workspace = to_global_id("Workspace", empty_world.workspace.id)
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("member", {"workspaceId": workspace, "url": PUBLIC, "events": ["*"]}, "FORBIDDEN"),
        ("stranger", {"workspaceId": workspace, "url": PUBLIC, "events": ["*"]}, "NOT_FOUND"),
        (
            "admin",
            {"workspaceId": workspace, "url": "http://10.0.0.1/", "events": ["*"]},
            "VALIDATION_FAILED",
        ),
        (
            "admin",
            {"workspaceId": workspace, "url": PUBLIC, "events": ["nope"]},
            "VALIDATION_FAILED",
        ),
        ("admin", {"workspaceId": "bad-id", "url": PUBLIC, "events": ["*"]}, "NOT_FOUND"),
    ]
    for who, payload, code in cases:
        answer = await gql(client, CREATE, empty_world.h(who), {"input": payload})
        assert answer["data"]["createWebhook"] is None, (who, payload)
        assert _code(answer) == code, (who, payload, answer)
    refused = await gql(
        client,
        CREATE,
        empty_world.h("admin"),
        {"input": {"workspaceId": workspace, "url": "ftp://x", "events": ["*"]}},
    )
    assert refused["errors"][0]["extensions"]["fields"][0]["field"] == "url"
    viewer = await gql(client, LIST, empty_world.h("viewer"))
    assert viewer["data"]["workspace"]["webhooks"] is None
    assert _code(viewer) == "FORBIDDEN"
    foreign = await Webhook.create(
        workspace=await Workspace.create(slug="other", name="Other"),
        url=PUBLIC,
        events=["*"],
        secret_token="x",
    )
    answer = await gql(
        client,
        UPDATE,
        empty_world.h("owner"),
        {"input": {"id": to_global_id("Webhook", foreign.id), "active": False}},
    )
    assert _code(answer) == "NOT_FOUND"


async def test_workspace_webhooks_read_in_one_statement_as_the_resolvers_answer(
    client: httpx.AsyncClient, empty_world: World, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def statements() -> tuple[int, dict[str, Any]]:
        with count_sql() as sql:
            answer = await gql(client, LIST, empty_world.h("admin"))
        assert "errors" not in answer, answer
        return sql.count, answer

    await create(client, empty_world, events=["*"])
    await client.post(PROJECTS, json={"key": "AAA", "name": "A"}, headers=empty_world.h("admin"))
    one, _ = await statements()
    for _ in range(3):
        await create(client, empty_world, events=["*"])
    await client.post(PROJECTS, json={"key": "BBB", "name": "B"}, headers=empty_world.h("admin"))
    many, compiled = await statements()
    assert many == one == 1  # compiled: the shape decides, not how many webhooks or deliveries
    assert len(compiled["data"]["workspace"]["webhooks"]["nodes"]) == 4
    monkeypatch.setattr(settings, "compiled_reads", False)
    _, resolved = await statements()
    assert resolved == compiled


async def test_rest_reads_are_one_statement_each(
    client: httpx.AsyncClient, empty_world: World
) -> None:
    """The list, one webhook and its delivery log: the caller's lookup, then one statement,
    whatever the number of rows; each body as documented (`gateway.rest.shapes`)."""
    hook = (await create(client, empty_world, events=["*"])).json()
    for key in ("AAA", "BBB", "CCC"):
        await client.post(PROJECTS, json={"key": key, "name": key}, headers=empty_world.h("admin"))
    for path, shape in (
        (HOOKS, shapes.WEBHOOK),
        (f"{HOOKS}/{hook['id']}", shapes.WEBHOOK),
        (f"{HOOKS}/{hook['id']}/deliveries", shapes.DELIVERY),
    ):
        with count_sql() as sql:
            answer = await client.get(path, headers=empty_world.h("admin"))
        assert answer.status_code == 200, answer.text
        assert sql.count == 2, (path, sql)
        body = answer.json()
        for item in body.get("items", [body]):
            assert set(item) == set(shape.model.model_fields), item
            shape.model.model_validate(item)
