"""The managed login (hosted UI) face: OAuth2/OIDC endpoints under ``/{pool_id}/``.

``/oauth2/authorize``, ``/login``, ``/oauth2/idpresponse``, ``/oauth2/token``,
``/oauth2/userInfo``, ``/oauth2/revoke``, ``/logout`` and ``/error`` (the
discovery document names them); also under ``/_domain/{domain}/`` once
CreateUserPoolDomain has named the pool's domain. This module only parses requests and renders
outcomes (redirects, HTML pages, JSON errors); every rule is in
:mod:`harness.engine.oauth` and :mod:`harness.engine.oauth_tokens`.

Login CSRF, as managed login does it: serving the sign-in form sets an
``XSRF-TOKEN`` cookie (HttpOnly, SameSite=Lax, scoped to the form's path,
Secure when the public URL is https) and puts the same value in a hidden
``_csrf`` field; a POST to ``/login`` whose field does not match its cookie, or
that a browser marks as coming from another origin (``Sec-Fetch-Site``), is
refused before any credential is read. Every answer of this face forbids
framing (``X-Frame-Options: DENY``, CSP ``frame-ancestors 'none'``) and MIME
sniffing.
"""

from __future__ import annotations

import hmac
import html
import re
import secrets
from http.cookies import CookieError, SimpleCookie
from typing import Callable
from urllib.parse import urlencode, urlsplit

from harness.engine import hosted_login, oauth, oauth_tokens
from harness.engine.store import Backend
from harness.web.http import Request, Response, Router

DOMAIN_PREFIX = "/_domain"  # the same endpoints under a pool's domain: /_domain/{domain}/oauth2/...
JSON_UTF8 = "application/json;charset=UTF-8"
NO_CACHE = {"Cache-Control": "no-cache, no-store, max-age=0, must-revalidate", "Pragma": "no-cache"}
# on every answer of this face: no framing (clickjacking of the sign-in form), no MIME sniffing
SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
}
XSRF_COOKIE = "XSRF-TOKEN"
CSRF_FIELD = "_csrf"
_CSRF_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{32,128}")
_COOKIE_PATH = re.compile(r"[A-Za-z0-9_./-]+")  # a path that cannot break out of the Set-Cookie attribute
_SAME_ORIGIN_FETCH = ("same-origin", "none")  # Sec-Fetch-Site of the form's own POST (or a typed URL)
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>
<body><main><h1>{title}</h1>{body}</main></body></html>"""


def _params(request: Request) -> dict[str, str]:
    return {k: v[0] for k, v in request.query.items() if v}


def _form(request: Request) -> dict[str, str] | None:
    """The url-encoded body, or None when the body is of another type."""
    ctype = request.header("content-type").split(";")[0].strip().lower()
    if request.body and ctype != "application/x-www-form-urlencoded":
        return None
    return request.form() if request.body else {}


def _cookie(request: Request, name: str = oauth.COOKIE) -> str | None:
    try:
        jar = SimpleCookie(request.header("cookie"))
    except CookieError:
        return None
    morsel = jar.get(name)
    return morsel.value if morsel is not None and morsel.value else None


def _csrf_token(request: Request) -> str:
    """The browser's XSRF-TOKEN if it has the shape of one we issue (other tabs keep working), else a new one."""
    current = _cookie(request, XSRF_COOKIE)
    return current if current and _CSRF_TOKEN_SHAPE.fullmatch(current) else secrets.token_urlsafe(32)


def _csrf_valid(request: Request, form: dict[str, str]) -> bool:
    """The double-submit check: the ``_csrf`` field equals the XSRF-TOKEN cookie, from this origin."""
    if request.header("sec-fetch-site", "same-origin").lower() not in _SAME_ORIGIN_FETCH:
        return False
    cookie, field = _cookie(request, XSRF_COOKIE), form.get(CSRF_FIELD, "")
    if not cookie or not field:
        return False
    return hmac.compare_digest(cookie.encode("utf-8", "surrogatepass"), field.encode("utf-8", "surrogatepass"))


def _xsrf_cookie(backend: Backend, request: Request, token: str) -> str:
    """Set-Cookie for the form's token: only the login path gets it back; Secure when served over https."""
    path = request.path if _COOKIE_PATH.fullmatch(request.path) else "/"
    secure = "; Secure" if urlsplit(backend.settings.public_url).scheme == "https" else ""
    return f"{XSRF_COOKIE}={token}; Path={path}; HttpOnly; SameSite=Lax{secure}"


def _page(title: str, body: str, status: int = 200) -> Response:
    return Response.text(PAGE.format(title=html.escape(title), body=body), status, "text/html; charset=utf-8", NO_CACHE)


MFA_LABELS = {
    "SOFTWARE_TOKEN_MFA": "Enter the code from your authenticator app",
    "SMS_MFA": "Enter the code we sent by text message to {destination}",
    "EMAIL_OTP": "Enter the code we sent by email to {destination}",
    "MFA_SETUP": "Set up an authenticator app with this key, then enter its code",
}


def _mfa_form(prompt: oauth.LoginPrompt, csrf_token: str) -> str:
    """The second factor's page: the pending session rides in a hidden field, never the password."""
    step = prompt.mfa
    assert step is not None
    label = html.escape(MFA_LABELS.get(step.challenge, "Enter your code").format(destination=step.destination or "you"))
    secret = f'<p>Key: <code id="mfa_secret">{html.escape(step.secret)}</code></p>' if step.secret else ""
    return f"""<form method="post" action="login?{html.escape(urlencode(prompt.params))}">
<input type="hidden" name="{CSRF_FIELD}" value="{html.escape(csrf_token)}">
<input type="hidden" name="mfa_session" value="{html.escape(step.session)}">
<input type="hidden" id="mfa_challenge" name="mfa_challenge" value="{html.escape(step.challenge)}">
{secret}<label>{label} <input id="mfa_code" name="mfa_code" inputmode="numeric" autocomplete="one-time-code" required></label>
<button id="verify" type="submit">Sign in</button></form>"""


def _login_page(prompt: oauth.LoginPrompt, csrf_token: str, set_cookie: str) -> Response:
    query = html.escape(urlencode(prompt.params))
    message = f'<p id="message" role="alert">{html.escape(prompt.message)}</p>' if prompt.message else ""
    if prompt.mfa is not None:
        page = _page("Multi-factor authentication", message + _mfa_form(prompt, csrf_token), prompt.status)
        page.headers["Set-Cookie"] = set_cookie
        return page
    new_password = ""
    if prompt.new_password:
        new_password = ('<label>New password <input id="new_password" name="new_password" type="password" '
                        'autocomplete="new-password" required></label>')
    buttons = "".join(
        f'<p><a class="idp" id="idp-{html.escape(p)}" href="oauth2/authorize?'
        f'{html.escape(urlencode({**prompt.params, "identity_provider": p}))}">Continue with {html.escape(p)}</a></p>'
        for p in prompt.providers
    )
    body = f"""{message}<form method="post" action="login?{query}">
<input type="hidden" name="{CSRF_FIELD}" value="{html.escape(csrf_token)}">
<label>Username <input id="username" name="username" autocomplete="username" required></label>
<label>Password <input id="password" name="password" type="password" autocomplete="current-password" required></label>
{new_password}<button id="signin" type="submit" name="signInSubmitButton">Sign in</button></form>{buttons}"""
    page = _page("Sign in", body, prompt.status)
    page.headers["Set-Cookie"] = set_cookie
    return page


def render(backend: Backend, pool_id: str, outcome: oauth.Outcome, request: Request) -> Response:
    if isinstance(outcome, oauth.Redirect):
        headers = dict(NO_CACHE)
        if outcome.set_session:
            headers["Set-Cookie"] = (f"{oauth.COOKIE}={outcome.set_session}; Path=/{pool_id}; Max-Age="
                                     f"{int(oauth.SESSION_TTL)}; HttpOnly; SameSite=Lax")
        elif outcome.clear_session:
            headers["Set-Cookie"] = f"{oauth.COOKIE}=; Path=/{pool_id}; Max-Age=0; HttpOnly; SameSite=Lax"
        return Response.redirect(outcome.location, headers=headers)
    if isinstance(outcome, oauth.LoginPrompt):
        token = _csrf_token(request)
        return _login_page(outcome, token, _xsrf_cookie(backend, request, token))
    detail = f"<p>{html.escape(outcome.description)}</p>" if outcome.description else ""
    return _page("An error was encountered with the requested page.",
                 f'<p id="error">{html.escape(outcome.error)}</p>{detail}', outcome.status)


def _secured(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    return response


def _oauth_error(error: oauth_tokens.OAuthError) -> Response:
    headers = dict(NO_CACHE)
    if error.www_authenticate:
        headers["WWW-Authenticate"] = error.www_authenticate
    return Response.json(error.body(), error.status, headers, content_type=JSON_UTF8)


def install(router: Router, backend: Backend) -> None:
    def on(method: str, path: str) -> Callable[[Callable[[Request, str], Response]], None]:
        def register(fn: Callable[[Request, str], Response]) -> None:
            def handler(request: Request) -> Response:
                return _secured(fn(request, request.params["pool_id"]))

            def by_domain(request: Request) -> Response:
                found = backend.pool_of_domain(request.params["domain"])
                if found is None:
                    return _secured(_page("An error was encountered with the requested page.",
                                          '<p id="error">unknown domain</p>', 404))
                return _secured(fn(request, found))

            for m in method.split("|"):
                router.add(m, "/{pool_id}" + path, handler)
                router.add(m, DOMAIN_PREFIX + "/{domain}" + path, by_domain)

        return register

    @on("GET", "/oauth2/authorize")
    def authorize(request: Request, pool_id: str) -> Response:
        return render(backend, pool_id, oauth.authorize(backend, pool_id, _params(request), _cookie(request)), request)

    @on("GET|POST", "/login")
    def login(request: Request, pool_id: str) -> Response:
        params = _params(request)
        if request.method == "GET":
            return render(backend, pool_id, hosted_login.login_form(backend, pool_id, params, _cookie(request)), request)
        form = _form(request)
        if form is None:
            return _page("An error was encountered with the requested page.",
                         '<p id="error">invalid_request</p>', 400)
        outcome = hosted_login.login_submit(backend, pool_id, params, form, csrf_valid=_csrf_valid(request, form))
        return render(backend, pool_id, outcome, request)

    @on("GET|POST", "/oauth2/idpresponse")
    def idpresponse(request: Request, pool_id: str) -> Response:
        params = _params(request)
        if request.method == "POST":
            params.update(_form(request) or {})
        return render(backend, pool_id, oauth.idp_response(backend, pool_id, params), request)

    @on("POST", "/oauth2/token")
    def token(request: Request, pool_id: str) -> Response:
        form = _form(request)
        try:
            if form is None:
                raise oauth_tokens.OAuthError("invalid_request")
            body = oauth_tokens.token(backend, pool_id, form, request.header("authorization"))
        except oauth_tokens.OAuthError as error:
            return _oauth_error(error)
        return Response.json(body, 200, NO_CACHE, content_type=JSON_UTF8)  # CORS: harness.web.cors

    def userinfo(request: Request, pool_id: str) -> Response:
        form = _form(request) or {}
        try:
            info = oauth_tokens.userinfo(backend, pool_id, request.header("authorization"), form)
        except oauth_tokens.OAuthError as error:
            return _oauth_error(error)
        return Response.json(info, 200, NO_CACHE, content_type=JSON_UTF8)

    on("GET|POST", "/oauth2/userInfo")(userinfo)
    on("GET|POST", "/oauth2/userinfo")(userinfo)

    @on("POST", "/oauth2/revoke")
    def revoke(request: Request, pool_id: str) -> Response:
        form = _form(request)
        try:
            if form is None:
                raise oauth_tokens.OAuthError("invalid_request")
            oauth_tokens.revoke(backend, pool_id, form, request.header("authorization"))
        except oauth_tokens.OAuthError as error:
            return _oauth_error(error)
        return Response(200, b"", dict(NO_CACHE))

    @on("GET", "/logout")
    def logout(request: Request, pool_id: str) -> Response:
        return render(backend, pool_id, oauth.logout(backend, pool_id, _params(request), _cookie(request)), request)

    @on("GET", "/error")
    def error(request: Request, pool_id: str) -> Response:
        params = _params(request)
        return render(backend, pool_id, oauth.ErrorPage(params.get("error", "invalid_request"), params.get("client_id")),
                      request)
