"""Which code the API is served from: the working tree, or a git revision exported aside.

`git archive` only reads the repository, so measuring a revision leaves the tree and the index
alone. uvicorn imports the app from its working directory first, so the export wins over the
editable install.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.servers import ROOT


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.strip()


def describe(ref: str | None) -> str:
    """The measured code, for the report."""
    if ref is not None:
        return f"`{ref}` ({_git('rev-parse', '--short', ref)})"
    dirty = " with uncommitted changes" if _git("status", "--porcelain") else ""
    return f"the working tree at {_git('rev-parse', '--short', 'HEAD')}{dirty}"


@contextmanager
def tree(ref: str | None) -> Iterator[Path]:
    """The directory to serve from: the working tree, or `ref` exported into a temp dir."""
    if ref is None:
        yield ROOT
        return
    with tempfile.TemporaryDirectory(prefix="switchyard-") as directory:
        archive = subprocess.run(
            ["git", "archive", ref], cwd=ROOT, check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", directory], input=archive, check=True)
        yield Path(directory)
