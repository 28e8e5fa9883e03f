"""Refresh-token operations: RevokeToken and GetTokensFromRefreshToken.

* RevokeToken revokes one refresh token's family: the refresh token and the
  ID/access tokens it begat (same ``origin_jti``), including those of the
  initial sign-in. The user's other sessions (other devices) live on.
* GetTokensFromRefreshToken refreshes; with rotation enabled on the client
  it also returns a new refresh token (keeping the original expiry), and the
  submitted one stays usable for RetryGracePeriodSeconds, after which it is a
  RefreshTokenReuseException. Without rotation it returns ID and access
  tokens only, as the model documents.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import jwt

from harness.engine import client_secrets, devices, sessions, tokens
from harness.engine.common import check_client_secret, find_client
from harness.engine.models import AppClient, UserPool
from harness.engine.registry import operation
from harness.errors import CognitoError, Err

if TYPE_CHECKING:  # pragma: no cover
    from harness.engine.store import Backend


def _revoke_client(backend: Backend, client_id: str, secret: str | None) -> tuple[UserPool, AppClient]:
    """Client authentication for RevokeToken (whose model knows only UnauthorizedException)."""
    try:
        pool, client = find_client(backend, client_id)
    except CognitoError:
        raise Err.REVOKE_UNAUTHORIZED_CLIENT.error() from None
    if client.secret is not None and not client_secrets.accepts(client, secret):
        raise Err.REVOKE_UNAUTHORIZED_CLIENT.error()
    return pool, client


def _looks_like_jwt(token: str) -> bool:
    try:
        jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        return False
    return token.count(".") == 2


@operation("RevokeToken")
def revoke_token(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    """Revoke a refresh token and every token of its session.

    An unknown or already revoked refresh token is accepted silently (RFC
    7009 semantics, as the revocation endpoint does); an ID or access token
    is UnsupportedTokenTypeException; another client's token is refused.
    """
    pool, client = _revoke_client(backend, params["ClientId"], params.get("ClientSecret"))
    if not client.enable_token_revocation:
        raise Err.REVOCATION_NOT_ENABLED.error()
    token = params["Token"]
    session = sessions.find_refresh(backend, pool, token)
    if session is None:
        if _looks_like_jwt(token):
            raise Err.NOT_A_REFRESH_TOKEN.error()
        return {}
    if session.client_id != client.client_id:
        raise Err.REVOKE_CLIENT_MISMATCH.error()
    tokens.revoke_session(backend, pool, session, "RevokeToken")
    return {}


@operation("GetTokensFromRefreshToken")
def get_tokens_from_refresh_token(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool, client = find_client(backend, params["ClientId"])
    check_client_secret(client, params.get("ClientSecret"))
    session = sessions.find_refresh(backend, pool, params["RefreshToken"])
    if session is not None:  # tokens bound to a remembered device refresh only with its DeviceKey
        devices.check_refresh(pool, session, params.get("DeviceKey"))
    result = tokens.refresh(
        backend,
        pool,
        client,
        params["RefreshToken"],
        rotate=client.refresh_rotation_enabled,
        flow="GetTokensFromRefreshToken",
        client_metadata=params.get("ClientMetadata"),  # reaches the pre token generation trigger
    )
    return {"AuthenticationResult": result}
