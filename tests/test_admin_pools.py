"""Pool and app-client administration over HTTP with real boto3 clients.

CreateUserPool / DescribeUserPool / UpdateUserPool / ListUserPools /
DeleteUserPool / AddCustomAttributes and the five app-client operations:
settings echoed in botocore's shapes, Cognito's defaults, validation errors
with their exact types and messages, and pagination.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from auth_support import raises
from botocore.exceptions import ClientError


def _pool(idp: Any, **kwargs: Any) -> dict[str, Any]:
    return idp.create_user_pool(PoolName=kwargs.pop("PoolName", "pool"), **kwargs)["UserPool"]


# --- pools --------------------------------------------------------------------------------------


FULL_POOL = dict(
    PoolName="full",
    Policies={
        "PasswordPolicy": {
            "MinimumLength": 12,
            "RequireUppercase": True,
            "RequireLowercase": True,
            "RequireNumbers": False,
            "RequireSymbols": False,
            "TemporaryPasswordValidityDays": 3,
            "PasswordHistorySize": 4,
        }
    },
    DeletionProtection="ACTIVE",
    LambdaConfig={"PreSignUp": "arn:aws:lambda:us-east-1:123456789012:function:pre"},
    AutoVerifiedAttributes=["email"],
    UsernameAttributes=["email"],
    VerificationMessageTemplate={
        "EmailMessage": "Code: {####}",
        "EmailSubject": "Verify",
        "SmsMessage": "SMS code {####}",
        "DefaultEmailOption": "CONFIRM_WITH_CODE",
    },
    UserAttributeUpdateSettings={"AttributesRequireVerificationBeforeUpdate": ["email"]},
    MfaConfiguration="OFF",
    AdminCreateUserConfig={
        "AllowAdminCreateUserOnly": True,
        "InviteMessageTemplate": {"EmailMessage": "Hi {username}, pw {####}", "EmailSubject": "Welcome"},
    },
    Schema=[
        {"Name": "email", "AttributeDataType": "String", "Required": True, "Mutable": True},
        {"Name": "tenant", "AttributeDataType": "String", "Mutable": False,
         "StringAttributeConstraints": {"MinLength": "1", "MaxLength": "32"}},
        {"Name": "age", "AttributeDataType": "Number", "NumberAttributeConstraints": {"MinValue": "0", "MaxValue": "150"}},
    ],
    UsernameConfiguration={"CaseSensitive": False},
    AccountRecoverySetting={"RecoveryMechanisms": [
        {"Priority": 2, "Name": "verified_phone_number"},
        {"Priority": 1, "Name": "verified_email"},
    ]},
    UserPoolTags={"team": "auth"},
)


def test_create_pool_echoes_every_setting(idp: Any) -> None:
    pool = _pool(idp, **FULL_POOL)
    assert pool["Id"].startswith("us-east-1_")
    assert pool["Arn"] == f"arn:aws:cognito-idp:us-east-1:123456789012:userpool/{pool['Id']}"
    assert pool["Name"] == "full"
    assert pool["Policies"]["PasswordPolicy"] == FULL_POOL["Policies"]["PasswordPolicy"]
    assert pool["DeletionProtection"] == "ACTIVE"
    assert pool["LambdaConfig"] == FULL_POOL["LambdaConfig"]
    assert pool["AutoVerifiedAttributes"] == ["email"]
    assert pool["UsernameAttributes"] == ["email"]
    assert "AliasAttributes" not in pool
    template = pool["VerificationMessageTemplate"]
    assert template["EmailMessage"] == "Code: {####}" and template["SmsMessage"] == "SMS code {####}"
    assert pool["EmailVerificationMessage"] == "Code: {####}"
    assert pool["EmailVerificationSubject"] == "Verify"
    assert pool["UserAttributeUpdateSettings"] == {"AttributesRequireVerificationBeforeUpdate": ["email"]}
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert pool["AdminCreateUserConfig"]["InviteMessageTemplate"]["EmailMessage"] == "Hi {username}, pw {####}"
    assert pool["UsernameConfiguration"] == {"CaseSensitive": False}
    assert [m["Name"] for m in pool["AccountRecoverySetting"]["RecoveryMechanisms"]] == [
        "verified_email", "verified_phone_number"]
    assert pool["UserPoolTags"] == {"team": "auth"}
    assert pool["MfaConfiguration"] == "OFF"
    assert pool["EstimatedNumberOfUsers"] == 0
    assert pool["CreationDate"] == pool["LastModifiedDate"]
    schema = {a["Name"]: a for a in pool["SchemaAttributes"]}
    assert schema["sub"] == {
        "Name": "sub", "AttributeDataType": "String", "DeveloperOnlyAttribute": False, "Mutable": False,
        "Required": True, "StringAttributeConstraints": {"MinLength": "1", "MaxLength": "2048"},
    }
    assert schema["email"]["Required"] is True
    assert schema["email_verified"]["AttributeDataType"] == "Boolean"
    assert schema["updated_at"]["NumberAttributeConstraints"] == {"MinValue": "0"}
    assert schema["custom:tenant"]["Mutable"] is False
    assert schema["custom:tenant"]["StringAttributeConstraints"] == {"MinLength": "1", "MaxLength": "32"}
    assert schema["custom:age"]["NumberAttributeConstraints"] == {"MinValue": "0", "MaxValue": "150"}
    standard = {"sub", "name", "given_name", "family_name", "middle_name", "nickname", "preferred_username",
                "profile", "picture", "website", "email", "email_verified", "gender", "birthdate", "zoneinfo",
                "locale", "phone_number", "phone_number_verified", "address", "updated_at", "identities"}
    assert standard <= set(schema)
    assert idp.describe_user_pool(UserPoolId=pool["Id"])["UserPool"] == pool


def test_pool_defaults(idp: Any) -> None:
    pool = _pool(idp)
    assert pool["Policies"]["PasswordPolicy"] == {
        "MinimumLength": 8, "RequireUppercase": True, "RequireLowercase": True, "RequireNumbers": True,
        "RequireSymbols": True, "TemporaryPasswordValidityDays": 7,
    }
    assert pool["DeletionProtection"] == "INACTIVE"
    assert pool["MfaConfiguration"] == "OFF"
    assert pool["UsernameConfiguration"] == {"CaseSensitive": True}
    assert pool["VerificationMessageTemplate"]["DefaultEmailOption"] == "CONFIRM_WITH_CODE"
    assert pool["EmailConfiguration"] == {"EmailSendingAccount": "COGNITO_DEFAULT"}
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is False


@pytest.mark.parametrize(
    ("kwargs", "code", "message"),
    [
        (dict(UsernameAttributes=["email"], AliasAttributes=["email"]), "InvalidParameterException",
         "Only one of the aliasAttributes or usernameAttributes can be set in a User Pool."),
        (dict(EmailVerificationMessage="no code here"), "InvalidParameterException", None),
        (dict(UserAttributeUpdateSettings={"AttributesRequireVerificationBeforeUpdate": ["email"]}),
         "InvalidParameterException", None),
        (dict(Schema=[{"Name": "x", "AttributeDataType": "String", "Required": True}]), "InvalidParameterException",
         "Required custom attributes are not supported currently."),
        (dict(AccountRecoverySetting={"RecoveryMechanisms": [{"Priority": 1, "Name": "admin_only"},
                                                              {"Priority": 2, "Name": "verified_email"}]}),
         "InvalidParameterException", None),
    ],
)
def test_create_pool_rejects_bad_settings(idp: Any, kwargs: dict[str, Any], code: str, message: str | None) -> None:
    with raises(code, message):
        _pool(idp, **kwargs)
    assert idp.list_user_pools(MaxResults=10)["UserPools"] == []


def test_update_pool_resets_what_it_leaves_out(idp: Any, emulator: Any) -> None:
    pool = _pool(idp, **FULL_POOL)
    emulator.backend.clock.freeze(pool["CreationDate"].timestamp() + 100)
    idp.update_user_pool(UserPoolId=pool["Id"], MfaConfiguration="OFF", AutoVerifiedAttributes=["email"],
                         Policies={"PasswordPolicy": {"MinimumLength": 10, "RequireNumbers": True}})
    after = idp.describe_user_pool(UserPoolId=pool["Id"])["UserPool"]
    assert after["Name"] == "full"
    assert after["DeletionProtection"] == "INACTIVE"  # reset: not in the update
    assert after["LambdaConfig"] == {}
    assert after["UserAttributeUpdateSettings"] == {"AttributesRequireVerificationBeforeUpdate": []}
    assert after["Policies"]["PasswordPolicy"]["MinimumLength"] == 10
    assert after["Policies"]["PasswordPolicy"]["RequireUppercase"] is False
    # fixed at creation: schema, username attributes, case sensitivity
    assert after["UsernameAttributes"] == ["email"]
    assert after["UsernameConfiguration"] == {"CaseSensitive": False}
    assert any(a["Name"] == "custom:tenant" for a in after["SchemaAttributes"])
    assert after["LastModifiedDate"].timestamp() == pytest.approx(pool["CreationDate"].timestamp() + 100)
    # a rejected update changes nothing
    with raises("InvalidParameterException"):
        idp.update_user_pool(UserPoolId=pool["Id"], DeletionProtection="ACTIVE", SmsVerificationMessage="no code here")
    assert idp.describe_user_pool(UserPoolId=pool["Id"])["UserPool"]["DeletionProtection"] == "INACTIVE"
    idp.update_user_pool(UserPoolId=pool["Id"], PoolName="renamed")
    assert idp.describe_user_pool(UserPoolId=pool["Id"])["UserPool"]["Name"] == "renamed"


def test_unknown_pool_is_resource_not_found(idp: Any) -> None:
    with raises("ResourceNotFoundException", "User pool us-east-1_nothere does not exist."):
        idp.describe_user_pool(UserPoolId="us-east-1_nothere")
    with raises("ResourceNotFoundException"):
        idp.update_user_pool(UserPoolId="us-east-1_nothere")


def test_list_user_pools_paginates(idp: Any) -> None:
    created = [_pool(idp, PoolName=f"p{i}")["Id"] for i in range(5)]
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        kwargs = {"MaxResults": 2, **({"NextToken": token} if token else {})}
        answer = idp.list_user_pools(**kwargs)
        pages += 1
        assert len(answer["UserPools"]) <= 2
        assert set(answer["UserPools"][0]) >= {"Id", "Name", "LambdaConfig", "CreationDate", "LastModifiedDate"}
        seen += [p["Id"] for p in answer["UserPools"]]
        token = answer.get("NextToken")
        if not token:
            break
    assert seen == created and pages == 3
    with raises("InvalidParameterException"):
        idp.list_user_pools(MaxResults=2, NextToken="garbage")
    paginator = idp.get_paginator("list_user_pools")
    assert [p["Id"] for page in paginator.paginate(MaxResults=2) for p in page["UserPools"]] == created


def test_delete_pool_honours_deletion_protection(idp: Any) -> None:
    pool_id = _pool(idp, DeletionProtection="ACTIVE")["Id"]
    with raises(
        "InvalidParameterException",
        "The user pool cannot be deleted because deletion protection is activated. "
        "Deletion protection must be inactivated first.",
    ):
        idp.delete_user_pool(UserPoolId=pool_id)
    idp.update_user_pool(UserPoolId=pool_id, DeletionProtection="INACTIVE")
    idp.create_user_pool_domain(UserPoolId=pool_id, Domain="my-app-login")
    assert idp.describe_user_pool(UserPoolId=pool_id)["UserPool"]["Domain"] == "my-app-login"
    with raises("InvalidParameterException",
                "User pool cannot be deleted. It has a domain configured that should be deleted first."):
        idp.delete_user_pool(UserPoolId=pool_id)
    idp.delete_user_pool_domain(UserPoolId=pool_id, Domain="my-app-login")
    idp.delete_user_pool(UserPoolId=pool_id)
    with raises("ResourceNotFoundException"):
        idp.describe_user_pool(UserPoolId=pool_id)
    with raises("ResourceNotFoundException"):
        idp.delete_user_pool(UserPoolId=pool_id)


def test_add_custom_attributes(idp: Any) -> None:
    pool_id = _pool(idp, Schema=[{"Name": "tenant", "AttributeDataType": "String"}])["Id"]
    idp.add_custom_attributes(UserPoolId=pool_id, CustomAttributes=[
        {"Name": "plan", "AttributeDataType": "String", "Mutable": True},
        {"Name": "seats", "AttributeDataType": "Number", "NumberAttributeConstraints": {"MinValue": "1"}},
        {"Name": "secret", "AttributeDataType": "String", "DeveloperOnlyAttribute": True},
    ])
    schema = {a["Name"]: a for a in idp.describe_user_pool(UserPoolId=pool_id)["UserPool"]["SchemaAttributes"]}
    assert schema["custom:plan"]["AttributeDataType"] == "String"
    assert schema["custom:seats"]["NumberAttributeConstraints"] == {"MinValue": "1"}
    assert schema["dev:secret"]["DeveloperOnlyAttribute"] is True
    with raises("InvalidParameterException", "Existing attribute already has name custom:tenant."):
        idp.add_custom_attributes(UserPoolId=pool_id, CustomAttributes=[{"Name": "tenant", "AttributeDataType": "String"}])
    many = [{"Name": f"a{i}", "AttributeDataType": "String"} for i in range(25)]
    idp.add_custom_attributes(UserPoolId=pool_id, CustomAttributes=many)
    more = [{"Name": f"b{i}", "AttributeDataType": "String"} for i in range(25)]
    with raises("InvalidParameterException", "The maximum number of custom attributes (50) has been reached."):
        idp.add_custom_attributes(UserPoolId=pool_id, CustomAttributes=more)
    with raises("ResourceNotFoundException"):
        idp.add_custom_attributes(UserPoolId="us-east-1_none", CustomAttributes=more[:1])


def test_issuer_tag_switches_to_the_aws_issuer(idp: Any, emulator: Any) -> None:
    local = _pool(idp)["Id"]
    aws = _pool(idp, UserPoolTags={"harness:issuer": "aws"})["Id"]
    backend = emulator.backend
    assert backend.issuer(backend.pools[local]) == f"{emulator.url}/{local}"
    assert backend.issuer(backend.pools[aws]) == f"https://cognito-idp.us-east-1.amazonaws.com/{aws}"
    idp.update_user_pool(UserPoolId=aws, UserPoolTags={"harness:issuer": "local"})
    assert backend.issuer(backend.pools[aws]) == f"{emulator.url}/{aws}"
    with raises("InvalidParameterException"):
        _pool(idp, UserPoolTags={"harness:issuer": "elsewhere"})


# --- app clients ------------------------------------------------------------------------------------


def _client(idp: Any, pool_id: str, **kwargs: Any) -> dict[str, Any]:
    return idp.create_user_pool_client(UserPoolId=pool_id, ClientName=kwargs.pop("ClientName", "app"), **kwargs)[
        "UserPoolClient"]


def test_client_defaults(idp: Any) -> None:
    pool_id = _pool(idp)["Id"]
    client = _client(idp, pool_id)
    assert len(client["ClientId"]) == 26 and "ClientSecret" not in client
    assert (client["AccessTokenValidity"], client["IdTokenValidity"], client["RefreshTokenValidity"]) == (60, 60, 30)
    assert client["TokenValidityUnits"] == {"AccessToken": "minutes", "IdToken": "minutes", "RefreshToken": "days"}
    assert client["PreventUserExistenceErrors"] == "LEGACY"
    assert client["EnableTokenRevocation"] is True
    assert client["RefreshTokenRotation"] == {"Feature": "DISABLED", "RetryGracePeriodSeconds": 0}
    assert client["AuthSessionValidity"] == 3
    assert client["ExplicitAuthFlows"] == ["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_CUSTOM_AUTH"]
    assert client["AllowedOAuthFlowsUserPoolClient"] is False
    assert "ReadAttributes" not in client and "WriteAttributes" not in client
    assert idp.describe_user_pool_client(UserPoolId=pool_id, ClientId=client["ClientId"])["UserPoolClient"] == client


def test_client_with_secret_and_settings(idp: Any, emulator: Any) -> None:
    pool_id = _pool(idp, Schema=[{"Name": "tenant", "AttributeDataType": "String"}])["Id"]
    client = _client(
        idp, pool_id, GenerateSecret=True,
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        ReadAttributes=["email", "custom:tenant"], WriteAttributes=["email"],
        PreventUserExistenceErrors="ENABLED", EnableTokenRevocation=False,
        RefreshTokenRotation={"Feature": "ENABLED", "RetryGracePeriodSeconds": 30},
        AuthSessionValidity=10,
    )
    assert len(client["ClientSecret"]) == 51
    assert client["ExplicitAuthFlows"] == ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    assert client["ReadAttributes"] == ["email", "custom:tenant"] and client["WriteAttributes"] == ["email"]
    assert client["PreventUserExistenceErrors"] == "ENABLED"
    assert client["EnableTokenRevocation"] is False
    assert client["RefreshTokenRotation"] == {"Feature": "ENABLED", "RetryGracePeriodSeconds": 30}
    assert client["AuthSessionValidity"] == 10
    model = emulator.backend.pools[pool_id].clients[client["ClientId"]]
    assert model.secret == client["ClientSecret"] and model.refresh_rotation_enabled
    assert model.flow_enabled("ALLOW_USER_PASSWORD_AUTH") and not model.flow_enabled("ALLOW_USER_SRP_AUTH")


def test_token_validity_units_and_ranges(idp: Any) -> None:
    pool_id = _pool(idp)["Id"]
    hours = _client(idp, pool_id, AccessTokenValidity=2, IdTokenValidity=24, RefreshTokenValidity=90)
    assert hours["TokenValidityUnits"] == {"AccessToken": "hours", "IdToken": "hours", "RefreshToken": "days"}
    assert (hours["AccessTokenValidity"], hours["IdTokenValidity"], hours["RefreshTokenValidity"]) == (2, 24, 90)
    mixed = _client(idp, pool_id, AccessTokenValidity=5, IdTokenValidity=300, RefreshTokenValidity=60,
                    TokenValidityUnits={"AccessToken": "minutes", "IdToken": "seconds", "RefreshToken": "minutes"})
    assert mixed["TokenValidityUnits"] == {"AccessToken": "minutes", "IdToken": "seconds", "RefreshToken": "minutes"}
    zero = _client(idp, pool_id, RefreshTokenValidity=0)
    assert (zero["RefreshTokenValidity"], zero["TokenValidityUnits"]["RefreshToken"]) == (30, "days")
    tenyears = _client(idp, pool_id, RefreshTokenValidity=3650)
    assert tenyears["RefreshTokenValidity"] == 3650
    bad = [
        dict(AccessTokenValidity=2, TokenValidityUnits={"AccessToken": "days"}),
        dict(AccessTokenValidity=4, TokenValidityUnits={"AccessToken": "minutes"}),
        dict(IdTokenValidity=25),  # hours by default
        dict(IdTokenValidity=299, TokenValidityUnits={"IdToken": "seconds"}),
        dict(RefreshTokenValidity=59, TokenValidityUnits={"RefreshToken": "minutes"}),
        dict(RefreshTokenValidity=3651),
    ]
    for kwargs in bad:
        with raises("InvalidParameterException", "Invalid range for token validity."):
            _client(idp, pool_id, **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        (dict(ExplicitAuthFlows=["USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]), "InvalidParameterException"),
        (dict(ReadAttributes=["custom:nope"]), "InvalidParameterException"),
        (dict(WriteAttributes=["sub"]), "InvalidParameterException"),
        (dict(AllowedOAuthFlows=["client_credentials", "code"], AllowedOAuthScopes=["openid"],
              AllowedOAuthFlowsUserPoolClient=True, GenerateSecret=True), "InvalidOAuthFlowException"),
        (dict(AllowedOAuthFlows=["client_credentials"], AllowedOAuthFlowsUserPoolClient=True,
              AllowedOAuthScopes=["api/read"]), "InvalidOAuthFlowException"),
        (dict(AllowedOAuthFlowsUserPoolClient=True), "InvalidOAuthFlowException"),
        (dict(AllowedOAuthFlows=["code"], AllowedOAuthScopes=["openid", "nosuch"], AllowedOAuthFlowsUserPoolClient=True,
              CallbackURLs=["https://app.example.com/cb"]), "ScopeDoesNotExistException"),
        (dict(CallbackURLs=["http://app.example.com/cb"]), "InvalidParameterException"),
        (dict(CallbackURLs=["https://app.example.com/cb#frag"]), "InvalidParameterException"),
        (dict(CallbackURLs=["https://a.example.com/cb"], DefaultRedirectURI="https://b.example.com/cb"),
         "InvalidParameterException"),
        (dict(SupportedIdentityProviders=["COGNITO", "Google"]), "InvalidParameterException"),
        (dict(ClientSecret="x" * 30), "InvalidParameterException"),
    ],
)
def test_client_validation(idp: Any, kwargs: dict[str, Any], code: str) -> None:
    pool_id = _pool(idp)["Id"]
    with raises(code):
        _client(idp, pool_id, **kwargs)
    assert idp.list_user_pool_clients(UserPoolId=pool_id, MaxResults=10)["UserPoolClients"] == []


def test_oauth_client_settings_are_kept(idp: Any) -> None:
    pool_id = _pool(idp)["Id"]
    client = _client(
        idp, pool_id,
        AllowedOAuthFlows=["code"], AllowedOAuthScopes=["openid", "email", "profile"],
        AllowedOAuthFlowsUserPoolClient=True,
        CallbackURLs=["https://app.example.com/cb", "http://localhost:3000/cb", "myapp://cb"],
        LogoutURLs=["https://app.example.com/bye"], DefaultRedirectURI="https://app.example.com/cb",
        SupportedIdentityProviders=["COGNITO"],
    )
    assert client["AllowedOAuthFlows"] == ["code"]
    assert client["AllowedOAuthScopes"] == ["openid", "email", "profile"]
    assert client["CallbackURLs"][1] == "http://localhost:3000/cb"
    assert client["LogoutURLs"] == ["https://app.example.com/bye"]
    assert client["DefaultRedirectURI"] == "https://app.example.com/cb"
    assert client["SupportedIdentityProviders"] == ["COGNITO"]



def test_client_credentials_client_needs_a_secret_and_custom_scopes(idp: Any, emulator: Any) -> None:
    from harness.engine.models import ResourceServer

    pool_id = _pool(idp)["Id"]
    emulator.backend.pools[pool_id].resource_servers["api"] = ResourceServer(
        identifier="api", pool_id=pool_id, name="API", scopes=[{"ScopeName": "read", "ScopeDescription": "r"}])
    m2m = _client(idp, pool_id, GenerateSecret=True, AllowedOAuthFlows=["client_credentials"],
                  AllowedOAuthFlowsUserPoolClient=True, AllowedOAuthScopes=["api/read"])
    assert m2m["AllowedOAuthFlows"] == ["client_credentials"] and m2m["AllowedOAuthScopes"] == ["api/read"]
    with raises("ScopeDoesNotExistException"):
        _client(idp, pool_id, GenerateSecret=True, AllowedOAuthFlows=["client_credentials"],
                AllowedOAuthFlowsUserPoolClient=True, AllowedOAuthScopes=["api/write"])
    with raises("InvalidOAuthFlowException",
                "client_credentials flow can not be selected if client does not have a client secret."):
        _client(idp, pool_id, AllowedOAuthFlows=["client_credentials"], AllowedOAuthFlowsUserPoolClient=True,
                AllowedOAuthScopes=["api/read"])


def test_update_client_resets_unspecified_settings(idp: Any) -> None:
    pool_id = _pool(idp)["Id"]
    client = _client(idp, pool_id, GenerateSecret=True, ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"],
                     AccessTokenValidity=2, PreventUserExistenceErrors="ENABLED")
    updated = idp.update_user_pool_client(UserPoolId=pool_id, ClientId=client["ClientId"],
                                          IdTokenValidity=30, TokenValidityUnits={"IdToken": "minutes"})["UserPoolClient"]
    assert updated["ClientId"] == client["ClientId"] and updated["ClientSecret"] == client["ClientSecret"]
    assert updated["ClientName"] == "app"
    assert updated["IdTokenValidity"] == 30 and updated["TokenValidityUnits"]["IdToken"] == "minutes"
    assert updated["AccessTokenValidity"] == 60 and updated["TokenValidityUnits"]["AccessToken"] == "minutes"
    assert updated["PreventUserExistenceErrors"] == "LEGACY"
    assert updated["ExplicitAuthFlows"] == ["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_CUSTOM_AUTH"]
    assert updated["CreationDate"] == client["CreationDate"]
    renamed = idp.update_user_pool_client(UserPoolId=pool_id, ClientId=client["ClientId"], ClientName="web")
    assert renamed["UserPoolClient"]["ClientName"] == "web"
    with raises("InvalidParameterException", "Invalid range for token validity."):
        idp.update_user_pool_client(UserPoolId=pool_id, ClientId=client["ClientId"], AccessTokenValidity=48)
    with raises("ResourceNotFoundException", "User pool client nosuchclient does not exist."):
        idp.update_user_pool_client(UserPoolId=pool_id, ClientId="nosuchclient")


def test_list_and_delete_clients(idp: Any) -> None:
    pool_id = _pool(idp)["Id"]
    ids = [_client(idp, pool_id, ClientName=f"c{i}")["ClientId"] for i in range(5)]
    first = idp.list_user_pool_clients(UserPoolId=pool_id, MaxResults=3)
    assert [c["ClientId"] for c in first["UserPoolClients"]] == ids[:3]
    assert first["UserPoolClients"][0] == {"ClientId": ids[0], "UserPoolId": pool_id, "ClientName": "c0"}
    second = idp.list_user_pool_clients(UserPoolId=pool_id, MaxResults=3, NextToken=first["NextToken"])
    assert [c["ClientId"] for c in second["UserPoolClients"]] == ids[3:]
    assert "NextToken" not in second
    idp.delete_user_pool_client(UserPoolId=pool_id, ClientId=ids[0])
    with raises("ResourceNotFoundException", f"User pool client {ids[0]} does not exist."):
        idp.describe_user_pool_client(UserPoolId=pool_id, ClientId=ids[0])
    with raises("ResourceNotFoundException"):
        idp.delete_user_pool_client(UserPoolId=pool_id, ClientId=ids[0])
    assert len(idp.list_user_pool_clients(UserPoolId=pool_id, MaxResults=60)["UserPoolClients"]) == 4
