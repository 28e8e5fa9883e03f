"""The managed login over HTTP, browser-less: redirects followed by hand with ``requests``.

Federation goes through the harness's fake Google IdP; every token from
/oauth2/token is verified with PyJWT against the pool's served JWKS.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
import requests

from harness.engine.triggers import set_trigger
from harness.fake_idps import FakeIdPHandle, FakeIdPs
from harness.server import Emulator

CALLBACK = "http://localhost:3000/callback"
LOGOUT = "http://localhost:3000/bye"
PASSWORD = "Passw0rd!"
VERIFIER = "verifier-" + "x" * 50
CHALLENGE = base64.urlsafe_b64encode(hashlib.sha256(VERIFIER.encode()).digest()).rstrip(b"=").decode()


@dataclass
class World:
    emu: Emulator
    idp: Any  # boto3 cognito-idp client
    pool_id: str
    client_id: str
    client_secret: str
    google: FakeIdPHandle

    @property
    def base(self) -> str:
        return f"{self.emu.url}/{self.pool_id}"

    def authorize_params(self, **extra: str) -> dict[str, str]:
        params = {"response_type": "code", "client_id": self.client_id, "redirect_uri": CALLBACK,
                  "state": "st-1", "scope": "openid email profile", "code_challenge": CHALLENGE,
                  "code_challenge_method": "S256", "nonce": "n-1"}
        params.update(extra)
        return {k: v for k, v in params.items() if v is not None}

    def token(self, **form: str) -> requests.Response:
        return requests.post(f"{self.base}/oauth2/token", data=form, auth=(self.client_id, self.client_secret),
                             timeout=10)

    def jwks_client(self) -> jwt.PyJWKClient:
        return jwt.PyJWKClient(f"{self.base}/.well-known/jwks.json")

    def verify(self, token: str, **options: Any) -> dict[str, Any]:
        key = self.jwks_client().get_signing_key_from_jwt(token).key
        return jwt.decode(token, key, algorithms=["RS256"], issuer=f"{self.emu.url}/{self.pool_id}",
                          options={"verify_aud": False, **options})


def follow(session: requests.Session, url: str, stop_at: str = CALLBACK, limit: int = 10) -> requests.Response:
    """Follow redirects by hand until one points at the app (or a page is shown)."""
    response = session.get(url, allow_redirects=False, timeout=10)
    for _ in range(limit):
        location = response.headers.get("Location")
        if response.status_code != 302 or not location or location.startswith(stop_at):
            return response
        response = session.get(location, allow_redirects=False, timeout=10)
    raise AssertionError("too many redirects")


def submit_login(url: str, data: dict[str, str], session: requests.Session | None = None) -> requests.Response:
    """POST the sign-in form as a browser does: GET it first (XSRF-TOKEN cookie), send its _csrf field back."""
    session = session or requests.Session()
    form = session.get(url, allow_redirects=False, timeout=10)
    token = re.search(r'name="_csrf" value="([^"]+)"', form.text)
    assert form.status_code == 200 and token, (form.status_code, form.text)
    return session.post(url, data={**data, "_csrf": token.group(1)}, allow_redirects=False, timeout=10)


def query_of(response: requests.Response) -> dict[str, str]:
    location = response.headers["Location"]
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


@pytest.fixture()
def world(emulator: Emulator, idp: Any) -> World:
    pool_id = idp.create_user_pool(PoolName="hosted", AutoVerifiedAttributes=["email"])["UserPool"]["Id"]
    idps = FakeIdPs(emulator.backend)
    idps.set_client_timeout(2.0)
    google = idps.create("google", preset="google")
    google.set_user("1001", email="ann@example.com", email_verified=True, name="Ann Example",
                    picture="https://example.com/ann.png", select=True)
    idp.create_identity_provider(
        UserPoolId=pool_id, ProviderName="Google", ProviderType="Google",
        ProviderDetails={"client_id": google.client_id, "client_secret": google.client_secret,
                         "authorize_scopes": "openid email profile"},
        AttributeMapping={"email": "email", "email_verified": "email_verified", "name": "name",
                          "username": "sub"})
    client = idp.create_user_pool_client(
        UserPoolId=pool_id, ClientName="web", GenerateSecret=True, CallbackURLs=[CALLBACK], LogoutURLs=[LOGOUT],
        AllowedOAuthFlows=["code", "implicit"], AllowedOAuthFlowsUserPoolClient=True,
        AllowedOAuthScopes=["openid", "email", "profile", "aws.cognito.signin.user.admin"],
        SupportedIdentityProviders=["COGNITO", "Google"],
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])["UserPoolClient"]
    return World(emulator, idp, pool_id, client["ClientId"], client["ClientSecret"], google)


def google_code(world: World, session: requests.Session | None = None, **extra: str) -> dict[str, str]:
    session = session or requests.Session()
    params = world.authorize_params(identity_provider="Google", **extra)
    response = follow(session, f"{world.base}/oauth2/authorize?{urlencode(params)}")
    assert response.status_code == 302, response.text
    assert response.headers["Location"].startswith(CALLBACK)
    return query_of(response)


def native_user(world: World, username: str = "bob", email: str = "ann@example.com") -> str:
    world.idp.admin_create_user(UserPoolId=world.pool_id, Username=username, MessageAction="SUPPRESS",
                                UserAttributes=[{"Name": "email", "Value": email},
                                                {"Name": "email_verified", "Value": "true"}])
    world.idp.admin_set_user_password(UserPoolId=world.pool_id, Username=username, Password=PASSWORD,
                                      Permanent=True)
    return world.idp.admin_get_user(UserPoolId=world.pool_id, Username=username)["UserAttributes"]


def sub_of(attributes: list[dict[str, str]]) -> str:
    return next(a["Value"] for a in attributes if a["Name"] == "sub")


# --- discovery ------------------------------------------------------------------------------------


def test_discovery_names_the_hosted_ui_endpoints_that_are_served(world: World) -> None:
    doc = requests.get(f"{world.base}/.well-known/openid-configuration", timeout=10).json()
    assert doc["authorization_endpoint"] == f"{world.base}/oauth2/authorize"
    assert doc["end_session_endpoint"] == f"{world.base}/logout"
    for key in ("token_endpoint", "revocation_endpoint"):
        answer = requests.post(doc[key], data={}, timeout=10)
        assert answer.status_code in (400, 401) and "error" in answer.json()
    assert requests.get(doc["userinfo_endpoint"], timeout=10).status_code == 400


def test_discovery_is_the_pools_own_recorded_and_unknown_pools_are_404(world: World) -> None:
    """The engine builds the document and records the fetch (Backend.discovery); the face only serves it."""
    mark = world.emu.backend.events.last_seq
    answer = requests.get(f"{world.base}/.well-known/openid-configuration", headers={"User-Agent": "oidc-lib/1"},
                          timeout=10)
    doc = answer.json()
    assert answer.headers["Cache-Control"] == "public, max-age=3600"
    assert doc["issuer"] == world.base and doc["jwks_uri"] == f"{world.base}/.well-known/jwks.json"
    assert doc == world.emu.backend.discovery(world.pool_id)
    fetches = world.emu.backend.events.list("discovery.fetch", pool_id=world.pool_id, since=mark)
    assert [e.data.get("user_agent") for e in fetches] == ["oidc-lib/1", None]  # the direct call: no requester
    missing = requests.get(f"{world.emu.url}/us-east-1_nope/.well-known/openid-configuration", timeout=10)
    assert missing.status_code == 404 and "us-east-1_nope does not exist" in missing.json()["message"]
    assert world.emu.backend.discovery("us-east-1_nope") is None


# --- the full federated code flow ---------------------------------------------------------------


def test_code_flow_with_pkce_through_fake_google(world: World) -> None:
    session = requests.Session()
    first = session.get(f"{world.base}/oauth2/authorize?{urlencode(world.authorize_params(identity_provider='Google'))}",
                        allow_redirects=False, timeout=10)
    assert first.status_code == 302
    to_idp = urlsplit(first.headers["Location"])
    assert f"{to_idp.scheme}://{to_idp.netloc}{to_idp.path}" == f"{world.google.issuer}/authorize"
    idp_query = {k: v[0] for k, v in parse_qs(to_idp.query).items()}
    assert idp_query["client_id"] == world.google.client_id
    assert idp_query["redirect_uri"] == f"{world.base}/oauth2/idpresponse"
    assert idp_query["nonce"] and idp_query["state"]

    code = google_code(world, session)
    assert code["state"] == "st-1"
    tokens = world.token(grant_type="authorization_code", code=code["code"], redirect_uri=CALLBACK,
                         code_verifier=VERIFIER)
    assert tokens.status_code == 200, tokens.text
    assert tokens.headers["Access-Control-Allow-Origin"] == "*"
    body = tokens.json()
    assert set(body) == {"access_token", "id_token", "refresh_token", "expires_in", "token_type"}
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert body["refresh_token"].count(".") == 4

    id_claims = world.verify(body["id_token"])
    assert id_claims["aud"] == world.client_id and id_claims["token_use"] == "id"
    assert id_claims["cognito:username"] == "Google_1001"
    assert id_claims["nonce"] == "n-1"
    assert id_claims["email"] == "ann@example.com" and id_claims["email_verified"] is True
    expected_hash = base64.urlsafe_b64encode(
        hashlib.sha256(body["access_token"].encode()).digest()[:16]).rstrip(b"=").decode()
    assert id_claims["at_hash"] == expected_hash
    (identity,) = id_claims["identities"]
    assert identity["providerName"] == "Google" and identity["userId"] == "1001"
    assert identity["primary"] == "true" and identity["dateCreated"].isdigit()
    access = world.verify(body["access_token"])
    assert access["token_use"] == "access" and access["client_id"] == world.client_id
    assert set(access["scope"].split()) == {"openid", "email", "profile"}
    assert access["username"] == "Google_1001" and "aud" not in access
    assert jwt.get_unverified_header(body["access_token"])["kid"] != jwt.get_unverified_header(body["id_token"])["kid"]

    user = world.idp.admin_get_user(UserPoolId=world.pool_id, Username="Google_1001")
    assert user["UserStatus"] == "EXTERNAL_PROVIDER"
    attributes = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
    stored = json.loads(attributes["identities"])
    assert stored[0]["primary"] is True and isinstance(stored[0]["dateCreated"], int)
    assert attributes["email_verified"] == "true"

    info = requests.get(f"{world.base}/oauth2/userInfo", headers={"Authorization": f"Bearer {body['access_token']}"},
                        timeout=10)
    assert info.status_code == 200
    assert info.json()["sub"] == id_claims["sub"] and info.json()["username"] == "Google_1001"
    assert info.json()["email_verified"] == "true"
    posted = requests.post(f"{world.base}/oauth2/userInfo",
                           headers={"Authorization": f"Bearer {body['access_token']}"}, timeout=10)
    assert posted.json() == info.json()

    refreshed = world.token(grant_type="refresh_token", refresh_token=body["refresh_token"])
    assert refreshed.status_code == 200
    assert "refresh_token" not in refreshed.json()
    new_id = world.verify(refreshed.json()["id_token"])
    assert new_id["sub"] == id_claims["sub"] and new_id["origin_jti"] == id_claims["origin_jti"]
    assert new_id["auth_time"] == id_claims["auth_time"]

    revoked = requests.post(f"{world.base}/oauth2/revoke", data={"token": body["refresh_token"]},
                            auth=(world.client_id, world.client_secret), timeout=10)
    assert revoked.status_code == 200 and revoked.content == b""
    again = world.token(grant_type="refresh_token", refresh_token=body["refresh_token"])
    assert again.status_code == 400 and again.json() == {"error": "invalid_grant"}
    gone = requests.get(f"{world.base}/oauth2/userInfo",
                        headers={"Authorization": f"Bearer {refreshed.json()['access_token']}"}, timeout=10)
    assert gone.status_code == 401
    assert gone.headers["WWW-Authenticate"].startswith('error="invalid_token"')
    world.verify(refreshed.json()["access_token"])  # still a valid JWT, as Cognito's revoked tokens are

    bye = session.get(f"{world.base}/logout?{urlencode({'client_id': world.client_id, 'logout_uri': LOGOUT})}",
                      allow_redirects=False, timeout=10)
    assert bye.status_code == 302 and bye.headers["Location"] == LOGOUT
    assert "Max-Age=0" in bye.headers["Set-Cookie"]


def test_hosted_session_cookie_skips_login_until_logout(world: World) -> None:
    native_user(world)
    session = requests.Session()
    params = world.authorize_params(identity_provider="COGNITO")
    to_login = session.get(f"{world.base}/oauth2/authorize?{urlencode(params)}", allow_redirects=False, timeout=10)
    assert to_login.status_code == 302 and "/login?" in to_login.headers["Location"]
    page = session.get(to_login.headers["Location"], timeout=10)
    assert page.status_code == 200 and 'name="password"' in page.text
    posted = submit_login(to_login.headers["Location"], {"username": "bob", "password": PASSWORD}, session)
    assert posted.status_code == 302 and posted.headers["Location"].startswith(CALLBACK)
    assert "cognito=" in posted.headers["Set-Cookie"]
    again = session.get(f"{world.base}/oauth2/authorize?{urlencode(params)}", allow_redirects=False, timeout=10)
    assert again.headers["Location"].startswith(CALLBACK)  # the session cookie signed us in
    session.get(f"{world.base}/logout?{urlencode({'client_id': world.client_id, 'logout_uri': LOGOUT})}",
                allow_redirects=False, timeout=10)
    after = session.get(f"{world.base}/oauth2/authorize?{urlencode(params)}", allow_redirects=False, timeout=10)
    assert "/login?" in after.headers["Location"]


def test_native_login_code_and_token_claims(world: World) -> None:
    native_user(world)
    login_url = f"{world.base}/login?{urlencode(world.authorize_params())}"
    response = submit_login(login_url, {"username": "bob", "password": PASSWORD})
    code = query_of(response)
    body = world.token(grant_type="authorization_code", code=code["code"], redirect_uri=CALLBACK,
                       code_verifier=VERIFIER).json()
    claims = world.verify(body["id_token"])
    assert claims["cognito:username"] == "bob" and "identities" not in claims


def test_implicit_flow_returns_tokens_in_the_fragment(world: World) -> None:
    native_user(world)
    params = world.authorize_params(response_type="token", code_challenge=None, code_challenge_method=None)
    response = submit_login(f"{world.base}/login?{urlencode(params)}", {"username": "bob", "password": PASSWORD})
    location = response.headers["Location"]
    assert location.startswith(CALLBACK + "#")
    fragment = {k: v[0] for k, v in parse_qs(urlsplit(location).fragment).items()}
    assert fragment["token_type"] == "bearer" and fragment["expires_in"] == "3600" and fragment["state"] == "st-1"
    assert "refresh_token" not in fragment
    assert world.verify(fragment["id_token"])["nonce"] == "n-1"
    assert world.verify(fragment["access_token"])["token_use"] == "access"


# --- federation rules -------------------------------------------------------------------------------


def test_same_email_native_and_federated_are_two_users(world: World) -> None:
    native_sub = sub_of(native_user(world, "bob", "ann@example.com"))
    code = google_code(world)
    body = world.token(grant_type="authorization_code", code=code["code"], redirect_uri=CALLBACK,
                       code_verifier=VERIFIER).json()
    federated = world.verify(body["id_token"])
    assert federated["sub"] != native_sub and federated["email"] == "ann@example.com"
    users = world.idp.list_users(UserPoolId=world.pool_id, Filter='email = "ann@example.com"')["Users"]
    assert sorted(u["Username"] for u in users) == ["Google_1001", "bob"]


def test_linking_makes_federated_sign_in_return_the_native_sub(world: World) -> None:
    native_sub = sub_of(native_user(world, "bob", "ann@example.com"))
    world.idp.admin_link_provider_for_user(
        UserPoolId=world.pool_id,
        DestinationUser={"ProviderName": "Cognito", "ProviderAttributeValue": "bob"},
        SourceUser={"ProviderName": "Google", "ProviderAttributeName": "Cognito_Subject",
                    "ProviderAttributeValue": "1001"})
    code = google_code(world)
    body = world.token(grant_type="authorization_code", code=code["code"], redirect_uri=CALLBACK,
                       code_verifier=VERIFIER).json()
    claims = world.verify(body["id_token"])
    assert claims["sub"] == native_sub and claims["cognito:username"] == "bob"
    assert [(i["providerName"], i["userId"], i["primary"]) for i in claims["identities"]] == [("Google", "1001", "false")]
    usernames = [u["Username"] for u in world.idp.list_users(UserPoolId=world.pool_id)["Users"]]
    assert usernames == ["bob"]


def test_link_errors(world: World) -> None:
    native_user(world, "bob")
    google_code(world)  # Google_1001 now exists
    link = world.idp.admin_link_provider_for_user
    errors = world.idp.exceptions
    with pytest.raises(errors.InvalidParameterException, match="Merging is not currently supported"):
        link(UserPoolId=world.pool_id, DestinationUser={"ProviderName": "Cognito", "ProviderAttributeValue": "bob"},
             SourceUser={"ProviderName": "Google", "ProviderAttributeName": "Cognito_Subject",
                         "ProviderAttributeValue": "1001"})
    with pytest.raises(errors.InvalidParameterException, match="Cognito users with a username/password"):
        link(UserPoolId=world.pool_id, DestinationUser={"ProviderName": "Cognito", "ProviderAttributeValue": "bob"},
             SourceUser={"ProviderName": "Cognito", "ProviderAttributeName": "Cognito_Subject",
                         "ProviderAttributeValue": "x"})
    with pytest.raises(errors.UserNotFoundException):
        link(UserPoolId=world.pool_id, DestinationUser={"ProviderName": "Cognito", "ProviderAttributeValue": "nobody"},
             SourceUser={"ProviderName": "Google", "ProviderAttributeName": "Cognito_Subject",
                         "ProviderAttributeValue": "2002"})
    for n in range(5):
        link(UserPoolId=world.pool_id, DestinationUser={"ProviderName": "Cognito", "ProviderAttributeValue": "bob"},
             SourceUser={"ProviderName": "Google", "ProviderAttributeName": "Cognito_Subject",
                         "ProviderAttributeValue": f"30{n}"})
    with pytest.raises(errors.LimitExceededException):
        link(UserPoolId=world.pool_id, DestinationUser={"ProviderName": "Cognito", "ProviderAttributeValue": "bob"},
             SourceUser={"ProviderName": "Google", "ProviderAttributeName": "Cognito_Subject",
                         "ProviderAttributeValue": "399"})
    world.idp.admin_disable_provider_for_user(UserPoolId=world.pool_id, User={
        "ProviderName": "Google", "ProviderAttributeName": "Cognito_Subject", "ProviderAttributeValue": "300"})
    attributes = {a["Name"]: a["Value"] for a in world.idp.admin_get_user(UserPoolId=world.pool_id,
                                                                         Username="bob")["UserAttributes"]}
    assert [i["userId"] for i in json.loads(attributes["identities"])] == ["301", "302", "303", "304"]


def test_email_verified_false_and_changing_claims(world: World) -> None:
    world.google.set_user("1001", email="ann@old.example", email_verified=False, name="Ann")
    google_code(world)
    attributes = {a["Name"]: a["Value"] for a in world.idp.admin_get_user(
        UserPoolId=world.pool_id, Username="Google_1001")["UserAttributes"]}
    assert attributes["email"] == "ann@old.example" and attributes["email_verified"] == "false"
    world.google.set_user("1001", email="ann@new.example", email_verified=True, name="Ann New")
    code = google_code(world)
    body = world.token(grant_type="authorization_code", code=code["code"], redirect_uri=CALLBACK,
                       code_verifier=VERIFIER).json()
    claims = world.verify(body["id_token"])
    assert claims["email"] == "ann@new.example" and claims["email_verified"] is True and claims["name"] == "Ann New"


def test_unmapped_email_verified_leaves_email_unverified(world: World) -> None:
    world.idp.update_identity_provider(UserPoolId=world.pool_id, ProviderName="Google",
                                       AttributeMapping={"email": "email", "username": "sub"})
    google_code(world)
    attributes = {a["Name"]: a["Value"] for a in world.idp.admin_get_user(
        UserPoolId=world.pool_id, Username="Google_1001")["UserAttributes"]}
    assert attributes["email_verified"] == "false"


def test_pre_signup_trigger_auto_links_on_the_second_attempt(world: World) -> None:
    native_sub = sub_of(native_user(world, "bob", "ann@example.com"))
    seen: list[dict[str, Any]] = []

    def pre_signup(event: dict[str, Any]) -> dict[str, Any]:
        seen.append(event)
        if event["triggerSource"] == "PreSignUp_ExternalProvider":
            provider, _, provider_id = event["userName"].partition("_")
            matches = world.idp.list_users(UserPoolId=event["userPoolId"],
                                           Filter=f'email = "{event["request"]["userAttributes"]["email"]}"')["Users"]
            native = [u for u in matches if u["UserStatus"] != "EXTERNAL_PROVIDER"]
            if native:
                world.idp.admin_link_provider_for_user(
                    UserPoolId=event["userPoolId"],
                    DestinationUser={"ProviderName": "Cognito", "ProviderAttributeValue": native[0]["Username"]},
                    SourceUser={"ProviderName": provider, "ProviderAttributeName": "Cognito_Subject",
                                "ProviderAttributeValue": provider_id})
        return event

    set_trigger(world.emu.backend, world.pool_id, "PreSignUp", pre_signup)
    session = requests.Session()
    first = follow(session, f"{world.base}/oauth2/authorize?"
                            f"{urlencode(world.authorize_params(identity_provider='Google'))}")
    assert query_of(first) == {"error_description": "Already found an entry for username Google_1001",
                               "state": "st-1", "error": "invalid_request"}
    assert seen[0]["triggerSource"] == "PreSignUp_ExternalProvider" and seen[0]["userName"] == "Google_1001"
    assert seen[0]["request"]["userAttributes"]["email"] == "ann@example.com"
    code = google_code(world, session)
    body = world.token(grant_type="authorization_code", code=code["code"], redirect_uri=CALLBACK,
                       code_verifier=VERIFIER).json()
    assert world.verify(body["id_token"])["sub"] == native_sub
    assert len(seen) == 1  # a linked sign-in is not a sign-up


def test_pre_signup_trigger_error_is_reported(world: World) -> None:
    def deny(event: dict[str, Any]) -> None:
        raise RuntimeError("sign-ups are closed")

    set_trigger(world.emu.backend, world.pool_id, "PreSignUp", deny)
    response = follow(requests.Session(), f"{world.base}/oauth2/authorize?"
                                          f"{urlencode(world.authorize_params(identity_provider='Google'))}")
    assert query_of(response)["error_description"] == "PreSignUp failed with error sign-ups are closed."


# --- IdP faults ------------------------------------------------------------------------------------


def federated_error(world: World) -> dict[str, str]:
    response = follow(requests.Session(), f"{world.base}/oauth2/authorize?"
                                          f"{urlencode(world.authorize_params(identity_provider='Google'))}")
    assert response.status_code == 302 and response.headers["Location"].startswith(CALLBACK)
    return query_of(response)


def test_idp_token_endpoint_timeout(world: World) -> None:
    FakeIdPs(world.emu.backend).set_client_timeout(0.3)
    world.google.fail_token_endpoint("timeout", delay=0.6, count=1)
    response = follow(requests.Session(), f"{world.base}/oauth2/authorize?"
                                          f"{urlencode(world.authorize_params(identity_provider='Google'))}")
    assert "error_description=Timeout+occurred+in+calling+IdP+token+endpoint&state=st-1&error=invalid_request" \
        in response.headers["Location"]
    assert "code" in federated_error(world)  # the fault fired once; the next sign-in works


def test_idp_outage_and_changed_secret(world: World) -> None:
    world.google.fail_token_endpoint("error", status=503, count=1)
    assert federated_error(world) == {"error_description": "Google Error - 503 server_error", "state": "st-1",
                                      "error": "invalid_request"}
    world.google.change_client_secret()
    assert federated_error(world)["error_description"] == "Google Error - 401 invalid_client"


def test_idp_key_rotation(world: World) -> None:
    assert "code" in federated_error(world)
    world.google.rotate_keys(unpublish_old=True)  # a correct client refetches the JWKS for the new kid
    assert "code" in federated_error(world)
    world.google.sign_with_unpublished_key()
    error = federated_error(world)
    assert error["error"] == "invalid_request" and error["error_description"].startswith("Bad id_token signature")
    # evidence: the pool fetched the JWKS once, refetched it for the rotated kid, and once more for the unknown one
    endpoints = [r["endpoint"] for r in world.emu.backend.idps.get("google").requests]
    assert endpoints.count("token") == 3 and endpoints.count("jwks") == 3


# --- bad input: never a 500 ---------------------------------------------------------------------------


def test_authorize_bad_input(world: World) -> None:
    def authorize(**params: str | None) -> requests.Response:
        query = {k: v for k, v in world.authorize_params(**params).items()}
        return requests.get(f"{world.base}/oauth2/authorize?{urlencode(query)}", allow_redirects=False, timeout=10)

    wrong_redirect = authorize(redirect_uri="https://evil.example/cb")
    assert wrong_redirect.headers["Location"] == \
        f"{world.base}/error?error=redirect_mismatch&client_id={world.client_id}"
    page = requests.get(wrong_redirect.headers["Location"], timeout=10)
    assert "An error was encountered with the requested page." in page.text
    assert authorize(client_id="nope").headers["Location"].startswith(f"{world.base}/error?")
    assert authorize(client_id=None).headers["Location"].startswith(f"{world.base}/error?")
    assert authorize(redirect_uri=None).headers["Location"].startswith(f"{world.base}/error?error=redirect_mismatch")
    cases = {
        "invalid_request": [dict(response_type=None), dict(code_challenge_method="plain"),
                            dict(code_challenge_method=None), dict(identity_provider="Facebook"),
                            dict(idp_identifier="unknown.example")],
        "unsupported_response_type": [dict(response_type="id_token")],
        "invalid_scope": [dict(scope="email"), dict(scope="phone openid"), dict(scope="nonsense")],
    }
    for error, variants in cases.items():
        for variant in variants:
            answer = authorize(**variant)
            assert answer.status_code == 302, variant
            assert query_of(answer)["error"] == error, variant
            assert query_of(answer)["state"] == "st-1"
    assert requests.get(f"{world.emu.url}/us-east-1_nope/oauth2/authorize", timeout=10).status_code == 404


def test_token_endpoint_bad_input(world: World) -> None:
    native_user(world)

    def fresh_code(**extra: str) -> str:
        response = submit_login(f"{world.base}/login?{urlencode(world.authorize_params(**extra))}",
                                {"username": "bob", "password": PASSWORD})
        return query_of(response)["code"]

    def post(form: dict[str, str], auth: tuple[str, str] | None = None, **kwargs: Any) -> requests.Response:
        answer = requests.post(f"{world.base}/oauth2/token", data=form,
                               auth=auth or (world.client_id, world.client_secret), timeout=10, **kwargs)
        assert answer.status_code < 500
        assert answer.headers["Content-Type"] == "application/json;charset=UTF-8"
        return answer

    code = fresh_code()
    good = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK, "code_verifier": VERIFIER}
    assert post({**good, "code_verifier": "wrong-verifier"}).json() == {"error": "invalid_grant"}
    assert post(good).json() == {"error": "invalid_grant"}  # codes are one-time, even after a failed try
    code = fresh_code()
    assert post({**good, "code": code}, auth=(world.client_id, "bad-secret")).json() == {"error": "invalid_client"}
    assert post({**good, "code": code}, auth=("nobody", "x")).json() == {"error": "invalid_client"}
    assert post({**good, "code": code, "redirect_uri": "http://localhost:3000/other"}).json()["error"] == \
        "unauthorized_client"
    assert post({**good, "code": fresh_code()}, auth=None).status_code == 200
    for form, error in [({"grant_type": "authorization_code"}, "invalid_request"),
                        ({}, "invalid_request"),
                        ({"grant_type": "password"}, "unsupported_grant_type"),
                        ({"grant_type": "refresh_token"}, "invalid_request"),
                        ({"grant_type": "refresh_token", "refresh_token": "junk"}, "invalid_grant"),
                        ({"grant_type": "client_credentials"}, "unauthorized_client"),
                        ({**good, "code": "no-such-code"}, "invalid_grant")]:
        answer = post(form)
        assert answer.status_code == 400 and answer.json() == {"error": error}, form
    assert post({}, headers={"Content-Type": "application/json"}).json() == {"error": "invalid_request"}
    assert requests.post(f"{world.base}/oauth2/token", data="grant_type=authorization_code",
                         headers={"Authorization": "Basic !!!",
                                  "Content-Type": "application/x-www-form-urlencoded"},
                         timeout=10).json() == {"error": "invalid_client"}
    # a code expires after five minutes on the virtual clock
    expired = fresh_code()
    world.emu.backend.clock.advance(301)
    assert post({**good, "code": expired}).json() == {"error": "invalid_grant"}


def test_userinfo_and_revoke_bad_input(world: World) -> None:
    no_token = requests.get(f"{world.base}/oauth2/userInfo", timeout=10)
    assert no_token.status_code == 400
    assert no_token.headers["WWW-Authenticate"] == \
        'error="invalid_request", error_description="Bad OAuth2 request at UserInfo Endpoint"'
    junk = requests.get(f"{world.base}/oauth2/userInfo", headers={"Authorization": "Bearer junk"}, timeout=10)
    assert junk.status_code == 401 and junk.json()["error"] == "invalid_token"
    revoke = f"{world.base}/oauth2/revoke"
    assert requests.post(revoke, data={}, auth=(world.client_id, world.client_secret),
                         timeout=10).json() == {"error": "invalid_request"}
    bad_client = requests.post(revoke, data={"token": "x"}, auth=(world.client_id, "wrong"), timeout=10)
    assert bad_client.status_code == 401 and bad_client.json() == {"error": "invalid_client"}
    assert requests.post(revoke, data={"token": "unknown-token"}, auth=(world.client_id, world.client_secret),
                         timeout=10).status_code == 200
    code = google_code(world)
    body = world.token(grant_type="authorization_code", code=code["code"], redirect_uri=CALLBACK,
                       code_verifier=VERIFIER).json()
    wrong_type = requests.post(revoke, data={"token": body["access_token"]},
                               auth=(world.client_id, world.client_secret), timeout=10)
    assert wrong_type.status_code == 400 and wrong_type.json() == {"error": "unsupported_token_type"}
    world.emu.backend.clock.advance(3601)
    expired = requests.get(f"{world.base}/oauth2/userInfo",
                           headers={"Authorization": f"Bearer {body['access_token']}"}, timeout=10)
    assert expired.status_code == 401


def _secret_hash(world: World, username: str) -> str:
    import hmac

    digest = hmac.new(world.client_secret.encode(), (username + world.client_id).encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def test_userinfo_rejects_api_tokens_without_openid(world: World) -> None:
    native_user(world)
    result = world.idp.initiate_auth(ClientId=world.client_id, AuthFlow="USER_PASSWORD_AUTH",
                                     AuthParameters={"USERNAME": "bob", "PASSWORD": PASSWORD,
                                                     "SECRET_HASH": _secret_hash(world, "bob")})
    access = result["AuthenticationResult"]["AccessToken"]
    answer = requests.get(f"{world.base}/oauth2/userInfo", headers={"Authorization": f"Bearer {access}"}, timeout=10)
    assert answer.status_code == 401 and "openid" in answer.json()["error_description"]


def test_login_form_lockout_and_wrong_password(world: World) -> None:
    native_user(world)
    url = f"{world.base}/login?{urlencode(world.authorize_params())}"
    for _ in range(5):
        wrong = submit_login(url, {"username": "bob", "password": "nope"})
        assert wrong.status_code == 400 and "Incorrect username or password." in wrong.text
    locked = submit_login(url, {"username": "bob", "password": PASSWORD})
    assert locked.status_code == 400 and "Password attempts exceeded" in locked.text
    world.emu.backend.clock.advance(2)
    ok = submit_login(url, {"username": "bob", "password": PASSWORD})
    assert ok.status_code == 302 and "code=" in ok.headers["Location"]
    unknown = submit_login(url, {"username": "ghost", "password": PASSWORD})
    assert unknown.status_code == 400 and "Incorrect username or password." in unknown.text
    missing = submit_login(url, {})
    assert missing.status_code == 400


def test_logout_bad_input_and_relogin(world: World) -> None:
    def logout(**params: str) -> requests.Response:
        return requests.get(f"{world.base}/logout?{urlencode(params)}", allow_redirects=False, timeout=10)

    assert logout().headers["Location"].startswith(f"{world.base}/error?error=invalid_request")
    assert logout(client_id=world.client_id).headers["Location"].startswith(f"{world.base}/error?")
    assert logout(client_id=world.client_id, logout_uri="https://evil.example/").headers["Location"] == \
        f"{world.base}/error?error=redirect_mismatch&client_id={world.client_id}"
    relogin = logout(client_id=world.client_id, redirect_uri=CALLBACK, response_type="code", state="s2")
    assert relogin.status_code == 302 and "/login?" in relogin.headers["Location"]


def test_client_credentials_with_resource_server_scopes(world: World) -> None:
    world.idp.create_resource_server(UserPoolId=world.pool_id, Identifier="https://api.example.com", Name="api",
                                     Scopes=[{"ScopeName": "read", "ScopeDescription": "read"},
                                             {"ScopeName": "write", "ScopeDescription": "write"}])
    m2m = world.idp.create_user_pool_client(
        UserPoolId=world.pool_id, ClientName="m2m", GenerateSecret=True, AllowedOAuthFlows=["client_credentials"],
        AllowedOAuthFlowsUserPoolClient=True, AllowedOAuthScopes=["https://api.example.com/read"])["UserPoolClient"]
    auth = (m2m["ClientId"], m2m["ClientSecret"])
    answer = requests.post(f"{world.base}/oauth2/token", data={"grant_type": "client_credentials"}, auth=auth,
                           timeout=10)
    assert answer.status_code == 200 and set(answer.json()) == {"access_token", "expires_in", "token_type"}
    claims = world.verify(answer.json()["access_token"])
    assert claims["scope"] == "https://api.example.com/read" and claims["sub"] == m2m["ClientId"]
    assert claims["client_id"] == m2m["ClientId"] and claims["token_use"] == "access"
    posted = requests.post(f"{world.base}/oauth2/token", timeout=10,
                           data={"grant_type": "client_credentials", "client_id": m2m["ClientId"],
                                 "client_secret": m2m["ClientSecret"], "scope": "https://api.example.com/read"})
    assert posted.status_code == 200
    denied = requests.post(f"{world.base}/oauth2/token", auth=auth, timeout=10,
                           data={"grant_type": "client_credentials", "scope": "https://api.example.com/write"})
    assert denied.status_code == 400 and denied.json() == {"error": "invalid_scope"}
    servers = world.idp.list_resource_servers(UserPoolId=world.pool_id, MaxResults=10)["ResourceServers"]
    assert [s["Identifier"] for s in servers] == ["https://api.example.com"]


def test_sign_in_with_apple_string_booleans(world: World) -> None:
    apple = FakeIdPs(world.emu.backend).create("apple", preset="apple")
    apple.set_user("000123.abc", email="x7@privaterelay.appleid.com", email_verified="false",
                   is_private_email=True, select=True)
    world.idp.create_identity_provider(
        UserPoolId=world.pool_id, ProviderName="SignInWithApple", ProviderType="SignInWithApple",
        ProviderDetails={"client_id": apple.client_id, "team_id": "TEAM123", "key_id": "KEY123",
                         "private_key": "-----BEGIN PRIVATE KEY-----placeholder", "authorize_scopes": "email name"},
        AttributeMapping={"email": "email", "email_verified": "email_verified"})
    world.idp.update_user_pool_client(
        UserPoolId=world.pool_id, ClientId=world.client_id, CallbackURLs=[CALLBACK], AllowedOAuthFlows=["code"],
        AllowedOAuthFlowsUserPoolClient=True, AllowedOAuthScopes=["openid", "email"],
        SupportedIdentityProviders=["SignInWithApple"])
    response = follow(requests.Session(), f"{world.base}/oauth2/authorize?" + urlencode(world.authorize_params(
        identity_provider="SignInWithApple", scope="openid email")))
    assert "code" in query_of(response), response.headers.get("Location")
    # what Apple's ID token carried: string booleans
    issued = [r for r in apple.state.requests if r["endpoint"] == "token"]
    assert len(issued) == 1
    attributes = {a["Name"]: a["Value"] for a in world.idp.admin_get_user(
        UserPoolId=world.pool_id, Username="SignInWithApple_000123.abc")["UserAttributes"]}
    assert attributes["email_verified"] == "false" and attributes["email"] == "x7@privaterelay.appleid.com"
    claims = apple.state.id_token_claims(apple.state.users["000123.abc"], apple.state.codes[next(iter(apple.state.codes))],
                                         apple.issuer, 0)
    assert claims["email_verified"] == "false" and claims["is_private_email"] == "true"


def test_native_user_must_set_a_new_password_in_the_login_form(world: World) -> None:
    world.idp.admin_create_user(UserPoolId=world.pool_id, Username="temp", TemporaryPassword="Temp0rary!",
                                MessageAction="SUPPRESS")
    url = f"{world.base}/login?{urlencode(world.authorize_params())}"
    prompt = submit_login(url, {"username": "temp", "password": "Temp0rary!"})
    assert prompt.status_code == 200 and 'name="new_password"' in prompt.text
    weak = submit_login(url, {"username": "temp", "password": "Temp0rary!", "new_password": "short"})
    assert weak.status_code == 400 and "Password does not conform to policy" in weak.text
    done = submit_login(url, {"username": "temp", "password": "Temp0rary!", "new_password": "N3w-Passw0rd"})
    assert done.status_code == 302 and "code=" in done.headers["Location"]
    assert world.idp.admin_get_user(UserPoolId=world.pool_id, Username="temp")["UserStatus"] == "CONFIRMED"


def test_token_endpoint_refreshes_an_api_session(world: World) -> None:
    native_user(world)
    result = world.idp.initiate_auth(ClientId=world.client_id, AuthFlow="USER_PASSWORD_AUTH",
                                     AuthParameters={"USERNAME": "bob", "PASSWORD": PASSWORD,
                                                     "SECRET_HASH": _secret_hash(world, "bob")})["AuthenticationResult"]
    refreshed = world.token(grant_type="refresh_token", refresh_token=result["RefreshToken"])
    assert refreshed.status_code == 200 and set(refreshed.json()) == {"access_token", "id_token", "expires_in",
                                                                      "token_type"}
    assert world.verify(refreshed.json()["access_token"])["scope"] == "aws.cognito.signin.user.admin"


def test_idp_login_form_without_auto_approval(world: World) -> None:
    world.google.set_user("1001", password="idp-secret")
    world.google.select(None)
    session = requests.Session()
    response = follow(session, f"{world.base}/oauth2/authorize?"
                               f"{urlencode(world.authorize_params(identity_provider='Google'))}")
    assert response.status_code == 200 and 'name="login"' in response.text  # the IdP's own sign-in page
    to_idp = session.get(f"{world.base}/oauth2/authorize?"
                         f"{urlencode(world.authorize_params(identity_provider='Google'))}", allow_redirects=False,
                         timeout=10).headers["Location"]
    idp_params = {k: v[0] for k, v in parse_qs(urlsplit(to_idp).query).items()}
    wrong = session.post(f"{world.google.issuer}/authorize",
                         data={**idp_params, "login": "ann@example.com", "password": "nope"}, allow_redirects=False,
                         timeout=10)
    assert wrong.status_code == 401 and "Wrong email or password." in wrong.text
    right = session.post(f"{world.google.issuer}/authorize",
                         data={**idp_params, "login": "ann@example.com", "password": "idp-secret"},
                         allow_redirects=False, timeout=10)
    assert right.status_code == 302 and "/oauth2/idpresponse?" in right.headers["Location"]
    back = follow(session, right.headers["Location"])
    assert "code" in query_of(back)
    stale = session.get(right.headers["Location"], allow_redirects=False, timeout=10)  # state used up
    assert stale.status_code == 400 and "An error was encountered" in stale.text
