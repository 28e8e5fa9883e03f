"""The strict token-validation checks are each caught by a flawed app, and the correct apps pass them.

Each spec runs only the strict-profile token-validation checks (the baseline
ones run in the flaw matrix), in two threads.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from harness.runner.engine import RunOptions, run
from harness.results import Verdict
from harness.runner.scenario import load_catalogue
from harness.runner.spec import load_spec
from tests.flaws_tokens_matrix import STRICT_TOKENS

TARGETS = Path(__file__).resolve().parents[1] / "fixtures" / "targets"
SEED = 21
FAMILY = "token-validation"


def _strict_ids() -> list[str]:
    return [i for i, s in load_catalogue().items() if s.family == FAMILY and s.profile == "strict"]


@pytest.fixture(scope="module")
def outcomes() -> dict[str, tuple[set[str], list[str], set[str]]]:
    ids = _strict_ids()

    def one(spec: str) -> tuple[str, set[str], list[str], set[str]]:
        result = run(load_spec(TARGETS / spec), RunOptions(seed=SEED, profile="strict", ids=ids))
        failed = {r.check_id for r in result.results if r.verdict is Verdict.FAIL}
        errors = [f"{r.check_id}: {r.reason}" for r in result.results if r.verdict is Verdict.ERROR]
        passed = {r.check_id for r in result.results if r.verdict is Verdict.PASS}
        return spec, failed, errors, passed

    with ThreadPoolExecutor(max_workers=2) as pool:
        return {spec: (failed, errors, passed) for spec, failed, errors, passed in pool.map(one, STRICT_TOKENS)}


def test_every_strict_token_check_is_caught_and_severity_follows_the_rule() -> None:
    catalogue = load_catalogue()
    strict = set(_strict_ids())
    assert {"TV-EXP-MISSING", "TV-IAT-FUTURE", "TV-CLAIM-TYPES", "TV-CRIT-UNKNOWN", "TV-TOKEN-USE-MISSING",
            "TV-ISS-PARTIAL"} <= strict
    assert strict - set().union(*STRICT_TOKENS.values()) == set(), "strict checks no flawed app fails"
    for check in strict:
        assert catalogue[check].severity == "SHOULD", check
        assert "only the pool" in (catalogue[check].title + catalogue[check].description), check


@pytest.mark.parametrize("spec", sorted(STRICT_TOKENS))
def test_strict_token_checks(outcomes: dict, spec: str) -> None:
    failed, errors, passed = outcomes[spec]
    assert not errors, (spec, errors)
    assert failed == STRICT_TOKENS[spec], (spec, sorted(failed))
    assert passed | failed == set(_strict_ids()), (spec, "a strict check skipped")
