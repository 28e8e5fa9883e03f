"""The flaw matrix: every shipped flawed reference app fails exactly the checks aimed at its flaw.

Each flawed app runs the WHOLE catalogue (every family, baseline) and must fail
exactly the union of its rows in EXPECTED_TOKENS (token validation, expiry,
refresh) and EXPECTED_SESSIONS (tests/flaws_sessions_matrix.py: logout,
federation, email, tenancy, lockout), EXPECTED_MFA, EXPECTED_TRIGGERS and
EXPECTED_IDENTITY (tests/flaws_*_matrix.py; those flaws run their own family only),
with no ERROR, so it fails no unrelated
MUST check. The correct reference app must fail nothing (and skip nothing of
these families: its spec names a required scope). Every check of the three families here must be failed by at
least one flawed app ("a check no flawed app can fail is not done").

Speed: each run has its own emulator and app process. The runs go in two
worker processes (the machine's cores; one process's GIL would serialise the
harness side), each with a thread pool; each worker first runs the correct
reference app alone, which warms its caches of seeded RSA keys so the flawed
runs that follow never generate the same key concurrently.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import pytest

from harness.runner.scenario import load_catalogue
from harness.runner.spec import load_spec
from tests.flaws_identity_matrix import EXPECTED_IDENTITY
from tests.flaws_mfa_matrix import EXPECTED_MFA
from tests.flaws_triggers_matrix import EXPECTED_TRIGGERS
from tests.flaws_tokens_matrix import STRICT_TOKENS

try:  # written by the session families' helper; absent until then
    from tests.flaws_sessions_matrix import EXPECTED_SESSIONS
except ImportError:  # pragma: no cover - depends on the other families being present
    EXPECTED_SESSIONS: dict[str, set[str]] = {}

TARGETS = Path(__file__).resolve().parents[1] / "fixtures" / "targets"
FLAWED = TARGETS / "flawed"
SEED = 21
MY_FAMILIES = ("token-validation", "expiry", "refresh")
# correct specs that must fail nothing -> the families they run (empty: all)
CORRECT = {"reference.toml": "", "reference_id.toml": ""}
# a flawed spec is "<mode prefix><flaw>.toml": the reference app in that mode with one planted flaw
MODE_PREFIXES = {"": "access", "id_mode_": "id"}
PROCESSES = 2
THREADS_PER_PROCESS = 8

SIG_HEADER_KEYS = {"TV-HDR-JWK", "TV-HDR-JKU", "TV-HDR-X5U"}
REFRESH_REFUSALS = {"EXP-REFRESH-END", "REF-REVOKED", "REF-REUSE", "REF-USER-DISABLED", "REF-USER-DELETED"}

# flawed app -> the token-validation / expiry / refresh checks it must fail
EXPECTED_TOKENS: dict[str, set[str]] = {
    "scheme_case_sensitive": {"TV-ACCESS-VALID"},
    # a verifier that never checks signatures also takes any jwk/jku/x5u-signed token
    "no_signature_check": {"TV-SIG-TAMPERED", "TV-SIG-STRIPPED", "TV-SIG-TRUNCATED", "TV-SIG-FOREIGN-KEY",
                           *SIG_HEADER_KEYS},
    "alg_none_accepted": {"TV-ALG-NONE"},
    "hs256_public_key": {"TV-ALG-HS256-PUBKEY"},
    # no exp check: expired tokens pass (a missing or non-numeric exp too: strict, tests/flaws_tokens_matrix.py)
    "no_exp_check": {"TV-EXP-EXPIRED", "EXP-ISSUED-PAST", "EXP-BOUNDARY"},
    # no nbf/iat check: a future nbf passes (iat and ill-typed claims: strict)
    "future_tokens_accepted": set(),  # nbf and iat are strict checks (tests/flaws_tokens_matrix.py)
    "no_issuer_check": set(),  # iss is a strict check (tests/flaws_tokens_matrix.py)
    "no_client_id_check": {"TV-CLIENT-OTHER"},
    "id_token_as_access": {"TV-TOKEN-USE-ID"},
    "no_scope_check": {"TV-SCOPE-MISSING"},
    "issuer_keys_from_token": {"TV-POOL-OTHER"},
    # parse errors escape as 500s (missing or ill-typed exp too: strict)
    "server_error_on_malformed": {"TV-MALFORMED"},
    # exits on a 20 KB token: a one-request denial of service is a FAIL of the check that sent it, and the
    # app is restarted before the next check, which it passes
    "dies_on_oversized_token": {"TV-MALFORMED"},
    # "kid not found -> decode unverified": unknown, flooded and retired kids all pass
    "unknown_kid_unverified": {"TV-KID-UNKNOWN", "TV-JWKS-FLOOD", "TV-ROTATION-RETIRED"},
    # reads the key from the file the kid names: /dev/null (empty key) and the harness's planted file
    "kid_path_traversal": {"TV-KID-INJECTION", "TV-KID-FILE"},
    # the same through PyJWT, which refuses the empty key of /dev/null: only the planted file catches it
    "kid_names_key_file": {"TV-KID-FILE"},
    "missing_kid_500": {"TV-KID-MISSING"},
    # tokens only the pool could sign: caught in the strict profile only (tests/flaws_tokens_matrix.py)
    "issuer_substring_match": set(),
    "token_use_optional": set(),
    "crit_ignored": set(),
    # the reference app taking ID tokens ([auth].token = "id"), with one flaw: forged tokens are ID tokens
    "id_mode_no_exp_check": {"TV-EXP-EXPIRED", "EXP-ISSUED-PAST", "EXP-BOUNDARY"},
    "id_mode_no_client_id_check": {"TV-CLIENT-OTHER"},
    "id_mode_id_token_as_access": {"TV-TOKEN-USE-ACCESS"},
    "jwk_header_trusted": {"TV-HDR-JWK"},
    "header_key_urls_followed": {"TV-HDR-JKU", "TV-HDR-X5U"},
    # never learns the new key, so TV-ROTATION-RETIRED SKIPs (its precondition, the new kid accepted, fails)
    "jwks_cached_forever": {"TV-ROTATION-NEW-KID"},
    "jwks_refetch_every_kid": {"TV-JWKS-FLOOD"},
    # refresh answered from a cache: stale claims, and dead refresh tokens keep working
    # (its spec's client does not rotate refresh tokens, so REF-REUSE SKIPs there)
    "refresh_cached": {"REF-CLAIMS-CURRENT", *(REFRESH_REFUSALS - {"REF-REUSE"})},
    "refresh_error_500": {"REF-OTHER-CLIENT", *REFRESH_REFUSALS},
    "refresh_requires_valid_access": {"EXP-REFRESH-AFTER"},
    # a session family's flaw that the refresh family also catches: roles cached per user survive a refresh
    "roles_cached_at_first_sight": {"REF-CLAIMS-CURRENT"},
}


def expected_for(flaw: str) -> set[str]:
    return (EXPECTED_TOKENS.get(flaw, set()) | EXPECTED_SESSIONS.get(flaw, set()) | EXPECTED_MFA.get(flaw, set())
            | EXPECTED_TRIGGERS.get(flaw, set()) | EXPECTED_IDENTITY.get(flaw, set()))


def _shipped() -> set[str]:
    return {p.stem for p in FLAWED.glob("*.toml")}


# --- static checks (fast) -----------------------------------------------------------------------


def test_every_shipped_flaw_is_in_the_matrix() -> None:
    matrices = (EXPECTED_TOKENS, EXPECTED_SESSIONS, EXPECTED_MFA, EXPECTED_TRIGGERS, EXPECTED_IDENTITY)
    assert set().union(*matrices) == _shipped()


def test_every_flawed_spec_plants_a_known_flaw() -> None:
    """<prefix><flaw>.toml runs the reference app in the prefix's token mode with exactly that flaw."""
    sys.path.insert(0, str(TARGETS / "reference_app"))
    try:
        import flaws
    finally:
        sys.path.pop(0)
    for name in _shipped():
        spec = load_spec(FLAWED / f"{name}.toml")
        flaw = spec.target.env.get("REFERENCE_APP_FLAW")
        assert flaw in flaws.FLAWS, name
        prefix = name[: len(name) - len(flaw)] if name.endswith(flaw) else None
        assert prefix in MODE_PREFIXES, (name, flaw)
        assert spec.auth.token == MODE_PREFIXES[prefix] == spec.target.env.get("REFERENCE_APP_TOKEN", "access"), name


def test_every_check_of_these_families_is_failed_by_some_flawed_app() -> None:
    catalogue = load_catalogue()
    mine = {i for i, s in catalogue.items() if s.family in MY_FAMILIES}
    caught = set().union(*EXPECTED_TOKENS.values(), *STRICT_TOKENS.values())  # strict: a focused strict run
    assert mine - caught == set(), "checks no flawed app fails"
    assert caught <= set(catalogue), "the matrix names unknown checks"


def test_every_check_has_metadata() -> None:
    prefixes = {"token-validation": "TV-", "expiry": "EXP-", "refresh": "REF-"}
    for s in load_catalogue().values():
        if s.family not in MY_FAMILIES:
            continue
        assert s.id.startswith(prefixes[s.family]), s.id
        assert s.requirements and s.remediation and s.title, s.id
        assert s.severity in ("MUST", "SHOULD") and s.profile in ("baseline", "strict"), s.id


# --- the matrix (runs every spec) ---------------------------------------------------------------


def _run_spec(job: str) -> tuple[str, set[str], list[str], set[str], float]:
    """(spec stem, FAIL ids, ERROR lines, PASS ids, seconds) of a baseline run of ``path[|families[|keyword]]``
    (families comma-separated; none: all)."""
    from harness.runner.engine import RunOptions, run
    from harness.results import Verdict
    from harness.runner.spec import load_spec

    path, _, rest = job.partition("|")
    family, _, keyword = rest.partition("|")
    started = time.monotonic()
    families = [f for f in family.split(",") if f]
    result = run(load_spec(path), RunOptions(seed=SEED, families=families, keyword=keyword or None))
    failed = {r.check_id for r in result.results if r.verdict is Verdict.FAIL}
    errors = [f"{r.check_id}: {r.reason}" for r in result.results if r.verdict is Verdict.ERROR]
    passed = {r.check_id for r in result.results if r.verdict is Verdict.PASS}
    return Path(path).stem, failed, errors, passed, round(time.monotonic() - started, 1)


def _run_chunk(paths: list[str]) -> list[tuple[str, set[str], list[str], set[str], float]]:
    """One worker process: the first spec alone (warms the key caches), the rest in threads."""
    load_catalogue()
    first = _run_spec(paths[0])
    with ThreadPoolExecutor(max_workers=THREADS_PER_PROCESS) as pool:
        return [first, *pool.map(_run_spec, paths[1:])]


@pytest.fixture(scope="module")
def matrix() -> dict[str, tuple[set[str], list[str], set[str], float]]:
    correct = [f"{TARGETS / name}|{family}" for name, family in CORRECT.items()]
    # an MFA, trigger or identity-pool flaw is judged by its family alone; the other flaws by every family
    # but those (the correct apps run everything, so a false MFA FAIL still shows there)
    own_family = {**dict.fromkeys(EXPECTED_MFA, "mfa"), **dict.fromkeys(EXPECTED_TRIGGERS, "triggers"),
                  **dict.fromkeys(EXPECTED_IDENTITY, "identity")}
    shared = ",".join(sorted({s.family for s in load_catalogue().values()} - set(own_family.values())
                             - {"identity-audit"}))  # the audit reads files the flaws leave alone
    flawed = [f"{p}|{own_family.get(p.stem, shared)}" for p in sorted(FLAWED.glob("*.toml"))]
    chunks = [[correct[i % len(correct)], *flawed[i::PROCESSES]] for i in range(PROCESSES)]
    started = time.monotonic()
    context = multiprocessing.get_context("spawn")  # no fork of a process that may hold threads
    with ProcessPoolExecutor(max_workers=PROCESSES, mp_context=context) as pool:
        done = [row for chunk in pool.map(_run_chunk, chunks) for row in chunk]
    elapsed = time.monotonic() - started
    sys.stderr.write(f"\nflaw matrix: {len(done)} runs in {elapsed:.1f}s on {os.cpu_count()} CPUs\n")
    return {stem: (failed, errors, passed, seconds) for stem, failed, errors, passed, seconds in done}


@pytest.mark.parametrize("spec", [Path(name).stem for name in CORRECT])
def test_correct_reference_app_fails_nothing(matrix: dict, spec: str) -> None:
    failed, errors, passed, _ = matrix[spec]
    assert not errors, errors
    assert failed == set(), sorted(failed)
    if load_spec(TARGETS / f"{spec}.toml").auth.token == "access":
        assert "TV-SCOPE-MISSING" in passed  # the reference spec names a required scope, so it is checked
    else:
        assert {"TV-TOKEN-USE-ACCESS", "TV-CLIENT-OTHER", "TV-ROTATION-NEW-KID"} <= passed  # the ID-token twins


@pytest.mark.parametrize("flaw", sorted(_shipped()))
def test_flawed_app_fails_exactly_its_checks(matrix: dict, flaw: str) -> None:
    failed, errors, _, _ = matrix[flaw]
    assert not errors, (flaw, errors)
    assert failed == expected_for(flaw), (flaw, sorted(failed))
