"""The floor: a bare Starlette + asyncpg app answering each workload's JSON with hand-written SQL.

Every route sends one statement and answers exactly the body Switchyard sends for the same
request (`bench/run.py` compares them before measuring), so the ratio to it is the price of
everything Switchyard adds. It skips what a floor may skip: authentication, permissions,
rate limits. Flat rows become JSON through orjson; nested GraphQL answers are built by
PostgreSQL (`json_build_object`/`json_agg`) and passed through as bytes. REST lists use the
same paths as the API; GraphQL forms are `POST /graphql/<workload>` with the same body.
"""

from __future__ import annotations

import base64
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

PRIORITIES = ("none", "low", "medium", "high", "urgent")
PROJECT = """(
    SELECT p.id FROM projects p JOIN workspaces w ON w.id = p.workspace_id
    WHERE w.slug = $1 AND p.key = $2
)"""
# The project id comes from a scalar subquery, so the planner walks the (project_id, state,
# number) index for a constant; joining projects instead makes it sort every open issue.
ISSUE_COLUMNS = """
    i.id, i.number, i.title, i.body, i.state, i.priority, i.due_date, i.closed_at,
    i.created_at, i.updated_at, i.version,
    a.id AS author_id, a.username AS author_username, a.display_name AS author_display_name,
    u.id AS assignee_id, u.username AS assignee_username,
    u.display_name AS assignee_display_name,
    ARRAY(
        SELECT (l.id, l.name, l.color) FROM issue_labels il JOIN labels l ON l.id = il.label_id
        WHERE il.issue_id = i.id ORDER BY l.name_key, l.id
    ) AS labels,
    (SELECT count(*) FROM comments c WHERE c.issue_id = i.id) AS comment_count
FROM issues i
JOIN users a ON a.id = i.author_id
LEFT JOIN users u ON u.id = i.assignee_id
"""
REST_ISSUES = f"""
SELECT {ISSUE_COLUMNS}
WHERE i.project_id = {PROJECT} AND i.state = 'open'
ORDER BY i.number, i.id
LIMIT $3
"""
REST_ISSUE = f"SELECT {ISSUE_COLUMNS} WHERE i.project_id = {PROJECT} AND i.number = $3"
REST_COMMENTS = f"""
SELECT c.id, c.issue_id, c.body, c.edited_at, c.version, c.created_at, c.updated_at,
       u.id AS author_id, u.username AS author_username, u.display_name AS author_display_name
FROM comments c JOIN users u ON u.id = c.author_id
WHERE c.issue_id = (SELECT id FROM issues WHERE project_id = {PROJECT} AND number = $3)
ORDER BY c.id
LIMIT $4
"""
GRAPHQL_W1 = f"""
SELECT i.number, i.title, u.username AS assignee
FROM issues i LEFT JOIN users u ON u.id = i.assignee_id
WHERE i.project_id = {PROJECT} AND i.state = 'open'
ORDER BY i.number
LIMIT 50
"""
LABEL_NAMES = """(
    SELECT coalesce(json_agg(json_build_object('name', l.name) ORDER BY l.name_key, l.id), '[]')
    FROM issue_labels il JOIN labels l ON l.id = il.label_id WHERE il.issue_id = i.id
)"""
GRAPHQL_W2 = f"""
SELECT json_build_object('data', json_build_object('issue', json_build_object(
    'number', i.number, 'title', i.title, 'state', upper(i.state), 'labels', {LABEL_NAMES},
    'comments', json_build_object('edges', (
        SELECT coalesce(json_agg(json_build_object('node', json_build_object(
            'body', c.body, 'author', json_build_object('username', u.username)
        )) ORDER BY c.id), '[]')
        FROM (
            SELECT id, body, author_id FROM comments WHERE issue_id = i.id ORDER BY id DESC LIMIT 20
        ) c JOIN users u ON u.id = c.author_id
    ))
)))::text
FROM issues i WHERE i.project_id = {PROJECT} AND i.number = $3
"""
GRAPHQL_W3 = f"""
SELECT json_build_object('data', json_build_object('workspace', json_build_object(
    'projects', json_build_object('edges', (
        SELECT coalesce(json_agg(json_build_object('node', json_build_object(
            'key', p.key, 'name', p.name, 'issues', json_build_object('edges', (
                SELECT coalesce(json_agg(json_build_object('node', json_build_object(
                    'number', i.number, 'title', i.title,
                    'assignee', CASE WHEN u.id IS NOT NULL
                        THEN json_build_object('username', u.username) END,
                    'labels', {LABEL_NAMES}
                )) ORDER BY i.number), '[]')
                FROM (
                    SELECT id, number, title, assignee_id FROM issues
                    WHERE project_id = p.id AND state = 'open' ORDER BY number LIMIT 10
                ) i LEFT JOIN users u ON u.id = i.assignee_id
            ))
        )) ORDER BY p.key, p.id), '[]')
        FROM (
            SELECT id, key, name FROM projects WHERE workspace_id = w.id ORDER BY key, id LIMIT 10
        ) p
    ))
)))::text
FROM workspaces w WHERE w.slug = $1
"""

pool: Any = None


@asynccontextmanager
async def lifespan(_: Starlette) -> AsyncIterator[None]:
    global pool
    size = int(os.environ.get("BENCH_POOL", "4"))
    pool = await asyncpg.create_pool(os.environ["BENCH_DSN"], min_size=size, max_size=size)
    yield
    await pool.close()


def node_id(type_name: str, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).rstrip(b"=").decode()


def cursor(*values: object) -> str:
    """A keyset cursor as the API encodes one; its signature is a stand-in of the same size."""
    return base64.urlsafe_b64encode(orjson.dumps(["floor000", *values])).rstrip(b"=").decode()


def json_response(body: object, headers: dict[str, str] | None = None) -> Response:
    content = orjson.dumps(body, option=orjson.OPT_UTC_Z)
    return Response(content, media_type="application/json", headers=headers)


def user(pk: int | None, username: str, display_name: str) -> dict[str, Any] | None:
    if pk is None:
        return None
    return {"node_id": node_id("User", pk), "username": username, "display_name": display_name}


def issue_json(row: asyncpg.Record, project_key: str) -> dict[str, Any]:
    return {
        "node_id": node_id("Issue", row["id"]),
        "number": row["number"],
        "title": row["title"],
        "body": row["body"],
        "state": row["state"],
        "priority": PRIORITIES[row["priority"]],
        "author": user(row["author_id"], row["author_username"], row["author_display_name"]),
        "assignee": user(
            row["assignee_id"], row["assignee_username"], row["assignee_display_name"]
        ),
        "labels": [
            {"node_id": node_id("Label", pk), "name": name, "color": color}
            for pk, name, color in row["labels"]
        ],
        "comment_count": row["comment_count"],
        "due_date": row["due_date"],
        "closed_at": row["closed_at"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "version": row["version"],
        "project_key": project_key,
    }


def page(items: list[dict[str, Any]], limit: int, last: tuple[object, ...]) -> dict[str, Any]:
    """`{items, next_cursor}` from `limit + 1` fetched items; `last` keys the page's last row."""
    more = len(items) > limit
    return {"items": items[:limit], "next_cursor": cursor(*last) if more else None}


async def rest_issues(request: Request) -> Response:
    slug, key = request.path_params["slug"], request.path_params["key"]
    limit = int(request.query_params.get("limit", 30))
    rows = await pool.fetch(REST_ISSUES, slug, key, limit + 1)
    items = [issue_json(row, key) for row in rows]
    last = (rows[limit - 1]["number"], rows[limit - 1]["id"]) if len(rows) > limit else ()
    return json_response(page(items, limit, last))


async def rest_issue(request: Request) -> Response:
    p = request.path_params
    row = await pool.fetchrow(REST_ISSUE, p["slug"], p["key"], p["number"])
    return json_response(issue_json(row, p["key"]), {"ETag": f'"v{row["version"]}"'})


async def rest_comments(request: Request) -> Response:
    p = request.path_params
    limit = int(request.query_params.get("limit", 30))
    rows = await pool.fetch(REST_COMMENTS, p["slug"], p["key"], p["number"], limit + 1)
    items = [
        {
            "node_id": node_id("Comment", row["id"]),
            "id": row["id"],
            "issue_id": node_id("Issue", row["issue_id"]),
            "author": user(row["author_id"], row["author_username"], row["author_display_name"]),
            "body": row["body"],
            "edited_at": row["edited_at"],
            "version": row["version"],
            "created_at": row["created_at"],
            "updated_at": row["updated_at"],
        }
        for row in rows
    ]
    last = (rows[limit - 1]["id"],) if len(rows) > limit else ()
    return json_response(page(items, limit, last))


async def graphql_w1(request: Request) -> Response:
    variables = orjson.loads(await request.body())["variables"]
    rows = await pool.fetch(GRAPHQL_W1, variables["ws"], variables["key"])
    edges = [
        {
            "node": {
                "number": row["number"],
                "title": row["title"],
                "assignee": {"username": row["assignee"]} if row["assignee"] else None,
            }
        }
        for row in rows
    ]
    return json_response({"data": {"project": {"issues": {"edges": edges}}}})


async def graphql_w2(request: Request) -> Response:
    variables = orjson.loads(await request.body())["variables"]
    args = variables["ws"], variables["key"], variables["number"]
    return Response(await pool.fetchval(GRAPHQL_W2, *args), media_type="application/json")


async def graphql_w3(request: Request) -> Response:
    variables = orjson.loads(await request.body())["variables"]
    return Response(await pool.fetchval(GRAPHQL_W3, variables["ws"]), media_type="application/json")


async def healthz(_: Request) -> Response:
    return Response("ok")


ISSUES = "/api/v1/workspaces/{slug}/projects/{key}/issues"
app = Starlette(
    routes=[
        Route("/healthz", healthz),
        Route(ISSUES, rest_issues),
        Route(ISSUES + "/{number:int}", rest_issue),
        Route(ISSUES + "/{number:int}/comments", rest_comments),
        Route("/graphql/W1", graphql_w1, methods=["POST"]),
        Route("/graphql/W2", graphql_w2, methods=["POST"]),
        Route("/graphql/W3", graphql_w3, methods=["POST"]),
    ],
    lifespan=lifespan,
)
