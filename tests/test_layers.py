"""The layer contract (pyproject.toml [tool.importlinter], docs/architecture.md) holds, an upward
import breaks it, and no modules import each other in a circle."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
LINT = [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command as c; sys.exit(c())"]


def lint(where: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*LINT, "--config", "pyproject.toml", "--no-cache"], cwd=where, capture_output=True,
                          text=True, timeout=120, env={"PYTHONPATH": str(where), "PATH": "/usr/bin:/bin"})


def test_the_layers_point_one_way() -> None:
    result = lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 kept, 0 broken" in result.stdout


def test_an_upward_import_breaks_the_contract(tmp_path: Path) -> None:
    for name in ("harness", "scenarios"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    models = tmp_path / "harness" / "engine" / "models.py"
    models.write_text(models.read_text() + "\nfrom harness.runner import engine as _upward  # noqa: E402\n")
    result = lint(tmp_path)
    assert result.returncode != 0
    assert "harness.engine is not allowed to import harness.runner" in result.stdout


def test_no_modules_import_each_other_in_a_circle() -> None:
    graph = grimp.build_graph("harness", "scenarios", exclude_type_checking_imports=True)
    edges = {m: {t for t in graph.find_modules_directly_imported_by(m)
                 if not m.startswith(t + ".")}  # a module reaching its own package's __init__ is not a circle
             for m in graph.modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def visit(m: str) -> None:  # Tarjan's strongly connected components
        index[m] = low[m] = len(index)
        stack.append(m)
        on_stack.add(m)
        for t in edges.get(m, ()):
            if t not in index:
                visit(t)
                low[m] = min(low[m], low[t])
            elif t in on_stack:
                low[m] = min(low[m], index[t])
        if low[m] == index[m]:
            members = []
            while True:
                t = stack.pop()
                on_stack.discard(t)
                members.append(t)
                if t == m:
                    break
            if len(members) > 1:
                circles.append(sorted(members))

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10000))
    try:  # the limit is process-wide: put it back, or later tests of recursion bombs stop raising
        for module in sorted(edges):
            if module not in index:
                visit(module)
    finally:
        sys.setrecursionlimit(limit)
    assert circles == []


def test_function_local_imports_of_the_project_are_deliberate() -> None:
    """A project module imported inside a function must say why it is lazy (import cost, an optional
    extra): a local import never holds a circle together."""
    undocumented = []
    for root in ("harness", "scenarios"):
        for path in sorted((ROOT / root).rglob("*.py")):
            source = path.read_text()
            for fn in ast.walk(ast.parse(source)):
                if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    continue
                for node in ast.walk(fn):
                    if not isinstance(node, (ast.Import, ast.ImportFrom)):
                        continue
                    module = node.module if isinstance(node, ast.ImportFrom) else node.names[0].name
                    if (module or "").split(".")[0] not in ("harness", "scenarios"):
                        continue
                    if "deliberately lazy" not in (ast.get_source_segment(source, fn) or "").lower():
                        undocumented.append(f"{path.relative_to(ROOT)}:{node.lineno} {fn.name}")
    assert undocumented == []
