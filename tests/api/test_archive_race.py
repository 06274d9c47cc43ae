"""Archiving races writes under the project: a write that starts while an archiving is still
uncommitted waits for it, then answers CONFLICT, through either API. PostgreSQL only: SQLite
runs one write transaction at a time, so the two cannot overlap there."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from tortoise import Tortoise
from tortoise.transactions import in_transaction

from gateway.core.ids import to_global_id
from models import Comment, Issue, Membership, Project, Role, Workspace
from tests.auth_helpers import bearer, make_user

PROJECT = "/api/v1/workspaces/acme/projects/WEB"
Write = Callable[[httpx.AsyncClient, dict[str, str], Issue], Coroutine[Any, Any, int]]


@pytest.fixture(autouse=True)
def postgres_only(app: FastAPI) -> None:
    if not app.state.settings.database_url.startswith("postgres"):
        pytest.skip("SQLite serialises write transactions: nothing can race")


async def _rest(response: Awaitable[httpx.Response]) -> int:
    return (await response).status_code


async def _graphql(client: httpx.AsyncClient, headers: dict[str, str], query: str) -> int:
    answer = (await client.post("/graphql", json={"query": query}, headers=headers)).json()
    errors: list[dict[str, Any]] = answer.get("errors") or []
    return 409 if errors and errors[0]["extensions"]["code"] == "CONFLICT" else 200


async def _create_rest(client: httpx.AsyncClient, h: dict[str, str], issue: Issue) -> int:
    return await _rest(client.post(f"{PROJECT}/issues", json={"title": "New"}, headers=h))


async def _update_rest(client: httpx.AsyncClient, h: dict[str, str], issue: Issue) -> int:
    return await _rest(client.patch(f"{PROJECT}/issues/1", json={"title": "Changed"}, headers=h))


async def _delete_rest(client: httpx.AsyncClient, h: dict[str, str], issue: Issue) -> int:
    return await _rest(client.delete(f"{PROJECT}/issues/1", headers=h))


async def _comment_rest(client: httpx.AsyncClient, h: dict[str, str], issue: Issue) -> int:
    comment = {"body": "Hi"}
    return await _rest(client.post(f"{PROJECT}/issues/1/comments", json=comment, headers=h))


async def _create_graphql(client: httpx.AsyncClient, h: dict[str, str], issue: Issue) -> int:
    project = to_global_id("Project", issue.project_id)  # type: ignore[attr-defined]
    query = f'mutation {{ createIssue(input: {{projectId: "{project}", title: "New"}})'
    return await _graphql(client, h, query + " { issue { number } } }")


async def _label_graphql(client: httpx.AsyncClient, h: dict[str, str], issue: Issue) -> int:
    project = to_global_id("Project", issue.project_id)  # type: ignore[attr-defined]
    query = f'mutation {{ createLabel(input: {{projectId: "{project}", name: "new"'
    return await _graphql(client, h, query + ', color: "#ff0000"}) { label { name } } }')


WRITES: dict[str, Write] = {
    "create issue (REST)": _create_rest,
    "update issue (REST)": _update_rest,
    "delete issue (REST)": _delete_rest,
    "add comment (REST)": _comment_rest,
    "create issue (GraphQL)": _create_graphql,
    "create label (GraphQL)": _label_graphql,
}


async def _waiting_on_a_lock() -> bool:
    """Whether some statement of this database waits for a row lock (the write, blocked)."""
    connection = Tortoise.get_connection("default")
    for _ in range(100):
        rows = await connection.execute_query_dict(
            "SELECT count(*) AS n FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        if rows[0]["n"]:
            return True
        await asyncio.sleep(0.02)
    return False


@pytest.mark.parametrize("write", WRITES.values(), ids=WRITES.keys())
async def test_a_write_during_an_archiving_waits_and_is_refused(
    app: FastAPI, client: httpx.AsyncClient, write: Write
) -> None:
    owner = await make_user("olga")
    workspace = await Workspace.create(slug="acme", name="Acme")
    await Membership.create(workspace=workspace, user=owner, role=Role.owner)
    project = await Project.create(workspace=workspace, key="WEB", name="Web", issue_counter=1)
    issue = await Issue.create(project=project, number=1, title="Old", author=owner)
    archiving_updated = asyncio.Event()
    commit = asyncio.Event()

    async def archive() -> None:  # the transaction of `PATCH …/projects/WEB {is_archived: true}`
        async with in_transaction() as db:
            await Project.filter(id=project.id).using_db(db).select_for_update().first()
            await Project.filter(id=project.id).using_db(db).update(is_archived=True)
            archiving_updated.set()
            await commit.wait()

    archiving = asyncio.create_task(archive())
    await archiving_updated.wait()
    writing = asyncio.create_task(write(client, bearer(app, owner), issue))
    blocked = await _waiting_on_a_lock()
    commit.set()
    await archiving
    status = await asyncio.wait_for(writing, timeout=10)

    assert (blocked, status) == (True, 409)
    assert await Issue.all().values_list("number", "title") == [(1, "Old")]
    assert await Comment.all().count() == 0
