"""The managed login in a real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright).

Two journeys a person would make: the pool's own /login form, and a fake Google IdP's login
form reached through "Continue with Google". The app is a real page server on a free loopback
port (its callback lands there); the code is then exchanged at /oauth2/token and the tokens
verified with PyJWT. Skips (with the reason) only when no browser can be launched here.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import html
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
import requests

from harness.fake_idps import FakeIdPs
from harness.server import Emulator
from tests.browser_support import PageSite, browser  # noqa: F401 - browser: the shared Chromium fixture

PASSWORD = "Passw0rd!"
VERIFIER = "browser-verifier-" + "v" * 40
CHALLENGE = base64.urlsafe_b64encode(hashlib.sha256(VERIFIER.encode()).digest()).rstrip(b"=").decode()


@pytest.fixture(scope="module")
def app() -> Iterator[PageSite]:
    """The app the hosted UI sends the browser back to: a real server on a free loopback port."""
    with PageSite() as site:
        yield site


@pytest.fixture()
def setup(emulator: Emulator, idp: Any, app: PageSite) -> dict[str, Any]:
    callback = app.url("/callback")
    pool_id = idp.create_user_pool(PoolName="browser")["UserPool"]["Id"]
    google = FakeIdPs(emulator.backend).create("google", preset="google")
    google.set_user("g-77", email="gail@example.com", email_verified=True, name="Gail", password="idp-pass")
    google.select(None)  # no auto-approval: the person signs in on the IdP's page
    idp.create_identity_provider(UserPoolId=pool_id, ProviderName="Google", ProviderType="Google",
                                 ProviderDetails={"client_id": google.client_id, "client_secret": google.client_secret,
                                                  "authorize_scopes": "openid email profile"},
                                 AttributeMapping={"email": "email", "email_verified": "email_verified",
                                                   "name": "name"})
    client = idp.create_user_pool_client(
        UserPoolId=pool_id, ClientName="spa", CallbackURLs=[callback], AllowedOAuthFlows=["code"],
        AllowedOAuthFlowsUserPoolClient=True, AllowedOAuthScopes=["openid", "email", "profile"],
        SupportedIdentityProviders=["COGNITO", "Google"])["UserPoolClient"]
    idp.admin_create_user(UserPoolId=pool_id, Username="carol", MessageAction="SUPPRESS",
                          UserAttributes=[{"Name": "email", "Value": "carol@example.com"}])
    idp.admin_set_user_password(UserPoolId=pool_id, Username="carol", Password=PASSWORD, Permanent=True)
    return {"emu": emulator, "pool_id": pool_id, "client_id": client["ClientId"],
            "base": f"{emulator.url}/{pool_id}", "callback": callback}


def run_to_callback(browser: Any, setup: dict[str, Any], steps: Any) -> dict[str, str]:
    """Open the authorize URL, let ``steps(page)`` sign in, return the query the app's callback got."""
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto(authorize_url(setup))
        steps(page)
        page.wait_for_url(lambda url: url.startswith(setup["callback"] + "?"), timeout=10000)
        page.wait_for_selector("#done")
        landed = page.url
    finally:
        context.close()
    return {k: v[0] for k, v in parse_qs(urlsplit(landed).query).items()}


def exchange(setup: dict[str, Any], code: str) -> dict[str, Any]:
    answer = requests.post(f"{setup['base']}/oauth2/token", timeout=10, data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": setup["callback"],
        "client_id": setup["client_id"], "code_verifier": VERIFIER})
    assert answer.status_code == 200, answer.text
    tokens = answer.json()
    key = jwt.PyJWKClient(f"{setup['base']}/.well-known/jwks.json").get_signing_key_from_jwt(tokens["id_token"]).key
    return jwt.decode(tokens["id_token"], key, algorithms=["RS256"], audience=setup["client_id"],
                      issuer=setup["base"])


def authorize_url(setup: dict[str, Any]) -> str:
    return f"{setup['base']}/oauth2/authorize?" + urlencode({
        "response_type": "code", "client_id": setup["client_id"], "redirect_uri": setup["callback"], "state": "b-1",
        "scope": "openid email profile", "code_challenge": CHALLENGE, "code_challenge_method": "S256"})


def test_native_user_signs_in_through_the_login_form(browser: Any, setup: dict[str, Any]) -> None:
    def steps(page: Any) -> None:
        assert "/login?" in page.url
        page.fill("#username", "carol")
        page.fill("#password", "wrong-password")
        page.click("#signin")
        assert "Incorrect username or password." in page.inner_text("#message")
        page.fill("#username", "carol")
        page.fill("#password", PASSWORD)
        page.click("#signin")

    back = run_to_callback(browser, setup, steps)
    assert back["state"] == "b-1"
    claims = exchange(setup, back["code"])
    assert claims["cognito:username"] == "carol" and claims["email"] == "carol@example.com"


def test_federated_user_signs_in_through_the_idp_form(browser: Any, setup: dict[str, Any]) -> None:
    def steps(page: Any) -> None:
        page.click("#idp-Google")  # "Continue with Google" on the hosted login page
        assert "/_idp/google/authorize" in page.url
        page.fill("#login", "gail@example.com")
        page.fill("#password", "idp-pass")
        page.click("#signin")

    back = run_to_callback(browser, setup, steps)
    claims = exchange(setup, back["code"])
    assert claims["cognito:username"] == "Google_g-77" and claims["email"] == "gail@example.com"
    assert claims["identities"][0]["providerName"] == "Google"



@contextlib.contextmanager
def attacker_page(browser: Any, html: str) -> Iterator[tuple[Any, str]]:
    """A browser page and the URL of another site's page holding ``html``: on 127.0.0.2, another
    origin and another site for the browser (a real socket: Chromium's local-network checks treat
    a routed page as public and would block its loopback requests whatever the emulator answers)."""
    with PageSite({"/": html.encode()}, host="127.0.0.2") as site:
        context = browser.new_context()
        try:
            yield context.new_page(), site.url("/")
        finally:
            context.close()


def test_a_cross_site_page_cannot_sign_the_browser_in(browser: Any, setup: dict[str, Any]) -> None:
    """Login CSRF: another site auto-posts the form with the attacker's credentials. Refused (403),
    the app's callback never reached, even though this browser holds an XSRF-TOKEN from a real visit."""
    login = authorize_url(setup).replace("/oauth2/authorize?", "/login?")
    forged = (f'<form id="f" method="post" action="{html.escape(login)}"><input name="username" value="carol">'
              f'<input name="password" value="{PASSWORD}"></form><script>document.getElementById("f").submit()</script>')
    with attacker_page(browser, forged) as (page, attacker):
        page.goto(login)
        assert page.query_selector("#username") is not None  # the real form: XSRF-TOKEN is set
        with page.expect_response(lambda r: r.request.method == "POST" and "/login?" in r.url) as posted:
            page.goto(attacker)
        assert posted.value.status == 403
        page.wait_for_selector("#message")
        assert "Please sign in again" in page.inner_text("#message")
        assert not page.url.startswith(setup["callback"])


def test_the_sign_in_form_cannot_be_framed(browser: Any, setup: dict[str, Any]) -> None:
    login = authorize_url(setup).replace("/oauth2/authorize?", "/login?")
    with attacker_page(browser, f'<iframe src="{html.escape(login)}" width="600" height="400"></iframe>') as (page, url):
        with page.expect_response(lambda r: "/login?" in r.url) as framed:
            page.goto(url)
        assert framed.value.status == 200 and framed.value.headers.get("x-frame-options") == "DENY"
        page.wait_for_load_state("load")
        (child,) = [frame for frame in page.frames if frame is not page.main_frame]
        assert child.query_selector("#username") is None  # Chromium refused to render the form in the frame
