"""MFA operations: the pool's configuration, a user's factors and TOTP enrolment.

SetUserPoolMfaConfig, GetUserPoolMfaConfig, AssociateSoftwareToken,
VerifySoftwareToken, SetUserMFAPreference, AdminSetUserMFAPreference,
SetUserSettings, AdminSetUserSettings, AdminDeleteSoftwareToken,
GetUserAuthFactors and AdminGetUserAuthFactors. The rules are in
:mod:`harness.engine.mfa`; the sign-in challenges in :mod:`harness.engine.signin`.

AssociateSoftwareToken and VerifySoftwareToken take an access token (a signed-in
user adding an authenticator) or the ``Session`` of an MFA_SETUP challenge (a
user whose pool requires MFA enrolling during sign-in); each answers the session
case with a fresh ``Session`` for the next step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from harness.engine import mfa
from harness.engine.common import require_user
from harness.engine.models import User, UserPool
from harness.engine.ops.self_service import authorise
from harness.engine.registry import operation
from harness.engine.signin import reissue_session, session_anywhere
from harness.errors import Err

if TYPE_CHECKING:  # pragma: no cover
    from harness.engine.models import AuthSession
    from harness.engine.store import Backend


def _token_or_session(backend: Backend, params: dict[str, Any]) -> tuple[UserPool, User, AuthSession | None]:
    """The user an AccessToken or an MFA_SETUP Session names (exactly one of the two)."""
    token, session_id = params.get("AccessToken"), params.get("Session")
    if token and session_id:
        raise Err.ACCESS_OR_SESSION.error()
    if token:
        pool, _, user = authorise(backend, token)
        return pool, user, None
    if not session_id:
        raise Err.MISSING_AUTH_PARAMETER.error(name="AccessToken")
    pool, session = session_anywhere(backend, session_id, mfa.SETUP)
    user = pool.users.get(pool.user_key(session.username))
    if user is None or user.sub != session.user_sub:
        raise Err.INVALID_SESSION.error()
    return pool, user, session


def _admin_user(backend: Backend, params: dict[str, Any]) -> tuple[UserPool, User]:
    """The pool and user an administrator's request names (UserPoolId, Username)."""
    pool = backend.pool(params["UserPoolId"])
    return pool, require_user(pool, params["Username"])


@operation("SetUserPoolMfaConfig")
def set_user_pool_mfa_config(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool = backend.pool(params["UserPoolId"])
    trial = mfa.pool_settings_copy(pool)
    mfa.set_pool_config(trial, params)  # checked on a copy: a refused request changes nothing
    mfa.adopt_pool_settings(pool, trial)
    pool.modified = backend.clock.now()
    return mfa.pool_config_view(pool)


@operation("GetUserPoolMfaConfig")
def get_user_pool_mfa_config(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    return mfa.pool_config_view(backend.pool(params["UserPoolId"]))


@operation("AssociateSoftwareToken")
def associate_software_token(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool, user, session = _token_or_session(backend, params)
    out: dict[str, Any] = {"SecretCode": mfa.associate(backend, pool, user)}
    if session is not None:
        out["Session"] = reissue_session(backend, pool, session).session
    return out


@operation("VerifySoftwareToken")
def verify_software_token(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool, user, session = _token_or_session(backend, params)
    mfa.verify(backend, pool, user, params["UserCode"], params.get("FriendlyDeviceName"), enrolling=session is not None)
    out: dict[str, Any] = {"Status": "SUCCESS"}
    if session is not None:
        fresh = reissue_session(backend, pool, session)
        fresh.passed.append(mfa.TOTP)
        out["Session"] = fresh.session
    return out


@operation("SetUserMFAPreference")
def set_user_mfa_preference(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool, _, user = authorise(backend, params["AccessToken"])
    mfa.set_preference(backend, pool, user, params)
    user.modified = backend.clock.now()
    return {}


@operation("AdminSetUserMFAPreference")
def admin_set_user_mfa_preference(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool, user = _admin_user(backend, params)
    mfa.set_preference(backend, pool, user, params)
    user.modified = backend.clock.now()
    return {}


@operation("SetUserSettings")
def set_user_settings(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool, _, user = authorise(backend, params["AccessToken"])
    mfa.set_legacy_settings(backend, pool, user, list(params["MFAOptions"]))
    user.modified = backend.clock.now()
    return {}


@operation("AdminSetUserSettings")
def admin_set_user_settings(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool, user = _admin_user(backend, params)
    mfa.set_legacy_settings(backend, pool, user, list(params["MFAOptions"]))
    user.modified = backend.clock.now()
    return {}


@operation("AdminDeleteSoftwareToken")
def admin_delete_software_token(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    """A lost authenticator: TOTP is off for the user, who can associate a new one (or must, if MFA is ON)."""
    pool, user = _admin_user(backend, params)
    if user.mfa.token is None and user.mfa.pending is None:
        raise Err.TOTP_NONE_TO_DELETE.error()
    mfa.forget_token(backend, pool, user)
    user.modified = backend.clock.now()
    return {}


def _auth_factors(pool: UserPool, user: User) -> dict[str, Any]:
    return {"Username": user.username, **mfa.settings_view(user),
            "ConfiguredUserAuthFactors": mfa.configured_factors(pool, user)}


@operation("GetUserAuthFactors")
def get_user_auth_factors(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool, _, user = authorise(backend, params["AccessToken"])
    return _auth_factors(pool, user)


@operation("AdminGetUserAuthFactors")
def admin_get_user_auth_factors(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    return _auth_factors(*_admin_user(backend, params))
