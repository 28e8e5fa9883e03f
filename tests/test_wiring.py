"""The wiring is static and loud: every operation module, scenario family, HTTP face and CLI
command is imported by the layer that serves it, and nothing is skipped without a word.

The expected sets are read from the source files (``@operation("X")``, ``@scenario(id="X")``,
``def install``, ``def register``), never hard-coded, so a module that is renamed, dropped from
its package or broken fails here.
"""

from __future__ import annotations

import ast
from importlib.metadata import entry_points
from pathlib import Path

import pytest

import harness
import scenarios
from harness import server
from harness.cli import COMMAND_MODULES
from harness.engine import ops
from harness.engine.identity import ops as identity_ops
from harness.engine.store import Backend
from harness.runner import scenario as catalogue_module
from harness.runner.scenario import ENTRY_POINT_GROUP, CatalogueError, load_catalogue

PACKAGE = Path(harness.__file__).parent
SCENARIOS = Path(scenarios.__file__).parent


def decorated(path: Path, decorator: str, keyword: str | None = None) -> list[str]:
    """The string argument of every ``@decorator("X")`` (or ``@decorator(keyword="X")``) in a file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for dec in node.decorator_list:
            if isinstance(dec, ast.Call) and isinstance(dec.func, ast.Name) and dec.func.id == decorator:
                args = [kw.value for kw in dec.keywords if kw.arg == keyword] if keyword else dec.args[:1]
                found += [a.value for a in args if isinstance(a, ast.Constant)]
    return found


def defines(path: Path, name: str) -> bool:
    return any(isinstance(n, ast.FunctionDef) and n.name == name for n in ast.parse(path.read_text()).body)


def test_every_operation_in_the_ops_modules_is_registered() -> None:
    declared = {name for path in (PACKAGE / "engine" / "ops").glob("*.py") for name in decorated(path, "operation")}
    assert declared, "no @operation found: the scan is broken"
    assert set(ops.OPERATIONS) == declared
    assert set(Backend(seed=0).operations) == declared
    modules = {Path(m.__file__).stem for m in ops.OPERATION_MODULES}
    with_ops = {p.stem for p in (PACKAGE / "engine" / "ops").glob("*.py") if decorated(p, "operation")}
    assert modules == with_ops


def test_every_identity_operation_in_the_identity_ops_modules_is_registered() -> None:
    folder = PACKAGE / "engine" / "identity" / "ops"
    declared = {name for path in folder.glob("*.py") for name in decorated(path, "identity_operation")}
    assert declared, "no @identity_operation found: the scan is broken"
    assert set(identity_ops.IDENTITY_OPERATIONS) == declared
    assert set(Backend(seed=0).identity_operations) == declared
    modules = {Path(m.__file__).stem for m in identity_ops.IDENTITY_OPERATION_MODULES}  # type: ignore[attr-defined]
    assert modules == {p.stem for p in folder.glob("*.py") if decorated(p, "identity_operation")}


def test_every_bundled_check_is_in_the_catalogue() -> None:
    declared = {cid for path in SCENARIOS.glob("*.py") for cid in decorated(path, "scenario", "id")}
    assert declared, "no @scenario found: the scan is broken"
    catalogue = load_catalogue()
    assert declared <= set(catalogue)
    bundled = {cid for cid, s in catalogue.items() if s.fn.__module__.startswith("scenarios.")}
    assert bundled == declared
    with_checks = {p.stem for p in SCENARIOS.glob("*.py") if decorated(p, "scenario", "id")}
    assert {m.__name__.rsplit(".", 1)[1] for m in scenarios.FAMILY_MODULES} == with_checks


def test_the_bundled_families_are_an_entry_point_of_the_documented_group() -> None:
    names = {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}
    assert names.get("bundled") == "scenarios"


def test_a_family_that_cannot_load_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    broken = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == "bundled"]
    bad = type(broken[0])(name="renamed", value="scenarios.no_such_family", group=ENTRY_POINT_GROUP)
    monkeypatch.setattr(catalogue_module, "scenario_entry_points", lambda: [*broken, bad])
    with pytest.raises(CatalogueError, match="scenarios.no_such_family"):
        load_catalogue()


def test_every_http_face_is_installed_by_the_server() -> None:
    faces = {p for d in ("web", "control") for p in (PACKAGE / d).glob("*.py") if defines(p, "install")}
    assert faces, "no face found: the scan is broken"
    assert {Path(m.__file__) for m in server.FACES} == faces


def test_every_cli_command_module_is_registered() -> None:
    commands = {p for p in (PACKAGE / "cli").glob("*.py") if defines(p, "register")}
    assert {Path(m.__file__) for m in COMMAND_MODULES} == commands
