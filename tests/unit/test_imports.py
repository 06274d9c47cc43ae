"""No import cycle in `gateway`, `schema` and `models` (ADR 0021).

The graph is read from the source with `ast`, not from `sys.modules`: an import inside a
function is an edge too (hiding a cycle in a function only delays it), while one under
`if TYPE_CHECKING:` is not (it never runs). `from pkg import name` points at `pkg.name` when
that is a module, else at `pkg`. A strongly connected component of more than one module is a
cycle; the test prints one path around it, with the line of each import. `lint-imports` checks
the layering on top of this (pyproject's `[tool.importlinter]`).
"""

from __future__ import annotations

import ast
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from itertools import pairwise
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("gateway", "schema", "models")

Graph = dict[str, dict[str, int]]  # module → imported module → line of the first such import


def _modules(root: Path, packages: Iterable[str]) -> dict[str, Path]:
    """Dotted module name → its file, for every module of `packages` under `root`."""
    found: dict[str, Path] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


class _Imports(ast.NodeVisitor):
    """Every import a module runs (at import or in a function), as (dotted targets, line)."""

    def __init__(self, package: str) -> None:
        self.package = package  # for relative imports
        self.found: list[tuple[list[str], int]] = []

    def visit_If(self, node: ast.If) -> None:
        if _is_type_checking(node.test):
            for statement in node.orelse:
                self.visit(statement)
        else:
            self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.found.append(([alias.name], node.lineno))

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = node.module or ""
        if node.level:
            parent = self.package.split(".")[: len(self.package.split(".")) - node.level + 1]
            base = ".".join([*parent, *([base] if base else [])])
        for alias in node.names:
            # The submodule when `name` is one, else the module that defines `name`.
            self.found.append(([f"{base}.{alias.name}", base], node.lineno))


def _resolve(candidates: list[str], modules: Mapping[str, Path]) -> str | None:
    """The first candidate that is one of ours, or the nearest of its packages that is."""
    for candidate in candidates:
        if candidate in modules:
            return candidate
    parts = candidates[-1].split(".")
    while parts:
        name = ".".join(parts)
        if name in modules:
            return name
        parts.pop()
    return None


def import_graph(root: Path, packages: Iterable[str]) -> Graph:
    """Module → the modules of `packages` it imports, with the line of the import."""
    modules = _modules(root, packages)
    graph: Graph = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        visitor = _Imports(package)
        visitor.visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
        edges = graph.setdefault(name, {})
        for candidates, line in visitor.found:
            target = _resolve(candidates, modules)
            if target is not None and target != name:
                edges.setdefault(target, line)
    return graph


def components(graph: Mapping[str, Mapping[str, int]]) -> list[list[str]]:
    """The strongly connected components of `graph` (Tarjan's algorithm, without recursion)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = len(index)
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(sorted(graph.get(successor, {})))))
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component: list[str] = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    found.append(sorted(component))
    return found


def cycle_through(graph: Mapping[str, Mapping[str, int]], members: list[str]) -> list[str]:
    """One shortest path from the first of `members` back to itself, inside `members`."""
    start, inside = members[0], set(members)
    came_from: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for successor in sorted(graph[node]):
            if successor == start:
                path = [node]
                while path[-1] != start:
                    path.append(came_from[path[-1]])
                return [*reversed(path), start]
            if successor in inside and successor not in came_from:
                came_from[successor] = node
                queue.append(successor)
    raise AssertionError(f"{members} is not a cycle")


def describe(graph: Mapping[str, Mapping[str, int]], cycle: list[str]) -> str:
    steps = [f"  {a} (line {graph[a][b]}) imports {b}" for a, b in pairwise(cycle)]
    return "\n".join(steps)


def cycles(root: Path, packages: Iterable[str]) -> list[str]:
    """One printed cycle per strongly connected component larger than one module."""
    graph = import_graph(root, packages)
    return [
        f"{len(members)} modules import each other: {', '.join(members)}\n"
        + describe(graph, cycle_through(graph, members))
        for members in components(graph)
        if len(members) > 1
    ]


def test_the_project_has_no_import_cycle() -> None:
    graph = import_graph(ROOT, PACKAGES)
    assert len(graph) > 100, "the graph misses modules"
    assert "gateway.core.settings" in graph["gateway.http.app"], "the graph misses imports"
    found = cycles(ROOT, PACKAGES)
    assert not found, "import cycles:\n" + "\n".join(found)


def test_the_check_sees_cycles_hidden_in_functions(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    (package / "a.py").write_text("from pkg.sub import b\n")
    (package / "sub" / "b.py").write_text("def f() -> None:\n    from ..c import C\n")
    (package / "c.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import pkg.sub.b\n"
        "else:\n    import pkg.a\nC = 1\n"
    )
    (package / "d.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import pkg.e\n"
    )
    (package / "e.py").write_text("import pkg.d\n")

    [found] = cycles(tmp_path, ["pkg"])

    assert found.startswith("3 modules import each other: pkg.a, pkg.c, pkg.sub.b\n")
    assert "pkg.a (line 1) imports pkg.sub.b" in found
    assert "pkg.sub.b (line 2) imports pkg.c" in found
    assert "pkg.c (line 5) imports pkg.a" in found
