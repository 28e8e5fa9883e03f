"""Time-based one-time passwords (RFC 6238 over RFC 4226), as Cognito's software-token MFA uses them.

Six digits, HMAC-SHA1, 30-second steps, counted on the virtual clock. A code is
accepted for the current step and one step either side (clock drift between the
phone and the server), and only once: the step it matched is remembered and a
code of that step or an earlier one is refused (a replayed code). The secret is
what AssociateSoftwareToken hands out: 32 random bytes in unpadded base32 (a
52-character SecretCode, the length Cognito's have).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct

from harness.encoding import secrets_equal

STEP_SECONDS = 30
DIGITS = 6
DRIFT_STEPS = 1
SECRET_BYTES = 32


def new_secret(random_bytes: bytes) -> str:
    """A SecretCode from ``SECRET_BYTES`` random bytes."""
    return base64.b32encode(random_bytes).decode("ascii").rstrip("=")


def _key(secret: str) -> bytes:
    padded = secret.upper() + "=" * (-len(secret) % 8)
    return base64.b32decode(padded)


def step_of(now: float) -> int:
    return int(now // STEP_SECONDS)


def code_at(secret: str, step: int) -> str:
    """The RFC 4226 HOTP value of ``step`` (RFC 6238's T)."""
    digest = hmac.new(_key(secret), struct.pack(">Q", step), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**DIGITS).zfill(DIGITS)


def matching_step(secret: str, code: str, now: float, last_step: int) -> int | None:
    """The step ``code`` belongs to (within the drift window, after ``last_step``), or None."""
    if len(code) != DIGITS or not code.isdigit():
        return None
    current = step_of(now)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if step > last_step and secrets_equal(code_at(secret, step), code):
            return step
    return None


__all__ = ["STEP_SECONDS", "DIGITS", "DRIFT_STEPS", "SECRET_BYTES", "new_secret", "step_of", "code_at", "matching_step"]
