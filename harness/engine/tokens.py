"""Issuing, refreshing, validating and revoking tokens, the Cognito way.

* ID and access tokens are RS256 JWTs with Cognito's claim sets, signed by the
  pool's ID-token and access-token keys (different kids).
* A refresh token is an opaque five-segment string naming a
  :class:`RefreshSession`; every token of that sign-in carries its
  ``origin_jti``, so revoking the session revokes the whole family.
* Revoked tokens still verify as JWTs; only the emulator's own APIs (and the
  control plane's status query) know they are revoked.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

import jwt

from harness.encoding import b64url
from harness.engine import events as ev
from harness.engine import lockout, pre_token, sessions
from harness.engine.claims import ADMIN_SCOPE, access_token_claims, id_token_claims
from harness.engine.common import seconds
from harness.engine.models import AppClient, RefreshSession, User, UserPool
from harness.engine.signing import sign_jwt
from harness.errors import CognitoError, Err

if TYPE_CHECKING:  # pragma: no cover
    from harness.engine.store import Backend

# --- issuing ---------------------------------------------------------------------


def open_session(
    backend: Backend,
    pool: UserPool,
    client: AppClient,
    user: User,
    scopes: list[str],
    *,
    auth_time: int | None = None,
    nonce: str | None = None,
    federated: bool = False,
) -> tuple[RefreshSession, str]:
    """A new sign-in session and its refresh token (handed out once: only its tag is kept)."""
    now = backend.clock.now()
    origin_jti = backend.ids.uuid()
    expires_at = now + seconds(client.refresh_token_validity, client.refresh_token_unit)
    token, tag = sessions.new_refresh_token(backend, pool, client.client_id, origin_jti, expires_at)
    session = RefreshSession(
        origin_jti=origin_jti,
        pool_id=pool.pool_id,
        client_id=client.client_id,
        username=user.username,
        sub=user.sub,
        refresh_tag=tag,
        auth_time=int(now) if auth_time is None else auth_time,
        issued_at=now,
        expires_at=expires_at,
        scopes=sessions.shared_scopes(scopes),
        nonce=nonce,
        federated=federated,
    )
    sessions.register(backend, pool, session)
    return session, token


def mint_pair(
    backend: Backend,
    pool: UserPool,
    client: AppClient,
    user: User,
    session: RefreshSession | None,
    scopes: list[str],
    *,
    auth_time: int | None = None,
    nonce: str | None = None,
    include_id_token: bool = True,
    source: str | None = None,
    client_metadata: dict[str, str] | None = None,
    with_at_hash: bool = False,
) -> tuple[str, str | None, dict[str, Any], dict[str, Any] | None]:
    """Sign an access token (and an ID token): (access, id, access claims, id claims).

    Claims and keys are read under the store lock, then the pool's pre token
    generation trigger changes them (:mod:`harness.engine.pre_token`: ``source`` is its
    trigger source, ``client_metadata`` the caller's ClientMetadata; the lock is set down
    while the function runs). The RSA signatures, which release the GIL, are made
    with the lock released so concurrent sign-ins sign on every core instead of
    queueing behind one another. ``with_at_hash`` puts the access token's
    ``at_hash`` in the ID token (the OAuth endpoints' tokens).
    """
    now = backend.clock.now_int()
    auth_time = session.auth_time if session is not None else (auth_time or now)
    access_claims = access_token_claims(backend, pool, client, user, session, now, auth_time, scopes)
    id_claims = None
    if include_id_token:
        id_claims = id_token_claims(
            backend, pool, client, user, session, now, auth_time, nonce if nonce is not None else (session.nonce if session else None)
        )
    pre_token.customize(backend, pool, client, user, access_claims, id_claims,
                        source=source or pre_token.AUTHENTICATION, client_metadata=client_metadata)
    access_key = pool.keyring.active("access")
    id_key = pool.keyring.active("id") if id_claims is not None else None
    with backend.lock_released():  # sign outside the lock (see StoreLock.released)
        access = sign_jwt(access_claims, access_key)
        if id_claims is not None and with_at_hash:
            id_claims["at_hash"] = at_hash(access)
        id_token = sign_jwt(id_claims, id_key) if id_claims is not None and id_key is not None else None
    if session is not None:  # keep the session while its tokens live; remember jtis without origin_jti
        sessions.note_token(pool, session, access_claims)
        if id_claims:
            sessions.note_token(pool, session, id_claims)
    return access, id_token, access_claims, id_claims


def at_hash(access_token: str) -> str:
    """OIDC's ``at_hash``: the left half of the access token's SHA-256, base64url."""
    digest = hashlib.sha256(access_token.encode()).digest()
    return b64url(digest[: len(digest) // 2])


def origin_of(pool: UserPool, claims: dict[str, Any]) -> str | None:
    """The session a token belongs to (from its claim or the server-side index)."""
    origin = claims.get("origin_jti")
    if origin:
        return str(origin)
    jti = claims.get("jti")
    return sessions.origin_of_jti(pool, jti) if isinstance(jti, str) else None


def authentication_result(
    backend: Backend,
    pool: UserPool,
    client: AppClient,
    user: User,
    session: RefreshSession,
    *,
    refresh_token: str | None,
    kind: str = "sign-in",
    flow: str = "",
    source: str | None = None,
    client_metadata: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Cognito's ``AuthenticationResult`` for a session (with ``refresh_token`` when one was just
    issued), emitting ``token.issued``. A refresh runs the pre token generation trigger as
    ``TokenGeneration_RefreshTokens``; a sign-in as ``source`` (default: ``_Authentication``)."""
    source = pre_token.REFRESH_TOKENS if kind == "refresh" else source
    access, id_token, access_claims, id_claims = mint_pair(backend, pool, client, user, session, session.scopes,
                                                           source=source, client_metadata=client_metadata)
    result: dict[str, Any] = {
        "AccessToken": access,
        "ExpiresIn": access_claims["exp"] - access_claims["iat"],
        "TokenType": "Bearer",
    }
    if id_token is not None:
        result["IdToken"] = id_token
    if refresh_token is not None:
        result["RefreshToken"] = refresh_token
    backend.events.emit(
        ev.TOKEN_REFRESHED if kind == "refresh" else ev.TOKEN_ISSUED,
        pool.pool_id,
        username=user.username,
        sub=user.sub,
        client_id=client.client_id,
        origin_jti=session.origin_jti,
        access_jti=access_claims["jti"],
        id_jti=(id_claims or {}).get("jti"),
        refresh=refresh_token is not None,
        flow=flow,
    )
    return result


def sign_in(
    backend: Backend,
    pool: UserPool,
    client: AppClient,
    user: User,
    *,
    flow: str,
    scopes: list[str] | None = None,
    nonce: str | None = None,
    federated: bool = False,
    device_key: str | None = None,
    source: str | None = None,
    client_metadata: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Open a new session for a user who just authenticated; return tokens (naming ``device_key``).

    ``source`` / ``client_metadata``: the pre token generation trigger's source and the ClientMetadata
    of the answer that completed the sign-in."""
    session, token = open_session(backend, pool, client, user, scopes or [ADMIN_SCOPE], nonce=nonce,
                                  federated=federated)
    session.device_key = device_key
    lockout.forget_failures(user)
    backend.events.emit(ev.AUTH_SUCCESS, pool.pool_id, username=user.username, client_id=client.client_id, flow=flow)
    try:
        return authentication_result(backend, pool, client, user, session, refresh_token=token, flow=flow,
                                     source=source, client_metadata=client_metadata)
    except CognitoError:  # the pre token generation trigger refused: no tokens, so no session either
        sessions.drop_session(pool, session)
        raise


# --- refresh -----------------------------------------------------------------------


def session_for_refresh_token(backend: Backend, pool: UserPool, client: AppClient, token: str) -> tuple[RefreshSession, bool]:
    """The live session a refresh token names, and whether the token was rotated out.

    Raises the Cognito error for unknown, revoked, expired, rotated-out or
    other-client tokens, and for disabled or deleted users.
    """
    now = backend.clock.now()
    session = sessions.find_refresh(backend, pool, token)
    if session is None:  # unknown, or a genuine one whose session was forgotten after it expired
        forgotten = sessions.forgotten_expiry(backend, pool, client.client_id, token)
        if forgotten is not None and now >= forgotten:
            raise Err.REFRESH_TOKEN_EXPIRED.error()
        raise Err.REFRESH_TOKEN_INVALID.error()
    if session.client_id != client.client_id:
        raise Err.REFRESH_TOKEN_INVALID.error()
    if session.revoked:
        raise Err.REFRESH_TOKEN_REVOKED.error()
    if now >= session.expires_at:
        raise Err.REFRESH_TOKEN_EXPIRED.error()
    rotated = False
    tag = token.rpartition(".")[2]
    if tag != session.refresh_tag:
        usable_until = (session.rotated_out or {}).get(tag)
        if usable_until is None or now >= usable_until:
            raise Err.REFRESH_TOKEN_REUSED.error()
        rotated = True
    user = pool.users.get(pool.user_key(session.username))
    if user is None or user.sub != session.sub:
        raise Err.USER_NOT_FOUND.error()
    if not user.enabled:
        raise Err.USER_DISABLED.error()
    return session, rotated


def refresh(
    backend: Backend,
    pool: UserPool,
    client: AppClient,
    token: str,
    *,
    rotate: bool,
    flow: str,
    client_metadata: dict[str, str] | None = None,
) -> dict[str, Any]:
    """New tokens from a refresh token; with ``rotate`` also a new refresh token.

    A rotated refresh token keeps the original session's expiry. The old one
    stays usable for ``RetryGracePeriodSeconds``, then gives
    RefreshTokenReuseException.
    """
    session, _ = session_for_refresh_token(backend, pool, client, token)
    user = pool.users[pool.user_key(session.username)]
    new_token = sessions.rotate(backend, pool, session, client.refresh_retry_grace_seconds) if rotate else None
    return authentication_result(
        backend, pool, client, user, session, refresh_token=new_token, kind="refresh", flow=flow,
        client_metadata=client_metadata,
    )


# --- validation of access tokens presented to the API ----------------------------------


def decode_verified(backend: Backend, token: str) -> tuple[UserPool, dict[str, Any], dict[str, Any]]:
    """Verify a JWT's signature against whichever pool published its kid.

    Returns (pool, header, claims); expiry is *not* checked here (the virtual
    clock decides that). Raises ``ValueError`` when the token is not ours.
    """
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise ValueError(f"not a JWT: {exc}") from None
    kid = header.get("kid")
    if header.get("alg") != "RS256" or not isinstance(kid, str):
        raise ValueError("not an RS256 token with a kid")
    for pool in backend.pools.values():
        key = pool.keyring.find(kid)
        if key is None:
            continue
        if not key.published:
            raise ValueError("signing key is no longer published")
        try:
            claims = jwt.decode(
                token,
                key.public_key,
                algorithms=["RS256"],
                options={"verify_exp": False, "verify_aud": False, "verify_iat": False, "verify_nbf": False},
            )
        except jwt.PyJWTError as exc:
            raise ValueError(f"signature check failed: {exc}") from None
        if claims.get("iss") != backend.issuer(pool):
            raise ValueError("issuer does not match the pool")
        return pool, header, claims
    raise ValueError("unknown kid")


def revocation_reason(pool: UserPool, claims: dict[str, Any]) -> str | None:
    origin = origin_of(pool, claims)
    if origin:
        session = pool.sessions.get(origin)
        if session is not None and session.revoked:
            return session.revoked_reason or "revoked"
    if claims.get("jti") in pool.revoked_jtis:
        return "revoked"
    return None


def validate_access_token(
    backend: Backend, token: str, required_scope: str | None = ADMIN_SCOPE
) -> tuple[UserPool, User, dict[str, Any]]:
    """What Cognito checks before an access-token-authorised operation."""
    try:
        pool, _, claims = decode_verified(backend, token)
    except ValueError:
        raise Err.ACCESS_TOKEN_INVALID.error() from None
    if claims.get("token_use") != "access":
        raise Err.ACCESS_TOKEN_INVALID.error()
    if revocation_reason(pool, claims):
        raise Err.ACCESS_TOKEN_REVOKED.error()
    if backend.clock.now() >= float(claims.get("exp", 0)):
        raise Err.ACCESS_TOKEN_EXPIRED.error()
    if required_scope and required_scope not in str(claims.get("scope", "")).split():
        raise Err.ACCESS_TOKEN_SCOPES.error()
    user = pool.users.get(pool.user_key(str(claims.get("username", ""))))
    if user is None or user.sub != claims.get("sub"):
        raise Err.USER_NOT_FOUND.error()
    if not user.enabled:
        raise Err.ACCESS_TOKEN_REVOKED.error()
    return pool, user, claims


# --- revocation ------------------------------------------------------------------------


def revoke_session(backend: Backend, pool: UserPool, session: RefreshSession, reason: str) -> bool:
    if session.revoked:
        return False
    session.revoked_at = backend.clock.now()
    session.revoked_reason = reason
    backend.events.emit(
        ev.TOKEN_REVOKED,
        pool.pool_id,
        username=session.username,
        sub=session.sub,
        client_id=session.client_id,
        origin_jti=session.origin_jti,
        reason=reason,
    )
    return True


def revoke_user_sessions(backend: Backend, pool: UserPool, user: User, reason: str) -> int:
    """Revoke every session of a user (global sign-out, disable, delete)."""
    return sum(1 for session in sessions.of_user(pool, user.sub) if revoke_session(backend, pool, session, reason))


def token_status(backend: Backend, token: str) -> dict[str, Any]:
    """Everything the emulator knows about a token (control-plane query)."""
    with backend.transaction():
        for pool in backend.pools.values():
            session = sessions.find_refresh(backend, pool, token)
            if session is not None:
                now = backend.clock.now()
                rotated_out = token.rpartition(".")[2] != session.refresh_tag
                return {
                    "known": True,
                    "token_use": "refresh",
                    "pool_id": pool.pool_id,
                    "username": session.username,
                    "client_id": session.client_id,
                    "origin_jti": session.origin_jti,
                    "revoked": session.revoked,
                    "revoked_reason": session.revoked_reason,
                    "expired": now >= session.expires_at,
                    "rotated_out": rotated_out,
                    "active": not session.revoked and now < session.expires_at and not rotated_out,
                }
            for client_id in pool.clients:  # a refresh token whose session was forgotten once it expired
                if sessions.forgotten_expiry(backend, pool, client_id, token) is not None:
                    return {"known": True, "token_use": "refresh", "pool_id": pool.pool_id, "client_id": client_id,
                            "expired": True, "forgotten": True, "revoked": False, "active": False}
        try:
            pool, header, claims = decode_verified(backend, token)
        except ValueError as exc:
            return {"known": False, "active": False, "reason": str(exc)}
        reason = revocation_reason(pool, claims)
        expired = backend.clock.now() >= float(claims.get("exp", 0))
        user = pool.users.get(pool.user_key(str(claims.get("username") or claims.get("cognito:username") or "")))
        return {
            "known": True,
            "token_use": claims.get("token_use"),
            "pool_id": pool.pool_id,
            "kid": header.get("kid"),
            "username": claims.get("username") or claims.get("cognito:username"),
            "client_id": claims.get("client_id") or claims.get("aud"),
            "origin_jti": origin_of(pool, claims),
            "revoked": reason is not None,
            "revoked_reason": reason,
            "expired": expired,
            "user_exists": user is not None,
            "user_enabled": bool(user and user.enabled),
            "active": reason is None and not expired and user is not None and user.enabled,
            "exp": claims.get("exp"),
        }
