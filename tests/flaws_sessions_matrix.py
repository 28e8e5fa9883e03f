"""The session families' flaw matrix: flawed reference app -> the check IDs it must fail (baseline).

Each flawed app fails exactly these checks over ALL families, and no other MUST
check. tests/test_flaws_sessions.py runs it; tests/test_runner_flaws.py checks
that every shipped flawed spec appears in this matrix or in its own.
Strict-profile checks are proven separately (STRICT_EXPECTED): the plain
reference app, which trusts a token until it expires, fails them, and the
reference app in strict mode passes them.
"""

from __future__ import annotations

EXPECTED_SESSIONS: dict[str, set[str]] = {
    # logout
    "logout_without_revocation": {"LOG-DEVICE-REVOKE", "LOG-EVERYWHERE", "LOG-ACCESS-WINDOW"},
    "logout_signs_out_everywhere": {"LOG-DEVICE-REVOKE"},
    # strict mode, but the pool's "still active" answer is trusted for ever: both measured windows exceed 0 s
    "revocation_check_cached_forever": {"LOG-ACCESS-WINDOW", "LOG-POOL-REVOKE-WINDOW"},
    # federation
    "users_keyed_by_email": {"FED-DUPLICATE-SUBS", "FED-UNVERIFIED-EMAIL", "FED-UNVERIFIED-NATIVE"},
    "native_accounts_linked_by_email": {"FED-UNVERIFIED-NATIVE"},
    "unverified_email_trusted": {"FED-DUPLICATE-SUBS", "FED-UNVERIFIED-EMAIL"},
    "federated_tokens_break_profile": {"FED-LINK-CONTINUITY", "FED-TOKENS-SHAPE"},
    "federated_callback_500_on_error": {"FED-IDP-CHANGE"},
    # tenancy
    "roles_cached_at_first_sight": {"TEN-ROLE-REMOVED", "REF-CLAIMS-CURRENT"},  # refresh family: same flaw
    "tenant_not_checked_for_admin": {"TEN-CROSS-TENANT"},
    "tenant_attribute_ignored": {"TEN-CROSS-TENANT"},  # attribute tenancy, role groups
    # a member keeps admin actions, so a removed admin (still a member) keeps them too
    "role_not_checked_for_admin": {"TEN-ADMIN-OWN", "TEN-ROLE-REMOVED"},
    # email
    "signup_500_on_delivery_failure": {"MAIL-SIGNUP-FAIL-CLEAN", "MAIL-DAILY-LIMIT"},
    "half_account_on_delivery_failure": {"MAIL-SIGNUP-RECOVER", "MAIL-DAILY-LIMIT"},
    "user_enumeration_on_forgot_password": {"MAIL-FORGOT-NO-ENUM", "MAIL-FORGOT-FAULT-NO-ENUM"},
    "forgot_reveals_delivery_failure": {"MAIL-FORGOT-FAULT-NO-ENUM"},
    # lockout
    "lockout_answered_with_500": {"LOCK-HOLDS"},
    "lockout_reported_as_wrong_password": set(),  # a SHOULD of the strict profile: STRICT_EXPECTED
    "app_lockout_never_expires": {"LOCK-RECOVERY"},
    "reset_swallows_errors": {"LOCK-RESET"},
}

SESSION_FAMILIES = ("logout", "federation", "email", "tenancy", "lockout")

# Strict profile, session families only: spec file (under fixtures/targets) -> checks it must fail.
STRICT_EXPECTED: dict[str, set[str]] = {
    "reference.toml": {"LOG-STRICT-IMMEDIATE", "LOG-POOL-REVOKE-STRICT", "TEN-STALE-STRICT", "TEN-DISABLED-STRICT"},
    "reference_strict.toml": set(),
    "flawed/lockout_reported_as_wrong_password.toml": {"LOCK-DISTINCT"},
}

__all__ = ["EXPECTED_SESSIONS", "SESSION_FAMILIES", "STRICT_EXPECTED"]
