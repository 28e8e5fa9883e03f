"""The identity service's own OpenID tokens: issuer, claims, signing key, JWKS and discovery.

GetOpenIdToken (and GetOpenIdTokenForDeveloperIdentity) hand out an RS256 token that STS
AssumeRoleWithWebIdentity accepts (the classic flow) and that GetCredentialsForIdentity accepts
under the Logins key ``cognito-identity.amazonaws.com`` (developer-authenticated identities).

Sourced (AWS "Role trust and permissions", the GetOpenIdToken API reference, tokens real identity
pools issue): ``iss`` is ``https://cognito-identity.amazonaws.com``, ``aud`` the identity pool id,
``sub`` the identity id, valid 10 minutes; ``amr`` holds ``unauthenticated``, or ``authenticated``
plus every provider used. The per-login entries ``<provider>:CognitoSignIn:<sub>`` for a user pool
are the form AWS passes on as ``cognitoAuthenticationProvider`` (``amr`` without ``authenticated``),
seen in countless API Gateway handlers. Chosen: ``<provider>:<subject>`` for a social provider and
``<developer provider>:<identity pool id>:<user identifier>`` for a developer login (AWS's exact
forms for those are unverified).

The issuer is AWS's when the identity pool carries the tag ``harness:issuer = aws`` (as a user
pool does, for the AWS endpoint mode); otherwise ``{public_url}/cognito-identity``, whose JWKS
this emulator serves. One key ring (``Backend.identity.keyring``) signs for every identity pool.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import jwt

from harness.engine.events import DISCOVERY_FETCH, JWKS_FETCH
from harness.engine.identity.models import IdentityPool
from harness.engine.keys import KeyRing
from harness.engine.ops.pools import ISSUER_TAG
from harness.engine.signing import sign_jwt

if TYPE_CHECKING:  # pragma: no cover
    from harness.engine.store import Backend

IDENTITY_PROVIDER = "cognito-identity.amazonaws.com"
"""The Logins key of a token this service issued (developer-authenticated enhanced flow)."""
AWS_ISSUER = f"https://{IDENTITY_PROVIDER}"
LOCAL_PATH = "/cognito-identity"
JWKS_PATH = "/.well-known/jwks_uri"  # AWS's path for the identity service's keys
DISCOVERY_PATH = "/.well-known/openid-configuration"
OPENID_TOKEN_SECONDS = 600  # GetOpenIdToken: 10 minutes
DEVELOPER_TOKEN_DEFAULT_SECONDS = 900  # GetOpenIdTokenForDeveloperIdentity's TokenDuration default (15 minutes)
AUTHENTICATED = "authenticated"
UNAUTHENTICATED = "unauthenticated"
USER_POOL_PREFIX = "cognito-idp."


def keyring(backend: Backend) -> KeyRing:
    """The identity service's key ring, made on first use."""
    if backend.identity.keyring is None:
        backend.identity.keyring = backend.new_keyring("cognito-identity")
    return backend.identity.keyring


def local_issuer(backend: Backend) -> str:
    return f"{backend.settings.public_url.rstrip('/')}{LOCAL_PATH}"


def issuer(backend: Backend, pool: IdentityPool) -> str:
    """The ``iss`` of the tokens issued for ``pool``."""
    return AWS_ISSUER if pool.tags.get(ISSUER_TAG) == "aws" else local_issuer(backend)


def amr(pool: IdentityPool, logins: list[tuple[str, str]]) -> list[str]:
    """The ``amr`` claim for an identity authenticated by ``logins`` ((provider, subject) pairs)."""
    if not logins:
        return [UNAUTHENTICATED]
    providers: list[str] = []
    entries: list[str] = []
    for provider, subject in logins:
        if provider not in providers:
            providers.append(provider)
        if provider.startswith(USER_POOL_PREFIX):
            entries.append(f"{provider}:CognitoSignIn:{subject}")
        elif provider == pool.developer_provider_name:
            entries.append(f"{provider}:{pool.pool_id}:{subject}")
        else:
            entries.append(f"{provider}:{subject}")
    return [AUTHENTICATED, *providers, *entries]


def token_claims(backend: Backend, pool: IdentityPool, identity_id: str, logins: list[tuple[str, str]],
                 seconds: int) -> dict[str, Any]:
    now = backend.clock.now_int()
    return {
        "sub": identity_id,
        "aud": pool.pool_id,
        "amr": amr(pool, logins),
        "iss": issuer(backend, pool),
        "exp": now + seconds,
        "iat": now,
    }


def sign(backend: Backend, claims: dict[str, Any]) -> str:
    """Sign with the active key, the store lock set down for the RSA work (as tokens.py does)."""
    key = keyring(backend).active("id")
    with backend.lock_released():
        return sign_jwt(claims, key, {"typ": "JWT"})


def decode(backend: Backend, token: str) -> dict[str, Any]:
    """The claims of a token this service signed (signature and issuer checked, not ``exp``).

    Raises ValueError when the token is not one of ours.
    """
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise ValueError(f"not a JWT: {exc}") from None
    kid = header.get("kid")
    key = keyring(backend).find(kid) if isinstance(kid, str) and header.get("alg") == "RS256" else None
    if key is None or not key.published:
        raise ValueError("not signed by a published cognito-identity key")
    try:
        claims = jwt.decode(token, key.public_key, algorithms=["RS256"],
                            options={"verify_exp": False, "verify_aud": False, "verify_iat": False,
                                     "verify_nbf": False})
    except jwt.PyJWTError as exc:
        raise ValueError(f"signature check failed: {exc}") from None
    if claims.get("iss") not in (AWS_ISSUER, local_issuer(backend)):
        raise ValueError("issuer is not cognito-identity")
    return claims


def jwks(backend: Backend, **requester: str) -> dict[str, list[dict[str, str]]]:
    """The identity service's published keys, the fetch recorded (``jwks.fetch``, service cognito-identity)."""
    with backend.transaction():
        ring = keyring(backend)
        ring.active("id")  # only "id" keys: KeyRing.jwks would make an access-token key this service never uses
        keys = {"keys": [key.jwk() for key in ring.keys if key.published and key.use == "id"]}
        backend.events.emit(JWKS_FETCH, None, service="cognito-identity", **requester)
        return keys


def discovery(backend: Backend, aws: bool, **requester: str) -> dict[str, Any]:
    """The OpenID discovery document of the identity issuer (AWS's or the local one), the fetch recorded."""
    issuer_url = AWS_ISSUER if aws else local_issuer(backend)
    with backend.transaction():
        backend.events.emit(DISCOVERY_FETCH, None, service="cognito-identity", **requester)
    return {
        "issuer": issuer_url,
        "jwks_uri": f"{issuer_url}{JWKS_PATH}",
        "response_types_supported": ["id_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "claims_supported": ["sub", "aud", "amr", "iss", "exp", "iat"],
    }
