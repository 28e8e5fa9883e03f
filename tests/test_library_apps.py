"""Verdicts that hold on apps the team did not write: resource servers built as popular libraries'
quick-starts show (fixtures/targets/libs/), installed from npm and PyPI at test time.

Each correct library app runs the whole baseline catalogue and must get no MUST FAIL and no
ERROR (SKIPs are fine: a pure resource server has no login or refresh; a SHOULD FAIL is allowed
but listed as a warning). And the verdicts must be real, not vacuous: every app PASSes a valid
token and the attack checks (alg none, HS256 confusion, foreign key, wrong issuer, another
client's token, ...), so the app was reached and did refuse the forgeries.

The apps need node/npm and the registries: a missing tool or an unreachable registry FAILS with
the reason (never a silent skip). The runs go in parallel worker processes; the wall time is
printed.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
import warnings
from pathlib import Path

import pytest

from harness.runner.scenario import load_catalogue
from tests.libapps import (APPS, LIBRARY_RUNS, LIBS, POOL_SHAPES, SHAPED_APPS, AppRun, LibAppError, LibraryApp,
                           cache_root, install, library_app, prepared_spec, start_correct_app_runs)

# checks every correct app must PASS: a valid token is accepted, and each forgery an attacker can
# make without the pool's private key is refused
MUST_PASS = (
    "TV-ACCESS-VALID", "TV-SIG-TAMPERED", "TV-SIG-STRIPPED", "TV-SIG-TRUNCATED", "TV-SIG-FOREIGN-KEY",
    "TV-ALG-NONE", "TV-ALG-HS256-PUBKEY", "TV-EXP-EXPIRED", "TV-CLIENT-OTHER", "TV-MALFORMED",
    "TV-TOKEN-USE-ID", "TV-POOL-OTHER", "TV-KID-UNKNOWN", "TV-KID-MISSING", "TV-KID-INJECTION", "TV-KID-FILE",
    "TV-HDR-JWK", "TV-HDR-JKU", "TV-HDR-X5U", "TV-ROTATION-NEW-KID", "TV-ROTATION-RETIRED", "EXP-BOUNDARY",
)


def _describe(rows: list) -> str:
    return "\n".join(f"  {r.check_id} [{r.severity} {r.verdict}] {r.reason}" for r in rows)


@pytest.fixture(scope="module")
def runs(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, AppRun]:
    """The runs the session started when it had collected (or started now, when run on their own)."""
    background = request.config.stash.get(LIBRARY_RUNS, None) or start_correct_app_runs(tmp_path_factory.mktemp("libapps"))
    try:
        done = background.results()
    except LibAppError as exc:
        pytest.fail(f"a library app could not be installed: {exc}")
    wall = time.monotonic() - background.started
    each = ", ".join(f"{app} {r.seconds:.1f}s" for app, r in done.items())
    sys.stderr.write(f"\nlibrary apps: baseline catalogue x{len(done)} in {wall:.1f}s since started ({each}) "
                     f"on {os.cpu_count()} CPUs\n")
    return done


# --- the proof ------------------------------------------------------------------------------


@pytest.mark.parametrize("app", APPS)
def test_library_app_gets_no_must_fail_and_no_error(runs: dict[str, AppRun], app: str) -> None:
    result = runs[app]
    should_fails = result.with_verdict("FAIL", "SHOULD")
    if should_fails:
        warnings.warn(f"{app}: SHOULD checks failed (allowed in baseline):\n{_describe(should_fails)}", stacklevel=1)
    bad = result.with_verdict("FAIL", "MUST") + result.with_verdict("ERROR")
    assert not bad, f"{app} (a correct app built on the library's documented usage):\n{_describe(bad)}\n" \
                    f"target output:\n{result.target_log}"


@pytest.mark.parametrize("shape", sorted(POOL_SHAPES))
@pytest.mark.parametrize("app", SHAPED_APPS)
def test_library_app_gets_the_same_verdicts_in_every_pool_shape(runs: dict[str, AppRun], app: str,
                                                                shape: str) -> None:
    """Users sign in by email, by phone or by an alias: the app's verdicts must not change."""
    default, shaped = runs[app], runs[f"{app}@{shape}"]
    # the identity-audit checks read the pool file's [identity_pool], not the app: the shaped pool is the
    # reference app's (which has one), the default run's pool has none
    pool_file_checks = {i for i, s in load_catalogue().items() if s.family == "identity-audit"}
    changed = {r.check_id: (default.verdict_of(r.check_id), r.verdict, r.reason) for r in shaped.rows
               if r.verdict != default.verdict_of(r.check_id) and r.check_id not in pool_file_checks}
    assert not changed, f"{app} in a {shape} pool: verdicts that differ from the default pool: {changed}"
    assert shaped.verdict_of("TV-ACCESS-VALID") == "PASS"


@pytest.mark.parametrize("app", APPS)
def test_library_app_verdicts_are_real(runs: dict[str, AppRun], app: str) -> None:
    result = runs[app]
    not_passed = {check: result.verdict_of(check) for check in MUST_PASS if result.verdict_of(check) != "PASS"}
    assert not not_passed, f"{app}: these checks must PASS on a sound library app: {not_passed}"


@pytest.mark.parametrize("app", APPS)
def test_every_skip_names_its_reason(runs: dict[str, AppRun], app: str) -> None:
    skips = runs[app].with_verdict("SKIP")
    assert all(r.reason.strip() for r in skips), _describe([r for r in skips if not r.reason.strip()])


def test_assertions_name_real_checks() -> None:
    assert set(MUST_PASS) <= set(load_catalogue()), set(MUST_PASS) - set(load_catalogue())


# --- the installer -------------------------------------------------------------------------


def test_every_library_folder_is_a_complete_app() -> None:
    for folder in sorted(p for p in LIBS.iterdir() if p.is_dir()):
        app = LibraryApp.from_folder(folder)
        assert not (folder / "node_modules").exists() and not (folder / "venv").exists(), \
            f"{folder}: installed dependencies must never be committed (vendored)"
        if app.registry == "pip":
            pins = [line for line in (folder / "requirements.txt").read_text().splitlines()
                    if line.strip() and not line.startswith("#")]
            assert pins and all("==" in line for line in pins), f"{folder}: pin every requirement with =="
    assert set(APPS) <= {p.name for p in LIBS.iterdir() if p.is_dir()}


def test_manifest_hash_follows_the_pinned_manifest(tmp_path: Path) -> None:
    copy = tmp_path / "jose"
    shutil.copytree(LIBS / "jose", copy, ignore=shutil.ignore_patterns("node_modules"))
    before = LibraryApp.from_folder(copy).manifest_hash()
    (copy / "app.mjs").write_text("// app code is not part of the install\n")
    assert LibraryApp.from_folder(copy).manifest_hash() == before
    lock = copy / "package-lock.json"
    lock.write_text(lock.read_text().replace('"version": "1.0.0"', '"version": "1.0.1"', 1))
    assert LibraryApp.from_folder(copy).manifest_hash() != before


def test_missing_node_fails_with_the_reason(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no node, no npm
    monkeypatch.setenv("COGNITO_HARNESS_CACHE", str(tmp_path / "cache"))
    with pytest.raises(LibAppError, match=r"'node' is not on PATH.*aws-jwt-verify.*Install Node.js"):
        install(library_app("aws-jwt-verify"))


def test_too_old_node_fails_with_the_reason(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "node"
    fake.write_text("#!/bin/sh\necho v16.20.2\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("COGNITO_HARNESS_CACHE", str(tmp_path / "cache"))
    with pytest.raises(LibAppError, match=r"'jose' needs Node.js >=20 .* is v16.20.2"):
        install(library_app("jose"))


def test_unreachable_registry_fails_with_the_reason(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if shutil.which("npm") is None:
        pytest.fail("npm is not on PATH: the library-app tests need Node.js 18+ with npm")
    monkeypatch.setenv("COGNITO_HARNESS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("npm_config_cache", str(tmp_path / "npm-cache"))  # nothing to fall back on
    monkeypatch.setenv("npm_config_registry", "http://127.0.0.1:9/")  # the discard port: refused
    monkeypatch.setenv("npm_config_fetch_retries", "0")
    with pytest.raises(LibAppError, match=r"installing jose from the npm registry: .*npm ci .*exited"):
        install(library_app("jose"))
    assert list(cache_root().iterdir()) == [], "a failed install must leave nothing in the cache"


def test_stage_links_the_installed_dependencies(tmp_path: Path) -> None:
    spec = prepared_spec("jose", tmp_path / "staged")
    assert spec.name == "jose.toml" and (spec.parent / "app.mjs").is_file()
    modules = spec.parent / "node_modules"
    assert modules.is_symlink() and (modules / "jose" / "package.json").is_file()
    assert str(modules.resolve()).startswith(str(cache_root().resolve()))
