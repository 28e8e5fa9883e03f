"""Packaging: pyproject.toml ships only files that exist, and the repository tracks no build artefacts.

setuptools skips a package-data or data-files pattern that matches nothing without a word, so a
stale entry (a folder since removed, a typo) would go unnoticed until an installed copy misses
its file; a wheel or a byte-code file committed by accident bloats every clone and can shadow
the sources. Both are read from the working tree and ``git ls-files``.
"""

from __future__ import annotations

import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
SETUPTOOLS = PYPROJECT["tool"]["setuptools"]

ARTEFACT_SUFFIXES = (".whl", ".egg", ".pyc", ".pyo", ".pyd", ".so", ".dylib", ".dll", ".tar.gz", ".tgz", ".zip")
ARTEFACT_FOLDERS = ("build/", "dist/", ".tox/", "__pycache__/")


def _package_data() -> list[tuple[str, str]]:
    return [(package, pattern) for package, patterns in SETUPTOOLS.get("package-data", {}).items()
            for pattern in patterns]


def _data_files() -> list[tuple[str, str]]:
    return [(dest, pattern) for dest, patterns in SETUPTOOLS.get("data-files", {}).items() for pattern in patterns]


def test_the_tables_are_there_to_check() -> None:
    assert _package_data() and _data_files()  # else the checks below would pass on nothing


@pytest.mark.parametrize(("package", "pattern"), _package_data())
def test_every_package_data_pattern_matches_a_file(package: str, pattern: str) -> None:
    folder = ROOT / package.replace(".", "/")
    assert folder.is_dir(), f"package-data names package {package!r}, which has no folder {folder}"
    matched = [p for p in folder.glob(pattern) if p.is_file()]
    assert matched, f"[tool.setuptools.package-data] {package} = {pattern!r} matches no file under {folder}"


@pytest.mark.parametrize(("dest", "pattern"), _data_files())
def test_every_data_files_pattern_matches_a_file(dest: str, pattern: str) -> None:
    matched = [p for p in ROOT.glob(pattern) if p.is_file()]
    assert matched, f"[tool.setuptools.data-files] {dest!r}: {pattern!r} matches no file in the repository"


def test_the_package_says_it_is_typed() -> None:
    """PEP 561: a type checker reads harness's annotations only if the installed package carries py.typed."""
    assert (ROOT / "harness" / "py.typed").is_file()
    assert "py.typed" in SETUPTOOLS["package-data"]["harness"]


def _tracked() -> list[str]:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout (or no git here): nothing is tracked to check")
    listed = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z"], capture_output=True, timeout=60)
    if listed.returncode != 0:
        pytest.skip(f"git ls-files failed: {listed.stderr.decode(errors='replace').strip()}")
    return [name for name in listed.stdout.decode("utf-8", errors="surrogateescape").split("\0") if name]


def test_no_build_artefact_is_tracked() -> None:
    tracked = _tracked()
    assert "pyproject.toml" in tracked  # the listing is the repository's
    artefacts = [name for name in tracked
                 if name.lower().endswith(ARTEFACT_SUFFIXES)
                 or any(f"/{folder}" in f"/{name}" for folder in ARTEFACT_FOLDERS)
                 or ".egg-info/" in name]
    assert not artefacts, f"build artefacts are tracked (git rm them): {artefacts}"
