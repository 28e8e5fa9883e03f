"""Cognito's documented lockout for failed sign-in attempts, on the virtual clock.

From the developer guide: after five failed attempts the user is locked out
for one second; each further failure doubles that, up to about 15 minutes:
``2^(n-5)`` seconds for ``n`` cumulative failures. Attempts made while locked
out get ``NotAuthorizedException: Password attempts exceeded`` and do not count.
Fifteen quiet minutes (no attempt at all) after a lockout reset the counter.
A successful sign-in also resets it (:func:`record_success`).

The lockout applies to password and SRP sign-in only (custom auth has none).
Every failure is logged as an ``auth.failure`` event with a reason, so a
scenario can prove *why* a sign-in failed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.engine import events as ev
from harness.engine.models import User, UserPool
from harness.errors import CognitoError, Err

if TYPE_CHECKING:  # pragma: no cover
    from harness.engine.store import Backend

FREE_FAILURES = 4  # failures 1-4 only count; the 5th starts the first lockout
MAX_LOCK_SECONDS = 900.0  # "up to a maximum of approximately 15 minutes"
QUIET_RESET_SECONDS = 900.0  # "15 consecutive minutes at any time after a lockout"


def lock_seconds(failures: int) -> float:
    """Lockout length after ``failures`` cumulative failures (0 below five)."""
    if failures <= FREE_FAILURES:
        return 0.0
    return min(2.0 ** (failures - FREE_FAILURES - 1), MAX_LOCK_SECONDS)


def _reset_if_quiet(user: User, now: float) -> None:
    lk = user.lockout
    if lk.failures > FREE_FAILURES and lk.last_attempt and now - lk.last_attempt >= QUIET_RESET_SECONDS:
        lk.failures = 0
        lk.locked_until = 0.0


def forget_failures(user: User) -> None:
    """A successful sign-in: the failure count starts again (a running lock period stays)."""
    user.lockout.failures = 0


def clear(user: User) -> None:
    """A new password: no failures and no lock."""
    user.lockout.failures = 0
    user.lockout.locked_until = 0.0


def check(backend: Backend, pool: UserPool, user: User, *, client_id: str, flow: str) -> None:
    """Refuse the attempt if the user is locked out (the attempt does not count)."""
    now = backend.clock.now()
    _reset_if_quiet(user, now)
    lk = user.lockout
    if now < lk.locked_until:
        lk.last_attempt = now
        backend.events.emit(
            ev.AUTH_FAILURE,
            pool.pool_id,
            username=user.username,
            client_id=client_id,
            flow=flow,
            reason="locked_out",
            error=Err.PASSWORD_ATTEMPTS_EXCEEDED.type,
            failures=lk.failures,
            locked_until=lk.locked_until,
        )
        raise Err.PASSWORD_ATTEMPTS_EXCEEDED.error()


def record_failure(
    backend: Backend, pool: UserPool, user: User, *, client_id: str, flow: str, reason: str = "wrong_password"
) -> CognitoError:
    """Count a wrong password, start or extend the lockout; return the error to raise."""
    now = backend.clock.now()
    _reset_if_quiet(user, now)
    lk = user.lockout
    lk.failures += 1
    lk.last_attempt = now
    duration = lock_seconds(lk.failures)
    if duration:
        lk.locked_until = now + duration
    backend.events.emit(
        ev.AUTH_FAILURE,
        pool.pool_id,
        username=user.username,
        client_id=client_id,
        flow=flow,
        reason=reason,
        error=Err.INCORRECT_CREDENTIALS.type,
        failures=lk.failures,
        locked_for=duration,
    )
    return Err.INCORRECT_CREDENTIALS.error()


def record_success(backend: Backend, user: User) -> None:
    """A correct password clears the failure count."""
    lk = user.lockout
    lk.failures = 0
    lk.locked_until = 0.0
    lk.last_attempt = backend.clock.now()


def status(backend: Backend, user: User) -> dict[str, float | int | bool]:
    """The lockout state as the control plane shows it."""
    now = backend.clock.now()
    lk = user.lockout
    return {
        "failures": lk.failures,
        "locked": now < lk.locked_until,
        "locked_until": lk.locked_until,
        "seconds_left": max(0.0, lk.locked_until - now),
    }


__all__ = ["check", "clear", "forget_failures", "record_failure", "record_success", "lock_seconds", "status"]
