"""CORS over real HTTP: preflights and answers of every face a web page calls, none elsewhere.

A page on another origin (http://app.example here) calls the AWS JSON APIs on ``POST /``, the
well-known documents and ``/oauth2/token|userInfo|revoke``; a browser reads an answer (an error
too) only when it carries ``Access-Control-Allow-Origin``. The control plane and the hosted
UI's pages must never say a foreign page may read them. The browser journeys themselves are in
tests/test_browser_clients.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from harness.pooldef import load_pool
from harness.server import Emulator
from harness.web.cors import SDK_HEADERS

ORIGIN = "http://app.example:5173"
REFERENCE_POOL = Path(__file__).resolve().parents[1] / "fixtures" / "pools" / "reference_app.toml"
PASSWORD = "Cors-Passw0rd!"
IDP_TARGET = "AWSCognitoIdentityProviderService."
IDENTITY_TARGET = "AWSCognitoIdentityService."
# what Amplify v6 and the AWS SDK for JavaScript v3 ask for in a preflight of POST /
REQUESTED = "amz-sdk-invocation-id,amz-sdk-request,authorization,cache-control,content-type,x-amz-content-sha256," \
            "x-amz-date,x-amz-security-token,x-amz-target,x-amz-user-agent"


@dataclass
class World:
    emu: Emulator
    url: str
    pool_id: str
    client_id: str
    identity_pool_id: str
    domain: str

    def api(self, target: str, body: dict[str, object]) -> requests.Response:
        """A cross-origin JSON 1.1 call as a browser sends it (after its preflight)."""
        return requests.post(self.url + "/", data=json.dumps(body), timeout=10, headers={
            "Origin": ORIGIN, "X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-User-Agent": "aws-amplify/6.0 auth/1 framework/0", "Cache-Control": "no-store"})

    def preflight(self, path: str, method: str = "POST", headers: str = REQUESTED) -> requests.Response:
        ask = {"Origin": ORIGIN, "Access-Control-Request-Method": method}
        if headers:
            ask["Access-Control-Request-Headers"] = headers
        return requests.options(self.url + path, headers=ask, timeout=10)


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    with Emulator.start(seed=31) as emu:
        handle = load_pool(emu.backend, REFERENCE_POOL)
        assert handle.identity_pool is not None
        idp = emu.boto3_client()
        idp.admin_create_user(UserPoolId=handle.pool_id, Username="pat", MessageAction="SUPPRESS",
                              UserAttributes=[{"Name": "email", "Value": "pat@example.com"}])
        idp.admin_set_user_password(UserPoolId=handle.pool_id, Username="pat", Password=PASSWORD, Permanent=True)
        idp.create_user_pool_domain(UserPoolId=handle.pool_id, Domain="cors-test")
        yield World(emu, emu.url, handle.pool_id, handle.client.client_id, handle.identity_pool.identity_pool_id,
                    "cors-test")


def cors_faces(world: World) -> list[tuple[str, str]]:
    """(path, method) of every cross-origin face of the emulator."""
    pool = f"/{world.pool_id}"
    domain = f"/_domain/{world.domain}"
    return [("/", "POST"),
            (f"{pool}/.well-known/jwks.json", "GET"), (f"{pool}/.well-known/openid-configuration", "GET"),
            ("/.well-known/jwks_uri", "GET"), ("/.well-known/openid-configuration", "GET"),
            ("/cognito-identity/.well-known/jwks_uri", "GET"),
            ("/cognito-identity/.well-known/openid-configuration", "GET"),
            (f"{pool}/oauth2/token", "POST"), (f"{pool}/oauth2/revoke", "POST"),
            (f"{pool}/oauth2/userInfo", "GET"), (f"{pool}/oauth2/userInfo", "POST"),
            (f"{domain}/oauth2/token", "POST"), (f"{domain}/oauth2/userInfo", "GET")]


def assert_readable(answer: requests.Response) -> None:
    assert answer.headers.get("Access-Control-Allow-Origin") == "*", (answer.status_code, dict(answer.headers))
    assert "Access-Control-Allow-Credentials" not in answer.headers


def assert_not_cross_origin(answer: requests.Response) -> None:
    leaked = [name for name in answer.headers if name.lower().startswith("access-control-")]
    assert leaked == [], (answer.request.method, answer.url, leaked)


# --- preflights ---------------------------------------------------------------------------------


def test_every_face_answers_the_preflight_of_the_sdks(world: World) -> None:
    for path, method in cors_faces(world):
        answer = world.preflight(path, method)
        assert answer.status_code == 200, (path, answer.status_code, answer.text)
        assert_readable(answer)
        assert method in answer.headers["Access-Control-Allow-Methods"].split(", "), path
        allowed = answer.headers["Access-Control-Allow-Headers"].split(", ")
        assert sorted(allowed) == sorted(REQUESTED.split(",")), path  # every header the SDK asked for
        assert answer.headers["Access-Control-Max-Age"] == "172800"
        assert answer.content == b""


def test_the_api_preflight_allows_only_post(world: World) -> None:
    answer = world.preflight("/")
    assert answer.headers["Access-Control-Allow-Methods"] == "POST, OPTIONS"
    jwks = world.preflight(f"/{world.pool_id}/.well-known/jwks.json", "GET")
    assert jwks.headers["Access-Control-Allow-Methods"] == "GET, HEAD, OPTIONS"


def test_requested_headers_are_echoed_as_field_names_only(world: World) -> None:
    answer = world.preflight("/", headers="X-Amz-Target, x-amz-target,, bad header, x\u00e9, X-Custom-Thing")
    assert answer.headers["Access-Control-Allow-Headers"] == "x-amz-target, x-custom-thing"
    bare = world.preflight("/", headers="")  # a preflight that names none gets the SDKs' list
    assert bare.headers["Access-Control-Allow-Headers"].split(", ") == list(SDK_HEADERS)
    many = world.preflight("/", headers=",".join(f"x-h{i}" for i in range(500)))
    assert len(many.headers["Access-Control-Allow-Headers"].split(", ")) == 64


def test_a_preflight_of_an_unknown_pool_path_is_still_answered(world: World) -> None:
    answer = world.preflight("/us-east-1_nope/.well-known/jwks.json", "GET")
    assert answer.status_code == 200
    assert_readable(answer)


# --- answers: success and errors ------------------------------------------------------------------------


def test_cognito_idp_answers_are_readable_and_expose_the_error_headers(world: World) -> None:
    params = {"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": world.client_id}
    ok = world.api(IDP_TARGET + "InitiateAuth", {**params, "AuthParameters": {"USERNAME": "pat", "PASSWORD": PASSWORD}})
    assert ok.status_code == 200 and "AuthenticationResult" in ok.json()
    assert_readable(ok)
    exposed = {h.lower() for h in ok.headers["Access-Control-Expose-Headers"].split(",")}
    assert exposed == {"x-amzn-requestid", "x-amzn-errortype", "x-amzn-errormessage", "date"}
    assert ok.headers["x-amzn-RequestId"] and ok.headers["Date"]

    wrong = world.api(IDP_TARGET + "InitiateAuth", {**params, "AuthParameters": {"USERNAME": "pat", "PASSWORD": "no"}})
    assert wrong.status_code == 400 and wrong.json()["__type"] == "NotAuthorizedException"
    assert_readable(wrong)  # else the page sees a network error, not NotAuthorizedException
    assert wrong.headers["x-amzn-ErrorType"].startswith("NotAuthorizedException")
    assert "x-amzn-errortype" in wrong.headers["Access-Control-Expose-Headers"].lower()


def test_cognito_identity_answers_are_readable(world: World) -> None:
    got = world.api(IDENTITY_TARGET + "GetId", {"IdentityPoolId": world.identity_pool_id})
    assert got.status_code == 200 and got.json()["IdentityId"].startswith("us-east-1:")
    assert_readable(got)
    assert "x-amzn-requestid" in got.headers["Access-Control-Expose-Headers"].lower()
    missing = world.api(IDENTITY_TARGET + "GetId", {"IdentityPoolId": "us-east-1:00000000-0000-0000-0000-000000000000"})
    assert missing.status_code == 400 and missing.json()["__type"] == "ResourceNotFoundException"
    assert_readable(missing)


def test_bad_json_and_unknown_targets_are_readable_errors(world: World) -> None:
    garbled = requests.post(world.url + "/", data=b"{not json", timeout=10, headers={
        "Origin": ORIGIN, "X-Amz-Target": IDP_TARGET + "InitiateAuth", "Content-Type": "application/x-amz-json-1.1"})
    assert 400 <= garbled.status_code < 500
    assert_readable(garbled)
    unknown = world.api(IDP_TARGET + "NoSuchOperation", {})
    assert 400 <= unknown.status_code < 500
    assert_readable(unknown)


def test_well_known_documents_are_readable_and_so_is_their_404(world: World) -> None:
    for path, _ in cors_faces(world)[1:7]:
        answer = requests.get(world.url + path, headers={"Origin": ORIGIN}, timeout=10)
        assert answer.status_code == 200, path
        assert_readable(answer)
        assert "Access-Control-Expose-Headers" not in answer.headers  # nothing beyond the safelisted ones is read
    gone = requests.get(f"{world.url}/us-east-1_nope/.well-known/jwks.json", headers={"Origin": ORIGIN}, timeout=10)
    assert gone.status_code == 404
    assert_readable(gone)


def test_oauth2_answers_and_errors_are_readable(world: World) -> None:
    base = f"{world.url}/{world.pool_id}"
    form = {"Origin": ORIGIN, "Content-Type": "application/x-www-form-urlencoded"}
    grant = {"grant_type": "authorization_code", "code": "nope", "client_id": world.client_id,
             "redirect_uri": "http://localhost:3000/callback"}
    token = requests.post(f"{base}/oauth2/token", data=grant, headers=form, timeout=10)
    assert token.status_code == 400 and token.json()["error"] == "invalid_grant"
    assert_readable(token)
    by_domain = requests.post(f"{world.url}/_domain/{world.domain}/oauth2/token", data={"grant_type": "x"},
                              headers=form, timeout=10)
    assert by_domain.status_code == 400
    assert_readable(by_domain)
    info = requests.get(f"{base}/oauth2/userInfo", headers={"Origin": ORIGIN, "Authorization": "Bearer x.y.z"},
                        timeout=10)
    assert info.status_code == 401
    assert_readable(info)
    revoke = requests.post(f"{base}/oauth2/revoke", data={"token": "nope"}, headers=form, timeout=10)
    assert revoke.status_code == 401 and revoke.json()["error"] == "invalid_client"  # no client_id
    assert_readable(revoke)


def test_a_signed_in_page_revokes_its_refresh_token(world: World) -> None:
    auth = world.api(IDP_TARGET + "InitiateAuth", {"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": world.client_id,
                                                   "AuthParameters": {"USERNAME": "pat", "PASSWORD": PASSWORD}})
    tokens = auth.json()["AuthenticationResult"]
    base = f"{world.url}/{world.pool_id}"
    revoke = requests.post(f"{base}/oauth2/revoke", headers={"Origin": ORIGIN}, timeout=10,
                           data={"token": tokens["RefreshToken"], "client_id": world.client_id})
    assert revoke.status_code == 200
    assert_readable(revoke)
    again = world.api(IDP_TARGET + "InitiateAuth", {"AuthFlow": "REFRESH_TOKEN_AUTH", "ClientId": world.client_id,
                                                    "AuthParameters": {"REFRESH_TOKEN": tokens["RefreshToken"]}})
    assert again.status_code == 400 and again.json()["__type"] == "NotAuthorizedException"  # it really was revoked
    assert_readable(again)


# --- never on the control plane nor the hosted UI's pages ----------------------------------------------


def test_the_control_plane_never_answers_cross_origin(world: World) -> None:
    for method, path in (("OPTIONS", "/_harness/events"), ("OPTIONS", "/_harness/pools/x/mint"),
                         ("GET", "/_harness/events"), ("POST", "/_harness/pools/x/mint"),
                         ("OPTIONS", "/_harness/.well-known/jwks.json")):
        answer = requests.request(method, world.url + path, timeout=10, headers={
            "Origin": ORIGIN, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type"})
        assert answer.status_code == 403 and answer.json()["error"] == "forbidden_origin", (method, path)
        assert_not_cross_origin(answer)
    own = requests.get(world.url + "/_harness", timeout=10)  # the harness's own callers still get through
    assert own.status_code == 200
    assert_not_cross_origin(own)


def test_hosted_ui_pages_are_never_cross_origin(world: World) -> None:
    base = f"{world.url}/{world.pool_id}"
    query = f"?client_id={world.client_id}&response_type=code&redirect_uri=http://localhost:3000/callback"
    for path in ("/login" + query, "/oauth2/authorize" + query, "/logout" + query, "/error", "/oauth2/idpresponse"):
        page = requests.get(base + path, headers={"Origin": ORIGIN}, allow_redirects=False, timeout=10)
        assert page.status_code < 500, path
        assert_not_cross_origin(page)
        preflight = requests.options(base + path, headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"},
                                     timeout=10)
        assert preflight.status_code == 405, path
        assert_not_cross_origin(preflight)


@pytest.mark.parametrize("path", ["/", "/_harness", "/_harness/", "/_harness/clock", "/nope", "/a/b/c/d",
                                  "/us-east-1_x/login", "/_domain/none/oauth2/token", "/_idp/google/token",
                                  "/%00", "/.well-known/", "//", "/" + "x" * 4000])
def test_no_options_request_ends_in_a_server_error(world: World, path: str) -> None:
    for headers in ({}, {"Origin": ORIGIN, "Access-Control-Request-Method": "PUT",
                         "Access-Control-Request-Headers": "\x7f, ,,,"}):
        answer = requests.options(world.url + path, headers=headers, timeout=10)
        assert answer.status_code < 500, (path, answer.status_code, answer.text[:200])
