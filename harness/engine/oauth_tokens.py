"""Token-endpoint, userInfo and revocation-endpoint rules of the managed login.

* ``/oauth2/token``: authorization_code (one-time five-minute codes, PKCE S256
  checked, redirect_uri must match), refresh_token (rotation honoured) and
  client_credentials (resource-server scopes only; a client secret needed);
  client_secret_basic or client_secret_post. Errors are RFC 6749 JSON bodies
  with Cognito's choices (400, ``invalid_grant`` for used/unknown codes,
  ``unauthorized_client`` for a flow the client may not use).
* ID tokens issued here carry ``at_hash`` (and the authorize request's
  ``nonce``); only an ``openid`` scope yields an ID token.
* ``/oauth2/userInfo`` needs an access token with ``openid`` that is not
  revoked or expired; ``/oauth2/revoke`` revokes a refresh token's family.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import jwt

from harness.encoding import pkce_s256, secrets_equal
from harness.engine import events as ev
from harness.engine import client_secrets, pre_token, sessions, tokens
from harness.engine.common import custom_scopes, seconds
from harness.engine.models import AppClient, RefreshSession, User, UserPool
from harness.engine.signing import sign_jwt
from harness.errors import CognitoError

if TYPE_CHECKING:  # pragma: no cover
    from harness.engine.store import Backend

USERINFO_BAD_REQUEST = 'error="invalid_request", error_description="Bad OAuth2 request at UserInfo Endpoint"'
USERINFO_BAD_TOKEN = ('error="invalid_token", error_description="Access token is expired, disabled, or deleted, '
                      'or the user has globally signed out."')
GRANTS = ("authorization_code", "refresh_token", "client_credentials")


class OAuthError(Exception):
    """An RFC 6749 error answer: status, ``{"error", "error_description"?}`` and headers."""

    def __init__(self, error: str, status: int = 400, description: str | None = None,
                 www_authenticate: str | None = None) -> None:
        super().__init__(f"{status} {error}")
        self.error, self.status, self.description = error, status, description
        self.www_authenticate = www_authenticate

    def body(self) -> dict[str, str]:
        return {"error": self.error, **({"error_description": self.description} if self.description else {})}


# --- minting ---------------------------------------------------------------------------


def mint(backend: Backend, pool: UserPool, client: AppClient, user: User, session: RefreshSession,
         flow: str) -> dict[str, Any]:
    """Access (and, with openid, ID) token for a session, as the token endpoint returns them
    (pre token generation runs as TokenGeneration_HostedAuth, or _RefreshTokens for a refresh)."""
    with_id = "openid" in session.scopes or session.scopes == [tokens.ADMIN_SCOPE]  # OAuth with openid, or API sign-in
    source = pre_token.REFRESH_TOKENS if flow == "refresh_token" else pre_token.HOSTED_AUTH
    access, id_token, access_claims, id_claims = tokens.mint_pair(
        backend, pool, client, user, session, session.scopes, include_id_token=with_id, source=source,
        with_at_hash=True)
    out: dict[str, Any] = {"access_token": access}
    id_jti = None
    if id_token is not None:
        out["id_token"] = id_token
        id_jti = (id_claims or {}).get("jti")
    out["expires_in"] = access_claims["exp"] - access_claims["iat"]
    out["token_type"] = "Bearer"
    kind = ev.TOKEN_REFRESHED if flow == "refresh_token" else ev.TOKEN_ISSUED
    backend.events.emit(kind, pool.pool_id, username=user.username, sub=user.sub,
                        client_id=client.client_id, origin_jti=session.origin_jti, access_jti=access_claims["jti"],
                        id_jti=id_jti, refresh=flow == "authorization_code", flow=f"oauth2.{flow}")
    return out


def implicit_tokens(backend: Backend, pool: UserPool, client: AppClient, user: User, scopes: list[str],
                    nonce: str | None, auth_time: int, federated: bool) -> dict[str, str]:
    """The implicit grant's fragment: id_token (with openid), access_token, bearer, expires_in."""
    session, _ = tokens.open_session(backend, pool, client, user, scopes, auth_time=auth_time, nonce=nonce,
                                     federated=federated)  # the implicit grant hands out no refresh token
    try:
        minted = mint(backend, pool, client, user, session, "implicit")
    except CognitoError as error:  # a pre token generation trigger failed: an error in the fragment (RFC 6749 4.2.2.1)
        sessions.drop_session(pool, session)
        return {"error": "invalid_request", "error_description": error.message}
    out = {k: minted[k] for k in ("id_token",) if k in minted}
    out.update({"access_token": minted["access_token"], "token_type": "bearer",
                "expires_in": str(minted["expires_in"])})
    return out


# --- client authentication ----------------------------------------------------------------


def authenticate_client(pool: UserPool, form: dict[str, str], authorization: str, status: int) -> AppClient:
    """client_secret_basic or client_secret_post (or a public client's bare client_id)."""
    client_id, secret = form.get("client_id"), form.get("client_secret")
    if authorization.lower().startswith("basic "):
        try:
            raw = base64.b64decode(authorization[6:].strip(), validate=True).decode()
        except (binascii.Error, ValueError, UnicodeDecodeError):
            raise OAuthError("invalid_client", status) from None
        basic_id, sep, basic_secret = raw.partition(":")
        if not sep:
            raise OAuthError("invalid_client", status)
        basic_id, basic_secret = unquote(basic_id), unquote(basic_secret)
        if client_id and client_id != basic_id:
            raise OAuthError("invalid_client", status)
        client_id, secret = basic_id, basic_secret
    client = pool.clients.get(client_id or "")
    if client is None:
        raise OAuthError("invalid_client", status)
    if client.secret is None:
        if secret:
            raise OAuthError("invalid_client", status)
    elif not client_secrets.accepts(client, secret):  # during a rotation, either secret
        raise OAuthError("invalid_client", status)
    return client


# --- /oauth2/token -------------------------------------------------------------------------


def _authorization_code(backend: Backend, pool: UserPool, client: AppClient, form: dict[str, str]) -> dict[str, Any]:
    if "code" not in client.allowed_oauth_flows or not client.allowed_oauth_flows_user_pool_client:
        raise OAuthError("unauthorized_client")
    code_value, redirect_uri = form.get("code"), form.get("redirect_uri")
    if not code_value or not redirect_uri:
        raise OAuthError("invalid_request")
    code = pool.oauth_codes.get(code_value)
    if code is None or code.used or code.client_id != client.client_id:
        raise OAuthError("invalid_grant")
    code.used = True  # one use, whatever happens next
    if backend.clock.now() >= code.expires_at:
        raise OAuthError("invalid_grant")
    if redirect_uri != code.redirect_uri:
        raise OAuthError("unauthorized_client", description="invalid_redirect")
    if code.code_challenge:
        verifier = form.get("code_verifier") or ""
        if not verifier or not secrets_equal(pkce_s256(verifier), code.code_challenge):
            raise OAuthError("invalid_grant")
    user = pool.users.get(pool.user_key(code.username))
    if user is None or user.sub != code.sub or not user.enabled:
        raise OAuthError("invalid_grant")
    session, refresh_token = tokens.open_session(backend, pool, client, user, code.scopes, auth_time=code.auth_time,
                                                 nonce=code.nonce, federated=code.federated)
    out = mint(backend, pool, client, user, session, "authorization_code")
    out["refresh_token"] = refresh_token
    return out


def _refresh_token(backend: Backend, pool: UserPool, client: AppClient, form: dict[str, str]) -> dict[str, Any]:
    token = form.get("refresh_token")
    if not token:
        raise OAuthError("invalid_request")
    if not client.flow_enabled("ALLOW_REFRESH_TOKEN_AUTH"):
        raise OAuthError("unauthorized_client")
    try:
        session, _ = tokens.session_for_refresh_token(backend, pool, client, token)
    except CognitoError:
        raise OAuthError("invalid_grant") from None
    user = pool.users[pool.user_key(session.username)]
    out = mint(backend, pool, client, user, session, "refresh_token")
    if client.refresh_rotation_enabled:  # a new refresh token; the old one lives for the grace period
        out["refresh_token"] = sessions.rotate(backend, pool, session, client.refresh_retry_grace_seconds)
    return out


def _client_credentials(backend: Backend, pool: UserPool, client: AppClient, form: dict[str, str]) -> dict[str, Any]:
    if client.secret is None:
        raise OAuthError("invalid_client")
    if "client_credentials" not in client.allowed_oauth_flows or not client.allowed_oauth_flows_user_pool_client:
        raise OAuthError("unauthorized_client")
    defined = custom_scopes(pool)
    allowed = [s for s in client.allowed_oauth_scopes if s in defined]
    requested = (form.get("scope") or "").split()
    if requested:
        if any(s not in allowed for s in requested):
            raise OAuthError("invalid_scope")
        scopes = list(dict.fromkeys(requested))
    else:
        scopes = allowed
    if not scopes:
        raise OAuthError("invalid_scope")
    metadata = _client_metadata(form)
    now = backend.clock.now_int()
    claims = {"sub": client.client_id, "token_use": "access", "scope": " ".join(scopes), "auth_time": now,
              "iss": backend.issuer(pool), "exp": now + seconds(client.access_token_validity, client.access_token_unit),
              "iat": now, "version": 2, "jti": backend.ids.uuid(), "client_id": client.client_id}
    pre_token.customize_client_credentials(backend, pool, client, claims, metadata)
    access = sign_jwt(claims, pool.keyring.active("access"))
    backend.events.emit(ev.TOKEN_ISSUED, pool.pool_id, username=None, sub=client.client_id,
                        client_id=client.client_id, origin_jti=None, access_jti=claims["jti"], id_jti=None,
                        refresh=False, flow="oauth2.client_credentials")
    return {"access_token": access, "expires_in": claims["exp"] - now, "token_type": "Bearer"}


def _client_metadata(form: dict[str, str]) -> dict[str, str] | None:
    """``aws_client_metadata``: a JSON object of strings for the V3 pre token generation trigger."""
    raw = form.get("aws_client_metadata")
    if not raw:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        raise OAuthError("invalid_request") from None
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise OAuthError("invalid_request")
    return value


def token(backend: Backend, pool_id: str, form: dict[str, str], authorization: str) -> dict[str, Any]:
    with backend.transaction():
        pool = backend.pools.get(pool_id)
        if pool is None:
            raise OAuthError("invalid_request", description=f"User pool {pool_id} does not exist.")
        grant = form.get("grant_type")
        client = authenticate_client(pool, form, authorization, 400)
        if not grant:
            raise OAuthError("invalid_request")
        if grant not in GRANTS:
            raise OAuthError("unsupported_grant_type")
        handler = {"authorization_code": _authorization_code, "refresh_token": _refresh_token,
                   "client_credentials": _client_credentials}[grant]
        try:
            return handler(backend, pool, client, form)
        except CognitoError as error:  # a pre token generation trigger failed: the endpoint's error form
            raise OAuthError("invalid_request", description=error.message) from None


# --- /oauth2/userInfo -----------------------------------------------------------------------


def userinfo(backend: Backend, pool_id: str, authorization: str, form: dict[str, str]) -> dict[str, Any]:
    bearer = authorization[7:].strip() if authorization.lower().startswith("bearer ") else form.get("access_token", "")
    if not bearer:
        raise OAuthError("invalid_request", 400, "Bad OAuth2 request at UserInfo Endpoint", USERINFO_BAD_REQUEST)
    bad = OAuthError("invalid_token", 401, "Access token is expired, disabled, or deleted, or the user has "
                                           "globally signed out.", USERINFO_BAD_TOKEN)
    with backend.transaction():
        try:
            pool, _, claims = tokens.decode_verified(backend, bearer)
        except ValueError:
            raise bad from None
        if pool.pool_id != pool_id or claims.get("token_use") != "access" or "username" not in claims:
            raise bad
        if tokens.revocation_reason(pool, claims) or backend.clock.now() >= float(claims.get("exp", 0)):
            raise bad
        if "openid" not in str(claims.get("scope", "")).split():
            raise OAuthError("invalid_token", 401, "Access token does not contain openid scope", USERINFO_BAD_TOKEN)
        user = pool.users.get(pool.user_key(str(claims["username"])))
        client = pool.clients.get(str(claims.get("client_id")))
        if user is None or user.sub != claims.get("sub") or not user.enabled:
            raise bad
        readable = client.read_attributes if client is not None else None
        info: dict[str, Any] = {"sub": user.sub}
        for name, value in user.attributes.items():
            if name == "sub" or name.startswith("dev:"):
                continue
            base = name[: -len("_verified")] if name.endswith("_verified") else name
            if readable is not None and name not in readable and base not in readable and name != "identities":
                continue
            info[name] = value  # strings, as Cognito's userInfo sends them ("true"/"false" too)
        info["username"] = user.username
        return info


# --- /oauth2/revoke --------------------------------------------------------------------------


def _looks_like_jwt(value: str) -> bool:
    if value.count(".") != 2:
        return False
    try:
        jwt.get_unverified_header(value)
    except jwt.PyJWTError:
        return False
    return True


def revoke(backend: Backend, pool_id: str, form: dict[str, str], authorization: str) -> None:
    with backend.transaction():
        pool = backend.pools.get(pool_id)
        if pool is None:
            raise OAuthError("invalid_request", description=f"User pool {pool_id} does not exist.")
        value = form.get("token")
        if not value:
            raise OAuthError("invalid_request")
        client = authenticate_client(pool, form, authorization, 401)
        if not client.enable_token_revocation:
            raise OAuthError("invalid_request")
        session = sessions.find_refresh(backend, pool, value)
        if session is None:
            if _looks_like_jwt(value):
                raise OAuthError("unsupported_token_type")
            return  # unknown or invalid: 200, as RFC 7009 asks
        if session.client_id != client.client_id:
            raise OAuthError("invalid_request", description="The token was not issued to this client")
        tokens.revoke_session(backend, pool, session, "oauth2/revoke")


__all__ = ["OAuthError", "authenticate_client", "implicit_tokens", "mint", "revoke", "token", "userinfo"]
