"""Managed login asks for the second factor too: the hosted UI's /login shows a code page after the
password for a user with MFA, and only a right code leads back to the app with an authorization code.
Over HTTP with requests (CSRF cookie and field as a browser sends them), TOTP codes from pyotp."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pyotp
import requests

from test_hosted_ui import CALLBACK, PASSWORD, VERIFIER, World, native_user, query_of, submit_login, world  # noqa: F401


def _field(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert match, page
    return match.group(1)


def _post_code(session: requests.Session, url: str, page: str, code: str) -> requests.Response:
    data = {"_csrf": _field(page, "_csrf"), "mfa_session": _field(page, "mfa_session"), "mfa_code": code}
    return session.post(url, data=data, allow_redirects=False, timeout=10)


def _totp_on(world: World, mode: str) -> None:
    world.emu.backend.clock.freeze()
    world.idp.set_user_pool_mfa_config(UserPoolId=world.pool_id, MfaConfiguration=mode,
                                       SoftwareTokenMfaConfiguration={"Enabled": True})


def _now(world: World) -> float:
    return world.emu.backend.clock.now()


def test_totp_user_must_type_the_code_before_the_app_gets_a_code(world: World) -> None:  # noqa: F811
    _totp_on(world, "OPTIONAL")
    native_user(world)
    session = requests.Session()
    params = world.authorize_params(scope="openid aws.cognito.signin.user.admin")
    login_url = f"{world.base}/login?{urlencode(params)}"
    first = submit_login(login_url, {"username": "bob", "password": PASSWORD}, session)
    assert first.status_code == 302  # no MFA yet: straight back to the app
    tokens = world.token(grant_type="authorization_code", code=query_of(first)["code"], redirect_uri=CALLBACK,
                         code_verifier=VERIFIER).json()
    secret = world.idp.associate_software_token(AccessToken=tokens["access_token"])["SecretCode"]
    world.idp.verify_software_token(AccessToken=tokens["access_token"], UserCode=pyotp.TOTP(secret).at(_now(world)))
    world.idp.admin_set_user_mfa_preference(UserPoolId=world.pool_id, Username="bob",
                                            SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True})
    world.emu.backend.clock.advance(30)

    browser = requests.Session()
    page = submit_login(login_url, {"username": "bob", "password": PASSWORD}, browser)
    assert page.status_code == 200 and 'id="mfa_code"' in page.text and "Location" not in page.headers
    assert _field(page.text, "mfa_challenge") == "SOFTWARE_TOKEN_MFA"
    assert PASSWORD not in page.text
    wrong = _post_code(browser, login_url, page.text, "000000" if pyotp.TOTP(secret).at(_now(world)) != "000000" else "111111")
    assert wrong.status_code == 400 and "Invalid code or auth state for the user." in wrong.text
    done = _post_code(browser, login_url, wrong.text, pyotp.TOTP(secret).at(_now(world)))
    assert done.status_code == 302 and done.headers["Location"].startswith(CALLBACK)
    body = world.token(grant_type="authorization_code", code=query_of(done)["code"], redirect_uri=CALLBACK,
                       code_verifier=VERIFIER).json()
    assert world.verify(body["id_token"], verify_iat=False, verify_exp=False)["cognito:username"] == "bob"
    kinds = [e.type for e in world.emu.backend.events.list("mfa.*")]
    assert kinds[-3:] == ["mfa.challenge", "mfa.failed", "mfa.passed"]


def test_required_mfa_enrols_in_the_login_form(world: World) -> None:  # noqa: F811
    _totp_on(world, "ON")
    native_user(world)
    browser = requests.Session()
    login_url = f"{world.base}/login?{urlencode(world.authorize_params())}"
    page = submit_login(login_url, {"username": "bob", "password": PASSWORD}, browser)
    assert _field(page.text, "mfa_challenge") == "MFA_SETUP"
    secret = re.search(r'id="mfa_secret">([A-Z2-7]+)<', page.text).group(1)
    done = _post_code(browser, login_url, page.text, pyotp.TOTP(secret).at(_now(world)))
    assert done.status_code == 302 and done.headers["Location"].startswith(CALLBACK)
    user = world.idp.admin_get_user(UserPoolId=world.pool_id, Username="bob")
    assert user["UserMFASettingList"] == ["SOFTWARE_TOKEN_MFA"]


def test_a_forged_or_spent_mfa_session_goes_back_to_the_password_form(world: World) -> None:  # noqa: F811
    _totp_on(world, "ON")
    native_user(world)
    browser = requests.Session()
    login_url = f"{world.base}/login?{urlencode(world.authorize_params())}"
    page = submit_login(login_url, {"username": "bob", "password": PASSWORD}, browser)
    forged = page.text.replace(_field(page.text, "mfa_session"), "x" * 40)
    refused = _post_code(browser, login_url, forged, "123456")
    assert refused.status_code == 400 and 'id="password"' in refused.text and "Location" not in refused.headers
