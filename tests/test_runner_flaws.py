"""Each shipped flawed reference app fails exactly the token-validation checks aimed at its flaw.

The flawed apps run concurrently (each run has its own emulator and app process).
The scenarios issue grows this into the full matrix over every family.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from harness.runner.engine import RunOptions, run
from harness.runner.model import Verdict
from harness.runner.spec import load_spec

FLAWED = Path(__file__).resolve().parents[1] / "fixtures" / "targets" / "flawed"

EXPECTED = {
    "no_signature_check": {"TV-SIG-TAMPERED", "TV-SIG-STRIPPED", "TV-SIG-TRUNCATED", "TV-SIG-FOREIGN-KEY"},
    "alg_none_accepted": {"TV-ALG-NONE"},
    "hs256_public_key": {"TV-ALG-HS256-PUBKEY"},
    "no_exp_check": {"TV-EXP-EXPIRED"},
    "no_issuer_check": {"TV-ISS-WRONG"},
    "no_client_id_check": {"TV-CLIENT-OTHER"},
    "id_token_as_access": {"TV-TOKEN-USE-ID"},
    "server_error_on_malformed": {"TV-MALFORMED"},
}


def test_every_shipped_flaw_is_in_the_matrix() -> None:
    assert {p.stem for p in FLAWED.glob("*.toml")} == set(EXPECTED)


def test_each_flawed_app_fails_exactly_its_checks() -> None:
    def failing(flaw: str) -> tuple[str, set[str], list[str]]:
        result = run(load_spec(FLAWED / f"{flaw}.toml"), RunOptions(seed=21, families=["token-validation"]))
        errors = [f"{r.check_id}: {r.reason}" for r in result.results if r.verdict is Verdict.ERROR]
        return flaw, {r.check_id for r in result.results if r.verdict is Verdict.FAIL}, errors

    with ThreadPoolExecutor(max_workers=len(EXPECTED)) as pool:
        outcomes = list(pool.map(failing, EXPECTED))
    for flaw, failed, errors in outcomes:
        assert not errors, (flaw, errors)
        assert failed == EXPECTED[flaw], (flaw, sorted(failed))
