"""GraphiQL runs subscriptions: the page's own fetcher (graphiql.min.js as /graphql serves it,
with the graphql-ws client it bundles) subscribes over graphql-transport-ws with the headers
editor's token, driven by node against the live server."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from gateway.http.docs import ASSETS, default_assets_dir
from tests.auth_helpers import bearer, make_user
from tests.subscription_helpers import serving

# Real processes and servers: left out of the inner loop by `pytest -m "not slow"`.
pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = REPO_ROOT / "tests" / "graphiql_subscription.cjs"
NODE = shutil.which("node")


async def test_the_graphiql_page_wires_subscriptions_to_this_server(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/graphql", headers={"Accept": "text/html"})
    assert "subscriptionUrl" in page.text
    assert "/assets/graphiql/graphiql.min.js" in page.text
    bundle = ASSETS["graphiql/graphiql.min.js"].path(default_assets_dir())
    assert "graphql-transport-ws" in bundle.read_text(encoding="utf-8")  # its graphql-ws client


@pytest.mark.skipif(NODE is None, reason="node is not on PATH")
async def test_graphiqls_fetcher_runs_a_subscription(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    ada = await make_user("ada")
    auth = bearer(app, ada)
    client.headers.update(auth)
    await client.post("/api/v1/workspaces", json={"slug": "acme", "name": "Acme"})
    await client.post("/api/v1/workspaces/acme/projects", json={"key": "WEB", "name": "Web"})
    token = auth["Authorization"].removeprefix("Bearer ")
    assert NODE is not None
    async with serving(app) as address:
        node = await asyncio.create_subprocess_exec(
            NODE,
            "--experimental-websocket",
            "--no-warnings",
            str(SCRIPT),
            str(REPO_ROOT),
            f"http://{address}",
            token,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            out, err = await asyncio.wait_for(node.communicate(), 30)
        finally:
            if node.returncode is None:
                node.kill()
                await node.wait()
    assert node.returncode == 0, err.decode()
    result = json.loads(out.decode().strip().splitlines()[-1])
    event = {"type": "issue.created", "issue": {"title": "seen in GraphiQL"}}
    assert result == {"data": {"workspaceEvents": event}}
