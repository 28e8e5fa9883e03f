"""Managed login's ``/login`` form: the password, then (hosted_mfa) the second factor.

The form checks a native user's password with the engine's own sign-in rules,
through :class:`harness.engine.signin.SignIn` where Cognito runs triggers: an
unknown name goes to the pool's UserMigration function, PreAuthentication runs
before the password, PostAuthentication before the redirect back to the app
(after the second factor, if any). Lockout, disabled users, unconfirmed users
and temporary passwords answer as the API does, as a message on the form.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.engine import events as ev
from harness.engine import hosted_mfa, lockout, trigger_sources
from harness.engine.common import find_user
from harness.engine.models import User
from harness.engine.oauth import (
    CSRF_REFUSED,
    HOSTED_FLOW,
    AuthorizeRequest,
    LoginPrompt,
    Outcome,
    Stop,
    app_error,
    complete,
    live_session,
    offered_providers,
    validate_authorize,
)
from harness.engine.passwords import check_policy, verify_password
from harness.engine.signin import SignIn
from harness.engine.users import set_user_password
from harness.errors import CognitoError, Err

if TYPE_CHECKING:  # pragma: no cover
    from harness.engine.store import Backend


def login_form(backend: Backend, pool_id: str, params: dict[str, str], cookie: str | None) -> Outcome:
    with backend.transaction():
        try:
            req = validate_authorize(backend, pool_id, params)
        except Stop as stop:
            return stop.outcome
        live = live_session(backend, req.pool, cookie)
        if live is not None:
            session, user = live
            return complete(backend, req, user, session.auth_time, federated=False, new_cookie=False)
        return LoginPrompt(params=dict(params), providers=offered_providers(req))


def _refuse(req: AuthorizeRequest, error: CognitoError, new_password: bool = False) -> LoginPrompt:
    return LoginPrompt(params=dict(req.params), providers=offered_providers(req), message=error.message,
                       new_password=new_password, status=400)


def login_submit(backend: Backend, pool_id: str, params: dict[str, str], form: dict[str, str], *,
                 csrf_valid: bool) -> Outcome:
    """Check a native user's password through the engine's rules (lockout included).

    ``csrf_valid`` is the face's verdict on the XSRF-TOKEN cookie / ``_csrf``
    field pair; without it the form is shown again (403) before any credential
    is read, so a forged cross-site POST neither signs anyone in nor counts
    towards a lockout.
    """
    with backend.transaction():
        try:
            req = validate_authorize(backend, pool_id, params)
        except Stop as stop:
            return stop.outcome
        if not csrf_valid:
            return LoginPrompt(params=dict(params), providers=offered_providers(req), message=CSRF_REFUSED, status=403)
        if "COGNITO" not in req.client.supported_identity_providers:
            return app_error(req.redirect_uri, "unauthorized_client", req.state, "COGNITO is not enabled")
        pool, client = req.pool, req.client
        if form.get("mfa_session"):
            return _mfa_submit(backend, req, form)
        username, password = form.get("username", ""), form.get("password", "")
        if not username or not password:
            return _refuse(req, Err.MISSING_AUTH_PARAMETER.error(name="USERNAME and PASSWORD"))
        si = SignIn(backend, pool, client, HOSTED_FLOW)
        user = find_user(pool, username)
        if user is None:
            try:
                user = si.migrate(username, password)
            except CognitoError as error:
                return _refuse(req, error)
        if user is None or user.status == "EXTERNAL_PROVIDER":
            backend.events.emit(ev.AUTH_FAILURE, pool.pool_id, username=username, client_id=client.client_id,
                                flow=HOSTED_FLOW, reason="user_not_found")
            return _refuse(req, Err.INCORRECT_CREDENTIALS.error())
        try:
            if not user.enabled:
                raise Err.USER_DISABLED.error()
            lockout.check(backend, pool, user, client_id=client.client_id, flow=HOSTED_FLOW)
            si.pre_authentication(user, username)
            if not verify_password(user, password):
                raise lockout.record_failure(backend, pool, user, client_id=client.client_id, flow=HOSTED_FLOW)
            lockout.record_success(backend, user)
            if user.status == "UNCONFIRMED":
                raise Err.USER_NOT_CONFIRMED.error()
            if user.status == "RESET_REQUIRED":
                raise Err.PASSWORD_RESET_REQUIRED.error()
            if user.status == "FORCE_CHANGE_PASSWORD":
                expires = user.temporary_password_expires
                if expires is not None and backend.clock.now() >= expires:
                    raise Err.TEMP_PASSWORD_EXPIRED.error()
                new = form.get("new_password", "")
                if not new:
                    return LoginPrompt(params=dict(params), providers=offered_providers(req), new_password=True,
                                       message="Please enter a new password.", status=200)
                check_policy(pool, new, "other")
                set_user_password(backend, pool, user, new, permanent=True, reason="hosted UI new password")
        except CognitoError as error:
            if error.type != "NotAuthorizedException" or error.message == Err.USER_DISABLED.message():
                backend.events.emit(ev.AUTH_FAILURE, pool.pool_id, username=user.username, client_id=client.client_id,
                                    flow=HOSTED_FLOW, reason=error.type, message=error.message)
            return _refuse(req, error, new_password=bool(form.get("new_password")))
        try:
            prompt = hosted_mfa.begin(backend, pool, client, user)
            if prompt is None:
                _post_authentication(backend, req, user)
        except CognitoError as error:
            return _refuse(req, error)
        if prompt is not None:
            return LoginPrompt(params=dict(req.params), mfa=prompt)
        return complete(backend, req, user, backend.clock.now_int(), federated=False, new_cookie=True)


def _post_authentication(backend: Backend, req: AuthorizeRequest, user: User) -> None:
    """PostAuthentication before the code goes back to the app (its failure keeps the user on the form)."""
    trigger_sources.post_authentication(backend, req.pool, user, client_id=req.client.client_id,
                                        new_device_used=False, client_metadata=None)


def _mfa_submit(backend: Backend, req: AuthorizeRequest, form: dict[str, str]) -> Outcome:
    """The code page posted back: the sign-in completes, or the page is shown again with the error
    (a spent or expired session sends the user back to the password form)."""
    session_id, code = form.get("mfa_session", ""), form.get("mfa_code", "")
    pending = req.pool.auth_sessions.get(session_id)
    try:
        user = hosted_mfa.answer(backend, req.pool, req.client, session_id, code)
        _post_authentication(backend, req, user)
    except CognitoError as error:
        if pending is not None and req.pool.auth_sessions.get(session_id) is pending:
            prompt = hosted_mfa.MfaPrompt(challenge=pending.challenge, session=session_id,
                                          secret=hosted_mfa.pending_secret(req.pool, pending))
            return LoginPrompt(params=dict(req.params), mfa=prompt, message=error.message, status=400)
        return _refuse(req, error)
    return complete(backend, req, user, backend.clock.now_int(), federated=False, new_cookie=True)


__all__ = ["login_form", "login_submit"]
