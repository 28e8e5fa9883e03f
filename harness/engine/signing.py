"""The one place that signs tokens.

Real tokens are RS256 JWS signed by a pool key through PyJWT. The forging
helpers build deliberately wrong tokens (alg none, HS256 keyed with the public
key, foreign keys, arbitrary headers) for negative tests; PyJWT refuses to
make some of these, so they are assembled here by hand, in one place.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import jwt
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from harness.engine.keys import SigningKey


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_json(obj: Any) -> str:
    return b64url(json.dumps(obj, separators=(",", ":")).encode())


def sign_jwt(claims: dict[str, Any], key: SigningKey, extra_headers: dict[str, Any] | None = None) -> str:
    """A Cognito-shaped RS256 JWS: header ``{"kid", "alg": "RS256"}``."""
    headers = {"kid": key.kid, "alg": "RS256"}
    if extra_headers:
        headers.update(extra_headers)
    return jwt.encode(claims, key.private_key, algorithm="RS256", headers=headers)


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


def jwe_shaped(blob: str) -> str:
    """An opaque refresh token with a JWE's five-segment shape (as Cognito's)."""
    header = b64url_json({"cty": "JWT", "enc": "A256GCM", "alg": "RSA-OAEP"})
    # split the random blob into encrypted-key, iv, ciphertext, tag segments
    return f"{header}.{blob[:342]}.{blob[342:358]}.{blob[358:-22]}.{blob[-22:]}"
