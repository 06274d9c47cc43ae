"""The guard itself: artefacts equal to the code, and no unacknowledged breaking change since
the baseline (`gateway.cli.contract.baseline`)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from gateway.cli.contract.artefacts import OPENAPI_FILE, REPO_ROOT, SCHEMA_FILE, stale
from gateway.cli.contract.baseline import artefact_at, baseline_revision
from gateway.cli.contract.breaking import (
    ACK_FILE,
    acknowledged,
    graphql_breaking,
    openapi_breaking,
)


@dataclass(slots=True)
class Verdict:
    """What the guard found; `failures` empty means the contract may land."""

    baseline: str | None
    stale: list[str] = field(default_factory=list)
    breaking: list[str] = field(default_factory=list)
    unacknowledged: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def failures(self) -> list[str]:
        lines = [f"{name} differs from the code: run `make schema`" for name in self.stale]
        lines += [
            f"breaking change not acknowledged in {ACK_FILE}: `{change}`"
            for change in self.unacknowledged
        ]
        return lines


def breaking_changes(root: Path, revision: str, notes: list[str]) -> list[str]:
    """Every breaking change from the artefacts at `revision` to those in `root`."""
    changes: list[str] = []
    old_sdl = artefact_at(root, revision, SCHEMA_FILE)
    if old_sdl is None:
        notes.append(f"{SCHEMA_FILE} did not exist at {revision[:12]}: nothing to compare")
    elif old_sdl != (new_sdl := (root / SCHEMA_FILE).read_text("utf-8")):
        changes += graphql_breaking(old_sdl, new_sdl)
    old_openapi = artefact_at(root, revision, OPENAPI_FILE)
    if old_openapi is None:
        notes.append(f"{OPENAPI_FILE} did not exist at {revision[:12]}: nothing to compare")
    elif old_openapi != (new_openapi := (root / OPENAPI_FILE).read_text("utf-8")):
        # Only a changed document goes to openapi-diff (seconds on the whole document).
        changes += openapi_breaking(json.loads(old_openapi), json.loads(new_openapi))
    return changes


def check(root: Path = REPO_ROOT) -> Verdict:
    """Compare the artefacts with the code, then with the baseline's."""
    verdict = Verdict(baseline=baseline_revision(root), stale=stale(root))
    if verdict.stale:
        return verdict  # a diff against stale files would name the wrong changes
    if verdict.baseline is None:
        verdict.notes.append("no git history here: breaking changes were not looked for")
        return verdict
    verdict.breaking = breaking_changes(root, verdict.baseline, verdict.notes)
    known = acknowledged(root)
    verdict.unacknowledged = [change for change in verdict.breaking if change not in known]
    return verdict
