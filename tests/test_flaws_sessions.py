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
from harness.results import CheckResult, RunResult, Verdict
from harness.runner.scenario import load_catalogue
from harness.runner.spec import load_spec
from tests.flaws_sessions_matrix import EXPECTED_SESSIONS, SESSION_FAMILIES, STRICT_EXPECTED

TARGETS = Path(__file__).resolve().parents[1] / "fixtures" / "targets"
FLAWED = TARGETS / "flawed"
POOLS = TARGETS.parent / "pools"
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


# --- what the session families' new spec keys and preconditions do, on the real reference app ---------


def _spec(tmp_path: Path, base: Path, extra: str, name: str = "spec.toml") -> Path:
    path = tmp_path / name
    path.write_text(f'extends = "{base}"\n{extra}')
    return path


def _results(spec: Path, *, ids: list[str] | None = None, families: list[str] | None = None,
             profile: str = "baseline") -> dict[str, CheckResult]:
    result = run(load_spec(spec), RunOptions(seed=SEED, ids=ids, families=families or [], profile=profile))
    return {r.check_id: r for r in result.results}


def test_classic_refresh_on_a_client_without_rotation_skips_reuse_and_passes_the_rest(tmp_path: Path) -> None:
    """REF-REUSE never turns rotation on behind the app's back: on a non-rotating client the reference app
    refreshes the classic way (REFRESH_TOKEN_AUTH), REF-REUSE SKIPs naming the precondition, the rest pass."""
    spec = _spec(tmp_path, TARGETS / "reference.toml",
                 f'[pool]\ndefinition = "{POOLS / "default.toml"}"\nclient = "web"\n')
    results = _results(spec, families=["refresh", "expiry"])
    reuse = results.pop("REF-REUSE")
    assert reuse.verdict is Verdict.SKIP and "RefreshTokenRotation" in reuse.reason, reuse.reason
    assert {r.verdict for r in results.values()} == {Verdict.PASS}, {i: r.reason for i, r in results.items()}
    assert len(results) >= 9


def test_reuse_runs_on_the_bundled_rotating_client() -> None:
    assert _results(TARGETS / "reference.toml", ids=["REF-REUSE"])["REF-REUSE"].verdict is Verdict.PASS


def test_attribute_tenancy_with_role_groups_fails_nothing_and_its_flaw_is_caught() -> None:
    correct = _results(TARGETS / "reference_tenant_attribute.toml", families=["tenancy", "refresh"])
    assert {r.verdict for r in correct.values()} == {Verdict.PASS}, {i: r.reason for i, r in correct.items()}
    flawed = _results(FLAWED / "tenant_attribute_ignored.toml", ids=["TEN-CROSS-TENANT", "TEN-ADMIN-OWN"])
    assert flawed["TEN-CROSS-TENANT"].verdict is Verdict.FAIL and flawed["TEN-ADMIN-OWN"].verdict is Verdict.PASS


def test_a_revocation_check_cached_for_seconds_is_measured_not_assumed(tmp_path: Path) -> None:
    """The strict app caches the pool's answer for 2 s: measured (refused after ~2 s) it is within a declared
    60 s window; probed for less than its cache, it is "still accepted" and judged until exp (3600 s > 60 s)."""
    limits = "[limits]\nmax_pool_revocation_window_seconds = 60\nrevocation_cache_seconds = {}\n"
    app = '[target]\nenv = { REFERENCE_APP_STRICT = "1", REFERENCE_APP_REVOCATION_CACHE = "2" }\n'
    patient = _spec(tmp_path, TARGETS / "reference_strict.toml", app + limits.format(8), "patient.toml")
    hasty = _spec(tmp_path, TARGETS / "reference_strict.toml", app + limits.format(0.5), "hasty.toml")
    ids = ["LOG-POOL-REVOKE-WINDOW", "LOG-POOL-REVOKE-STRICT"]
    measured = _results(patient, ids=ids, profile="strict")
    window = measured["LOG-POOL-REVOKE-WINDOW"]
    assert window.verdict is Verdict.PASS, window.reason
    notes = [e.title for step in window.steps for e in step.evidence] + [e.title for e in window.evidence]
    refused_later = [t for t in notes if "accepted, then refused after" in t]
    assert len(refused_later) == 5, notes  # every session's token: seen accepted, then refused
    assert measured["LOG-POOL-REVOKE-STRICT"].verdict is Verdict.FAIL  # strict stays strict
    cut_short = _results(hasty, ids=ids[:1])["LOG-POOL-REVOKE-WINDOW"]
    assert cut_short.verdict is Verdict.FAIL
    assert "still accepted after" in cut_short.reason and "until its exp" in cut_short.reason, cut_short.reason
    assert "60 s" in cut_short.reason


def test_pool_revocation_at_a_pure_resource_server(tmp_path: Path) -> None:
    """Only [requests.protected]: the pool ends the sessions, the checks still judge the app."""
    reference = load_spec(TARGETS / "reference.toml")
    protected = reference.requests["protected"]
    spec = tmp_path / "resource_server.toml"
    spec.write_text(f"""
[target]
name = "resource server"
command = ["{{python}}", "{TARGETS / 'reference_app' / 'app.py'}"]
ready_url = "http://127.0.0.1:{{port}}/health"
env = {{ REFERENCE_APP_STRICT = "1" }}

[requests.protected]
path = "{protected.path}"

[limits]
max_revocation_window_seconds = 0
""")
    results = _results(spec, families=["logout"], profile="strict")
    assert results["LOG-POOL-REVOKE-WINDOW"].verdict is Verdict.PASS, results["LOG-POOL-REVOKE-WINDOW"].reason
    assert results["LOG-POOL-REVOKE-STRICT"].verdict is Verdict.PASS
    assert results["LOG-DEVICE-REVOKE"].verdict is Verdict.SKIP  # no logout endpoint: nothing else to say


def test_hosted_ui_scopes_are_requested_and_never_added_to_the_client(tmp_path: Path) -> None:
    """An app that calls GetUser with the token serves federated users when its hosted UI requests the admin
    scope; a client that does not allow that scope is a SKIP naming it, not a reconfiguration."""
    scopes = '[hosted_ui]\nscopes = ["openid", "email", "profile", "aws.cognito.signin.user.admin"]\n'
    with_scope = _spec(tmp_path, FLAWED / "federated_tokens_break_profile.toml", scopes, "with_scope.toml")
    assert _results(with_scope, ids=["FED-TOKENS-SHAPE"])["FED-TOKENS-SHAPE"].verdict is Verdict.PASS
    no_scope_client = _spec(tmp_path, with_scope, f'[pool]\ndefinition = "{POOLS / "default.toml"}"\n',
                            "client_without_scope.toml")
    skipped = _results(no_scope_client, ids=["FED-TOKENS-SHAPE"])["FED-TOKENS-SHAPE"]
    assert skipped.verdict is Verdict.SKIP and "aws.cognito.signin.user.admin" in skipped.reason, skipped.reason
