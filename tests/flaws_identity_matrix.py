"""The identity family's flaw matrix: flawed reference app -> the check IDs it must fail (baseline, whole catalogue).

tests/test_runner_flaws.py runs every spec in fixtures/targets/flawed/ against the whole
catalogue and merges this matrix with the others; tests/test_identity_scenarios.py proves
it on the identity family alone. Each flaw (reference_app/aws_credentials.py) touches only
the app's credentials endpoints, so it fails exactly its one check.
"""

from __future__ import annotations

EXPECTED_IDENTITY: dict[str, set[str]] = {
    # a member sends an admin's ID token with their own access token and gets the admin's credentials
    "idp_login_not_bound_to_caller": {"IDP-ROLE-MAPPED"},
    # credentials cached per user: the admin role outlives the removal from the admin group
    "idp_credentials_cached_per_user": {"IDP-ROLE-REMOVED"},
    # credentials cached per ID token: a disabled or signed-out user keeps getting them
    "idp_credentials_cached_per_token": {"IDP-REVOKED-USER"},
    # one process-wide credentials store: a visitor gets the last signed-in user's credentials
    "idp_guest_served_from_shared_store": {"IDP-GUEST-UNAUTH"},
}

__all__ = ["EXPECTED_IDENTITY"]
