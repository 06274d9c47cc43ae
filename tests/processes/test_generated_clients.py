"""Client smoke tests (issue 12): clients generated from the committed artefacts, as a user
would generate them, build and work.

- TypeScript: graphql-codegen's client preset (the README's) over `schema.graphql` and the
  documents in `clients/typescript/src`, then `tsc --strict` over the lot;
- Python: openapi-python-client over `openapi.json`, then `clients/python/flow.py` drives a
  real `gateway serve` on a free loopback port through the whole flow with that client,
  unmodified.

Nothing generated is kept: it all lives in a temporary directory.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.gateway_process import running

# Real processes and servers: left out of the inner loop by `pytest -m "not slow"`.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
NODE_BIN = ROOT / "node_modules" / ".bin"
TIMEOUT = 120


def _run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    assert done.returncode == 0, f"{' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_typescript_client_preset_output_passes_tsc_strict(tmp_path: Path) -> None:
    shutil.copy(ROOT / "schema.graphql", tmp_path / "schema.graphql")
    project = tmp_path / "clients" / "typescript"
    shutil.copytree(ROOT / "clients" / "typescript", project)
    # The copy has no node_modules above it: codegen finds the preset through NODE_PATH.
    env = {**os.environ, "NODE_PATH": str(ROOT / "node_modules")}
    _run([str(NODE_BIN / "graphql-codegen"), "--config", "codegen.yml"], cwd=project, env=env)
    generated = project / "src" / "gql" / "graphql.ts"
    assert "export type OpenIssuesQuery = " in generated.read_text("utf-8")
    # The repository's node_modules, found through `paths` rather than a link in the copy.
    config = json.loads((project / "tsconfig.json").read_text("utf-8"))
    config["compilerOptions"]["baseUrl"] = "."
    config["compilerOptions"]["paths"] = {"*": [str(ROOT / "node_modules" / "*")]}
    (project / "tsconfig.json").write_text(json.dumps(config), "utf-8")
    _run([str(NODE_BIN / "tsc"), "-p", "tsconfig.json", "--strict"], cwd=project)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """A real `gateway serve` on a fresh SQLite file; its base URL."""
    with running(f"sqlite://{tmp_path / 'clients.sqlite3'}", tmp_path / "server.log") as served:
        yield served.base


def test_generated_python_client_runs_the_whole_flow(tmp_path: Path, server: str) -> None:
    generated = tmp_path / "generated"
    generated.mkdir()
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    _run(
        [
            str(BIN / "openapi-python-client"),
            "generate",
            "--path",
            str(ROOT / "openapi.json"),
            "--meta",
            "none",
            "--output-path",
            str(generated / "switchyard_client"),
        ],
        cwd=generated,
        env=env,
    )
    assert (generated / "switchyard_client" / "api" / "issues" / "issues_list.py").is_file()
    flow_env = {**env, "PYTHONPATH": str(generated)}
    output = _run(
        [sys.executable, str(ROOT / "clients" / "python" / "flow.py"), server],
        cwd=tmp_path,
        env=flow_env,
    )
    assert output.splitlines()[-1] == "flow complete", output
    assert "ok  stale If-Match refused" in output
