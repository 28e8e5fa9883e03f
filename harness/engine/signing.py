"""The one place that signs tokens (and the one certificate a pool key vouches for).

Real tokens are RS256 JWS signed by a pool key through PyJWT. :func:`self_signed_certificate` wraps a
pool key in the X.509 certificate GetSigningCertificate returns. The forging
helpers build deliberately wrong tokens (alg none, HS256 keyed with the public
key, foreign keys, arbitrary headers) for negative tests; PyJWT refuses to
make some of these, so they are assembled here by hand, in one place.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timezone
from typing import Any, Callable

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from harness.encoding import b64url
from harness.engine.keys import SigningKey
from harness.engine.rsakeys import rsa_key_from_seed


def b64url_json(obj: Any) -> str:
    return b64url(json.dumps(obj, separators=(",", ":")).encode())


def sign_jwt(claims: dict[str, Any], key: SigningKey, extra_headers: dict[str, Any] | None = None) -> str:
    """A Cognito-shaped RS256 JWS: header ``{"kid", "alg": "RS256"}``."""
    headers: dict[str, Any] = {"kid": key.kid, "alg": "RS256", "typ": None}  # typ None: PyJWT omits it
    if extra_headers:
        headers.update(extra_headers)
    return jwt.encode(claims, key.private_key, algorithm="RS256", headers=headers, sort_headers=False)


def forge(
    header: dict[str, Any],
    claims: dict[str, Any],
    *,
    rsa_key: rsa.RSAPrivateKey | None = None,
    hmac_secret: bytes | None = None,
    signature: str | None = None,
) -> str:
    """Assemble a JWS with exactly this header, whatever its ``alg`` says.

    Exactly one of ``rsa_key`` (RS256 over the input), ``hmac_secret``
    (HMAC-SHA256, e.g. keyed with the pool's public PEM) or ``signature``
    (literal third segment, "" for none) decides the signature.
    """
    signing_input = f"{b64url_json(header)}.{b64url_json(claims)}"
    if signature is not None:
        return f"{signing_input}.{signature}"
    if rsa_key is not None:
        sig = rsa_key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    elif hmac_secret is not None:
        sig = hmac.new(hmac_secret, signing_input.encode(), hashlib.sha256).digest()
    else:
        raise ValueError("forge needs rsa_key, hmac_secret or signature")
    return f"{signing_input}.{b64url(sig)}"


def self_signed_certificate(key: SigningKey, common_name: str, not_before: float, years: int) -> bytes:
    """The DER of an X.509 certificate for ``key``, issued to and by ``CN=common_name``, signed by the key
    itself (RSA PKCS#1 v1.5, SHA-256): the same key, dates and name give the same bytes (the serial
    number is derived from the kid)."""
    start = datetime.fromtimestamp(int(not_before), tz=timezone.utc)
    end_year = min(start.year + years, 9999)  # the clock's range ends with year 9999
    try:
        end = start.replace(year=end_year)
    except ValueError:  # 29 February, in a year without one
        end = start.replace(year=end_year, day=28)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    serial = int.from_bytes(hashlib.sha256(key.kid.encode()).digest()[:19], "big") or 1
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key)
                   .serial_number(serial).not_valid_before(start).not_valid_after(end)
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                   .sign(key.private_key, hashes.SHA256()))
    return certificate.public_bytes(serialization.Encoding.DER)


def jwe_shaped(blob: str) -> str:
    """An opaque refresh token with a JWE's five-segment shape (as Cognito's)."""
    header = b64url_json({"cty": "JWT", "enc": "A256GCM", "alg": "RSA-OAEP"})
    # split the random blob into encrypted-key, iv, ciphertext, tag segments
    return f"{header}.{blob[:342]}.{blob[342:358]}.{blob[358:-22]}.{blob[-22:]}"


# --- minting for the control plane ------------------------------------------------------

FOREIGN_KEY_LABEL = "foreign"


def foreign_key(seed: int) -> rsa.RSAPrivateKey:
    """An RSA key no pool ever publishes: "the attacker's key" in negative tests.

    Derived from a fixed label, not drawn from the id stream (asking for it
    changes no other id), and the same whatever ``seed``: it is no pool's
    state, and the scenario runner reseeds the ids for every check, so a
    seed-dependent key would cost a fresh (slow, pure-Python) key per check.
    ``seed`` stays in the signature for callers that pass it.
    """
    del seed
    return rsa_key_from_seed(FOREIGN_KEY_LABEL)


def public_jwk(public_key: rsa.RSAPublicKey, kid: str) -> dict[str, str]:
    """The RS256 JWK form of any RSA public key (pool, foreign)."""
    numbers = public_key.public_numbers()

    def b64uint(value: int) -> str:
        return b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))

    return {"alg": "RS256", "e": b64uint(numbers.e), "kid": kid, "kty": "RSA", "n": b64uint(numbers.n), "use": "sig"}


def with_overrides(base: dict[str, Any], overrides: dict[str, Any] | None) -> dict[str, Any]:
    """``base`` updated by ``overrides``, where an override of ``None`` deletes the member."""
    out = dict(base)
    for name, value in (overrides or {}).items():
        if value is None:
            out.pop(name, None)
        else:
            out[name] = value
    return out


def sign_custom(
    claims: dict[str, Any],
    *,
    alg: str,
    kid: str | None,
    header_overrides: dict[str, Any] | None = None,
    rsa_key: rsa.RSAPrivateKey | None = None,
    hmac_secret: bytes | None = None,
) -> str:
    """A JWS with a chosen algorithm and key and an arbitrary header, for minting.

    ``alg`` is "RS256" (needs ``rsa_key``), "HS256" (needs ``hmac_secret``) or
    "none" (empty signature). The header starts as PyJWT writes it for
    :func:`sign_jwt` (``alg``, ``kid``, ``typ``) and then takes the overrides
    (``None`` deletes), so ``{"alg": "NoNe"}`` or ``{"kid": "../../dev/null"}``
    land verbatim while the signature still follows ``alg``.
    """
    base: dict[str, Any] = {"alg": alg, "typ": "JWT"}
    if kid is not None:
        base["kid"] = kid
    header = with_overrides(base, header_overrides)
    if alg == "RS256":
        if rsa_key is None:
            raise ValueError("RS256 needs an RSA key")
        return forge(header, claims, rsa_key=rsa_key)
    if alg == "HS256":
        if hmac_secret is None:
            raise ValueError("HS256 needs a secret")
        return forge(header, claims, hmac_secret=hmac_secret)
    if alg == "none":
        return forge(header, claims, signature="")
    raise ValueError(f"unsupported alg {alg!r}")


Signer = Callable[[dict[str, Any], dict[str, Any]], str]
"""(claims, header overrides) -> token."""

SIGN_MODES = "pool | foreign | none | hs256-public-key | hs256:<secret> | retired:<kid>"


def signer_for(mode: str, active: SigningKey, foreign: Callable[[], rsa.RSAPrivateKey],
               find_key: Callable[[str], SigningKey]) -> Signer:
    """How a minted token is signed, by mode name (the control plane's ``sign_with``).

    ``active`` is the pool key for the token's use; ``foreign`` makes the key
    the pool never published; ``find_key`` resolves ``retired:<kid>``. Raises
    ValueError for an unknown mode.
    """

    def rs256(kid: str, private: rsa.RSAPrivateKey) -> Signer:
        return lambda c, h: sign_custom(c, alg="RS256", kid=kid, header_overrides=h, rsa_key=private)

    def hs256(secret: bytes) -> Signer:
        return lambda c, h: sign_custom(c, alg="HS256", kid=active.kid, header_overrides=h, hmac_secret=secret)

    if mode == "pool":
        return lambda c, h: sign_jwt(c, active) if not h else rs256(active.kid, active.private_key)(c, h)
    if mode == "foreign":
        return rs256(active.kid, foreign())
    if mode == "none":
        return lambda c, h: sign_custom(c, alg="none", kid=active.kid, header_overrides=h)
    if mode == "hs256-public-key":
        return hs256(active.public_pem())
    if mode.startswith("hs256:"):
        return hs256(mode[len("hs256:"):].encode())
    if mode.startswith("retired:"):
        key = find_key(mode[len("retired:"):])
        return rs256(key.kid, key.private_key)
    raise ValueError(f"expected {SIGN_MODES}, got {mode!r}")
