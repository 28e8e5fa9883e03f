"""The server side of Cognito's USER_SRP_AUTH (SRP-6a, reference §3.3).

Step 1 (InitiateAuth USER_SRP_AUTH, ``SRP_A``): pick ``b``, answer the
PASSWORD_VERIFIER challenge with ``SALT``, ``SRP_B = k·v + g^b``, an opaque
``SECRET_BLOCK`` and ``USER_ID_FOR_SRP``. The secret block carries the
challenge session's id, so clients that do not echo ``Session`` (pycognito,
older SDKs) still land on the right session.

Step 2 (RespondToAuthChallenge PASSWORD_VERIFIER): recompute
``S = (A·v^u)^b``, derive the 16-byte key with HKDF ("Caldera Derived Key"),
and check ``PASSWORD_CLAIM_SIGNATURE = HMAC(key, poolName ‖ userId ‖
secretBlock ‖ TIMESTAMP)`` in constant time. TIMESTAMP must have Amplify's
``ddd MMM D HH:mm:ss UTC YYYY`` form and lie within a few minutes of the
virtual clock.

All arithmetic comes from :mod:`harness.engine.srp_math`, shared with the
verifier that :mod:`harness.engine.passwords` stores.
"""

from __future__ import annotations

import base64
import binascii
import calendar
import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from harness.engine import srp_math
from harness.engine.models import AuthSession, User, UserPool
from harness.errors import Err

if TYPE_CHECKING:  # pragma: no cover
    from harness.engine.store import Backend

HKDF_INFO = b"Caldera Derived Key\x01"
TIMESTAMP_TOLERANCE_SECONDS = 300.0
SECRET_BLOCK_RANDOM_BYTES = 64

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_TIMESTAMP = re.compile(
    r"(?P<dow>Mon|Tue|Wed|Thu|Fri|Sat|Sun) (?P<mon>Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
    r"(?P<day>[1-9]|[12][0-9]|3[01]) (?P<h>[01][0-9]|2[0-3]):(?P<m>[0-5][0-9]):(?P<s>[0-5][0-9]) "
    r"UTC (?P<year>[0-9]{4})"
)


@dataclass(frozen=True)
class Credentials:
    """What step 1 needs to know about the user (real or simulated)."""

    user_id: str  # USER_ID_FOR_SRP (the internal username)
    salt_hex: str
    verifier: int


def credentials_for(user: User) -> Credentials:
    """The user's SRP credentials, computing (once) the verifier from the stored x."""
    if not user.srp_verifier:
        user.srp_verifier = pow(srp_math.g, int(user.srp_x, 16), srp_math.N)
    return Credentials(user_id=user.username, salt_hex=user.srp_salt, verifier=user.srp_verifier)


def simulated_credentials(backend: Backend, pool: UserPool, username: str) -> Credentials:
    """Stable fake credentials for an unknown user (PreventUserExistenceErrors=ENABLED).

    Cognito answers step 1 for unknown users with "the same salt and an
    internal user ID in UUID format for the same user name and user pool
    combination"; deriving them from (seed, pool, username) gives exactly that.
    """
    digest = hashlib.sha256(f"{backend.seed}\x00{pool.pool_id}\x00{pool.user_key(username)}".encode()).digest()
    h = digest.hex()
    user_id = f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[digest[8] & 3]}{h[17:20]}-{h[20:32]}"
    verifier = pow(srp_math.g, int(hashlib.sha256(digest + b"v").hexdigest(), 16), srp_math.N)
    return Credentials(user_id=user_id, salt_hex=h[32:64], verifier=verifier)


def parse_a(srp_a: str | None) -> int:
    """The client's public value A; refuses a missing, non-hex or zero-mod-N value."""
    if not srp_a:
        raise Err.MISSING_AUTH_PARAMETER.error(name="SRP_A")
    try:
        value = int(srp_a, 16)
    except ValueError:
        raise Err.SRP_BAD_A.error() from None
    if value % srp_math.N == 0:
        raise Err.SRP_BAD_A.error()
    return value


def secret_block_for(backend: Backend, session_id: str) -> str:
    """An opaque base64 blob that names the challenge session (plus fresh randomness)."""
    raw = session_id.encode("ascii") + backend.ids.randbytes(SECRET_BLOCK_RANDOM_BYTES)
    return base64.b64encode(raw).decode("ascii")


def session_id_from_block(secret_block: str | None) -> str | None:
    """The session id a SECRET_BLOCK carries, or None if it is not one of ours."""
    if not secret_block:
        return None
    try:
        raw = base64.b64decode(secret_block, validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(raw) <= SECRET_BLOCK_RANDOM_BYTES:
        return None
    try:
        return raw[:-SECRET_BLOCK_RANDOM_BYTES].decode("ascii")
    except UnicodeDecodeError:
        return None


def begin(backend: Backend, session: AuthSession, big_a: int, creds: Credentials) -> dict[str, str]:
    """Pick b, compute B, fill the session; return the PASSWORD_VERIFIER parameters."""
    N, g, k = srp_math.N, srp_math.g, srp_math.k
    while True:
        b = int.from_bytes(backend.ids.randbytes(128), "big") % N
        big_b = (k * creds.verifier + pow(g, b, N)) % N
        if b and big_b and srp_math.compute_u(big_a, big_b):
            break
    session.srp_A = big_a
    session.srp_b = b
    session.srp_B = big_b
    session.secret_block = secret_block_for(backend, session.session)
    return {
        "SALT": format(int(creds.salt_hex, 16), "x"),
        "SRP_B": format(big_b, "x"),
        "SECRET_BLOCK": session.secret_block,
        "USER_ID_FOR_SRP": creds.user_id,
        "USERNAME": creds.user_id,
    }


def hkdf_key(big_s: int, u: int) -> bytes:
    """Cognito's HKDF: PRK = HMAC(padHex(u), padHex(S)); key = HMAC(PRK, info ‖ 1)[:16]."""
    prk = hmac.new(bytes.fromhex(srp_math.pad_hex(u)), bytes.fromhex(srp_math.pad_hex(big_s)), hashlib.sha256).digest()
    return hmac.new(prk, HKDF_INFO, hashlib.sha256).digest()[:16]


def parse_timestamp(text: str | None) -> float:
    """Seconds since the epoch for an Amplify-format TIMESTAMP (day not zero-padded)."""
    if not text:
        raise Err.MISSING_AUTH_PARAMETER.error(name="TIMESTAMP")
    match = _TIMESTAMP.fullmatch(text)
    if match is None:
        raise Err.SRP_BAD_TIMESTAMP.error()
    month = _MONTHS.index(match["mon"]) + 1
    try:
        return float(
            calendar.timegm(
                (int(match["year"]), month, int(match["day"]), int(match["h"]), int(match["m"]), int(match["s"]), 0, 0, 0)
            )
        )
    except ValueError:
        raise Err.SRP_BAD_TIMESTAMP.error() from None


def signature_valid(
    backend: Backend, pool: UserPool, session: AuthSession, creds: Credentials, responses: dict[str, str],
    *, realm: str | None = None,
) -> bool:
    """Whether PASSWORD_CLAIM_SIGNATURE proves knowledge of the password.

    Raises for malformed input (missing members, bad TIMESTAMP) and for a
    TIMESTAMP too far from the virtual clock; returns False for a wrong
    password (the caller counts that towards the lockout). ``realm`` replaces
    the pool name in the signed message: device SRP signs with the
    DeviceGroupKey (and ``creds.user_id`` is then the DeviceKey).
    """
    block = responses.get("PASSWORD_CLAIM_SECRET_BLOCK")
    if not block:
        raise Err.MISSING_AUTH_PARAMETER.error(name="PASSWORD_CLAIM_SECRET_BLOCK")
    signature = responses.get("PASSWORD_CLAIM_SIGNATURE")
    if not signature:
        raise Err.MISSING_AUTH_PARAMETER.error(name="PASSWORD_CLAIM_SIGNATURE")
    timestamp = responses.get("TIMESTAMP")
    when = parse_timestamp(timestamp)
    if abs(backend.clock.now() - when) > TIMESTAMP_TOLERANCE_SECONDS:
        raise Err.SRP_TIMESTAMP_SKEW.error()
    if block != session.secret_block:
        return False
    try:
        given = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        return False
    N = srp_math.N
    u = srp_math.compute_u(session.srp_A, session.srp_B)
    big_s = pow(session.srp_A * pow(creds.verifier, u, N) % N, session.srp_b, N)
    key = hkdf_key(big_s, u)
    message = (
        (pool.srp_pool_name if realm is None else realm).encode("utf-8")
        + creds.user_id.encode("utf-8")
        + base64.b64decode(block)
        + str(timestamp).encode("utf-8")
    )
    expected = hmac.new(key, message, hashlib.sha256).digest()
    return hmac.compare_digest(expected, given)


__all__ = [
    "Credentials",
    "credentials_for",
    "simulated_credentials",
    "parse_a",
    "begin",
    "session_id_from_block",
    "signature_valid",
    "hkdf_key",
    "parse_timestamp",
]
