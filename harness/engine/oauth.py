"""Managed login (hosted UI) rules: /oauth2/authorize, /oauth2/idpresponse, /logout (the /login form: hosted_login).

The HTTP face (harness/web/oauth2.py) turns the outcomes here into responses;
every decision (which error, which redirect, which user) is made here:

* An unknown client or an unregistered redirect_uri never redirects back to
  the app: the browser goes to ``/error?error=redirect_mismatch&client_id=...``.
* Other request errors are redirected to the app as ``error=...`` query
  parameters (``invalid_request``, ``unauthorized_client``, ``invalid_scope``,
  ``unsupported_response_type``) with the state.
* IdP failures come back as ``error_description=...&state=...&error=invalid_request``.
* A successful sign-in yields a one-time, five-minute code (or, implicit, the
  tokens in the fragment with ``token_type=bearer``) and a one-hour managed
  login session cookie that /logout ends.

Token-endpoint, userInfo and revocation rules are in :mod:`harness.engine.oauth_tokens`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlsplit

from harness.engine import events as ev
from harness.engine import hosted_mfa, oauth_tokens, oidc_client, sessions
from harness.engine.events import FEDERATION_FAILURE
from harness.engine.federation import federated_sign_in
from harness.engine.models import AppClient, AuthorizationCode, HostedSession, OAuthRequest, User, UserPool
from harness.engine.common import custom_scopes
from harness.errors import CognitoError

if TYPE_CHECKING:  # pragma: no cover
    from harness.engine.store import Backend

CODE_TTL = 300.0  # authorization codes: five minutes, one use
REQUEST_TTL = 3600.0  # a pending sign-in at an external IdP
SESSION_TTL = 3600.0  # the managed-login session cookie
COOKIE = "cognito"
RESERVED_SCOPES = ("openid", "email", "phone", "profile", "aws.cognito.signin.user.admin")
OPENID_DEPENDENT = ("email", "phone", "profile")
FLOW_OF = {"code": "code", "token": "implicit"}
HOSTED_FLOW = "HOSTED_UI"
FEDERATED_FLOW = "HOSTED_UI_FEDERATED"
CSRF_REFUSED = "Your sign-in form has expired or was not sent from this page. Please sign in again."


# --- outcomes ------------------------------------------------------------------------


@dataclass
class Redirect:
    location: str
    set_session: str | None = None  # new managed-login cookie value
    clear_session: bool = False


@dataclass
class LoginPrompt:
    """Render the sign-in page for these (validated) authorize parameters."""

    params: dict[str, str]
    providers: list[str] = field(default_factory=list)  # external IdPs offered as buttons
    message: str = ""
    new_password: bool = False  # the user must choose a new password (FORCE_CHANGE_PASSWORD)
    status: int = 200
    mfa: hosted_mfa.MfaPrompt | None = None  # the second factor's code page instead of the password form


@dataclass
class ErrorPage:
    error: str
    client_id: str | None = None
    description: str = ""
    status: int = 400


Outcome = Redirect | LoginPrompt | ErrorPage


class Stop(Exception):
    def __init__(self, outcome: Outcome) -> None:
        super().__init__(type(outcome).__name__)
        self.outcome = outcome


def error_page_location(backend: Backend, pool_id: str, error: str, client_id: str | None) -> str:
    query = {"error": error, **({"client_id": client_id} if client_id else {})}
    return f"{backend.settings.public_url.rstrip('/')}/{pool_id}/error?{urlencode(query)}"


def _with_query(uri: str, params: dict[str, str], fragment: bool = False) -> str:
    if fragment:
        return f"{uri}#{urlencode(params)}"
    sep = "&" if urlsplit(uri).query else "?"
    return f"{uri}{sep}{urlencode(params)}"


def app_error(redirect_uri: str, error: str, state: str | None, description: str = "") -> Redirect:
    """Cognito's order: error_description, state, error."""
    params: dict[str, str] = {}
    if description:
        params["error_description"] = description
    if state:
        params["state"] = state
    params["error"] = error
    return Redirect(_with_query(redirect_uri, params))


# --- validating an authorize request -----------------------------------------------------


@dataclass
class AuthorizeRequest:
    pool: UserPool
    client: AppClient
    response_type: str
    redirect_uri: str
    scopes: list[str]
    state: str | None
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    provider: str | None  # "COGNITO", an IdP name, or None (let the user choose)
    params: dict[str, str]


def resolve_scopes(pool: UserPool, client: AppClient, requested: str | None) -> list[str] | None:
    """The granted scopes, or None for invalid_scope. Unknown scopes are ignored."""
    allowed = list(client.allowed_oauth_scopes)
    if requested is None or not requested.strip():
        scopes = allowed
    else:
        known = set(RESERVED_SCOPES) | custom_scopes(pool)
        scopes = []
        for scope in requested.split():
            if scope not in known:
                continue
            if scope not in allowed:
                return None
            scopes.append(scope)
    scopes = list(dict.fromkeys(scopes))
    if not scopes or (any(s in OPENID_DEPENDENT for s in scopes) and "openid" not in scopes):
        return None
    return scopes


def _provider_for(pool: UserPool, client: AppClient, params: dict[str, str]) -> str | None:
    name = params.get("identity_provider") or None
    identifier = params.get("idp_identifier") or None
    if name is None and identifier is not None:
        for provider in pool.identity_providers.values():
            if identifier in provider.idp_identifiers:
                name = provider.name
                break
        else:
            raise ValueError("idp_identifier does not match any identity provider")
    if name is None:
        return None
    supported = client.supported_identity_providers
    canonical = "COGNITO" if name.upper() == "COGNITO" else name
    if canonical not in supported or (canonical != "COGNITO" and canonical not in pool.identity_providers):
        raise ValueError(f"identity_provider {name} is not enabled for this client")
    return canonical


def validate_authorize(backend: Backend, pool_id: str, params: dict[str, str]) -> AuthorizeRequest:
    """Check /oauth2/authorize (and /login) parameters; raise Stop with the outcome on error."""
    pool = backend.pools.get(pool_id)
    if pool is None:
        raise Stop(ErrorPage("invalid_request", description=f"User pool {pool_id} does not exist.", status=404))
    client_id = params.get("client_id") or ""
    client = pool.clients.get(client_id)
    if client is None:
        raise Stop(Redirect(error_page_location(backend, pool_id, "invalid_request", client_id or None)))
    redirect_uri = params.get("redirect_uri") or ""
    if not redirect_uri or "#" in redirect_uri or redirect_uri not in client.callback_urls:
        raise Stop(Redirect(error_page_location(backend, pool_id, "redirect_mismatch", client_id)))
    state = params.get("state") or None

    def fail(error: str, description: str = "") -> Stop:
        return Stop(app_error(redirect_uri, error, state, description))

    response_type = params.get("response_type") or ""
    if not response_type:
        raise fail("invalid_request", "response_type is required")
    if response_type not in FLOW_OF:
        raise fail("unsupported_response_type")
    if not client.allowed_oauth_flows_user_pool_client or FLOW_OF[response_type] not in client.allowed_oauth_flows:
        raise fail("unauthorized_client")
    challenge = params.get("code_challenge") or None
    method = params.get("code_challenge_method") or None
    if (challenge is None) != (method is None) or (method is not None and method != "S256"):
        raise fail("invalid_request", "code_challenge_method must be S256 and be sent with code_challenge")
    scopes = resolve_scopes(pool, client, params.get("scope"))
    if scopes is None:
        raise fail("invalid_scope")
    try:
        provider = _provider_for(pool, client, params)
    except ValueError as exc:
        raise fail("invalid_request", str(exc)) from None
    return AuthorizeRequest(pool, client, response_type, redirect_uri, scopes, state, params.get("nonce") or None,
                            challenge, method, provider, params)


# --- issuing the answer ------------------------------------------------------------------


def live_session(backend: Backend, pool: UserPool, cookie: str | None) -> tuple[HostedSession, User] | None:
    if not cookie:
        return None
    session = pool.hosted_sessions.get(cookie)
    if session is None:
        return None
    if backend.clock.now() >= session.expires_at:
        del pool.hosted_sessions[cookie]
        return None
    user = pool.users.get(pool.user_key(session.username))
    if user is None or user.sub != session.sub or not user.enabled:
        del pool.hosted_sessions[cookie]
        return None
    return session, user


def _open_hosted_session(backend: Backend, pool: UserPool, user: User, auth_time: int) -> str:
    now = backend.clock.now()
    sid = backend.ids.token_blob(32)
    pool.hosted_sessions[sid] = HostedSession(id=sid, pool_id=pool.pool_id, username=user.username, sub=user.sub,
                                              auth_time=auth_time, created=now, expires_at=now + SESSION_TTL)
    sessions.track_hosted(backend, pool, sid, now + SESSION_TTL)
    return sid


def complete(backend: Backend, req: AuthorizeRequest, user: User, auth_time: int, *, federated: bool,
             new_cookie: bool) -> Redirect:
    """The redirect back to the app after a successful sign-in (code or implicit tokens)."""
    pool, client = req.pool, req.client
    cookie = None
    if new_cookie:  # an actual sign-in (not a reuse of the managed-login session)
        cookie = _open_hosted_session(backend, pool, user, auth_time)
        backend.events.emit(ev.AUTH_SUCCESS, pool.pool_id, username=user.username, client_id=client.client_id,
                            flow=FEDERATED_FLOW if federated else HOSTED_FLOW)
    if req.response_type == "code":
        now = backend.clock.now()
        code = backend.ids.uuid()
        pool.oauth_codes[code] = AuthorizationCode(
            code=code, pool_id=pool.pool_id, client_id=client.client_id, username=user.username, sub=user.sub,
            redirect_uri=req.redirect_uri, scopes=list(req.scopes), created=now, expires_at=now + CODE_TTL,
            auth_time=auth_time, nonce=req.nonce, code_challenge=req.code_challenge,
            code_challenge_method=req.code_challenge_method, federated=federated)
        sessions.track_code(backend, pool, code, now + CODE_TTL)
        params = {"code": code, **({"state": req.state} if req.state else {})}
        return Redirect(_with_query(req.redirect_uri, params), set_session=cookie)
    tokens = oauth_tokens.implicit_tokens(backend, pool, client, user, req.scopes, req.nonce, auth_time, federated)
    if req.state:
        tokens["state"] = req.state
    return Redirect(_with_query(req.redirect_uri, tokens, fragment=True), set_session=cookie)


# --- /oauth2/authorize -------------------------------------------------------------------


def login_location(backend: Backend, pool_id: str, params: dict[str, str]) -> str:
    return f"{backend.settings.public_url.rstrip('/')}/{pool_id}/login?{urlencode(params)}"


def idp_redirect_uri(backend: Backend, pool_id: str) -> str:
    return f"{backend.settings.public_url.rstrip('/')}/{pool_id}/oauth2/idpresponse"


def _to_idp(backend: Backend, req: AuthorizeRequest) -> Redirect:
    provider = req.pool.identity_providers[req.provider or ""]
    now = backend.clock.now()
    pending = OAuthRequest(
        id=backend.ids.token_blob(24), pool_id=req.pool.pool_id, client_id=req.client.client_id,
        response_type=req.response_type, redirect_uri=req.redirect_uri, scopes=list(req.scopes), state=req.state,
        nonce=req.nonce, code_challenge=req.code_challenge, code_challenge_method=req.code_challenge_method,
        identity_provider=provider.name, created=now, expires_at=now + REQUEST_TTL,
        idp_nonce=backend.ids.token_blob(24))
    pending.idp_state = pending.id
    try:
        endpoints = oidc_client.endpoints_of(provider, backend.outbound_reach())
    except oidc_client.IdPError as exc:
        return app_error(req.redirect_uri, "invalid_request", req.state, exc.description)
    req.pool.oauth_requests[pending.id] = pending
    sessions.track_request(backend, req.pool, pending.id, pending.expires_at)
    location = oidc_client.authorization_redirect(provider, endpoints, idp_redirect_uri(backend, req.pool.pool_id),
                                                  pending.idp_state or "", pending.idp_nonce or "")
    return Redirect(location)


def offered_providers(req: AuthorizeRequest) -> list[str]:
    """The external IdPs the sign-in page offers as buttons (the client's, configured in the pool)."""
    return [p for p in req.client.supported_identity_providers
            if p != "COGNITO" and p in req.pool.identity_providers]


def authorize(backend: Backend, pool_id: str, params: dict[str, str], cookie: str | None) -> Outcome:
    with backend.transaction():
        try:
            req = validate_authorize(backend, pool_id, params)
        except Stop as stop:
            return stop.outcome
        offered = offered_providers(req)
        if req.provider is None and "COGNITO" not in req.client.supported_identity_providers and len(offered) == 1:
            req.provider = offered[0]  # a single external IdP and no native sign-in: straight to it
        if req.provider not in (None, "COGNITO"):
            return _to_idp(backend, req)
        live = live_session(backend, req.pool, cookie)
        if live is not None:
            session, user = live
            return complete(backend, req, user, session.auth_time, federated=False, new_cookie=False)
        return Redirect(login_location(backend, pool_id, params))


# --- /login ----------------------------------------------------------------------------


# --- /oauth2/idpresponse ------------------------------------------------------------------


def idp_response(backend: Backend, pool_id: str, params: dict[str, str]) -> Outcome:
    """Finish a federated sign-in: code exchange and token checks (lock-free), then the user."""
    with backend.transaction():
        pool = backend.pools.get(pool_id)
        pending = pool.oauth_requests.pop(params.get("state") or "", None) if pool is not None else None
        if pool is None or pending is None or backend.clock.now() >= pending.expires_at:
            return ErrorPage("invalid_request", description="Invalid or expired state parameter.")
        client = pool.clients.get(pending.client_id)
        provider = pool.identity_providers.get(pending.identity_provider or "")
        if client is None or provider is None:
            return app_error(pending.redirect_uri, "invalid_request", pending.state,
                             "The identity provider or the app client no longer exists")
        reach = backend.outbound_reach()
    state = pending.state
    if params.get("error"):
        description = params.get("error_description") or params["error"]
        return app_error(pending.redirect_uri, "invalid_request", state, description)
    if not params.get("code"):
        return app_error(pending.redirect_uri, "invalid_request", state, "The IdP did not return a code")
    try:
        endpoints = oidc_client.endpoints_of(provider, reach)
        answer = oidc_client.exchange_code(provider, endpoints, params["code"], idp_redirect_uri(backend, pool_id),
                                           reach, backend.clock.now_int())
        claims = oidc_client.verify_id_token(backend, provider, endpoints, answer["id_token"], pending.idp_nonce,
                                             reach)
        info = oidc_client.fetch_userinfo(provider, endpoints, str(answer.get("access_token") or ""), reach)
    except oidc_client.IdPError as exc:
        backend.events.emit(FEDERATION_FAILURE, pool_id, provider=provider.name, reason=exc.description)
        return app_error(pending.redirect_uri, "invalid_request", state, exc.description)
    if info.get("sub") not in (None, claims["sub"]):
        return app_error(pending.redirect_uri, "invalid_request", state, "userinfo sub does not match the id_token")
    merged = {**info, **claims}
    with backend.transaction():
        req = AuthorizeRequest(pool, client, pending.response_type, pending.redirect_uri, pending.scopes, state,
                               pending.nonce, pending.code_challenge, pending.code_challenge_method,
                               provider.name, {})
        try:
            user = federated_sign_in(backend, pool, provider, merged, client)
        except CognitoError as error:
            backend.events.emit(FEDERATION_FAILURE, pool_id, provider=provider.name, reason=error.message)
            return app_error(pending.redirect_uri, "invalid_request", state, error.message)
        return complete(backend, req, user, backend.clock.now_int(), federated=True, new_cookie=True)


# --- /logout ---------------------------------------------------------------------------


def logout(backend: Backend, pool_id: str, params: dict[str, str], cookie: str | None) -> Outcome:
    with backend.transaction():
        pool = backend.pools.get(pool_id)
        if pool is None:
            return ErrorPage("invalid_request", description=f"User pool {pool_id} does not exist.", status=404)
        client_id = params.get("client_id") or ""
        client = pool.clients.get(client_id)
        if client is None:
            return Redirect(error_page_location(backend, pool_id, "invalid_request", client_id or None))
        logout_uri = params.get("logout_uri")
        if logout_uri:
            if logout_uri not in client.logout_urls:
                return Redirect(error_page_location(backend, pool_id, "redirect_mismatch", client_id))
            target = logout_uri
        elif params.get("redirect_uri") and params.get("response_type"):
            relogin = {k: v for k, v in params.items() if k in ("client_id", "redirect_uri", "response_type",
                                                                   "state", "scope")}
            try:
                validate_authorize(backend, pool_id, relogin)
            except Stop as stop:
                return stop.outcome
            target = login_location(backend, pool_id, relogin)
        else:
            return Redirect(error_page_location(backend, pool_id, "invalid_request", client_id))
        if cookie:
            pool.hosted_sessions.pop(cookie, None)
        return Redirect(target, clear_session=True)


__all__ = ["ErrorPage", "LoginPrompt", "Redirect", "Stop", "authorize", "complete", "idp_response", "live_session",
           "logout", "offered_providers", "resolve_scopes", "validate_authorize", "COOKIE"]
