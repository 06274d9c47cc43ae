"""Schemathesis over every operation of `/openapi.json`, signed in as the owner of a seeded
workspace and anonymously, with rate limits on: no answer is a 5xx, every answer keeps to its
documentation (status code, content type, headers, body schema), schema-valid input is accepted
and schema-violating input refused, and an undocumented method is 405 with a true `Allow`.

Each operation and mode is one test, on a database holding just the seed (`owned`). Its cases
mix valid and invalid inputs, with path parameters either naming the seeded objects (so
`/issues/{number}` reaches a real issue) or generated (so unknown ones are fuzzed too).
`GATEWAY_FUZZ_EXAMPLES` sets the number of cases per operation (10 by default).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import strategies as st
from schemathesis import APIOperation, Case, CheckContext, CheckFunction, GenerationMode, Response
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    allow_header_conformance,
    content_type_conformance,
    missing_required_header,
    negative_data_rejection,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from gateway.core.settings import Settings
from tests.auth_helpers import PASSWORD
from tests.fuzz_helpers import BASE_URL, Seed, collect, fuzz, report

# Hundreds of generated requests: left out of the inner loop by `pytest -m "not slow"`.
pytestmark = pytest.mark.slow


def rate_limited(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
    """Every API answer is metered (the limits are on while fuzzing; health checks are exempt)."""
    if case.path.startswith("/api/"):
        assert "ratelimit-remaining" in response.headers, "answer without RateLimit-* headers"
    return None


CHECKS: list[CheckFunction] = [
    rate_limited,
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    missing_required_header,
    unsupported_method,
    allow_header_conformance,
]
# Schema-valid input may still be refused for a reason no schema can carry: a stale `If-Match`
# is 412 (inputs that name other objects are made real by `_realistic`).
CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {
            "positive_data_acceptance": {
                "expected-statuses": ["2xx", "3xx", "401", "403", "404", "409", "412", "429"]
            }
        }
    }
)
MODES = ("signed-in", "anonymous")


_PATH_PARAMETER = re.compile(r"{(\w+)}")
_METHODS = {"get", "put", "post", "patch", "delete", "head", "options"}


def _labels(spec: dict[str, Any]) -> list[str]:
    return [
        f"{method.upper()} {path}"
        for path, item in spec["paths"].items()
        for method in item
        if method in _METHODS
    ]


COMMITTED = Path(__file__).resolve().parents[2] / "openapi.json"
# One test per operation of the committed contract, known at collection time without building
# an app (`test_every_documented_operation_is_fuzzed` holds it to what the app serves).
OPERATIONS = _labels(json.loads(COMMITTED.read_text()))


async def _spec(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200, response.text
    spec: dict[str, Any] = response.json()
    return spec


async def test_every_documented_operation_is_fuzzed(client: httpx.AsyncClient) -> None:
    """The parametrization, the committed contract (`openapi.json`), is every operation the
    app serves: none goes unfuzzed, and the contract is not merely the app's view of itself."""
    assert sorted(OPERATIONS) == sorted(_labels(await _spec(client)))
    assert len(OPERATIONS) > 40


def _realistic(owned: Seed, case: Case[Any]) -> Case[Any]:
    """A positive case whose references are real, as its path parameters are: inputs that name
    another object (or hold a secret) are valid only when it exists, which no schema can say
    (`api.md`: an unknown label or assignee is 422). A cursor is opaque, valid only as the
    server issued it, so positive cases start at the first page; negative cases keep all."""
    if case.query:
        case.query.pop("cursor", None)
    if not isinstance(case.body, dict):
        return case
    body: dict[str, Any] = case.body
    if isinstance(body.get("labels"), list):
        body["labels"] = owned.labels[: len(body["labels"]) % 3]
    if body.get("assignee") is not None:
        body["assignee"] = owned.member
    if case.path.endswith("/invitations") and "username" in body:
        body["username"] = owned.guest
    if "/webhooks" in case.path and "url" in body:
        body["url"] = "https://93.184.216.34/hook"  # public: the SSRF guard refuses the rest
    if case.path == "/api/v1/me" and {"email", "password"} & body.keys():
        body["current_password"] = PASSWORD
        if "password" in body:
            body["password"] = PASSWORD
    return case


def _strategy(
    operation: APIOperation[Any, Any, Any, Any], owned: Seed
) -> st.SearchStrategy[Case[Any]]:
    fixed = owned.path_values()
    names = _PATH_PARAMETER.findall(operation.path)
    real = {name: fixed[name] for name in names if name in fixed}
    positive = [operation.as_strategy(GenerationMode.POSITIVE, path_parameters=real or None)]
    if real:
        positive.append(operation.as_strategy(GenerationMode.POSITIVE))
    return st.one_of(
        *(strategy.map(partial(_realistic, owned)) for strategy in positive),
        operation.as_strategy(GenerationMode.NEGATIVE, path_parameters=real or None),
    )


@pytest.fixture(scope="module")
async def schema(app: FastAPI) -> schemathesis.BaseSchema:
    """The document the app serves, loaded once for the module (the app does not change)."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        return schemathesis.openapi.from_dict(await _spec(http), config=CONFIG)


@pytest.fixture(scope="module")
def drawn() -> dict[str, list[Case[Any]]]:
    """The cases of each operation, drawn once for both modes: every test has the same seed and
    Hypothesis draws derandomized, so the second mode would draw the very same cases again."""
    return {}


@pytest.fixture
def limits_on(app: FastAPI) -> Iterator[None]:
    """The app with the production rate limits (the suite's settings lift them)."""
    lifted = app.state.settings
    defaults = Settings.model_fields
    app.state.settings = lifted.model_copy(
        update={
            "rate_limit_enabled": True,
            "rate_limit_per_minute": defaults["rate_limit_per_minute"].default,
            "rate_limit_anonymous_per_minute": defaults["rate_limit_anonymous_per_minute"].default,
        }
    )
    yield
    app.state.settings = lifted


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("label", OPERATIONS)
async def test_operation_survives_fuzzing(
    label: str,
    mode: str,
    client: httpx.AsyncClient,
    schema: schemathesis.BaseSchema,
    owned: Seed,
    drawn: dict[str, list[Case[Any]]],
    limits_on: None,
) -> None:
    if label not in drawn:
        method, path = label.split(" ", 1)
        drawn[label] = collect(_strategy(schema[path][method], owned))
    cases = drawn[label]
    assert cases, f"no case generated for {label}"
    headers = owned.headers if mode == "signed-in" else {}
    findings = await fuzz(client, cases, headers, CHECKS)
    assert not findings, report(findings, len(cases))
