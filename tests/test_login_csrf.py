"""Login CSRF on the managed login: the XSRF-TOKEN cookie / _csrf field pair, and no framing.

A cross-site page can make a browser POST the sign-in form with the attacker's own
credentials ("login CSRF": the victim ends up signed in as the attacker). Managed login
refuses a POST whose ``_csrf`` field does not match the ``XSRF-TOKEN`` cookie set when the
form was served. Everything here is real HTTP against a live emulator.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
import requests

from harness.engine import oauth
from harness.server import Emulator

CALLBACK = "http://localhost:3000/callback"
PASSWORD = "Passw0rd!"
FRAMING = {"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff"}


@dataclass
class Pool:
    emu: Emulator
    pool_id: str
    client_id: str

    @property
    def base(self) -> str:
        return f"{self.emu.url}/{self.pool_id}"

    def login_url(self, base: str | None = None) -> str:
        params = {"response_type": "code", "client_id": self.client_id, "redirect_uri": CALLBACK, "state": "s-1",
                  "scope": "openid"}
        return f"{base or self.base}/login?{urlencode(params)}"


@pytest.fixture()
def pool(emulator: Emulator, idp: Any) -> Pool:
    pool_id = idp.create_user_pool(PoolName="csrf")["UserPool"]["Id"]
    client = idp.create_user_pool_client(
        UserPoolId=pool_id, ClientName="web", CallbackURLs=[CALLBACK], AllowedOAuthFlows=["code"],
        AllowedOAuthFlowsUserPoolClient=True, AllowedOAuthScopes=["openid"],
        SupportedIdentityProviders=["COGNITO"])["UserPoolClient"]
    idp.admin_create_user(UserPoolId=pool_id, Username="mallory", MessageAction="SUPPRESS")
    idp.admin_set_user_password(UserPoolId=pool_id, Username="mallory", Password=PASSWORD, Permanent=True)
    return Pool(emulator, pool_id, client["ClientId"])


def _form_token(page: requests.Response) -> str:
    found = re.search(r'<input type="hidden" name="_csrf" value="([^"]+)">', page.text)
    assert found, page.text
    return found.group(1)


def _set_cookie(response: requests.Response) -> dict[str, str]:
    """The XSRF-TOKEN Set-Cookie as {attribute (lower-case): value}, the token under "value"."""
    raw = response.headers.get("Set-Cookie", "")
    assert raw.startswith("XSRF-TOKEN="), raw
    first, *attrs = [part.strip() for part in raw.split(";")]
    out = {"value": first.partition("=")[2]}
    for attr in attrs:
        name, _, value = attr.partition("=")
        out[name.lower()] = value
    return out


def _refused(answer: requests.Response) -> None:
    assert answer.status_code == 403, (answer.status_code, answer.headers, answer.text)
    assert "Location" not in answer.headers
    assert oauth.CSRF_REFUSED in answer.text
    assert 'name="_csrf"' in answer.text  # the form again, with a token, so a person can retry


def test_serving_the_form_sets_the_pair(pool: Pool) -> None:
    page = requests.get(pool.login_url(), timeout=10)
    assert page.status_code == 200
    cookie = _set_cookie(page)
    assert cookie["value"] == _form_token(page) and len(cookie["value"]) >= 32
    assert cookie["path"] == f"/{pool.pool_id}/login"
    assert "httponly" in cookie and cookie["samesite"] == "Lax"
    assert "secure" not in cookie  # plain http on loopback: a Secure cookie would never come back
    # unpredictable: another visitor gets another token
    assert _form_token(requests.get(pool.login_url(), timeout=10)) != cookie["value"]


def test_the_pair_signs_in(pool: Pool) -> None:
    session = requests.Session()
    token = _form_token(session.get(pool.login_url(), timeout=10))
    answer = session.post(pool.login_url(), data={"username": "mallory", "password": PASSWORD, "_csrf": token},
                          allow_redirects=False, timeout=10)
    assert answer.status_code == 302 and answer.headers["Location"].startswith(CALLBACK + "?code=")


@pytest.mark.parametrize("case", ["no cookie, no field", "cookie, no field", "field, no cookie", "mismatch",
                                  "empty pair"])
def test_a_post_without_a_matching_pair_is_refused(pool: Pool, case: str) -> None:
    session = requests.Session()
    token = _form_token(session.get(pool.login_url(), timeout=10))
    form = {"username": "mallory", "password": PASSWORD}
    if case == "no cookie, no field":
        session.cookies.clear()
    elif case == "field, no cookie":
        session.cookies.clear()
        form["_csrf"] = token
    elif case == "mismatch":
        form["_csrf"] = token[:-1] + ("A" if token[-1] != "A" else "B")
    elif case == "empty pair":
        session.cookies.clear()
        session.cookies.set("XSRF-TOKEN", "")
        form["_csrf"] = ""
    _refused(session.post(pool.login_url(), data=form, allow_redirects=False, timeout=10))


def test_a_cross_site_post_from_a_browser_is_refused_even_with_a_planted_pair(pool: Pool) -> None:
    """Cookies ignore ports: a page on another loopback port could plant XSRF-TOKEN. The browser's
    Sec-Fetch-Site still tells the POST did not come from the form's own origin."""
    session = requests.Session()
    token = _form_token(session.get(pool.login_url(), timeout=10))
    form = {"username": "mallory", "password": PASSWORD, "_csrf": token}
    for site in ("cross-site", "same-site"):
        _refused(session.post(pool.login_url(), data=form, headers={"Sec-Fetch-Site": site},
                              allow_redirects=False, timeout=10))
    ok = session.post(pool.login_url(), data=form, headers={"Sec-Fetch-Site": "same-origin"}, allow_redirects=False,
                      timeout=10)
    assert ok.status_code == 302 and "code=" in ok.headers["Location"]


def test_forged_posts_neither_count_as_failures_nor_lock_anyone_out(pool: Pool) -> None:
    events_before = len(pool.emu.backend.events.list(pool_id=pool.pool_id))
    for _ in range(8):
        _refused(requests.post(pool.login_url(), data={"username": "mallory", "password": "wrong"},
                               allow_redirects=False, timeout=10))
    assert len(pool.emu.backend.events.list(pool_id=pool.pool_id)) == events_before  # nothing happened to any user
    session = requests.Session()
    token = _form_token(session.get(pool.login_url(), timeout=10))
    answer = session.post(pool.login_url(), data={"username": "mallory", "password": PASSWORD, "_csrf": token},
                          allow_redirects=False, timeout=10)
    assert answer.status_code == 302 and "code=" in answer.headers["Location"]


def test_a_wrong_password_keeps_the_token_so_the_person_can_retry(pool: Pool) -> None:
    session = requests.Session()
    token = _form_token(session.get(pool.login_url(), timeout=10))
    wrong = session.post(pool.login_url(), data={"username": "mallory", "password": "nope", "_csrf": token},
                         allow_redirects=False, timeout=10)
    assert wrong.status_code == 400 and _form_token(wrong) == token
    right = session.post(pool.login_url(), data={"username": "mallory", "password": PASSWORD, "_csrf": token},
                         allow_redirects=False, timeout=10)
    assert right.status_code == 302


def test_the_pair_works_under_the_pool_domain(pool: Pool, idp: Any) -> None:
    idp.create_user_pool_domain(UserPoolId=pool.pool_id, Domain="csrf-app")
    base = f"{pool.emu.url}/_domain/csrf-app"
    session = requests.Session()
    page = session.get(pool.login_url(base), timeout=10)
    assert _set_cookie(page)["path"] == "/_domain/csrf-app/login"
    answer = session.post(pool.login_url(base), data={"username": "mallory", "password": PASSWORD,
                                                      "_csrf": _form_token(page)}, allow_redirects=False, timeout=10)
    assert answer.status_code == 302 and "code=" in answer.headers["Location"]


def test_the_cookie_is_secure_when_the_public_url_is_https(pool: Pool) -> None:
    pool.emu.backend.settings.public_url = "https://auth.example.test"
    assert "secure" in _set_cookie(requests.get(pool.login_url(), timeout=10))


def test_no_hosted_ui_answer_can_be_framed_or_sniffed(pool: Pool) -> None:
    answers = {
        "login form": requests.get(pool.login_url(), timeout=10),
        "refused post": requests.post(pool.login_url(), data={}, timeout=10),
        "authorize redirect": requests.get(pool.login_url().replace("/login?", "/oauth2/authorize?"),
                                           allow_redirects=False, timeout=10),
        "error page": requests.get(f"{pool.base}/error?error=redirect_mismatch", timeout=10),
        "unknown domain": requests.get(f"{pool.emu.url}/_domain/nope/login", timeout=10),
        "token endpoint": requests.post(f"{pool.base}/oauth2/token", data={}, timeout=10),
    }
    for name, answer in answers.items():
        for header, value in FRAMING.items():
            assert answer.headers.get(header) == value, (name, header, answer.headers)
        csp = answer.headers.get("Content-Security-Policy", "")
        assert "frame-ancestors 'none'" in csp, (name, csp)
