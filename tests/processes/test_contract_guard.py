"""The contract guard (ADR 0018): committed artefacts equal the code, and a breaking change
fails with a message naming it unless `history/contract-changes.md` acknowledges it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from gateway.cli.contract.artefacts import REPO_ROOT, openapi_document, render_openapi
from gateway.cli.contract.baseline import BASE_VARIABLE, baseline_revision
from gateway.cli.contract.breaking import acknowledged, graphql_breaking, openapi_breaking
from gateway.cli.contract.guard import Verdict, breaking_changes, check

# Real processes and servers: left out of the inner loop by `pytest -m "not slow"`.
pytestmark = pytest.mark.slow

OLD_SDL = "type Query { issue(number: Int!): Issue }\ntype Issue { title: String! body: String }\n"


def test_openapi_json_is_current() -> None:
    committed = (REPO_ROOT / "openapi.json").read_text("utf-8")
    assert committed == render_openapi(), "run `make schema` (gateway export-openapi)"


def test_the_repository_has_no_unacknowledged_breaking_change() -> None:
    verdict = check()
    assert verdict.failures == [], "\n".join(verdict.failures)


def test_graphql_removal_and_narrowing_are_named() -> None:
    new = "type Query { issue(number: Int!, project: ID!): Issue }\ntype Issue { body: String }\n"
    changes = graphql_breaking(OLD_SDL, new)
    assert "graphql: FIELD_REMOVED: Field Issue.title was removed." in changes
    assert any(c.startswith("graphql: REQUIRED_ARG_ADDED: ") for c in changes)
    assert graphql_breaking(OLD_SDL, OLD_SDL + "type Extra { a: Int }\n") == []


ISSUES = "/api/v1/workspaces/{slug}/projects/{key}/issues"


def _small() -> dict[str, Any]:
    """The real document cut to two paths: openapi-diff takes seconds per path pair."""
    document: dict[str, Any] = json.loads(json.dumps(openapi_document()))
    document["paths"] = {p: document["paths"][p] for p in ("/api/v1/meta", ISSUES)}
    return document


def _without(document: dict[str, Any], path: str) -> dict[str, Any]:
    changed: dict[str, Any] = json.loads(json.dumps(document))
    del changed["paths"][path]
    return changed


def test_openapi_removed_operation_and_required_input_are_named() -> None:
    document = _small()
    assert openapi_breaking(document, document) == []
    changed = _without(document, "/api/v1/meta")
    changed["components"]["schemas"]["IssueCreate"]["required"].append("body")
    changes = openapi_breaking(document, changed)
    assert "openapi: path.remove: paths./api/v1/meta" in changes
    assert f"openapi: request.body.scope.remove: paths.{ISSUES}.post.requestBody" in " ".join(
        changes
    )


def test_openapi_additions_are_not_breaking() -> None:
    document = _small()
    changed = json.loads(json.dumps(document))
    changed["paths"]["/api/v1/extra"] = changed["paths"]["/api/v1/meta"]
    assert openapi_breaking(document, changed) == []


def _git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def test_a_breaking_change_on_a_branch_fails_until_acknowledged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(BASE_VARIABLE, raising=False)
    document = _small()
    _git(tmp_path, "init", "-q", "-b", "main")
    (tmp_path / "schema.graphql").write_text(OLD_SDL)
    (tmp_path / "openapi.json").write_text(json.dumps(document))
    _git(tmp_path, "add", "schema.graphql", "openapi.json")
    _git(tmp_path, "commit", "-q", "-m", "contract")
    base = _git(tmp_path, "rev-parse", "HEAD")
    _git(tmp_path, "checkout", "-q", "-b", "feature")
    (tmp_path / "schema.graphql").write_text(OLD_SDL.replace("title: String! ", ""))
    (tmp_path / "openapi.json").write_text(json.dumps(_without(document, "/api/v1/meta")))
    _git(tmp_path, "commit", "-q", "-am", "break it")

    assert baseline_revision(tmp_path) == base
    changes = breaking_changes(tmp_path, base, [])
    assert changes == [
        "graphql: FIELD_REMOVED: Field Issue.title was removed.",
        "openapi: path.remove: paths./api/v1/meta",
    ]
    verdict = Verdict(baseline=base, breaking=changes, unacknowledged=changes)
    assert "`graphql: FIELD_REMOVED: Field Issue.title was removed.`" in verdict.failures[0]

    ack = tmp_path / "history" / "contract-changes.md"
    ack.parent.mkdir()
    example = "Name changes like `openapi: path.remove: paths./api/v1/meta`.\n"
    ack.write_text(example)
    assert acknowledged(tmp_path) == set()  # an example above the heading acknowledges nothing
    entry = "- `graphql: FIELD_REMOVED: Field Issue.title was removed.`: clients told.\n"
    ack.write_text(f"{example}\n## Acknowledged\n{entry}")
    assert set(changes) - acknowledged(tmp_path) == {"openapi: path.remove: paths./api/v1/meta"}

    # On main after the merge, the baseline is the tip's first parent: main before it.
    _git(tmp_path, "checkout", "-q", "main")
    _git(tmp_path, "merge", "-q", "--no-ff", "-m", "merge", "feature")
    assert baseline_revision(tmp_path) == base
