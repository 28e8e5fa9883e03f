"""The triggers family's flaw matrix: flawed reference app (or flawed trigger) -> the TRIG- checks it must fail.

tests/test_runner_flaws.py runs these specs (fixtures/targets/flawed/, each extending
reference_triggers.toml: the reference app with its Lambda triggers bound) over the
triggers family only, and merges this matrix with the others. The correct apps, and
reference_triggers.toml with the triggers family, are proven by
tests/test_trigger_scenarios.py.
"""

from __future__ import annotations

SIGNUP_CHECKS = {"TRIG-SIGNUP-REJECTED", "TRIG-SIGNUP-TIMEOUT", "TRIG-SIGNUP-BAD-RESPONSE"}

EXPECTED_TRIGGERS: dict[str, set[str]] = {
    # the app's side
    "signup_trigger_error_500": SIGNUP_CHECKS,
    "signup_trigger_rejection_hidden": {"TRIG-SIGNUP-REJECTED"},
    # its own account row stays behind: the person can never sign up again, whatever the trigger did
    "half_account_on_trigger_error": SIGNUP_CHECKS,
    "login_requires_existing_pool_user": {"TRIG-MIGRATE-SIGNIN"},
    # the functions' side
    "trigger_role_from_attributes": {"TRIG-TOKEN-USER-CLAIMS"},
    "trigger_roles_cached": {"TRIG-TOKEN-ROLE-REFRESH"},
    "trigger_migration_no_password_check": {"TRIG-MIGRATE-WRONG-PASSWORD"},
    "trigger_migration_signin_only": {"TRIG-MIGRATE-RESET"},
    "trigger_custom_auth_one_round": {"TRIG-CUSTOM-NO-EARLY-TOKENS"},
    # any answer is right: two wrong answers complete both rounds
    "trigger_custom_auth_any_answer": {"TRIG-CUSTOM-WRONG-ANSWER"},
    "trigger_custom_auth_unlimited_attempts": {"TRIG-CUSTOM-WRONG-ANSWER"},
}

# Specs outside fixtures/targets/flawed/ (relative to fixtures/targets), triggers family only: spec -> checks it fails.
TRIGGERS_ONLY_EXPECTED: dict[str, set[str]] = {
    "reference_triggers.toml": set(),
}

__all__ = ["EXPECTED_TRIGGERS", "SIGNUP_CHECKS", "TRIGGERS_ONLY_EXPECTED"]
