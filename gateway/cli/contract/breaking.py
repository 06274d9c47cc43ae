"""Breaking changes between two contracts, each named by one line a human can acknowledge.

GraphQL: graphql-core's `find_breaking_changes` (removed types and fields, narrowed types, new
required arguments and input fields…), named `graphql: <TYPE>: <description>`. REST:
openapi-diff from npm (removed paths and operations, request bodies that accept less, response
bodies that may hold more…), run on 3.0 renderings (`openapi30`), named
`openapi: <code>: <location>`.
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Final

from graphql import build_schema, find_breaking_changes

from gateway.cli.contract.artefacts import REPO_ROOT
from gateway.cli.contract.openapi30 import as_openapi30

ACK_FILE: Final = "history/contract-changes.md"
ACK_HEADING: Final = "\n## Acknowledged\n"
OPENAPI_DIFF: Final = Path("node_modules") / ".bin" / "openapi-diff"
_ACKNOWLEDGED = re.compile(r"`((?:graphql|openapi): [^`]+)`")


class DiffToolFailed(RuntimeError):
    """openapi-diff could not compare the documents (not installed, or a document it refuses)."""


def graphql_breaking(old_sdl: str, new_sdl: str) -> list[str]:
    changes = find_breaking_changes(build_schema(old_sdl), build_schema(new_sdl))
    return sorted(f"graphql: {change.type.name}: {change.description}" for change in changes)


def _locations(difference: dict[str, Any]) -> str:
    details = difference.get("sourceSpecEntityDetails") or difference.get(
        "destinationSpecEntityDetails", []
    )
    return ", ".join(str(detail.get("location", "")) for detail in details) or "(document)"


def openapi_breaking(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    tool = REPO_ROOT / OPENAPI_DIFF
    if not tool.is_file():
        raise DiffToolFailed(f"{tool} is missing: run `make install` (npm ci)")
    with tempfile.TemporaryDirectory(prefix="contract-") as scratch:
        files = []
        for name, document in (("old.json", old), ("new.json", new)):
            path = Path(scratch) / name
            path.write_text(json.dumps(as_openapi30(document)), "utf-8")
            files.append(str(path))
        done = subprocess.run(  # noqa: S603 - our own tool and temporary files, no shell
            [str(tool), *files], capture_output=True, text=True, timeout=120, check=False
        )
    start = done.stdout.find("{")
    if start < 0 and done.returncode == 0:
        return []  # "No changes found between the two specifications"
    if start < 0:
        raise DiffToolFailed(f"openapi-diff failed: {(done.stderr or done.stdout)[:2000]}")
    outcome = json.loads(done.stdout[start:])
    return sorted(
        f"openapi: {difference['code']}: {_locations(difference)}"
        for difference in outcome.get("breakingDifferences", [])
    )


def acknowledged(root: Path) -> set[str]:
    """Every change named (in backticks) under the `## Acknowledged` heading of
    `history/contract-changes.md` (the examples above it acknowledge nothing)."""
    path = root / ACK_FILE
    if not path.is_file():
        return set()
    _, heading, entries = path.read_text("utf-8").partition(ACK_HEADING)
    return set(_ACKNOWLEDGED.findall(entries)) if heading else set()
