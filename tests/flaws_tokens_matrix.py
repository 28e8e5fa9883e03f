"""The token-validation family's strict-profile matrix (data; run by tests/test_flaws_tokens_strict.py).

The flaw matrix (tests/test_runner_flaws.py) runs the baseline profile, so the
strict checks (tokens only the pool itself could sign: defence in depth) are
proven here: each spec below, run over the strict token-validation checks,
fails exactly its set. Keys are spec paths relative to fixtures/targets/.
"""

from __future__ import annotations

# spec -> the strict token-validation checks it fails
STRICT_TOKENS: dict[str, set[str]] = {
    # the correct reference app, in both token modes, fails none
    "reference.toml": set(),
    "reference_id.toml": set(),
    # no exp check: a missing and a non-numeric exp pass
    "flawed/no_exp_check.toml": {"TV-EXP-MISSING", "TV-CLAIM-TYPES"},
    # the same, in an app that takes ID tokens (an ID token without exp is accepted)
    "flawed/id_mode_no_exp_check.toml": {"TV-EXP-MISSING", "TV-CLAIM-TYPES"},
    # no iat/nbf check: a future and a non-numeric iat/nbf pass
    "flawed/future_tokens_accepted.toml": {"TV-IAT-FUTURE", "TV-NBF-FUTURE", "TV-CLAIM-TYPES"},
    # no issuer check at all: another issuer, none, and a partial one all pass
    "flawed/no_issuer_check.toml": {"TV-ISS-WRONG", "TV-ISS-PARTIAL"},
    # int(claims["exp"]) outside the error handling: missing or ill-typed exp -> 500
    "flawed/server_error_on_malformed.toml": {"TV-CLAIM-TYPES", "TV-EXP-MISSING"},
    "flawed/issuer_substring_match.toml": {"TV-ISS-PARTIAL"},
    "flawed/token_use_optional.toml": {"TV-TOKEN-USE-MISSING"},
    "flawed/crit_ignored.toml": {"TV-CRIT-UNKNOWN"},
}

__all__ = ["STRICT_TOKENS"]
