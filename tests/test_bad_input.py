"""Bad input never gets a 500: non-ASCII secrets, and the control plane's every field.

A str-to-str ``hmac.compare_digest`` raises TypeError when either side holds
a non-ASCII character, so a caller's bad ``SecretHash`` / ``ClientSecret`` /
``client_secret`` / ``code_challenge`` used to be a 500. A real pool answers
NotAuthorizedException (or ``invalid_client`` / ``invalid_grant``).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from botocore.exceptions import ClientError

from harness.control import Control
from harness.engine.common import secret_hash
from harness.server import Emulator
from tests.auth_support import add_fake_google

BAD_SECRETS = ["é" * 44, "\u2603", "秘密", "\U0001f511" * 10, "\ud800"]  # the last: a lone surrogate
PASSWORD = "Passw0rd!"
CALLBACK = "http://localhost:3000/callback"


@dataclass
class SecretPool:
    emu: Emulator
    idp: Any
    pool_id: str
    client_id: str
    secret: str

    def raw(self, operation: str, body: dict[str, Any]) -> requests.Response:
        """POST one cognito-idp call as JSON text (boto3 would refuse a lone surrogate)."""
        return requests.post(self.emu.url + "/", data=json.dumps(body), timeout=10, headers={
            "X-Amz-Target": f"AWSCognitoIdentityProviderService.{operation}",
            "Content-Type": "application/x-amz-json-1.1"})


@pytest.fixture()
def pool(emulator: Emulator, idp: Any) -> SecretPool:
    pool_id = idp.create_user_pool(PoolName="secrets")["UserPool"]["Id"]
    client = idp.create_user_pool_client(
        UserPoolId=pool_id, ClientName="server", GenerateSecret=True,
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH",
                           "ALLOW_REFRESH_TOKEN_AUTH"])["UserPoolClient"]
    idp.admin_create_user(UserPoolId=pool_id, Username="bob", MessageAction="SUPPRESS",
                          UserAttributes=[{"Name": "email", "Value": "bob@example.com"},
                                          {"Name": "email_verified", "Value": "true"}])
    idp.admin_set_user_password(UserPoolId=pool_id, Username="bob", Password=PASSWORD, Permanent=True)
    idp.admin_create_user(UserPoolId=pool_id, Username="temp", TemporaryPassword=PASSWORD, MessageAction="SUPPRESS")
    return SecretPool(emulator, idp, pool_id, client["ClientId"], client["ClientSecret"])


def _challenge_session(p: SecretPool) -> str:
    """A real NEW_PASSWORD_REQUIRED session (the secret hash is checked after the session)."""
    good = secret_hash(p.client_id, p.secret, "temp")
    started = p.idp.initiate_auth(ClientId=p.client_id, AuthFlow="USER_PASSWORD_AUTH",
                                  AuthParameters={"USERNAME": "temp", "PASSWORD": PASSWORD, "SECRET_HASH": good})
    assert started["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    return started["Session"]


def _secret_calls(p: SecretPool, bad: str) -> list[tuple[str, dict[str, Any]]]:
    """Every operation that reads a client secret or a secret hash, each given ``bad``."""
    cid, pid = p.client_id, p.pool_id
    auth = {"USERNAME": "bob", "PASSWORD": PASSWORD, "SECRET_HASH": bad}
    return [
        ("SignUp", {"ClientId": cid, "Username": "carol", "Password": PASSWORD, "SecretHash": bad}),
        ("ConfirmSignUp", {"ClientId": cid, "Username": "bob", "ConfirmationCode": "123456", "SecretHash": bad}),
        ("ResendConfirmationCode", {"ClientId": cid, "Username": "bob", "SecretHash": bad}),
        ("ForgotPassword", {"ClientId": cid, "Username": "bob", "SecretHash": bad}),
        ("ConfirmForgotPassword", {"ClientId": cid, "Username": "bob", "ConfirmationCode": "123456",
                                   "Password": PASSWORD, "SecretHash": bad}),
        ("InitiateAuth", {"ClientId": cid, "AuthFlow": "USER_PASSWORD_AUTH", "AuthParameters": auth}),
        ("InitiateAuth", {"ClientId": cid, "AuthFlow": "USER_SRP_AUTH",
                          "AuthParameters": {"USERNAME": "bob", "SRP_A": "abcd" * 64, "SECRET_HASH": bad}}),
        ("AdminInitiateAuth", {"UserPoolId": pid, "ClientId": cid, "AuthFlow": "ADMIN_USER_PASSWORD_AUTH",
                               "AuthParameters": auth}),
        ("RespondToAuthChallenge", {"ClientId": cid, "ChallengeName": "NEW_PASSWORD_REQUIRED",
                                    "Session": _challenge_session(p),
                                    "ChallengeResponses": {"USERNAME": "temp", "NEW_PASSWORD": "N3w-" + PASSWORD,
                                                           "SECRET_HASH": bad}}),
        ("AdminRespondToAuthChallenge", {"UserPoolId": pid, "ClientId": cid, "ChallengeName": "NEW_PASSWORD_REQUIRED",
                                         "Session": _challenge_session(p),
                                         "ChallengeResponses": {"USERNAME": "temp", "NEW_PASSWORD": "N3w-" + PASSWORD,
                                                                "SECRET_HASH": bad}}),
        ("InitiateAuth", {"ClientId": cid, "AuthFlow": "REFRESH_TOKEN_AUTH",
                          "AuthParameters": {"REFRESH_TOKEN": "x" * 40, "SECRET_HASH": bad}}),
        ("RevokeToken", {"ClientId": cid, "Token": "x" * 40, "ClientSecret": bad}),
        ("GetTokensFromRefreshToken", {"ClientId": cid, "RefreshToken": "x" * 40, "ClientSecret": bad}),
    ]


@pytest.mark.parametrize("bad", BAD_SECRETS, ids=["latin", "snowman", "cjk", "emoji", "surrogate"])
def test_non_ascii_secrets_are_refused_as_cognito_does(pool: SecretPool, bad: str) -> None:
    for operation, body in _secret_calls(pool, bad):
        answer = pool.raw(operation, body)
        assert answer.status_code == 400, (operation, answer.status_code, answer.text[:300])
        error = answer.json()
        expected = "UnauthorizedException" if operation == "RevokeToken" else "NotAuthorizedException"
        assert error["__type"] in (expected, "InvalidParameterException"), (operation, error)
        if error["__type"] == "NotAuthorizedException":
            assert "secret" in error["message"].lower() or "refresh token" in error["message"].lower(), error


def test_a_right_secret_hash_still_signs_in_after_a_wrong_one(pool: SecretPool) -> None:
    answer = pool.raw("InitiateAuth", {"ClientId": pool.client_id, "AuthFlow": "USER_PASSWORD_AUTH",
                                       "AuthParameters": {"USERNAME": "bob", "PASSWORD": PASSWORD,
                                                          "SECRET_HASH": "é" * 44}})
    assert answer.json()["__type"] == "NotAuthorizedException"
    good = secret_hash(pool.client_id, pool.secret, "bob")
    tokens = pool.idp.initiate_auth(ClientId=pool.client_id, AuthFlow="USER_PASSWORD_AUTH",
                                    AuthParameters={"USERNAME": "bob", "PASSWORD": PASSWORD, "SECRET_HASH": good})
    assert tokens["AuthenticationResult"]["AccessToken"]


def test_boto3_sees_not_authorized_for_a_non_ascii_secret_hash(pool: SecretPool) -> None:
    with pytest.raises(ClientError) as info:
        pool.idp.sign_up(ClientId=pool.client_id, Username="dave", Password=PASSWORD, SecretHash="ünïcödé")
    assert info.value.response["Error"]["Code"] == "NotAuthorizedException"
    assert pool.client_id in info.value.response["Error"]["Message"]


# --- the hosted UI's token endpoints --------------------------------------------------------------


@pytest.fixture()
def hosted(emulator: Emulator, idp: Any) -> Iterator[tuple[SecretPool, Any]]:
    pool_id = idp.create_user_pool(PoolName="hosted")["UserPool"]["Id"]
    google = add_fake_google(emulator.backend, idp, pool_id)
    client = idp.create_user_pool_client(
        UserPoolId=pool_id, ClientName="web", GenerateSecret=True, CallbackURLs=[CALLBACK],
        AllowedOAuthFlows=["code"], AllowedOAuthFlowsUserPoolClient=True, AllowedOAuthScopes=["openid", "email"],
        SupportedIdentityProviders=["COGNITO", "Google"])["UserPoolClient"]
    yield SecretPool(emulator, idp, pool_id, client["ClientId"], client["ClientSecret"]), google


def _google_code(p: SecretPool, challenge: str) -> str:
    """An authorization code through the fake Google, whose request carried ``challenge``."""
    session = requests.Session()
    params = {"response_type": "code", "client_id": p.client_id, "redirect_uri": CALLBACK, "scope": "openid email",
              "identity_provider": "Google", "code_challenge": challenge, "code_challenge_method": "S256"}
    response = session.get(f"{p.emu.url}/{p.pool_id}/oauth2/authorize?{urlencode(params)}",
                           allow_redirects=False, timeout=10)
    for _ in range(10):
        location = response.headers.get("Location", "")
        if response.status_code != 302 or location.startswith(CALLBACK):
            break
        response = session.get(location, allow_redirects=False, timeout=10)
    assert response.status_code == 302 and response.headers["Location"].startswith(CALLBACK), response.text
    return parse_qs(urlsplit(response.headers["Location"]).query)["code"][0]


@pytest.mark.parametrize("bad", ["é" * 44, "秘密"], ids=["latin", "cjk"])
def test_non_ascii_client_secret_on_token_and_revoke_is_invalid_client(hosted: tuple[SecretPool, Any],
                                                                       bad: str) -> None:
    p, _ = hosted
    base = f"{p.emu.url}/{p.pool_id}/oauth2"
    form = {"grant_type": "refresh_token", "refresh_token": "x" * 40, "client_id": p.client_id, "client_secret": bad}
    basic = base64.b64encode(f"{p.client_id}:{bad}".encode()).decode()
    for url in (f"{base}/token", f"{base}/revoke"):
        by_form = requests.post(url, data={**form, "token": "x" * 40}, timeout=10)
        by_basic = requests.post(url, data={"grant_type": "refresh_token", "refresh_token": "x" * 40,
                                            "token": "x" * 40}, headers={"Authorization": f"Basic {basic}"},
                                 timeout=10)
        for answer in (by_form, by_basic):
            assert answer.status_code in (400, 401), (url, answer.status_code, answer.text[:200])
            assert answer.json()["error"] == "invalid_client", answer.text


def test_non_ascii_code_challenge_is_invalid_grant_not_500(hosted: tuple[SecretPool, Any]) -> None:
    p, _ = hosted
    code = _google_code(p, "é" * 43)
    answer = requests.post(f"{p.emu.url}/{p.pool_id}/oauth2/token", auth=(p.client_id, p.secret), timeout=10,
                           data={"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK,
                                 "code_verifier": "v" * 50})
    assert answer.status_code in (400, 401), answer.text
    assert answer.json()["error"] in ("invalid_grant", "invalid_request"), answer.text


def test_fake_idp_token_endpoint_refuses_a_non_ascii_client_secret(hosted: tuple[SecretPool, Any]) -> None:
    _, google = hosted
    answer = requests.post(f"{google.issuer}/token", timeout=10, data={
        "grant_type": "authorization_code", "code": "nope", "redirect_uri": CALLBACK,
        "client_id": google.client_id, "client_secret": "é" * 20})
    assert answer.status_code == 401 and answer.json()["error"] == "invalid_client", answer.text


# --- the control plane: every field range- and type-checked, state unchanged on a refusal ------------


def _post_raw(emu: Emulator, path: str, body: str | bytes) -> requests.Response:
    return requests.post(emu.url + "/_harness" + path, data=body, timeout=30,
                         headers={"Content-Type": "application/json"})


@pytest.fixture()
def frozen(emulator: Emulator) -> tuple[Emulator, Control, str]:
    control = Control(emulator.backend)
    pool_id = control.load_pool()["pool_id"]
    control.freeze(1_900_000_000)
    requests.post(emulator.url + "/_harness/idps", json={"name": "g", "preset": "google"}, timeout=10)
    return emulator, control, pool_id


UNREPRESENTABLE_CLOCK = [
    ('{"action": "set", "at": 1e300}', "at"),
    ('{"action": "set", "at": 1e20}', "at"),
    ('{"action": "set", "at": -1}', "at"),
    ('{"action": "set", "at": NaN}', "at"),
    ('{"action": "set", "at": Infinity}', "at"),
    ('{"action": "freeze", "at": -Infinity}', "at"),
    ('{"action": "freeze", "at": 253402300800}', "at"),
    ('{"action": "set", "at": "9999-12-31T23:59:59-14:00"}', "at"),
    ('{"action": "set", "at": "0001-01-01T00:00:00+14:00"}', "at"),
    ('{"action": "set", "at": "+275760-09-13T00:00:00Z"}', "at"),
    ('{"action": "set", "at": true}', "at"),
    ('{"action": "advance", "seconds": 1e300}', "seconds"),
    ('{"action": "advance", "seconds": 253402300799}', "seconds"),
    ('{"action": "advance", "seconds": -1900000001}', "seconds"),
    ('{"action": "advance", "seconds": NaN}', "seconds"),
    ('{"action": "advance", "seconds": ' + "9" * 400 + "}", "seconds"),
    ('{"action": []}', "action"),
    ('{"action": {}}', "action"),
    ('{"action": 5}', "action"),
]


@pytest.mark.parametrize("body, field", UNREPRESENTABLE_CLOCK, ids=[b[:48] for b, _ in UNREPRESENTABLE_CLOCK])
def test_clock_refuses_instants_it_cannot_represent(frozen: tuple[Emulator, Control, str], body: str,
                                                    field: str) -> None:
    emu, control, _ = frozen
    before = control.clock()
    answer = _post_raw(emu, "/clock", body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == "bad_request" and answer.json()["field"] == field, answer.json()
    assert control.clock() == before
    assert requests.get(emu.url + "/_harness", timeout=10).status_code == 200  # not a 500 from now on


def test_the_clock_reaches_the_ends_of_its_range(frozen: tuple[Emulator, Control, str]) -> None:
    emu, control, _ = frozen
    assert control.set("9999-12-31T23:59:59Z")["iso"].startswith("9999-12-31T23:59:59")
    assert requests.get(emu.url + "/_harness", timeout=10).status_code == 200
    assert control.set(0)["iso"] == "1970-01-01T00:00:00Z"


BAD_FIELDS: list[tuple[str, str, str, str]] = [
    # (method, path, JSON body, field the 400 names)
    ("POST", "/reset", '{"seed": true}', "seed"),
    ("POST", "/reset", '{"seed": 1.5}', "seed"),
    ("POST", "/reset", '{"seed": -1}', "seed"),
    ("POST", "/reset", '{"seed": 18446744073709551616}', "seed"),
    ("POST", "/faults", '{"kind": []}', "kind"),
    ("POST", "/faults", '{"kind": "throttle", "count": 0}', "count"),
    ("POST", "/faults", '{"kind": "throttle", "count": true}', "count"),
    ("POST", "/faults", '{"kind": "throttle", "count": 1180591620717411303424}', "count"),
    ("POST", "/faults", '{"kind": "throttle", "operation": ["SignUp"]}', "operation"),
    ("POST", "/faults", '{"kind": "throttle", "channel": {}}', "channel"),
    ("POST", "/pools/{pool}/mint", '{"username": "alice", "expires_in": NaN}', "expires_in"),
    ("POST", "/pools/{pool}/mint", '{"username": "alice", "expires_in": 1e300}', "expires_in"),
    ("POST", "/pools/{pool}/mint", '{"username": "alice", "expires_in": true}', "expires_in"),
    ("POST", "/pools/{pool}/mint", '{"username": "alice", "issued_at": -5}', "issued_at"),
    ("POST", "/pools/{pool}/mint", '{"username": "alice", "issued_at": "20000-01-01"}', "issued_at"),
    ("POST", "/pools/{pool}/mint", '{"username": ["alice"]}', "username"),
    ("POST", "/pools/{pool}/mint", '{"username": "alice", "token_use": ["id"]}', "token_use"),
    ("POST", "/pools/{pool}/keys/rotate", '{"uses": [[]]}', "uses"),
    ("POST", "/pools/{pool}/keys/rotate", '{"uses": ["id"], "unpublish_old": "yes"}', "unpublish_old"),
    ("POST", "/tokens/status", '{"token": {"a": 1}}', "token"),
    ("POST", "/idp-settings", '{"client_timeout": ' + "9" * 400 + "}", "client_timeout"),
    ("POST", "/idp-settings", '{"client_timeout": Infinity}', "client_timeout"),
    ("POST", "/idp-settings", '{"client_timeout": true}', "client_timeout"),
    ("POST", "/idps/g/faults", '{"endpoint": "token", "kind": "error", "delay": NaN}', "delay"),
    ("POST", "/idps/g/faults", '{"endpoint": "token", "kind": "error", "status": ' + "9" * 30 + "}", "status"),
    ("POST", "/idps/g/users", '{"sub": "s", "select": "yes"}', "select"),
    ("POST", "/clock", "[" * 100_000, "body"),  # a nesting bomb
    ("POST", "/reset", '{"seed": ' + "1" * 5000 + "}", "body"),  # past Python's int digit limit
    ("POST", "/restore", "[" * 100_000, "body"),
]


@pytest.mark.parametrize("method, path, body, field", BAD_FIELDS, ids=[f"{p} {b[:40]}" for _, p, b, _ in BAD_FIELDS])
def test_every_control_field_is_checked_and_a_refusal_changes_nothing(
        frozen: tuple[Emulator, Control, str], method: str, path: str, body: str, field: str) -> None:
    emu, control, pool_id = frozen
    before = control.snapshot(include_secrets=True)
    answer = requests.request(method, emu.url + "/_harness" + path.format(pool=pool_id), data=body, timeout=30,
                              headers={"Content-Type": "application/json"})
    assert answer.status_code == 400, (answer.status_code, answer.text[:300])
    error = answer.json()
    assert error["error"] == "bad_request" and error["field"] == field, error
    assert len(error["message"]) < 400  # a 400-digit value is not echoed whole
    assert control.snapshot(include_secrets=True) == before


@pytest.mark.parametrize("raw", ["%C2%B2", "%D9%A3", "99999999999999999999999", "-1", "1.0"])
def test_a_fault_id_that_is_not_plain_digits_is_a_400(frozen: tuple[Emulator, Control, str], raw: str) -> None:
    emu, _, _ = frozen
    for method in ("GET", "DELETE"):
        answer = requests.request(method, f"{emu.url}/_harness/faults/{raw}", timeout=10,
                                  headers={"Content-Type": "application/json"})
        assert answer.status_code == 400, (method, raw, answer.text)
        assert answer.json()["field"] == "id"


# --- 500s the model fuzzer found (tests/test_model_fuzz.py) ------------------------------------------


@pytest.mark.parametrize("operation, body", [
    ("AddCustomAttributes", {"CustomAttributes": [None]}),
    ("AdminDeleteUserAttributes", {"Username": "bob", "UserAttributeNames": [None]}),
    ("AdminUpdateUserAttributes", {"Username": "bob", "UserAttributes": [None, {"Name": "name", "Value": "B"}]}),
    ("AdminCreateUser", {"Username": "zed", "ClientMetadata": {"k": None}}),
])
def test_null_members_of_lists_and_maps_are_validation_errors(pool: SecretPool, operation: str,
                                                              body: dict[str, Any]) -> None:
    answer = pool.raw(operation, {"UserPoolId": pool.pool_id, **body})
    assert answer.status_code == 400, answer.text
    assert answer.json()["__type"] == "InvalidParameterException"
    assert "Member must not be null" in answer.json()["message"]


@pytest.mark.parametrize("definition, field", [
    ({"pool": {"name": "x"}, "users": [{"username": "u", "password": "short"}]}, "definition.users[0].password"),
    ({"pool": {"name": "x"}, "clients": {"c": {"explicit_auth_flows": ["NOPE"]}}}, "definition.clients.c"),
    ({"pool": {"name": "x"}, "users": [{"username": "u", "password": "Passw0rd!xx", "groups": ["nope"]}]},
     "definition.users[0].groups"),
])
def test_a_pool_definition_refused_half_way_leaves_nothing_behind(frozen: tuple[Emulator, Control, str],
                                                                  definition: dict[str, Any], field: str) -> None:
    emu, control, _ = frozen
    before = control.snapshot(include_secrets=True)
    answer = requests.post(emu.url + "/_harness/pools", json={"definition": definition}, timeout=30)
    assert answer.status_code == 400 and answer.json()["field"] == field, answer.text
    assert control.snapshot(include_secrets=True) == before  # no half-built pool, no stray events or ids
