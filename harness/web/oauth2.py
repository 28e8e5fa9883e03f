"""The managed login (hosted UI) face: OAuth2/OIDC endpoints under ``/{pool_id}/``.

``/oauth2/authorize``, ``/login``, ``/oauth2/idpresponse``, ``/oauth2/token``,
``/oauth2/userInfo``, ``/oauth2/revoke``, ``/logout`` and ``/error`` (the
discovery document names them); also under ``/_domain/{domain}/`` once
CreateUserPoolDomain has named the pool's domain. This module only parses requests and renders
outcomes (redirects, HTML pages, JSON errors); every rule is in
:mod:`harness.engine.oauth` and :mod:`harness.engine.oauth_tokens`.
"""

from __future__ import annotations

import html
from http.cookies import CookieError, SimpleCookie
from typing import Callable
from urllib.parse import urlencode

from harness.engine import oauth, oauth_tokens
from harness.engine.store import Backend
from harness.web.http import Request, Response, Router

DOMAIN_PREFIX = "/_domain"  # the same endpoints under a pool's domain: /_domain/{domain}/oauth2/...
JSON_UTF8 = "application/json;charset=UTF-8"
NO_CACHE = {"Cache-Control": "no-cache, no-store, max-age=0, must-revalidate", "Pragma": "no-cache"}
CORS = {"Access-Control-Allow-Origin": "*"}
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


def _cookie(request: Request) -> str | None:
    try:
        jar = SimpleCookie(request.header("cookie"))
    except CookieError:
        return None
    morsel = jar.get(oauth.COOKIE)
    return morsel.value if morsel is not None and morsel.value else None


def _page(title: str, body: str, status: int = 200) -> Response:
    return Response.text(PAGE.format(title=html.escape(title), body=body), status, "text/html; charset=utf-8", NO_CACHE)


def _login_page(pool_id: str, prompt: oauth.LoginPrompt) -> Response:
    query = html.escape(urlencode(prompt.params))
    message = f'<p id="message" role="alert">{html.escape(prompt.message)}</p>' if prompt.message else ""
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
<label>Username <input id="username" name="username" autocomplete="username" required></label>
<label>Password <input id="password" name="password" type="password" autocomplete="current-password" required></label>
{new_password}<button id="signin" type="submit" name="signInSubmitButton">Sign in</button></form>{buttons}"""
    return _page("Sign in", body, prompt.status)


def render(backend: Backend, pool_id: str, outcome: oauth.Outcome) -> Response:
    if isinstance(outcome, oauth.Redirect):
        headers = dict(NO_CACHE)
        if outcome.set_session:
            headers["Set-Cookie"] = (f"{oauth.COOKIE}={outcome.set_session}; Path=/{pool_id}; Max-Age="
                                     f"{int(oauth.SESSION_TTL)}; HttpOnly; SameSite=Lax")
        elif outcome.clear_session:
            headers["Set-Cookie"] = f"{oauth.COOKIE}=; Path=/{pool_id}; Max-Age=0; HttpOnly; SameSite=Lax"
        return Response.redirect(outcome.location, headers=headers)
    if isinstance(outcome, oauth.LoginPrompt):
        return _login_page(pool_id, outcome)
    detail = f"<p>{html.escape(outcome.description)}</p>" if outcome.description else ""
    return _page("An error was encountered with the requested page.",
                 f'<p id="error">{html.escape(outcome.error)}</p>{detail}', outcome.status)


def _oauth_error(error: oauth_tokens.OAuthError, extra: dict[str, str] | None = None) -> Response:
    headers = {**NO_CACHE, **(extra or {})}
    if error.www_authenticate:
        headers["WWW-Authenticate"] = error.www_authenticate
    return Response.json(error.body(), error.status, headers, content_type=JSON_UTF8)


def install(router: Router, backend: Backend) -> None:
    def on(method: str, path: str) -> Callable[[Callable[[Request, str], Response]], None]:
        def register(fn: Callable[[Request, str], Response]) -> None:
            def handler(request: Request) -> Response:
                return fn(request, request.params["pool_id"])

            def by_domain(request: Request) -> Response:
                found = backend.pool_of_domain(request.params["domain"])
                if found is None:
                    return _page("An error was encountered with the requested page.",
                                 '<p id="error">unknown domain</p>', 404)
                return fn(request, found)

            for m in method.split("|"):
                router.add(m, "/{pool_id}" + path, handler)
                router.add(m, DOMAIN_PREFIX + "/{domain}" + path, by_domain)

        return register

    @on("GET", "/oauth2/authorize")
    def authorize(request: Request, pool_id: str) -> Response:
        return render(backend, pool_id, oauth.authorize(backend, pool_id, _params(request), _cookie(request)))

    @on("GET|POST", "/login")
    def login(request: Request, pool_id: str) -> Response:
        params = _params(request)
        if request.method == "GET":
            return render(backend, pool_id, oauth.login_form(backend, pool_id, params, _cookie(request)))
        form = _form(request)
        if form is None:
            return _page("An error was encountered with the requested page.",
                         '<p id="error">invalid_request</p>', 400)
        return render(backend, pool_id, oauth.login_submit(backend, pool_id, params, form))

    @on("GET|POST", "/oauth2/idpresponse")
    def idpresponse(request: Request, pool_id: str) -> Response:
        params = _params(request)
        if request.method == "POST":
            params.update(_form(request) or {})
        return render(backend, pool_id, oauth.idp_response(backend, pool_id, params))

    @on("POST", "/oauth2/token")
    def token(request: Request, pool_id: str) -> Response:
        form = _form(request)
        try:
            if form is None:
                raise oauth_tokens.OAuthError("invalid_request")
            body = oauth_tokens.token(backend, pool_id, form, request.header("authorization"))
        except oauth_tokens.OAuthError as error:
            return _oauth_error(error, CORS)
        return Response.json(body, 200, {**NO_CACHE, **CORS}, content_type=JSON_UTF8)

    @on("OPTIONS", "/oauth2/token")
    def token_preflight(request: Request, pool_id: str) -> Response:
        return Response(204, b"", {**CORS, "Access-Control-Allow-Methods": "POST, OPTIONS",
                                   "Access-Control-Allow-Headers": "Authorization, Content-Type"})

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
        return render(backend, pool_id, oauth.logout(backend, pool_id, _params(request), _cookie(request)))

    @on("GET", "/error")
    def error(request: Request, pool_id: str) -> Response:
        params = _params(request)
        return render(backend, pool_id, oauth.ErrorPage(params.get("error", "invalid_request"), params.get("client_id")))
