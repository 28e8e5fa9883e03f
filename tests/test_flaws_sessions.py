"""The session families' matrix: every check caught, and the strict profile proven.

The flawed apps themselves run in tests/test_runner_flaws.py (every flawed
app over ALL families, against the union of both matrices). Here: each
session flaw is planted and shipped, every session check is failed by some
flawed app, and the strict-profile checks are proven by the plain reference
app (trusts a token until it expires: fails them) and the reference app in
strict mode (asks the pool: passes every session check).
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from harness.runner.engine import RunOptions, run
from harness.runner.model import RunResult, Verdict
from harness.runner.scenario import load_catalogue
from harness.runner.spec import load_spec
from tests.flaws_sessions_matrix import EXPECTED_SESSIONS, SESSION_FAMILIES, STRICT_EXPECTED

TARGETS = Path(__file__).resolve().parents[1] / "fixtures" / "targets"
FLAWED = TARGETS / "flawed"
SEED = 21
WORKERS = 2


def _outcome(result: RunResult) -> tuple[set[str], list[str]]:
    failed = {r.check_id for r in result.results if r.verdict is Verdict.FAIL}
    errors = [f"{r.check_id}: {r.reason}" for r in result.results if r.verdict is Verdict.ERROR]
    return failed, errors


@pytest.fixture(scope="module")
def outcomes() -> dict[str, tuple[set[str], list[str], float]]:
    """Run both strict reference runs, in parallel."""
    load_catalogue()  # import once, before the threads

    def strict(spec: str) -> tuple[str, RunResult, float]:
        started = time.monotonic()
        result = run(load_spec(TARGETS / spec), RunOptions(seed=SEED, profile="strict",
                                                           families=list(SESSION_FAMILIES)))
        return f"strict:{spec}", result, time.monotonic() - started

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        done = list(pool.map(strict, STRICT_EXPECTED))
    return {name: (*_outcome(result), seconds) for name, result, seconds in done}


def test_every_session_flaw_is_planted_and_shipped() -> None:
    import sys

    sys.path.insert(0, str(TARGETS / "reference_app"))
    try:
        import flaws
    finally:
        sys.path.pop(0)
    for flaw in EXPECTED_SESSIONS:
        assert flaw in flaws.FLAWS, flaw
        assert (FLAWED / f"{flaw}.toml").is_file(), flaw


def test_every_session_check_is_caught_by_some_flawed_app() -> None:
    catalogue = load_catalogue()
    mine = {i for i, s in catalogue.items() if s.family in SESSION_FAMILIES}
    caught = set().union(*EXPECTED_SESSIONS.values(), *STRICT_EXPECTED.values())
    assert mine - caught == set(), "checks no flawed app fails"
    assert caught <= set(catalogue), "the matrix names unknown checks"


@pytest.mark.parametrize("spec", sorted(STRICT_EXPECTED))
def test_strict_profile_against_the_reference_app(outcomes: dict, spec: str) -> None:
    failed, errors, _ = outcomes[f"strict:{spec}"]
    assert not errors, (spec, errors)
    assert failed == STRICT_EXPECTED[spec], (spec, sorted(failed))
