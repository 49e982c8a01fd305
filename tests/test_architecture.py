"""The package's structure: one-way layers, no import cycles, imports at module level.

The layers are the import-linter contract in pyproject.toml (README, "Architecture").
"""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "parkgrid"
#: modules whose handlers import their subcommands' code when called, for start-up time
LAZY_OK = {"parkgrid/cli.py", "parkgrid/bench/cli.py", "parkgrid/sweep/cli.py"}


def _contract_layers() -> list[list[str]]:
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    (contract,) = [c for c in cfg["contracts"] if c["type"] == "layers"]
    return [[m.strip() for m in line.replace(":", "|").split("|")] for line in contract["layers"]]


def test_the_layers_contract_is_kept():
    # in a subprocess: import-linter's CLI reconfigures logging (dictConfig disables every
    # logger that exists), which would silence parkgrid's loggers for the later tests
    code = ("import sys; from importlinter.cli import lint_imports; "
            f"sys.exit(lint_imports(config_filename={str(ROOT / 'pyproject.toml')!r}))")
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr


def test_every_module_belongs_to_a_layer():
    listed = {m for line in _contract_layers() for m in line}
    top = {p.stem if p.is_file() else p.name for p in PKG.iterdir()
           if (p.suffix == ".py" or (p / "__init__.py").is_file()) and p.name != "__init__.py"
           and not p.name.startswith("__")}
    missing = sorted(f"parkgrid.{m}" for m in top if f"parkgrid.{m}" not in listed)
    assert not missing, f"add these modules to a layer in pyproject.toml: {missing}"


def _cycle(graph: grimp.ImportGraph) -> list[str] | None:
    """One import cycle among parkgrid's modules, or None (iterative depth-first search)."""
    state: dict[str, int] = {}
    for start in sorted(graph.modules):
        if state.get(start):
            continue
        stack = [(start, iter(sorted(graph.find_modules_directly_imported_by(start))))]
        path, state[start] = [start], 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                path.pop()
                state[node] = 2
            elif state.get(child) == 1:
                return [*path[path.index(child):], child]
            elif not state.get(child):
                state[child] = 1
                path.append(child)
                stack.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
    return None


@pytest.mark.parametrize("type_checking", [False, True], ids=["runtime", "with-type-hints"])
def test_no_import_cycle_among_modules(type_checking):
    graph = grimp.build_graph("parkgrid", include_external_packages=False,
                              exclude_type_checking_imports=not type_checking)
    assert _cycle(graph) is None, f"import cycle: {' -> '.join(_cycle(graph) or [])}"


def test_the_cycle_finder_finds_a_cycle():
    graph = grimp.ImportGraph()
    for m in ("a", "a.x", "a.y", "a.z"):
        graph.add_module(m)
    graph.add_import(importer="a.x", imported="a.y")
    graph.add_import(importer="a.y", imported="a.z")
    assert _cycle(graph) is None
    graph.add_import(importer="a.z", imported="a.x")
    assert _cycle(graph) == ["a.x", "a.y", "a.z", "a.x"]


def test_parkgrid_imports_sit_at_module_level():
    """Function-level imports hide cycles; only the command line keeps them (start-up time).

    The one other exception is a module that needs an optional dependency, marked
    ``# optional dependency`` on its import line.
    """
    found = []
    for path in sorted(PKG.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel in LAZY_OK:
            continue
        text = path.read_text()
        lines = text.splitlines()
        for node in ast.walk(ast.parse(text)):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for inner in ast.walk(node):
                if (isinstance(inner, ast.ImportFrom) and inner.module
                        and inner.module.split(".")[0] == "parkgrid"
                        and "# optional dependency" not in lines[inner.lineno - 1]):
                    found.append(f"{rel}:{inner.lineno} from {inner.module} import ...")
    assert not found, "move these imports to the top of their module:\n" + "\n".join(found)
