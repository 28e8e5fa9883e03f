"""The pre token generation trigger (V1, V2, V3): Cognito's events and the tokens they shape.

Over HTTP with real boto3 and requests; functions bound as Python callables; every token verified
with PyJWT against the JWKS the emulator serves.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from harness.engine.triggers import set_trigger
from tests.auth_support import ADMIN_SCOPE, PASSWORD, App, make_app, raises

ROLE = "arn:aws:iam::123456789012:role/readers"
ADMIN_ROLE = "arn:aws:iam::123456789012:role/admins"


@pytest.fixture()
def app(emulator, idp) -> App:  # noqa: ANN001
    app = make_app(emulator, idp)
    app.idp.create_group(UserPoolId=app.pool_id, GroupName="readers", RoleArn=ROLE, Precedence=1)
    app.confirmed_user("alice", email="alice@example.com")
    app.idp.admin_add_user_to_group(UserPoolId=app.pool_id, Username="alice", GroupName="readers")
    return app


def _bind(app: App, handler: Any, version: str | None = None) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []

    def recording(event: dict[str, Any]) -> Any:
        seen.append(json.loads(json.dumps(event)))
        return handler(event)

    set_trigger(app.backend, app.pool_id, "PreTokenGeneration", recording, version=version)
    return seen


def _envelope(app: App, event: dict[str, Any], version: str, source: str, username: str = "alice") -> None:
    assert set(event) == {"version", "region", "userPoolId", "userName", "callerContext", "triggerSource",
                          "request", "response"}
    assert event["version"] == version
    assert event["region"] == "us-east-1"
    assert event["userPoolId"] == app.pool_id
    assert event["userName"] == username
    assert set(event["callerContext"]) == {"awsSdkVersion", "clientId"}
    assert event["triggerSource"] == source


def _user_attributes(app: App) -> dict[str, str]:
    user = app.idp.admin_get_user(UserPoolId=app.pool_id, Username="alice")
    return {**{a["Name"]: a["Value"] for a in user["UserAttributes"]}, "cognito:user_status": "CONFIRMED"}


def test_v1_adds_overrides_suppresses_and_replaces_groups(app: App) -> None:
    def handler(event: dict[str, Any]) -> dict[str, Any]:
        event["response"]["claimsOverrideDetails"] = {
            "claimsToAddOrOverride": {"custom:tenant": "acme", "role": "admin", "sub": "forged", "token_use": "x",
                                      "email_verified": "false", "gone": "both added and suppressed"},
            "claimsToSuppress": ["email", "aud", "gone"],
            "groupOverrideDetails": {"groupsToOverride": ["admins"], "iamRolesToOverride": [ADMIN_ROLE],
                                     "preferredRole": ADMIN_ROLE},
        }
        return event

    seen = _bind(app, handler)
    result = app.sign_in("alice")
    claims = app.verify(result)
    event = seen[0]
    _envelope(app, event, "1", "TokenGeneration_Authentication")
    assert event["callerContext"]["clientId"] == app.client_id
    assert event["request"] == {
        "userAttributes": _user_attributes(app),
        "groupConfiguration": {"groupsToOverride": ["readers"], "iamRolesToOverride": [ROLE], "preferredRole": ROLE},
    }
    assert event["response"] == {"claimsOverrideDetails": None}
    id_claims, access = claims["id"], claims["access"]
    assert id_claims["custom:tenant"] == "acme" and id_claims["role"] == "admin"
    assert id_claims["email_verified"] == "false"  # a V1 override is a string
    assert "email" not in id_claims and "gone" not in id_claims
    assert id_claims["sub"] == access["sub"] != "forged" and id_claims["token_use"] == "id"  # Cognito's own
    assert id_claims["aud"] == app.client_id  # cannot be suppressed
    assert id_claims["cognito:groups"] == ["admins"] and id_claims["cognito:roles"] == [ADMIN_ROLE]
    assert id_claims["cognito:preferred_role"] == ADMIN_ROLE
    assert access["cognito:groups"] == ["admins"]  # the group override reaches the access token too
    assert "role" not in access and "custom:tenant" not in access  # V1 changes only the ID token


def test_v1_on_refresh_and_empty_group_override_suppresses_groups(app: App) -> None:
    def handler(event: dict[str, Any]) -> dict[str, Any]:
        event["response"]["claimsOverrideDetails"] = {"groupOverrideDetails": None}
        return event

    seen = _bind(app, handler)
    tokens = app.sign_in("alice")
    refreshed = app.idp.initiate_auth(ClientId=app.client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                                      AuthParameters={"REFRESH_TOKEN": tokens["RefreshToken"]},
                                      ClientMetadata={"ignored": "by pre token generation"})
    claims = app.verify(refreshed["AuthenticationResult"])
    assert [e["triggerSource"] for e in seen] == ["TokenGeneration_Authentication", "TokenGeneration_RefreshTokens"]
    _envelope(app, seen[1], "1", "TokenGeneration_RefreshTokens")
    assert "clientMetadata" not in seen[1]["request"]  # InitiateAuth's ClientMetadata does not reach it
    for token in claims.values():
        assert not {"cognito:groups", "cognito:roles", "cognito:preferred_role"} & set(token)


def test_v1_failures_are_cognito_errors(app: App) -> None:
    def boom(event: dict[str, Any]) -> dict[str, Any]:
        raise RuntimeError("tenant lookup failed")

    _bind(app, boom)
    with raises("UserLambdaValidationException", "PreTokenGeneration failed with error tenant lookup failed."):
        app.password_auth("alice")

    def arrays(event: dict[str, Any]) -> dict[str, Any]:
        event["response"]["claimsOverrideDetails"] = {"claimsToAddOrOverride": {"roles": ["a", "b"]}}
        return event

    _bind(app, arrays)
    with raises("InvalidLambdaResponseException"):
        app.password_auth("alice")
    assert app.backend.events.count("token.issued") == 0


def test_v2_access_token_claims_scopes_and_new_password_source(app: App) -> None:
    app.idp.admin_create_user(UserPoolId=app.pool_id, Username="bob", TemporaryPassword="Temp0rary!x",
                              MessageAction="SUPPRESS")

    def handler(event: dict[str, Any]) -> dict[str, Any]:
        event["response"]["claimsAndScopeOverrideDetails"] = {
            "idTokenGeneration": {"claimsToAddOrOverride": {"tenant": {"id": "acme", "tier": 2}, "level": 3},
                                  "claimsToSuppress": ["cognito:groups"]},
            "accessTokenGeneration": {
                "claimsToAddOrOverride": {"roles": ["editor"], "client_id": "forged", "aud": event["callerContext"]["clientId"]},
                "claimsToSuppress": ["username"],
                "scopesToAdd": ["tenant/acme.read"], "scopesToSuppress": ["nothing/here"],
            },
        }
        return event

    seen = _bind(app, handler, version="V2_0")
    first = app.idp.initiate_auth(ClientId=app.client_id, AuthFlow="USER_PASSWORD_AUTH",
                                  AuthParameters={"USERNAME": "bob", "PASSWORD": "Temp0rary!x"})
    assert first["ChallengeName"] == "NEW_PASSWORD_REQUIRED" and seen == []
    done = app.idp.respond_to_auth_challenge(ClientId=app.client_id, ChallengeName="NEW_PASSWORD_REQUIRED",
                                             Session=first["Session"], ClientMetadata={"tenant": "acme"},
                                             ChallengeResponses={"USERNAME": "bob", "NEW_PASSWORD": PASSWORD})
    result = done["AuthenticationResult"]
    event = seen[0]
    _envelope(app, event, "2", "TokenGeneration_NewPasswordChallenge", username="bob")
    assert set(event["request"]) == {"userAttributes", "groupConfiguration", "scopes", "clientMetadata"}
    assert event["request"]["scopes"] == [ADMIN_SCOPE]
    assert event["request"]["clientMetadata"] == {"tenant": "acme"}
    assert event["request"]["groupConfiguration"] == {"groupsToOverride": [], "iamRolesToOverride": [],
                                                      "preferredRole": None}
    assert event["request"]["userAttributes"]["cognito:user_status"] == "CONFIRMED"
    assert event["response"] == {"claimsAndScopeOverrideDetails": None}
    id_claims = app.decode(result["IdToken"], "id")
    access = app.decode(result["AccessToken"], "access")
    assert id_claims["tenant"] == {"id": "acme", "tier": 2} and id_claims["level"] == 3
    assert access["roles"] == ["editor"] and access["client_id"] == app.client_id
    assert access["aud"] == app.client_id  # the one aud an access token may get
    assert access["username"] == "bob"  # cannot be suppressed
    assert access["scope"] == f"{ADMIN_SCOPE} tenant/acme.read"
    # the added scope is in the token only: the session keeps its own scopes, so GetUser still works
    assert app.idp.get_user(AccessToken=result["AccessToken"])["Username"] == "bob"
    # V2 is a feature of the Essentials plan: a Lite pool cannot keep it
    config = app.idp.describe_user_pool(UserPoolId=app.pool_id)["UserPool"]["LambdaConfig"]
    assert config["PreTokenGenerationConfig"]["LambdaVersion"] == "V2_0"
    with raises("FeatureUnavailableInTierException"):
        app.idp.update_user_pool(UserPoolId=app.pool_id, UserPoolTier="LITE", LambdaConfig=config)


@pytest.mark.parametrize("version", ["V2_0", "V3_0"])
def test_client_credentials_event_only_in_v3(app: App, version: str) -> None:
    app.idp.create_resource_server(UserPoolId=app.pool_id, Identifier="api", Name="api",
                                   Scopes=[{"ScopeName": "read", "ScopeDescription": "read"}])
    m2m = app.idp.create_user_pool_client(
        UserPoolId=app.pool_id, ClientName="m2m", GenerateSecret=True, AllowedOAuthFlows=["client_credentials"],
        AllowedOAuthFlowsUserPoolClient=True, AllowedOAuthScopes=["api/read"])["UserPoolClient"]

    def handler(event: dict[str, Any]) -> dict[str, Any]:
        event["response"]["claimsAndScopeOverrideDetails"] = {"accessTokenGeneration": {
            "claimsToAddOrOverride": {"tenant": "acme"}, "scopesToAdd": ["api/extra"], "scopesToSuppress": ["api/read"]}}
        return event

    seen = _bind(app, handler, version=version)
    answer = requests.post(f"{app.emulator.url}/{app.pool_id}/oauth2/token", timeout=10,
                           auth=(m2m["ClientId"], m2m["ClientSecret"]),
                           data={"grant_type": "client_credentials",
                                 "aws_client_metadata": json.dumps({"caller": "batch"})})
    assert answer.status_code == 200, answer.text
    claims = app.decode(answer.json()["access_token"], "access")
    if version == "V2_0":
        assert seen == [] and "tenant" not in claims and claims["scope"] == "api/read"
        return
    event = seen[0]
    _envelope(app, event, "3", "TokenGeneration_ClientCredentials", username="ClientCredentials")
    assert event["callerContext"]["clientId"] == m2m["ClientId"]
    assert event["request"] == {"userAttributes": {}, "groupConfiguration": None, "scopes": ["api/read"],
                                "clientMetadata": {"caller": "batch"}}
    assert event["response"] == {"claimsAndScopeOverrideDetails": None}
    assert claims["tenant"] == "acme" and claims["scope"] == "api/extra" and claims["sub"] == m2m["ClientId"]

    def broken(event: dict[str, Any]) -> dict[str, Any]:
        raise ValueError("no tenant")

    _bind(app, broken, version=version)
    failed = requests.post(f"{app.emulator.url}/{app.pool_id}/oauth2/token", timeout=10,
                           auth=(m2m["ClientId"], m2m["ClientSecret"]), data={"grant_type": "client_credentials"})
    assert failed.status_code == 400
    assert failed.json() == {"error": "invalid_request",
                             "error_description": "PreTokenGeneration failed with error no tenant."}
