"""Shared machinery of the schemathesis fuzz tests (`test_fuzz_rest.py`, `test_fuzz_graphql.py`).

Schemathesis' own ASGI transport runs the app in a thread of its own, on an event loop of its
own, and starts the app's lifespan a second time; the session-wide app of `conftest.py` holds
its database connections on the test loop, so that transport cannot reach it. Instead,
schemathesis generates the cases (Hypothesis, derandomized, so every run sends the same ones),
each case is serialized exactly as schemathesis would put it on the wire (through `requests`),
sent in-process with httpx on the test loop, and judged with schemathesis' own checks.

The seed the cases name (`owned`, a pytest plugin's fixture, see `conftest.py`) is made through
the API once per module; every test starts from its rows.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import httpx
import pytest
import requests
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import Case, CheckFunction
from schemathesis.core.failures import FailureGroup
from schemathesis.transport.requests import REQUESTS_TRANSPORT

from models import Membership, Role, User, Workspace
from tests.auth_helpers import bearer, make_user
from tests.database import Snapshot, empty_tables

BASE_URL = "http://testserver"
# Examples per operation (and mode): positive and negative cases of every operation on every
# run, at a cost the whole suite can carry; `GATEWAY_FUZZ_EXAMPLES` raises it for a longer run.
MAX_EXAMPLES = int(os.environ.get("GATEWAY_FUZZ_EXAMPLES", "10"))


@dataclass
class Seed:
    """What the fuzzed principal owns: names of real objects for path parameters."""

    headers: dict[str, str]
    owner: str = "fuzzer"
    slug: str = "fuzz"
    key: str = "FUZ"
    member: str = "fuzzmate"
    guest: str = "fuzzguest"
    labels: list[str] = field(default_factory=lambda: ["bug", "ui"])
    numbers: list[int] = field(default_factory=list)
    comment_ids: list[int] = field(default_factory=list)
    token_ids: list[int] = field(default_factory=list)
    invitation_ids: list[int] = field(default_factory=list)

    def path_values(self) -> dict[str, Any]:
        """One real value per path parameter name of the REST API."""
        return {
            "slug": self.slug,
            "key": self.key,
            "username": self.member,
            "name": self.labels[0],
            "number": self.numbers[0],
            "comment_id": self.comment_ids[0],
            "token_id": self.token_ids[0],
            "invitation_id": self.invitation_ids[0],
        }


async def _created(response: httpx.Response) -> Any:
    assert response.status_code == 201, response.text
    return response.json()


async def seed(app: FastAPI, client: httpx.AsyncClient) -> Seed:
    """A user who owns a workspace with a second member, a pending invitation, a project,
    labels, issues, comments and a personal access token, made through the REST API itself
    (but for the membership, which only an invitation's invitee could make)."""
    result = Seed(headers={})
    result.headers = bearer(app, await make_user(result.owner))
    mate = await make_user(result.member)
    await make_user(result.guest)
    h = result.headers
    api = "/api/v1"
    await _created(
        await client.post(f"{api}/workspaces", json={"slug": "fuzz", "name": "Fuzz"}, headers=h)
    )
    ws = f"{api}/workspaces/{result.slug}"
    workspace = await Workspace.get(slug=result.slug)
    await Membership.create(workspace=workspace, user=mate, role=Role.member)
    invitation = await _created(
        await client.post(
            f"{ws}/invitations", json={"username": result.guest, "role": "viewer"}, headers=h
        )
    )
    result.invitation_ids.append(int(invitation["id"]))
    await _created(
        await client.post(f"{ws}/projects", json={"key": result.key, "name": "Fuzzing"}, headers=h)
    )
    project = f"{ws}/projects/{result.key}"
    for name, color in zip(result.labels, ("#ff0000", "#00ff00"), strict=True):
        await _created(
            await client.post(f"{project}/labels", json={"name": name, "color": color}, headers=h)
        )
    for title in ("First", "Second", "Third"):
        issue = await _created(
            await client.post(
                f"{project}/issues",
                json={"title": title, "labels": result.labels[:1], "assignee": result.member},
                headers=h,
            )
        )
        result.numbers.append(int(issue["number"]))
        comment = await _created(
            await client.post(
                f"{project}/issues/{issue['number']}/comments", json={"body": "A"}, headers=h
            )
        )
        result.comment_ids.append(int(comment["id"]))
    token = await _created(
        await client.post(f"{api}/me/tokens", json={"name": "fuzz", "scopes": ["read"]}, headers=h)
    )
    result.token_ids.append(int(token["id"]))
    return result


@pytest.fixture(scope="module")
async def seeded(app: FastAPI) -> tuple[Seed, Snapshot]:
    """The seed, made through the API once per module (and worker), and the rows it made."""
    await empty_tables()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        made = await seed(app, http)
    return made, await Snapshot.take()


@pytest.fixture
async def owned(app: FastAPI, seeded: tuple[Seed, Snapshot]) -> Seed:
    """The seeded objects, their rows put back into the test's empty tables (the same objects
    with the same ids in every test, in ~6 ms where seeding takes ~110), and a fresh access
    token of their owner."""
    made, rows = seeded
    await rows.restore()
    owner = await User.get(username=made.owner)
    return replace(made, headers=bearer(app, owner))


def collect(
    strategy: st.SearchStrategy[Case[Any]], max_examples: int = MAX_EXAMPLES
) -> list[Case[Any]]:
    """The cases Hypothesis draws from `strategy`, deterministically (no shrinking: nothing
    fails while drawing; the checks run afterwards, one case at a time)."""
    cases: list[Case[Any]] = []

    @settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def draw(case: Case[Any]) -> None:
        cases.append(case)

    draw()
    return cases


async def send(
    client: httpx.AsyncClient, case: Case[Any], headers: dict[str, str], base_url: str = BASE_URL
) -> httpx.Response:
    """Send `case` to the in-process app, byte for byte as schemathesis' requests transport
    would, with `headers` (the credentials) added."""
    kwargs = REQUESTS_TRANSPORT.serialize_case(case, base_url=base_url, headers=headers)
    prepared = requests.Request(**kwargs).prepare()
    body = prepared.body
    if isinstance(body, str):
        body = body.encode()
    assert body is None or isinstance(body, bytes), type(body)
    # As bytes: a generated header may hold Latin-1 characters, which httpx would refuse to
    # encode from a str (requests sends them as Latin-1 bytes).
    headers_sent = [
        (name.encode("latin-1"), value.encode("latin-1") if isinstance(value, str) else value)
        for name, value in prepared.headers.items()
    ]
    return await client.request(
        str(prepared.method), str(prepared.url), headers=headers_sent, content=body
    )


@dataclass
class Finding:
    """One case that failed a check: enough to reproduce it by hand."""

    label: str
    request: str
    status: int
    answer: str
    failure: str

    @property
    def kind(self) -> str:
        """The failure's title lines, without the parts that vary from case to case."""
        return (
            " | ".join(
                line.strip()
                for line in self.failure.splitlines()
                if line.strip().startswith(("-", "Received", "Documented", "Expected"))
            )
            or self.failure.splitlines()[0]
        )

    def __str__(self) -> str:
        return (
            f"{self.label}: {self.failure}\n  request: {self.request}\n"
            f"  answer: {self.status} {self.answer[:600]}"
        )


def describe(response: httpx.Response) -> str:
    """The request as sent: method, URL, and body (truncated)."""
    request = response.request
    body = request.content.decode(errors="replace")
    return f"{request.method} {request.url} body={body[:400]!r}"


async def fuzz(
    client: httpx.AsyncClient,
    cases: Sequence[Case[Any]],
    headers: dict[str, str],
    checks: list[CheckFunction],
    base_url: str = BASE_URL,
) -> list[Finding]:
    """Send every case and run `checks` (schemathesis' and ours) on its answer."""
    findings: list[Finding] = []
    for case in cases:
        response = await send(client, case, headers, base_url)
        problems: list[str] = []
        try:
            case.validate_response(response, checks=checks, headers=headers)
        except FailureGroup as exc:
            problems.append(_first_lines(str(exc)))
        findings.extend(
            Finding(
                label=case.operation.label,
                request=describe(response),
                status=response.status_code,
                answer=response.text,
                failure=problem,
            )
            for problem in problems
        )
    return findings


def _first_lines(text: str, limit: int = 12) -> str:
    return "\n    ".join(line for line in text.splitlines()[:limit] if line.strip())


def report(findings: Sequence[Finding], total: int) -> str:
    """Findings grouped by kind (status and failure), one reproduction each."""
    groups: dict[tuple[int, str], list[Finding]] = {}
    for finding in findings:
        groups.setdefault((finding.status, finding.kind), []).append(finding)
    lines = [f"{len(findings)} failures in {total} cases, {len(groups)} kinds:"]
    for (status, kind), members in groups.items():
        lines.append(f"[{len(members)}x] {status} {kind}\n  e.g. {members[0]}")
    return "\n".join(lines)
