"""The package's modules stand on their own: each imports alone, and none imports itself back.

An import cycle between two modules works only while one side defers its import into a
function, and breaks the day someone moves that import to the top or imports the other
module first. Both checks read the source as it is: a new module is covered without a list.
"""

from __future__ import annotations

import ast
import itertools
import subprocess
import sys
from pathlib import Path

import pytest

import rewatch

PACKAGE_DIR = Path(rewatch.__file__).parent
MODULES = sorted(f"rewatch.{p.stem}" for p in PACKAGE_DIR.glob("*.py") if p.stem != "__init__")


@pytest.mark.parametrize("module", ["rewatch", *MODULES])
def test_module_imports_on_its_own(module):
    """In a fresh interpreter, so no module another test imported first can hide a missing import."""
    proc = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, f"`import {module}` fails on its own:\n{proc.stderr[-3000:]}"


def _imported_modules(module: str) -> dict[str, int]:
    """The rewatch modules `module` imports, anywhere in it (top level or in a function),
    each with the line of its first import."""
    source = PACKAGE_DIR / f"{module.removeprefix('rewatch.')}.py"
    tree = ast.parse(source.read_text(encoding="utf-8"), filename=str(source))
    found: dict[str, int] = {}
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
            if node.module == "rewatch":  # `from rewatch import faults`: a module by name
                names += [f"rewatch.{alias.name}" for alias in node.names]
        for name in names:
            if name in MODULES and name != module:
                found.setdefault(name, node.lineno)
    return found


def _find_cycle(graph: dict[str, dict[str, int]]) -> list[str] | None:
    """One cycle of the graph as a path that ends where it starts, or None."""
    state: dict[str, str] = {}  # visiting | done
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = "visiting"
        path.append(module)
        for imported in sorted(graph[module]):
            if state.get(imported) == "visiting":
                return [*path[path.index(imported) :], imported]
            if imported not in state and (cycle := visit(imported)):
                return cycle
        path.pop()
        state[module] = "done"
        return None

    for module in sorted(graph):
        if module not in state and (cycle := visit(module)):
            return cycle
    return None


def test_no_import_cycle_between_modules():
    graph = {module: _imported_modules(module) for module in MODULES}
    cycle = _find_cycle(graph)
    if cycle:
        steps = [f"{a} imports {b} (line {graph[a][b]})" for a, b in itertools.pairwise(cycle)]
        pytest.fail("import cycle: " + " -> ".join(cycle) + "\n" + "\n".join(steps))


def test_the_cycle_finder_names_a_cycle():
    """The check above can fail: a circle through three modules is found and named in order."""
    graph = {"a": {"b": 1}, "b": {"c": 2}, "c": {"a": 3}, "d": {"a": 4}}
    assert _find_cycle(graph) == ["a", "b", "c", "a"]
    assert _find_cycle({"a": {"b": 1}, "b": {}}) is None
