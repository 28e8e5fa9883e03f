"""A client-side SRP for tests, written from the protocol, not from the emulator.

It deliberately shares no code with ``harness.engine.srp``/``srp_math``:
the group comes from RFC 3526's text, ``padHex`` is expressed as Java's
``BigInteger.toByteArray`` (minimal two's-complement bytes), and the key is
derived with the ``cryptography`` package's RFC 5869 HKDF. If the emulator
and this client agree, the emulator speaks the protocol Amplify speaks.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from datetime import datetime, timezone

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

# RFC 3526 section 4 (3072-bit MODP group), as printed there.
_RFC3526_3072 = """
FFFFFFFF FFFFFFFF C90FDAA2 2168C234 C4C6628B 80DC1CD1 29024E08 8A67CC74 020BBEA6 3B139B22
514A0879 8E3404DD EF9519B3 CD3A431B 302B0A6D F25F1437 4FE1356D 6D51C245 E485B576 625E7EC6
F44C42E9 A637ED6B 0BFF5CB6 F406B7ED EE386BFB 5A899FA5 AE9F2411 7C4B1FE6 49286651 ECE45B3D
C2007CB8 A163BF05 98DA4836 1C55D39A 69163FA8 FD24CF5F 83655D23 DCA3AD96 1C62F356 208552BB
9ED52907 7096966D 670C354E 4ABC9804 F1746C08 CA18217C 32905E46 2E36CE3B E39E772C 180E8603
9B2783A2 EC07A28F B5C55DF0 6F4C52C9 DE2BCBF6 95581718 3995497C EA956AE5 15D22618 98FA0510
15728E5A 8AAAC42D AD33170D 04507A33 A85521AB DF1CBA64 ECFB8504 58DBEF0A 8AEA7157 5D060C7D
B3970F85 A6E1E4C7 ABF5AE8C DB0933D7 1E8C94E0 4A25619D CEE3D226 1AD2EE6B F12FFA06 D98A0864
D8760273 3EC86A64 521F2B18 177B200C BBE11757 7A615D6C 770988C0 BAD946E2 08E24FA0 74E5AB31
43DB5BFC E0FD108E 4B82D120 A93AD2CA FFFFFFFF FFFFFFFF
"""
PRIME = int("".join(_RFC3526_3072.split()), 16)
GENERATOR = 2


def signed_bytes(n: int) -> bytes:
    """Java BigInteger.toByteArray for n >= 0: minimal big-endian two's complement."""
    return n.to_bytes(n.bit_length() // 8 + 1, "big")


def sha256_int(*parts: bytes) -> int:
    return int.from_bytes(hashlib.sha256(b"".join(parts)).digest(), "big")


MULTIPLIER = sha256_int(signed_bytes(PRIME), signed_bytes(GENERATOR))


def cognito_timestamp(when: datetime) -> str:
    """E.g. 'Tue Sep 3 07:05:09 UTC 2024' (day of month not zero-padded)."""
    when = when.astimezone(timezone.utc)
    return f"{when:%a} {when:%b} {when.day} {when:%H:%M:%S} UTC {when.year}"


class SRPClient:
    """One USER_SRP_AUTH attempt: ``a``/``A`` now, the claim when the challenge arrives."""

    def __init__(self, pool_id: str, username: str, password: str, a: int | None = None) -> None:
        self.pool_name = pool_id.split("_", 1)[1]
        self.username = username
        self.password = password
        self.a = a if a is not None else int.from_bytes(os.urandom(128), "big") % PRIME
        self.A = pow(GENERATOR, self.a, PRIME)

    @property
    def srp_a(self) -> str:
        return format(self.A, "x")

    def session_key(self, user_id: str, salt_hex: str, srp_b_hex: str) -> bytes:
        B = int(srp_b_hex, 16)
        if B % PRIME == 0:
            raise ValueError("server sent B = 0 mod N")
        u = sha256_int(signed_bytes(self.A), signed_bytes(B))
        if u == 0:
            raise ValueError("u = 0")
        identity = hashlib.sha256(f"{self.pool_name}{user_id}:{self.password}".encode()).digest()
        x = sha256_int(signed_bytes(int(salt_hex, 16)), identity)
        base = (B - MULTIPLIER * pow(GENERATOR, x, PRIME)) % PRIME
        S = pow(base, self.a + u * x, PRIME)
        hkdf = HKDF(algorithm=hashes.SHA256(), length=16, salt=signed_bytes(u), info=b"Caldera Derived Key")
        return hkdf.derive(signed_bytes(S))

    def claim(self, params: dict[str, str], now: datetime, timestamp: str | None = None) -> dict[str, str]:
        """The PASSWORD_VERIFIER ChallengeResponses for the server's parameters."""
        user_id = params["USER_ID_FOR_SRP"]
        key = self.session_key(user_id, params["SALT"], params["SRP_B"])
        stamp = timestamp or cognito_timestamp(now)
        message = (
            self.pool_name.encode() + user_id.encode() + base64.b64decode(params["SECRET_BLOCK"]) + stamp.encode()
        )
        signature = base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()
        return {
            "USERNAME": params.get("USERNAME", user_id),
            "PASSWORD_CLAIM_SECRET_BLOCK": params["SECRET_BLOCK"],
            "PASSWORD_CLAIM_SIGNATURE": signature,
            "TIMESTAMP": stamp,
        }
