"""The session families' flawed reference apps each fail exactly the checks aimed at their flaw.

Every flawed app of tests/flaws_sessions_matrix.py runs over ALL families
(baseline) and must fail exactly its expected checks, with no ERROR, so it
fails no unrelated MUST check. The strict-profile checks are proven by the
plain reference app (trusts a token until it expires: fails them) and the
reference app in strict mode (asks the pool: passes every session check).
The runs go in parallel, each with its own emulator and app process.
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
WORKERS = 8


def _outcome(result: RunResult) -> tuple[set[str], list[str]]:
    failed = {r.check_id for r in result.results if r.verdict is Verdict.FAIL}
    errors = [f"{r.check_id}: {r.reason}" for r in result.results if r.verdict is Verdict.ERROR]
    return failed, errors


@pytest.fixture(scope="module")
def outcomes() -> dict[str, tuple[set[str], list[str], float]]:
    """Run every flawed app (all families) and both strict reference runs, in parallel."""
    load_catalogue()  # import once, before the threads

    def flawed(flaw: str) -> tuple[str, RunResult, float]:
        started = time.monotonic()
        return flaw, run(load_spec(FLAWED / f"{flaw}.toml"), RunOptions(seed=SEED)), time.monotonic() - started

    def strict(spec: str) -> tuple[str, RunResult, float]:
        started = time.monotonic()
        result = run(load_spec(TARGETS / spec), RunOptions(seed=SEED, profile="strict",
                                                           families=list(SESSION_FAMILIES)))
        return f"strict:{spec}", result, time.monotonic() - started

    jobs = [(flawed, f) for f in EXPECTED_SESSIONS] + [(strict, s) for s in STRICT_EXPECTED]
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        done = list(pool.map(lambda job: job[0](job[1]), jobs))
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


@pytest.mark.parametrize("flaw", sorted(EXPECTED_SESSIONS))
def test_flawed_app_fails_exactly_its_checks(outcomes: dict, flaw: str) -> None:
    failed, errors, _ = outcomes[flaw]
    assert not errors, (flaw, errors)
    assert failed == EXPECTED_SESSIONS[flaw], (flaw, sorted(failed))


@pytest.mark.parametrize("spec", sorted(STRICT_EXPECTED))
def test_strict_profile_against_the_reference_app(outcomes: dict, spec: str) -> None:
    failed, errors, _ = outcomes[f"strict:{spec}"]
    assert not errors, (spec, errors)
    assert failed == STRICT_EXPECTED[spec], (spec, sorted(failed))
