"""Which contract a change is compared with: the committed artefacts at a git revision.

- `GATEWAY_CONTRACT_BASE` (any revision git understands) when set;
- on a branch, where it left `main` (`git merge-base HEAD main`, or `origin/main` in a clone
  that has no local `main`);
- on `main` itself (CI runs on a fresh clone of main, whose tip merged the change), the tip's
  first parent: the contract before that merge.

A checkout without git history (a tarball, a shallow clone) has no baseline: the guard then
says so and checks only that the artefacts match the code.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

BASE_VARIABLE = "GATEWAY_CONTRACT_BASE"
_MAINS = ("main", "origin/main")


def _git(root: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(  # noqa: S603 - fixed git arguments, no shell
            ["git", *args],  # noqa: S607 - git from PATH, as every developer runs it
            cwd=root,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def _commit(root: Path, revision: str) -> str | None:
    found = _git(root, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}")
    return found.strip() if found else None


def baseline_revision(root: Path) -> str | None:
    """The commit whose artefacts are the previous contract, or None (see the module doc)."""
    configured = os.environ.get(BASE_VARIABLE, "").strip()
    if configured:
        return _commit(root, configured)
    head = _commit(root, "HEAD")
    if head is None:
        return None
    for main in _MAINS:
        if _commit(root, main) is None:
            continue
        base = _git(root, "merge-base", "HEAD", main)
        if base is not None and base.strip() != head:
            return base.strip()
        break
    return _commit(root, "HEAD^1")


def artefact_at(root: Path, revision: str, name: str) -> str | None:
    """The file `name` as committed at `revision`, or None if it did not exist there."""
    return _git(root, "show", f"{revision}:{name}")
