"""Feature plans (UserPoolTier LITE / ESSENTIALS / PLUS) and the threat-protection add-on, over HTTP with
real boto3: what each plan refuses, with the error types and messages AWS gives, what DescribeUserPool
echoes, and what a change of plan may and may not leave behind."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from auth_support import ALL_FLOWS, raises

SES = {"EmailSendingAccount": "DEVELOPER", "SourceArn": "arn:aws:ses:us-east-1:123456789012:identity/example.com"}
PRE_TOKEN_ARN = "arn:aws:lambda:us-east-1:123456789012:function:pre-token"


def needs(tier: str, features: str) -> str:
    return f"The following features need to be disabled for the {tier} pricing tier configured: {features}"


def _describe(idp: Any, pool_id: str) -> dict[str, Any]:
    return idp.describe_user_pool(UserPoolId=pool_id)["UserPool"]


def test_threat_protection_needs_plus(idp: Any) -> None:
    for mode in ("AUDIT", "ENFORCED"):  # the default plan is ESSENTIALS
        with raises("FeatureUnavailableInTierException", needs("ESSENTIALS", "Threat Protection")):
            idp.create_user_pool(PoolName="p", UserPoolAddOns={"AdvancedSecurityMode": mode})
    with raises("FeatureUnavailableInTierException", needs("LITE", "Threat Protection")):
        idp.create_user_pool(PoolName="p", UserPoolTier="LITE", UserPoolAddOns={"AdvancedSecurityMode": "AUDIT"})
    with raises("FeatureUnavailableInTierException", needs("ESSENTIALS", "Threat Protection")):
        idp.create_user_pool(PoolName="p", UserPoolAddOns={"AdvancedSecurityMode": "OFF", "AdvancedSecurityAdditionalFlows": {
            "CustomAuthMode": "AUDIT"}})
    with raises("InvalidParameterException"):  # enums the model lists
        idp.create_user_pool(PoolName="p", UserPoolTier="GOLD")
    with raises("InvalidParameterException"):
        idp.create_user_pool(PoolName="p", UserPoolTier="PLUS", UserPoolAddOns={"AdvancedSecurityMode": "ON"})
    assert idp.list_user_pools(MaxResults=10)["UserPools"] == []  # nothing was created
    off = idp.create_user_pool(PoolName="off", UserPoolAddOns={"AdvancedSecurityMode": "OFF"})["UserPool"]
    assert off["UserPoolTier"] == "ESSENTIALS" and off["UserPoolAddOns"] == {"AdvancedSecurityMode": "OFF"}


def test_plus_pool_keeps_threat_protection_and_refuses_a_downgrade_that_keeps_it(idp: Any) -> None:
    pool = idp.create_user_pool(PoolName="plus", UserPoolTier="PLUS",
                                UserPoolAddOns={"AdvancedSecurityMode": "ENFORCED"})["UserPool"]
    assert pool["UserPoolTier"] == "PLUS" and pool["UserPoolAddOns"] == {"AdvancedSecurityMode": "ENFORCED"}
    described = _describe(idp, pool["Id"])
    assert described["UserPoolTier"] == "PLUS" and described["UserPoolAddOns"] == {"AdvancedSecurityMode": "ENFORCED"}

    with raises("FeatureUnavailableInTierException", needs("ESSENTIALS", "Threat Protection")):
        idp.update_user_pool(UserPoolId=pool["Id"], UserPoolTier="ESSENTIALS",
                             UserPoolAddOns={"AdvancedSecurityMode": "AUDIT"})
    unchanged = _describe(idp, pool["Id"])
    assert unchanged["UserPoolTier"] == "PLUS" and unchanged["UserPoolAddOns"] == {"AdvancedSecurityMode": "ENFORCED"}

    # an update that leaves the plan out keeps it; one that leaves the add-on out turns it off (default)
    idp.update_user_pool(UserPoolId=pool["Id"], UserPoolAddOns={"AdvancedSecurityMode": "AUDIT"})
    assert _describe(idp, pool["Id"])["UserPoolTier"] == "PLUS"
    idp.update_user_pool(UserPoolId=pool["Id"], UserPoolTier="ESSENTIALS")
    downgraded = _describe(idp, pool["Id"])
    assert downgraded["UserPoolTier"] == "ESSENTIALS" and "UserPoolAddOns" not in downgraded


@pytest.mark.parametrize(
    ("settings", "features"),
    [
        ({"Policies": {"SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "EMAIL_OTP"]}}}, "Passwordless Sign-In"),
        ({"Policies": {"SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "SMS_OTP"]}}}, "Passwordless Sign-In"),
        ({"LambdaConfig": {"PreTokenGenerationConfig": {"LambdaVersion": "V2_0", "LambdaArn": PRE_TOKEN_ARN}}},
         "Token Customization with Pre-Token Generation Lambda V2_0"),
        ({"Policies": {"PasswordPolicy": {"MinimumLength": 8, "PasswordHistorySize": 3}}}, "Password History"),
        ({"Policies": {"SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "EMAIL_OTP"]},
                       "PasswordPolicy": {"MinimumLength": 8, "PasswordHistorySize": 3}}},
         "Passwordless Sign-In, Password History"),
    ],
)
def test_lite_refuses_essentials_features(idp: Any, settings: dict[str, Any], features: str) -> None:
    with raises("FeatureUnavailableInTierException", needs("LITE", features)):
        idp.create_user_pool(PoolName="lite", UserPoolTier="LITE", **settings)
    essentials = idp.create_user_pool(PoolName="essentials", **settings)["UserPool"]  # the default plan has them
    lite = idp.create_user_pool(PoolName="lite", UserPoolTier="LITE")["UserPool"]
    with raises("FeatureUnavailableInTierException", needs("LITE", features)):
        idp.update_user_pool(UserPoolId=lite["Id"], **settings)
    with raises("FeatureUnavailableInTierException", needs("LITE", features)):
        idp.update_user_pool(UserPoolId=essentials["Id"], UserPoolTier="LITE", **settings)
    assert _describe(idp, essentials["Id"])["UserPoolTier"] == "ESSENTIALS"
    assert _describe(idp, lite["Id"])["UserPoolTier"] == "LITE"


def test_email_mfa_needs_essentials_and_blocks_a_downgrade_while_on(idp: Any) -> None:
    lite = idp.create_user_pool(PoolName="lite", UserPoolTier="LITE", EmailConfiguration=SES)["UserPool"]
    with raises("FeatureUnavailableInTierException", needs("LITE", "Email MFA")):
        idp.set_user_pool_mfa_config(UserPoolId=lite["Id"], MfaConfiguration="OPTIONAL",
                                     EmailMfaConfiguration={"Message": "Code {####}", "Subject": "Code"})

    pool = idp.create_user_pool(PoolName="essentials", EmailConfiguration=SES)["UserPool"]
    idp.set_user_pool_mfa_config(UserPoolId=pool["Id"], MfaConfiguration="OPTIONAL",
                                 EmailMfaConfiguration={"Message": "Code {####}", "Subject": "Code"})
    # email MFA was set by SetUserPoolMfaConfig: the plan cannot drop under it until it is turned off
    with raises("TierChangeNotAllowedException", needs("LITE", "Email MFA")):
        idp.update_user_pool(UserPoolId=pool["Id"], UserPoolTier="LITE", EmailConfiguration=SES,
                             MfaConfiguration="OPTIONAL")
    assert _describe(idp, pool["Id"])["UserPoolTier"] == "ESSENTIALS"
    idp.set_user_pool_mfa_config(UserPoolId=pool["Id"], MfaConfiguration="OFF", EmailMfaConfiguration={})
    idp.update_user_pool(UserPoolId=pool["Id"], UserPoolTier="LITE", EmailConfiguration=SES)
    assert _describe(idp, pool["Id"])["UserPoolTier"] == "LITE"


def test_refresh_token_rotation_on_a_client_blocks_a_downgrade_to_lite(idp: Any) -> None:
    pool = idp.create_user_pool(PoolName="p")["UserPool"]
    idp.create_user_pool_client(UserPoolId=pool["Id"], ClientName="rotating",
                                ExplicitAuthFlows=[f for f in ALL_FLOWS if f != "ALLOW_REFRESH_TOKEN_AUTH"],
                                RefreshTokenRotation={"Feature": "ENABLED", "RetryGracePeriodSeconds": 0})
    with raises("TierChangeNotAllowedException", needs("LITE", "Refresh Token Rotation")):
        idp.update_user_pool(UserPoolId=pool["Id"], UserPoolTier="LITE")
    assert _describe(idp, pool["Id"])["UserPoolTier"] == "ESSENTIALS"



def test_lite_pool_client_cannot_rotate_refresh_tokens(idp: Any) -> None:
    """Refresh-token rotation is an Essentials feature: a Lite pool's client cannot turn it on."""
    pool_id = idp.create_user_pool(PoolName="lite", UserPoolTier="LITE")["UserPool"]["Id"]
    with pytest.raises(ClientError) as info:
        idp.create_user_pool_client(UserPoolId=pool_id, ClientName="web",
                                    RefreshTokenRotation={"Feature": "ENABLED", "RetryGracePeriodSeconds": 0})
    assert info.value.response["Error"]["Code"] == "FeatureUnavailableInTierException"
    assert idp.list_user_pool_clients(UserPoolId=pool_id, MaxResults=10)["UserPoolClients"] == []
