"""The floor: a bare Starlette + asyncpg endpoint answering the benchmark's JSON with fixed SQL.

Whatever Switchyard reaches is reported as a fraction of this, measured in the same run.
"""

from __future__ import annotations

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

# The project id comes from a scalar subquery, so the planner walks the (project_id, state,
# number) index for a constant; joining projects instead makes it sort every open issue.
SQL = """
SELECT i.number, i.title, i.state, u.username AS assignee
FROM issues i
LEFT JOIN users u ON u.id = i.assignee_id
WHERE i.project_id = (
    SELECT p.id FROM projects p JOIN workspaces w ON w.id = p.workspace_id
    WHERE w.slug = $1 AND p.key = $2
)
AND i.state = 'open'
ORDER BY i.number
LIMIT 50
"""

pool: Any = None


@asynccontextmanager
async def lifespan(_: Starlette) -> AsyncIterator[None]:
    global pool
    pool = await asyncpg.create_pool(os.environ["BENCH_DSN"], min_size=4, max_size=16)
    yield
    await pool.close()


async def issues(request: Request) -> Response:
    rows = await pool.fetch(SQL, request.path_params["slug"], request.path_params["key"])
    items = [
        {
            "number": r["number"],
            "title": r["title"],
            "state": r["state"],
            "assignee": {"username": r["assignee"]} if r["assignee"] else None,
        }
        for r in rows
    ]
    return Response(orjson.dumps({"items": items}), media_type="application/json")


app = Starlette(routes=[Route("/{slug}/{key}/issues", issues)], lifespan=lifespan)
