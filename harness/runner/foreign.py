"""Checks on a backend without the control plane: bent tokens made from real ones, and operations it lacks.

On a foreign backend (``run --backend URL``) nothing can sign with the pool's
private key, but an attacker's tokens never need it: the harness takes a real
token the pool issued, bends its claims or header, and signs it the way the
attack does (another RSA key under the pool's kid, ``alg: none``, HS256 keyed
with the pool's public key from the discovered JWKS, HS256 with a chosen
secret). The same ``sign_with`` names as ``Control.mint``; ``pool`` and
``retired:<kid>`` (the pool's own keys) raise :class:`NeedsPoolKey`.

A backend that answers an operation with a 5xx that is not one of the
operation's Cognito errors (moto's "not implemented" or a crash, LocalStack's)
does not implement it, or that case of it: :func:`unsupported` says so, so
the check is skipped with that reason rather than judged on a gap of the
backend.
"""

from __future__ import annotations

from typing import Any

import jwt
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import serialization

from harness.engine.signing import foreign_key, public_jwk, sign_custom, with_overrides
from harness.protocol import operation_model
from harness.runner.token_view import claims_of

POOL_KEY_NEEDED = "minting tokens signed by the pool's private key"


class NeedsPoolKey(ValueError):
    """The bent token needs the pool's private key, which only the emulator's control plane has."""


def foreign_jwk(kid: str) -> dict[str, str]:
    """The public JWK of the attacker's key (the one ``sign_with="foreign"`` signs with), under ``kid``."""
    return public_jwk(foreign_key(0).public_key(), kid)


def public_pem(jwks: dict[str, Any], kid: str) -> bytes:
    """The SubjectPublicKeyInfo PEM of the JWKS key ``kid`` (what an HS256 confusion attack keys with)."""
    for key in jwks.get("keys") or []:
        if isinstance(key, dict) and key.get("kid") == kid:
            public = jwt.PyJWK(key, algorithm="RS256").key
            return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    raise NeedsPoolKey(f"the discovered JWKS has no key {kid!r}")


def bend(token: str, jwks: dict[str, Any], *, sign_with: str = "pool", claims: dict[str, Any] | None = None,
         header: dict[str, Any] | None = None, issued_at: float | None = None,
         expires_in: float | None = None) -> str:
    """``token``'s claims, changed as asked (``None`` deletes a member), signed per ``sign_with``."""
    if sign_with == "pool" or sign_with.startswith("retired:"):
        raise NeedsPoolKey(f"sign_with={sign_with!r}")
    kid = str(jwt.get_unverified_header(token).get("kid", ""))
    base = claims_of(token)
    if issued_at is not None:
        lifetime = expires_in if expires_in is not None else int(base.get("exp", 0)) - int(base.get("iat", 0))
        base["iat"] = base["auth_time"] = int(issued_at)
        base["exp"] = int(issued_at) + int(lifetime)
    elif expires_in is not None:
        base["exp"] = int(base.get("iat", 0)) + int(expires_in)
    final = with_overrides(base, claims)
    if sign_with == "foreign":
        return sign_custom(final, alg="RS256", kid=kid, header_overrides=header, rsa_key=foreign_key(0))
    if sign_with == "none":
        return sign_custom(final, alg="none", kid=kid, header_overrides=header)
    if sign_with == "hs256-public-key":
        return sign_custom(final, alg="HS256", kid=kid, header_overrides=header, hmac_secret=public_pem(jwks, kid))
    if sign_with.startswith("hs256:"):
        secret = sign_with[len("hs256:"):].encode()
        return sign_custom(final, alg="HS256", kid=kid, header_overrides=header, hmac_secret=secret)
    raise ValueError(f"unknown sign_with {sign_with!r}")


def probe_params(operation: str, pool_id: str, client_id: str) -> dict[str, Any]:
    """Harmless parameters for ``operation`` that pass botocore's validation: the run's pool and client, and
    a placeholder in every other required string (a token no pool issued), to see whether the backend knows it."""
    shape = operation_model(operation).input_shape
    params: dict[str, Any] = {}
    for name in shape.required_members:
        member = shape.members[name]
        if member.type_name != "string":
            raise ValueError(f"{operation}.{name}: only string members can be probed")
        known = {"UserPoolId": pool_id, "ClientId": client_id}
        params[name] = known.get(name) or "harness-probe".ljust(int(member.metadata.get("min", 1)), "x")
    return params


def unsupported(backend: str, operation: str, exc: ClientError) -> str | None:
    """Why ``backend`` cannot do ``operation`` (a 5xx that is none of its Cognito errors), or None."""
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    code = str(exc.response.get("Error", {}).get("Code", ""))
    if status < 500:
        return None
    try:
        modeled = {shape.name for shape in operation_model(operation).error_shapes}
    except Exception:  # noqa: BLE001 - an operation botocore does not know: nothing is modeled
        modeled = set()
    if code in modeled:
        return None
    answer = f"HTTP {status}" + (f" {code}" if code and code != str(status) else "")
    return (f"backend {backend} answered {operation} with {answer}, none of the operation's Cognito errors: it "
            "does not implement what this check needs")


__all__ = ["NeedsPoolKey", "POOL_KEY_NEEDED", "bend", "foreign_jwk", "probe_params", "public_pem", "unsupported"]
