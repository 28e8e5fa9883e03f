"""Password policy, storage and verification.

* :func:`check_policy` reports the first broken rule with the message prefix
  Cognito uses for that operation (SignUp, AdminCreateUser's temporary
  password, everything else).
* :func:`set_password` stores a password hash plus the SRP salt and verifier,
  so both USER_PASSWORD_AUTH and USER_SRP_AUTH can authenticate the user, and
  enforces PasswordHistorySize.

The hash is PBKDF2-HMAC-SHA256 with a per-password salt, written as one
self-describing string ``pbkdf2-sha256$<iterations>$<salt hex>$<hash hex>`` so
the cost can change without breaking stored passwords. The iteration count is
deliberately low (:data:`PBKDF2_ITERATIONS`): an emulator's sign-in throughput
is a feature, and its passwords are test fixtures, but a leaked snapshot must
still not be one SHA-256 away from every password. Hashes from earlier versions
(``sha256(salt NUL password)``, salt in ``User.password_salt``) still verify
and are re-hashed on the first successful sign-in.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections import OrderedDict
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING

from harness.engine import srp_math
from harness.engine.models import User, UserPool
from harness.errors import Err

if TYPE_CHECKING:  # pragma: no cover
    from harness.engine.store import Backend

PASSWORD_HASH_SCHEME = "pbkdf2-sha256"
PBKDF2_ITERATIONS = 1_000  # ~0.3 ms a hash on one core: see the module docstring
MAX_PBKDF2_ITERATIONS = 1_000_000  # a stored (restored) hash asking for more is refused, not run
SALT_BYTES = 16

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


def _utf8(password: str) -> bytes:
    """The password's bytes; lone surrogates (valid in JSON strings) are kept, never a crash."""
    return password.encode("utf-8", "surrogatepass")


def hash_password(password: str, salt_hex: str, iterations: int = PBKDF2_ITERATIONS) -> str:
    """``pbkdf2-sha256$<iterations>$<salt hex>$<hash hex>`` for ``password``."""
    digest = hashlib.pbkdf2_hmac("sha256", _utf8(password), bytes.fromhex(salt_hex), iterations)
    return f"{PASSWORD_HASH_SCHEME}${iterations}${salt_hex}${digest.hex()}"


def _legacy_digest(salt: str, password: str) -> str:
    """What versions before PBKDF2 stored: one SHA-256 (read only, to upgrade old snapshots)."""
    return hashlib.sha256(_utf8(f"{salt}\x00{password}")).hexdigest()


def password_matches(encoded: str, password: str, legacy_salt: str = "") -> bool:
    """Whether ``password`` hashes to ``encoded`` (constant-time compare of the digests).

    Reads the current scheme, the old ``salt$sha256`` history entries and a
    bare old SHA-256 digest (with ``legacy_salt``). Anything else, including
    an iteration count out of range, never matches.
    """
    parts = encoded.split("$")
    if len(parts) == 4 and parts[0] == PASSWORD_HASH_SCHEME:
        _, iterations, salt_hex, expected = parts
        if not iterations.isdigit() or not 1 <= int(iterations) <= MAX_PBKDF2_ITERATIONS:
            return False
        try:
            actual = hash_password(password, salt_hex, int(iterations)).rpartition("$")[2]
        except ValueError:  # a salt that is not hex
            return False
        return hmac.compare_digest(actual.encode(), _utf8(expected))
    if len(parts) == 2:  # an old history entry: salt$digest
        salt, expected = parts
    elif len(parts) == 1 and legacy_salt:  # an old current hash, its salt kept apart
        salt, expected = legacy_salt, encoded
    else:
        return False
    return hmac.compare_digest(_legacy_digest(salt, password).encode(), _utf8(expected))


def is_legacy_hash(encoded: str) -> bool:
    """Whether ``encoded`` predates the PBKDF2 scheme."""
    return not encoded.startswith(PASSWORD_HASH_SCHEME + "$")


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
    if check_history and history_size and any(password_matches(entry, password)
                                              for entry in user.password_history[-history_size:]):
        raise Err.PASSWORD_HISTORY.error()
    user.password_hash = hash_password(password, backend.ids.hex(SALT_BYTES))
    user.password_salt = ""  # the salt is inside password_hash; the field only reads old snapshots
    user.srp_salt = backend.ids.hex(16)
    # the verifier's modular exponentiation waits for the first SRP sign-in (srp.credentials_for)
    user.srp_x = format(srp_math.compute_x(user.srp_salt, pool.srp_pool_name, user.username, password), "x")
    user.srp_verifier = 0
    now = backend.clock.now()
    user.temporary_password_expires = now + temporary_validity_days(pool) * 86400 if temporary else None
    user.password_history.append(user.password_hash)
    keep = max(history_size, 1)
    del user.password_history[:-keep]
    user.modified = now


def generate_temporary_password(backend: Backend, pool: UserPool) -> str:
    """A seeded temporary password that satisfies the pool's policy (any length)."""
    password = backend.ids.temporary_password()
    while len(password) < pool.password_policy.minimum_length:
        password += backend.ids.temporary_password()
    return password


class ProvenPasswords:
    """A bounded memory of (stored hash, password) pairs already proven, so a user who signs in again
    with the same password skips the deliberately slow hash (test suites sign the same users in all
    day). Entries are HMACs under a per-process random key, never the passwords, and live only in
    memory (no snapshot carries them); a wrong password is never remembered, so guessing always
    pays the full hash. A changed password changes the stored hash, so old entries stop matching.
    """

    def __init__(self, capacity: int = 4096) -> None:
        self._key = secrets.token_bytes(32)
        self._proven: OrderedDict[bytes, None] = OrderedDict()
        self._capacity = capacity

    def _entry(self, stored: str, password: str) -> bytes:
        return hmac.new(self._key, _utf8(stored) + b"\x00" + _utf8(password), hashlib.sha256).digest()

    def known(self, stored: str, password: str) -> bool:
        entry = self._entry(stored, password)
        if entry in self._proven:
            self._proven.move_to_end(entry)
            return True
        return False

    def remember(self, stored: str, password: str) -> None:
        self._proven[self._entry(stored, password)] = None
        if len(self._proven) > self._capacity:
            self._proven.popitem(last=False)

    def __len__(self) -> int:
        return len(self._proven)


def verify_password(user: User, password: str,
                    outside_lock: AbstractContextManager[None] | None = None,
                    proven: ProvenPasswords | None = None) -> bool:
    """Whether ``password`` is the user's current password (constant-time compare).

    ``outside_lock`` (the store's ``lock_released()``) lets the hash run with the
    store lock set down: PBKDF2 is slow on purpose and releases the GIL, so
    concurrent sign-ins hash on every core instead of queueing behind the lock.
    If the password changed meanwhile, the answer is judged again, under the
    lock, against the new one.
    A hash in the old single-SHA-256 form (a snapshot from an earlier version)
    is replaced by a PBKDF2 one, same salt, once the password is proven.
    """
    stored, legacy_salt = user.password_hash, user.password_salt
    if stored is None:
        return False
    if proven is not None and proven.known(stored, password):
        return True
    with outside_lock or nullcontext():
        matched = password_matches(stored, password, legacy_salt)
    if (user.password_hash, user.password_salt) != (stored, legacy_salt):
        return verify_password(user, password, proven=proven)
    if not matched:
        return False
    if proven is not None and not is_legacy_hash(stored):
        proven.remember(stored, password)
    if is_legacy_hash(user.password_hash):  # deterministic new salt: no id is drawn during a sign-in
        salt = hashlib.sha256(_utf8(user.password_salt)).hexdigest()[:SALT_BYTES * 2]
        user.password_hash = hash_password(password, salt)
        user.password_salt = ""
    return True


__all__ = ["PASSWORD_HASH_SCHEME", "PBKDF2_ITERATIONS", "SYMBOLS", "ProvenPasswords", "check_policy", "generate_temporary_password",
           "hash_password", "password_matches", "policy_violation", "set_password", "temporary_validity_days",
           "verify_password"]
