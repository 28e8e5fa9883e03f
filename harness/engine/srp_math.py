"""SRP-6a arithmetic as Cognito (and Amplify's AuthenticationHelper) does it.

The RFC 5054 3072-bit group, ``g = 2``, SHA-256, and Amplify's ``padHex``
convention. Both the verifier stored at password time (harness.engine.passwords)
and the USER_SRP_AUTH protocol (harness.engine.srp) are built from these
helpers, so the two can never disagree about a byte.
"""

from __future__ import annotations

import hashlib

N_HEX = (
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD"
    "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F"
    "83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA0510"
    "15728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7"
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864D87602733EC86A64521F2B18177B200C"
    "BBE117577A615D6C770988C0BAD946E208E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF"
)
N = int(N_HEX, 16)
g = 2


def pad_hex(value: int | str) -> str:
    """Amplify's padHex: even-length lowercase hex, ``00`` prepended if the high bit is set.

    A hex string is first read as a number (leading zeros dropped), exactly as
    the SDKs parse SALT/SRP_B into a BigInteger before padding.
    """
    number = int(value, 16) if isinstance(value, str) else value
    if number < 0:
        raise ValueError("padHex of a negative number")
    text = format(number, "x")
    if len(text) % 2:
        return "0" + text
    if text[0] in "89abcdef":
        return "00" + text
    return text


def hash_hex(data: bytes | str) -> str:
    """SHA-256 as 64 hex characters (a str is hashed as UTF-8)."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return hashlib.sha256(raw).hexdigest()


def hex_hash(hex_string: str) -> str:
    """SHA-256 of the bytes a hex string encodes (Amplify's ``hexHash``)."""
    return hash_hex(bytes.fromhex(hex_string))


k = int(hex_hash(pad_hex(N) + pad_hex(g)), 16)


def compute_x(salt_hex: str, pool_name: str, user_id: str, password: str) -> int:
    """x = H(padHex(salt) || H(poolName || USER_ID_FOR_SRP || ":" || password))."""
    inner = hash_hex(f"{pool_name}{user_id}:{password}")
    return int(hex_hash(pad_hex(salt_hex) + inner), 16)


def verifier(salt_hex: str, pool_name: str, user_id: str, password: str) -> int:
    """v = g^x mod N, what the server keeps instead of the password."""
    return pow(g, compute_x(salt_hex, pool_name, user_id, password), N)


def compute_u(big_a: int, big_b: int) -> int:
    """u = H(padHex(A) || padHex(B))."""
    return int(hex_hash(pad_hex(big_a) + pad_hex(big_b)), 16)


__all__ = ["N", "N_HEX", "g", "k", "pad_hex", "hash_hex", "hex_hash", "compute_x", "verifier", "compute_u"]
