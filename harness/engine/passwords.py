"""Password policy, storage and verification.

* :func:`check_policy` reports the first broken rule with the message prefix
  Cognito uses for that operation (SignUp, AdminCreateUser's temporary
  password, everything else).
* :func:`set_password` stores a salted hash plus the SRP salt and verifier,
  so both USER_PASSWORD_AUTH and USER_SRP_AUTH can authenticate the user, and
  enforces PasswordHistorySize.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import TYPE_CHECKING

from harness.engine import srp_math
from harness.engine.models import User, UserPool
from harness.errors import Err

if TYPE_CHECKING:  # pragma: no cover
    from harness.engine.store import Backend

# Cognito's special characters (the 2023 guide also counts the space).
SYMBOLS = frozenset("^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+- ")

_CONTEXT_ERRORS = {
    "signup": Err.PASSWORD_POLICY_SIGNUP,
    "temporary": Err.PASSWORD_POLICY_TEMP,
    "other": Err.PASSWORD_POLICY,
}

DEFAULT_TEMPORARY_VALIDITY_DAYS = 7


def policy_violation(pool: UserPool, password: str) -> str | None:
    """The first rule the password breaks (Cognito reports one at a time), or None."""
    policy = pool.password_policy
    if len(password) < policy.minimum_length:
        return "Password not long enough"
    if policy.require_uppercase and not any("A" <= c <= "Z" for c in password):
        return "Password must have uppercase characters"
    if policy.require_lowercase and not any("a" <= c <= "z" for c in password):
        return "Password must have lowercase characters"
    if policy.require_numbers and not any("0" <= c <= "9" for c in password):
        return "Password must have numeric characters"
    if policy.require_symbols and not any(c in SYMBOLS for c in password):
        return "Password must have symbol characters"
    return None


def check_policy(pool: UserPool, password: str, context: str) -> None:
    """Raise InvalidPasswordException if ``password`` breaks the pool's policy.

    ``context`` picks the message prefix: "signup", "temporary"
    (AdminCreateUser TemporaryPassword) or "other".
    """
    if context not in _CONTEXT_ERRORS:
        raise ValueError(f"unknown password policy context {context!r}")
    reason = policy_violation(pool, password)
    if reason is not None:
        raise _CONTEXT_ERRORS[context].error(reason=reason)


def _digest(salt: str, password: str) -> str:
    return hashlib.sha256(f"{salt}\x00{password}".encode()).hexdigest()


def _matches(entry: str, password: str) -> bool:
    salt, _, digest = entry.partition("$")
    return hmac.compare_digest(_digest(salt, password), digest)


def temporary_validity_days(pool: UserPool) -> int:
    """TemporaryPasswordValidityDays, where 0 means the default of 7."""
    return pool.password_policy.temporary_password_validity_days or DEFAULT_TEMPORARY_VALIDITY_DAYS


def set_password(
    backend: Backend,
    pool: UserPool,
    user: User,
    password: str,
    *,
    temporary: bool = False,
    check_history: bool = True,
) -> None:
    """Store ``password`` for ``user`` (hash, SRP verifier, history, temp expiry).

    Policy is the caller's job (the message prefix depends on the operation);
    reuse of one of the last PasswordHistorySize passwords raises
    PasswordHistoryPolicyViolationException here, unless ``check_history`` is
    false (AdminCreateUser's temporary passwords, whose API has no such error).
    """
    history_size = pool.password_policy.password_history_size
    if check_history and history_size and any(_matches(entry, password) for entry in user.password_history[-history_size:]):
        raise Err.PASSWORD_HISTORY.error()
    salt = backend.ids.hex(16)
    user.password_salt = salt
    user.password_hash = _digest(salt, password)
    user.srp_salt = backend.ids.hex(16)
    # the verifier's modular exponentiation waits for the first SRP sign-in (srp.credentials_for)
    user.srp_x = format(srp_math.compute_x(user.srp_salt, pool.srp_pool_name, user.username, password), "x")
    user.srp_verifier = 0
    now = backend.clock.now()
    user.temporary_password_expires = now + temporary_validity_days(pool) * 86400 if temporary else None
    user.password_history.append(f"{salt}${user.password_hash}")
    keep = max(history_size, 1)
    del user.password_history[:-keep]
    user.modified = now


def generate_temporary_password(backend: Backend, pool: UserPool) -> str:
    """A seeded temporary password that satisfies the pool's policy (any length)."""
    password = backend.ids.temporary_password()
    while len(password) < pool.password_policy.minimum_length:
        password += backend.ids.temporary_password()
    return password


def verify_password(user: User, password: str) -> bool:
    """Whether ``password`` is the user's current password (constant-time compare)."""
    if user.password_hash is None:
        return False
    return hmac.compare_digest(_digest(user.password_salt, password), user.password_hash)


__all__ = ["SYMBOLS", "check_policy", "generate_temporary_password", "policy_violation", "set_password", "verify_password", "temporary_validity_days"]
