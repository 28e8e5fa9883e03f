"""The MFA family's flaw matrix: flawed reference app -> the check IDs it must fail (baseline, whole catalogue).

tests/test_runner_flaws.py runs every spec in fixtures/targets/flawed/ against the
whole catalogue and merges this matrix with the others. The MFA_SETUP flaw lives in
fixtures/targets/flawed_mfa_required/ (its pool requires MFA, which the other
families' test users cannot sign in to): tests/test_mfa_scenarios.py proves it.
"""

from __future__ import annotations

MFA_CHECKS_WITH_A_PASSWORD_STEP = {"MFA-TOTP-REQUIRED", "MFA-EMAIL-OTP", "MFA-SMS", "MFA-WRONG-CODE", "MFA-REPLAY",
                                   "MFA-ENROLL"}

EXPECTED_MFA: dict[str, set[str]] = {
    # a half-signed-in user reaches the API: every check that looks at the password step sees it
    "mfa_pending_session_trusted": MFA_CHECKS_WITH_A_PASSWORD_STEP,
    "mfa_answers_every_challenge_as_totp": {"MFA-EMAIL-OTP", "MFA-SMS"},
    # a replayed code is a wrong code to the pool: the same 500
    "mfa_wrong_code_500": {"MFA-WRONG-CODE", "MFA-REPLAY"},
    "mfa_answers_replayed": {"MFA-REPLAY"},
    "mfa_enroll_unverified": {"MFA-ENROLL"},
    "mfa_admin_requirement_ignored": {"MFA-ADMIN-REQUIRED"},
}

# Specs outside fixtures/targets/flawed/ (relative to fixtures/targets), MFA family only: spec -> checks it fails.
MFA_ONLY_EXPECTED: dict[str, set[str]] = {
    "reference.toml": set(),
    "reference_admin_mfa.toml": set(),
    "reference_mfa_required.toml": set(),
    "flawed_mfa_required/mfa_setup_error_500.toml": {"MFA-SETUP"},
}

__all__ = ["EXPECTED_MFA", "MFA_ONLY_EXPECTED"]
