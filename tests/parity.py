"""The compiled-reads parity runner, shared by the parity tests of both APIs: a document is
sent with `compiled_reads` off (the resolver + DataLoader fallback) and on, and the two
answers must be the same status code and the same JSON document. A pytest plugin (see
`conftest.py`): it provides the `rich_world` and `parity_of` fixtures."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from gateway.core.settings import Settings
from tests.factories import World, make_rich_world

CALLERS = ("owner", "admin", "member", "viewer", "siteadmin", "pat")
PAGE_INFO = "pageInfo { hasNextPage hasPreviousPage startCursor endCursor }"


@dataclass
class Answer:
    """A decoded answer: status and JSON."""

    status: int
    body: Any

    def __str__(self) -> str:
        return f"{self.status} {json.dumps(self.body, ensure_ascii=False, sort_keys=True)}"


async def post(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    query: str,
    variables: dict[str, Any] | None = None,
) -> Answer:
    """POST a GraphQL document; the status and parsed body."""
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
    )
    return Answer(response.status_code, response.json())


def comparable(body: Any) -> Any:
    """`body` with its top-level `errors` in a canonical order. The fallback resolves root
    fields concurrently, so on PostgreSQL two failing roots report in either order from one
    run to the next; the order of `errors` carries no meaning in GraphQL."""
    if isinstance(body, dict) and isinstance(body.get("errors"), list):
        errors = sorted(body["errors"], key=lambda e: json.dumps(e, sort_keys=True))
        return {**body, "errors": errors}
    return body


@dataclass
class Parity:
    """Runs documents on both paths and records where they differ."""

    client: httpx.AsyncClient
    settings: Settings
    monkeypatch: pytest.MonkeyPatch
    headers: dict[str, str]
    mismatches: list[str] = field(default_factory=list)
    runs: int = 0

    async def both(self, query: str, variables: dict[str, Any] | None = None) -> Answer:
        """The fallback's answer, after comparing it with the compiled one."""
        self.monkeypatch.setattr(self.settings, "compiled_reads", False)
        fallback = await post(self.client, self.headers, query, variables)
        self.monkeypatch.setattr(self.settings, "compiled_reads", True)
        compiled = await post(self.client, self.headers, query, variables)
        self.runs += 1
        if (fallback.status, comparable(fallback.body)) != (
            compiled.status,
            comparable(compiled.body),
        ):
            self.mismatches.append(
                f"--- {query}\nvariables: {variables}\nfallback: {fallback}\ncompiled: {compiled}"
            )
        return fallback

    def check(self) -> None:
        assert not self.mismatches, (
            f"{len(self.mismatches)} of {self.runs} answers differ:\n"
            + "\n".join(self.mismatches[:5])
        )


@pytest.fixture
def parity_of(
    client: httpx.AsyncClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> Callable[[dict[str, str]], Parity]:
    """A Parity runner for the given credentials."""

    def make(headers: dict[str, str]) -> Parity:
        return Parity(client, settings, monkeypatch, headers)

    return make


@pytest.fixture
async def rich_world(app: FastAPI) -> World:
    return await make_rich_world(app)
