"""The fake IdPs' HTTP face: ``/_idp/{name}/...`` on the emulator's router.

Only protocol plumbing lives here (parse, apply faults, render); the rules are
:class:`harness.fake_idps.provider.FakeIdP`'s. Handlers never take the pool lock.
"""

from __future__ import annotations

import html
import time
from typing import TYPE_CHECKING, Callable

from harness.fake_idps.provider import FakeIdP, IdPRequestError
from harness.web.http import Request, Response, Router

if TYPE_CHECKING:  # pragma: no cover
    from harness.engine.store import Backend

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _error(exc: IdPRequestError) -> Response:
    headers = dict(NO_STORE)
    if exc.status == 401:
        headers["WWW-Authenticate"] = f'Bearer error="{exc.body["error"]}"'
    return Response.json(exc.body, exc.status, headers)


def _params(request: Request) -> dict[str, str]:
    params = {k: v[0] for k, v in request.query.items() if v}
    if request.method == "POST" and "form" in request.header("content-type", "application/x-www-form-urlencoded"):
        params.update(request.form())
    return params


def login_page(idp: FakeIdP, params: dict[str, str], message: str = "") -> Response:
    """A minimal sign-in page a browser (or a person) can use."""
    hidden = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
        for k, v in params.items() if k not in ("login", "password")
    )
    known = "".join(
        f"<li><code>{html.escape(str(u.claims.get('email', u.sub)))}</code></li>" for u in idp.users.values()
    )
    error = f'<p class="error" role="alert">{html.escape(message)}</p>' if message else ""
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in - {html.escape(idp.name)}</title></head>
<body><h1>Sign in to {html.escape(idp.name)} (fake {html.escape(idp.preset.name)} IdP)</h1>{error}
<form method="post" action="authorize">{hidden}
<label>Email or subject <input id="login" name="login" autocomplete="username" required></label>
<label>Password <input id="password" name="password" type="password" autocomplete="current-password"></label>
<button id="signin" type="submit">Sign in</button></form>
<p>Accounts:</p><ul>{known}</ul></body></html>"""
    return Response.text(page, 200 if not message else 401, "text/html; charset=utf-8", NO_STORE)


def install(router: Router, backend: Backend) -> None:
    registry = backend.idps

    def with_idp(fn: Callable[[FakeIdP, Request], Response]) -> Callable[[Request], Response]:
        def handler(request: Request) -> Response:
            idp = registry.idps.get(request.params["name"])
            if idp is None:
                return Response.json({"error": "not_found", "error_description": "No such IdP"}, 404)
            return fn(idp, request)

        return handler

    def fault_response(idp: FakeIdP, endpoint: str) -> Response | None:
        with registry.lock:
            fault = idp.take_fault(endpoint)
        if fault is None:
            return None
        if fault.delay:
            time.sleep(fault.delay)  # bounded by MAX_FAULT_DELAY; the pool's client gives up first
        if fault.kind == "timeout":
            return Response.json({"error": "temporarily_unavailable"}, 504)
        return Response.json({"error": fault.error, "error_description": f"Injected {fault.status} fault"},
                             fault.status)

    def route(method: str, suffix: str, fn: Callable[[FakeIdP, Request], Response]) -> None:
        for m in method.split("|"):
            router.add(m, "/_idp/{name}" + suffix, with_idp(fn))

    def discovery(idp: FakeIdP, request: Request) -> Response:
        return fault_response(idp, "discovery") or Response.json(idp.discovery(registry.public_url))

    def jwks(idp: FakeIdP, request: Request) -> Response:
        with registry.lock:
            idp.requests.append({"endpoint": "jwks"})
        faulted = fault_response(idp, "jwks")
        if faulted:
            return faulted
        with registry.lock:
            keys = idp.jwks()
        return Response.json(keys, headers={"Cache-Control": "public, max-age=3600"})

    def authorize(idp: FakeIdP, request: Request) -> Response:
        params = _params(request)
        with registry.lock:
            try:
                idp.check_authorize(params)
            except IdPRequestError as exc:
                return Response.text(f"{exc.body['error']}: {exc.body.get('error_description', '')}",
                                     exc.status, headers=NO_STORE)
            user = None
            if request.method == "POST":
                user = idp.find_login(params.get("login", ""))
                if user is None or (user.password is not None and user.password != params.get("password")):
                    return login_page(idp, params, "Wrong email or password.")
            elif idp.selected is not None:
                user = idp.users.get(idp.selected)
            if user is None:
                return login_page(idp, params)
            location = idp.issue_code(registry.new_id(24), user, params, registry.now())
        return Response.redirect(location, headers=NO_STORE)

    def token(idp: FakeIdP, request: Request) -> Response:
        form = request.form()
        with registry.lock:
            idp.requests.append({"endpoint": "token", "form": {k: v for k, v in form.items()
                                                                  if k not in ("client_secret", "code_verifier")}})
        faulted = fault_response(idp, "token")
        if faulted:
            return faulted
        with registry.lock:
            try:
                idp.authenticate_client(form, request.header("authorization"))
                issued = idp.redeem(form, registry.now())
                body = idp.mint_tokens(issued, idp.issuer(registry.public_url), backend.clock.now_int(),
                                       registry.new_id(32))
            except IdPRequestError as exc:
                return _error(exc)
        return Response.json(body, headers=NO_STORE)

    def userinfo(idp: FakeIdP, request: Request) -> Response:
        faulted = fault_response(idp, "userinfo")
        if faulted:
            return faulted
        auth = request.header("authorization")
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else _params(request).get("access_token", "")
        with registry.lock:
            try:
                info = idp.userinfo(token, registry.now())
            except IdPRequestError as exc:
                return _error(exc)
        return Response.json(info, headers=NO_STORE)

    route("GET", "/.well-known/openid-configuration", discovery)
    route("GET", "/jwks", jwks)
    route("GET|POST", "/authorize", authorize)
    route("POST", "/token", token)
    route("GET|POST", "/userinfo", userinfo)

