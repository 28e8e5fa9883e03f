"""The managed login in a real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright).

Two journeys a person would make: the pool's own /login form, and a fake Google IdP's login
form reached through "Continue with Google". The app's callback is intercepted in the browser;
the code is then exchanged at /oauth2/token and the tokens verified with PyJWT.
Skips (with the reason) only when no browser can be launched here.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
import requests

from harness.fake_idps import FakeIdPs
from harness.server import Emulator

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
CALLBACK = "http://localhost:3000/callback"
PASSWORD = "Passw0rd!"
VERIFIER = "browser-verifier-" + "v" * 40
CHALLENGE = base64.urlsafe_b64encode(hashlib.sha256(VERIFIER.encode()).digest()).rstrip(b"=").decode()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # pragma: no cover - depends on the machine
        pytest.skip(f"Playwright for Python is not installed: {exc}")
    manager = sync_playwright().start()
    try:
        launched = manager.chromium.launch(executable_path=CHROMIUM, args=ARGS)
    except Exception as exc:  # pragma: no cover - depends on the machine
        manager.stop()
        pytest.skip(f"cannot launch Chromium at {CHROMIUM} (apt-get install -y chromium): {exc}")
    yield launched
    launched.close()
    manager.stop()


@pytest.fixture()
def setup(emulator: Emulator, idp: Any) -> dict[str, Any]:
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
        UserPoolId=pool_id, ClientName="spa", CallbackURLs=[CALLBACK], AllowedOAuthFlows=["code"],
        AllowedOAuthFlowsUserPoolClient=True, AllowedOAuthScopes=["openid", "email", "profile"],
        SupportedIdentityProviders=["COGNITO", "Google"])["UserPoolClient"]
    idp.admin_create_user(UserPoolId=pool_id, Username="carol", MessageAction="SUPPRESS",
                          UserAttributes=[{"Name": "email", "Value": "carol@example.com"}])
    idp.admin_set_user_password(UserPoolId=pool_id, Username="carol", Password=PASSWORD, Permanent=True)
    return {"emu": emulator, "pool_id": pool_id, "client_id": client["ClientId"],
            "base": f"{emulator.url}/{pool_id}"}


def run_to_callback(browser: Any, start_url: str, steps: Any) -> dict[str, str]:
    """Open ``start_url``, let ``steps(page)`` sign in, return the callback's query."""
    context = browser.new_context()
    page = context.new_page()
    landed: list[str] = []

    def app(route: Any) -> None:
        landed.append(route.request.url)
        route.fulfill(status=200, content_type="text/html", body="<p id='done'>signed in</p>")

    page.route("http://localhost:3000/**", app)
    try:
        page.goto(start_url)
        steps(page)
        page.wait_for_selector("#done", timeout=10000)
    finally:
        context.close()
    assert landed, "the browser never reached the app's callback"
    return {k: v[0] for k, v in parse_qs(urlsplit(landed[-1]).query).items()}


def exchange(setup: dict[str, Any], code: str) -> dict[str, Any]:
    answer = requests.post(f"{setup['base']}/oauth2/token", timeout=10, data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK, "client_id": setup["client_id"],
        "code_verifier": VERIFIER})
    assert answer.status_code == 200, answer.text
    tokens = answer.json()
    key = jwt.PyJWKClient(f"{setup['base']}/.well-known/jwks.json").get_signing_key_from_jwt(tokens["id_token"]).key
    return jwt.decode(tokens["id_token"], key, algorithms=["RS256"], audience=setup["client_id"],
                      issuer=setup["base"])


def authorize_url(setup: dict[str, Any]) -> str:
    return f"{setup['base']}/oauth2/authorize?" + urlencode({
        "response_type": "code", "client_id": setup["client_id"], "redirect_uri": CALLBACK, "state": "b-1",
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

    back = run_to_callback(browser, authorize_url(setup), steps)
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

    back = run_to_callback(browser, authorize_url(setup), steps)
    claims = exchange(setup, back["code"])
    assert claims["cognito:username"] == "Google_g-77" and claims["email"] == "gail@example.com"
    assert claims["identities"][0]["providerName"] == "Google"
