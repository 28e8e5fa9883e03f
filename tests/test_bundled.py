"""The bundled fixtures are found in a checkout and in an installed copy."""

from __future__ import annotations

import sysconfig
import tomllib
from pathlib import Path

import pytest

from harness import bundled

REPO = Path(__file__).resolve().parents[1]


def test_checkout_fixtures_come_first() -> None:
    assert bundled.fixtures_dir() == REPO / "fixtures"
    assert bundled.fixture("pools", "default.toml").is_file()
    assert bundled.fixture("targets", "reference.toml").is_file()


def test_installed_copy_is_used_without_a_checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    installed = tmp_path / "share" / "cognito-harness" / "fixtures"
    (installed / "pools").mkdir(parents=True)
    monkeypatch.setattr(bundled, "_REPO_FIXTURES", tmp_path / "no-checkout")
    monkeypatch.setattr(sysconfig, "get_path", lambda name: str(tmp_path))
    assert bundled.fixtures_dir() == installed


def test_pyproject_ships_every_fixture_folder_the_code_uses() -> None:
    data_files = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["data-files"]
    shipped = {Path(pattern).parent for patterns in data_files.values() for pattern in patterns}
    used = {p.parent.relative_to(REPO) for p in (REPO / "fixtures").rglob("*") if p.suffix in (".toml", ".py")}
    assert used <= shipped, f"fixture folders missing from data-files: {sorted(map(str, used - shipped))}"
