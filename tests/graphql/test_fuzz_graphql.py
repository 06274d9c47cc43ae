"""Schemathesis over every root field of the GraphQL schema (queries and mutations),
authenticated as the owner of a seeded workspace: no answer is a 5xx, every answer is a
GraphQL response that keeps to the schema (no null in a non-null field), and every error
carries an `extensions.code` from our catalogue, never `INTERNAL`. Errors themselves are fine:
a generated `node(id:)` or `createIssue` mostly names nothing that exists.

Each root field is one test, on a database holding just the seed (`owned`);
`viewer { workspaces … }` and its kind reach the seeded objects. `GATEWAY_FUZZ_EXAMPLES` sets
the number of cases per field (10 by default).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import graphql
import httpx
import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import strategies as st
from schemathesis import Case, CheckContext, CheckFunction, GenerationMode, Response
from schemathesis.checks import response_schema_conformance
from schemathesis.core.result import Ok

from tests.fuzz_helpers import BASE_URL, Seed, collect, fuzz, report

# Hundreds of generated requests: left out of the inner loop by `pytest -m "not slow"`.
pytestmark = pytest.mark.slow

# Answers that mean "the server failed", whatever the status code says.
SERVER_CODES = frozenset({"INTERNAL", "INTERNAL_SERVER_ERROR"})


def graphql_errors_are_coded(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
    """No 5xx; a JSON object with `data` or `errors`; each error has a catalogue code."""
    assert response.status_code < 500, f"server error {response.status_code}"
    try:
        payload: Any = json.loads(response.content)
    except ValueError as exc:
        raise AssertionError(f"answer is not JSON: {exc}") from exc
    assert isinstance(payload, dict), "answer is not a JSON object"
    assert "data" in payload or "errors" in payload, "answer has neither `data` nor `errors`"
    for error in payload.get("errors") or []:
        extensions = error.get("extensions") if isinstance(error, dict) else None
        code = extensions.get("code") if isinstance(extensions, dict) else None
        assert isinstance(code, str), f"error without `extensions.code`: {error}"
        assert code, f"error with an empty `extensions.code`: {error}"
        assert code not in SERVER_CODES, f"server-side error: {error}"
    return None


CHECKS: list[CheckFunction] = [graphql_errors_are_coded, response_schema_conformance]


def _labels(loaded: schemathesis.BaseSchema) -> list[str]:
    labels = []
    for result in loaded.get_all_operations():
        assert isinstance(result, Ok), result
        labels.append(result.ok().label)
    return labels


COMMITTED = Path(__file__).resolve().parents[2] / "schema.graphql"
# One test per root field of the committed contract, known at collection time without building
# the app's schema (`test_every_root_field_is_fuzzed` holds it to the schema the app serves).
FIELDS = _labels(
    schemathesis.graphql.from_dict(
        dict(graphql.introspection_from_schema(graphql.build_schema(COMMITTED.read_text())))
    )
)


async def _live_introspection(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.post("/graphql", json={"query": graphql.get_introspection_query()})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


@pytest.fixture(scope="module")
async def schema(app: FastAPI) -> schemathesis.BaseSchema:
    """The schema the app serves (its introspection), loaded once for the module."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        return schemathesis.graphql.from_dict(await _live_introspection(http))


async def test_every_root_field_is_fuzzed(schema: schemathesis.BaseSchema) -> None:
    """The parametrization, the root fields of the committed contract (`schema.graphql`), is
    every root field of the schema the app serves: none goes unfuzzed, and the contract is not
    merely the app's view of itself."""
    assert sorted(FIELDS) == sorted(_labels(schema))
    assert any(label.startswith("Mutation.") for label in FIELDS)


@pytest.mark.parametrize("label", FIELDS)
async def test_field_survives_fuzzing(
    label: str, client: httpx.AsyncClient, schema: schemathesis.BaseSchema, owned: Seed
) -> None:
    operation = schema.find_operation_by_label(label)
    assert operation is not None, label
    strategy = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )
    cases = collect(strategy)
    assert cases, f"no case generated for {label}"
    findings = await fuzz(client, cases, owned.headers, CHECKS, f"{BASE_URL}/graphql")
    assert not findings, report(findings, len(cases))
