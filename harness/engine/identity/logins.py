"""Verifying a Logins map: which provider vouched for which subject, and with which claims.

Every token is checked in the engine, as the identity service checks it:

- a user pool (``cognito-idp.<region>.amazonaws.com/<poolId>``, always this AWS form): an ID token
  signed by a published key of that very user pool (``tokens.decode_verified``: signature and the
  pool's issuer), ``token_use`` id, not expired on the virtual clock, ``aud`` one of the app clients
  the identity pool lists for that user pool; with that client's ``ServerSideTokenCheck``, also a
  user who still exists, is enabled and was not signed out (the session or token not revoked);
- ``accounts.google.com`` / ``appleid.apple.com``: an ID token of the fake IdP standing in for that
  provider (``backend.idps.verify_id_token``: signature and issuer), not expired, ``aud`` one of the
  app ids in the pool's ``SupportedLoginProviders`` entry (comma-separated, as the console writes
  several);
- ``cognito-identity.amazonaws.com``: a token this service issued (GetOpenIdTokenForDeveloperIdentity)
  for this identity pool, authenticated, not expired.

A user pool's local issuer without its scheme (``127.0.0.1:9229/<poolId>``) stands for the pool's AWS
name: clients that derive the Logins key from the ID token's ``iss`` (Amplify does) send that, and on AWS
the two are the same string.

Anything else (a developer provider name, a provider the pool does not list, one the emulator
cannot verify such as graph.facebook.com) is refused: an unverifiable login never passes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from harness.engine.identity import openid
from harness.engine.identity.models import IdentityPool, UserPoolProvider, login_key
from harness.engine.identity.pools import USER_POOL_PROVIDER
from harness.engine.models import UserPool
from harness.engine.tokens import decode_verified, revocation_reason
from harness.errors import Err

if TYPE_CHECKING:  # pragma: no cover
    from harness.engine.store import Backend

SOCIAL_PRESETS = {"accounts.google.com": "google", "appleid.apple.com": "apple"}
"""Logins keys the fake IdPs stand in for, and the fake IdP preset that does."""


@dataclass(frozen=True)
class VerifiedLogin:
    """One login of a Logins map, its token verified."""

    provider: str  # the Logins key
    subject: str  # the user pool's sub, the IdP's sub, or (cognito-identity.amazonaws.com) the identity id
    claims: dict[str, Any] = field(default_factory=dict, compare=False)
    client_id: str | None = None  # the user-pool app client (aud) for a user-pool login

    @property
    def key(self) -> str:
        """Its key in ``IdentityPool.login_index``."""
        return login_key(self.provider, self.subject)

    @property
    def is_identity_token(self) -> bool:
        """A token of this service: it names an identity rather than a login to link."""
        return self.provider == openid.IDENTITY_PROVIDER


def verify_logins(backend: Backend, pool: IdentityPool, logins: dict[str, str] | None) -> list[VerifiedLogin]:
    """Every login of ``logins`` verified, in the request's order; raises the AWS error of the first bad one."""
    return [verify_login(backend, pool, provider, token) for provider, token in (logins or {}).items()]


def verify_login(backend: Backend, pool: IdentityPool, provider: str, token: str) -> VerifiedLogin:
    provider = aws_provider_name(backend, provider)
    if USER_POOL_PROVIDER.fullmatch(provider):
        return _user_pool_login(backend, pool, provider, token)
    if provider in SOCIAL_PRESETS:
        return _social_login(backend, pool, provider, token)
    if provider == openid.IDENTITY_PROVIDER:
        return _identity_token_login(backend, pool, token)
    if provider == pool.developer_provider_name:
        raise Err.DEVELOPER_LOGIN_IN_PUBLIC_API.error(provider=provider)
    raise Err.LOGIN_PROVIDER_NOT_SUPPORTED.error()


def aws_provider_name(backend: Backend, provider: str) -> str:
    """``provider``, or the AWS name of the user pool whose local issuer (scheme stripped) it is."""
    pool_id = provider.rpartition("/")[2]
    user_pool = backend.pools.get(pool_id) if "/" in provider else None
    if user_pool is not None and backend.issuer(user_pool).partition("://")[2] == provider:
        return f"cognito-idp.{user_pool.region}.amazonaws.com/{user_pool.pool_id}"
    return provider


def _check_exp(backend: Backend, claims: dict[str, Any]) -> None:
    now = backend.clock.now()
    exp = claims.get("exp")
    if not isinstance(exp, (int, float)) or now >= float(exp):
        raise Err.LOGIN_EXPIRED.error(now=int(now), exp=exp)


def _user_pool_login(backend: Backend, pool: IdentityPool, provider: str, token: str) -> VerifiedLogin:
    trusted = [p for p in pool.cognito_identity_providers if p.provider_name == provider]
    if not trusted:
        raise Err.LOGIN_PROVIDER_NOT_SUPPORTED.error()
    try:
        user_pool, _, claims = decode_verified(backend, token)
    except ValueError:
        raise Err.LOGIN_UNVERIFIABLE.error() from None
    if provider != f"cognito-idp.{user_pool.region}.amazonaws.com/{user_pool.pool_id}":
        raise Err.LOGIN_ISSUER_MISMATCH.error()
    if claims.get("token_use") != "id":
        raise Err.LOGIN_NOT_ID_TOKEN.error()
    _check_exp(backend, claims)
    entry = next((p for p in trusted if p.client_id == claims.get("aud")), None)
    if entry is None:
        raise Err.LOGIN_PROVIDER_NOT_SUPPORTED.error()
    if entry.server_side_token_check and _signed_out(user_pool, claims):
        raise Err.LOGIN_REVOKED.error()
    return VerifiedLogin(provider, str(claims["sub"]), claims, entry.client_id)


def _signed_out(user_pool: UserPool, claims: dict[str, Any]) -> bool:
    """ServerSideTokenCheck: the user was deleted, disabled or signed out (session or token revoked)."""
    if revocation_reason(user_pool, claims):
        return True
    user = user_pool.users.get(user_pool.user_key(str(claims.get("cognito:username", ""))))
    return user is None or user.sub != claims.get("sub") or not user.enabled


def _social_login(backend: Backend, pool: IdentityPool, provider: str, token: str) -> VerifiedLogin:
    app_ids = pool.supported_login_providers.get(provider)
    if app_ids is None:
        raise Err.LOGIN_PROVIDER_NOT_SUPPORTED.error()
    try:
        claims = backend.idps.verify_id_token(SOCIAL_PRESETS[provider], token)
    except ValueError:
        raise Err.LOGIN_UNVERIFIABLE.error() from None
    _check_exp(backend, claims)
    audiences = claims.get("aud")
    audiences = audiences if isinstance(audiences, list) else [audiences]
    allowed = {a.strip() for a in app_ids.split(",") if a.strip()}
    client_id = next((a for a in audiences if a in allowed), None)
    if client_id is None:
        raise Err.LOGIN_PROVIDER_NOT_SUPPORTED.error()
    return VerifiedLogin(provider, str(claims["sub"]), claims, client_id)


def _identity_token_login(backend: Backend, pool: IdentityPool, token: str) -> VerifiedLogin:
    try:
        claims = openid.decode(backend, token)
    except ValueError:
        raise Err.LOGIN_UNVERIFIABLE.error() from None
    if claims.get("aud") != pool.pool_id:
        raise Err.LOGIN_PROVIDER_NOT_SUPPORTED.error()
    _check_exp(backend, claims)
    if openid.AUTHENTICATED not in (claims.get("amr") or []):  # an unauthenticated token is no login
        raise Err.LOGINS_DONT_MATCH.error()
    return VerifiedLogin(openid.IDENTITY_PROVIDER, str(claims["sub"]), claims)


def user_pool_provider(pool: IdentityPool, login: VerifiedLogin) -> UserPoolProvider | None:
    """The ``CognitoIdentityProviders`` entry a user-pool login was accepted under."""
    return next((p for p in pool.cognito_identity_providers
                 if p.provider_name == login.provider and p.client_id == login.client_id), None)


__all__ = ["SOCIAL_PRESETS", "VerifiedLogin", "user_pool_provider", "verify_login", "verify_logins"]
