"""The enhanced flow end to end, over HTTP with real boto3 clients: user-pool sign-in (cognito-idp) ->
GetId -> GetCredentialsForIdentity (cognito-identity), the role per mapping type (default, Token,
Rules) and ambiguity rule (AuthenticatedRole, Deny), expiry on the virtual clock seen through the
control plane, the unauthenticated role only where allowed, and every bad input a typed 400.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import pytest
from botocore.config import Config

from auth_support import App, make_app, raises
from harness.server import ONE_ATTEMPT, Emulator

AUTH = "arn:aws:iam::123456789012:role/app-authenticated"
UNAUTH = "arn:aws:iam::123456789012:role/app-guest"
ADMIN = "arn:aws:iam::123456789012:role/app-admin"
MEMBER = "arn:aws:iam::123456789012:role/app-member"
AUDITOR = "arn:aws:iam::123456789012:role/app-auditor"
ROLES = {"authenticated": AUTH, "unauthenticated": UNAUTH}
INVALID_CONFIG = "Invalid identity pool configuration. Check assigned IAM roles for this pool."


@dataclass
class Setup:
    """A user pool with groups carrying roles, its users, and an identity pool trusting its client."""

    emulator: Emulator
    app: App
    cognito: Any  # boto3 cognito-identity
    pool_id: str = ""

    @property
    def provider(self) -> str:
        return f"cognito-idp.{self.emulator.region}.amazonaws.com/{self.app.pool_id}"

    @property
    def mapping_key(self) -> str:
        return f"{self.provider}:{self.app.client_id}"

    def identity_pool(self, allow_unauthenticated: bool = True, roles: dict[str, str] | None = None,
                      mapping: dict[str, Any] | None = None) -> str:
        self.pool_id = self.cognito.create_identity_pool(
            IdentityPoolName="app", AllowUnauthenticatedIdentities=allow_unauthenticated,
            CognitoIdentityProviders=[{"ProviderName": self.provider, "ClientId": self.app.client_id}],
        )["IdentityPoolId"]
        extra = {"RoleMappings": {self.mapping_key: mapping}} if mapping else {}
        self.cognito.set_identity_pool_roles(IdentityPoolId=self.pool_id, Roles=ROLES if roles is None else roles,
                                             **extra)
        return self.pool_id

    def logins(self, username: str) -> dict[str, str]:
        return {self.provider: self.app.sign_in(username)["IdToken"]}

    def credentials(self, username: str, **extra: Any) -> dict[str, Any]:
        """Sign in, GetId, GetCredentialsForIdentity; the answer."""
        logins = self.logins(username)
        identity_id = self.cognito.get_id(IdentityPoolId=self.pool_id, Logins=logins)["IdentityId"]
        return self.cognito.get_credentials_for_identity(IdentityId=identity_id, Logins=logins, **extra)

    def role_of(self, username: str, **extra: Any) -> str:
        """The role the control plane says the user's new credentials carry."""
        answer = self.credentials(username, **extra)
        issued = self.emulator.remote_control().identity_credential(answer["Credentials"]["AccessKeyId"])
        assert issued["identity_id"] == answer["IdentityId"] and issued["authenticated"] is True
        return issued["role_arn"]


@pytest.fixture()
def setup(emulator: Emulator) -> Setup:
    """ana: admins + members (preferred role ADMIN); ben: members; cy: no group; dee: two groups of equal
    precedence (two roles, no preferred one). custom:tenant acme for ana only."""
    emulator.backend.clock.freeze(1_900_000_000)
    app = make_app(emulator, None, pool={"Schema": [{"Name": "tenant", "AttributeDataType": "String",
                                                      "Mutable": True}]})
    for name, role, precedence in [("admins", ADMIN, 1), ("members", MEMBER, 5), ("auditors", AUDITOR, 5)]:
        app.idp.create_group(UserPoolId=app.pool_id, GroupName=name, RoleArn=role, Precedence=precedence)
    users = {"ana": ["admins", "members"], "ben": ["members"], "cy": [], "dee": ["members", "auditors"]}
    for username, groups in users.items():
        attributes = {"email": f"{username}@example.com"}
        if username == "ana":
            attributes["custom:tenant"] = "acme"
        app.confirmed_user(username, **attributes)
        for group in groups:
            app.idp.admin_add_user_to_group(UserPoolId=app.pool_id, Username=username, GroupName=group)
    return Setup(emulator, app, emulator.identity_client())


def token_mapping(ambiguous: str) -> dict[str, Any]:
    return {"Type": "Token", "AmbiguousRoleResolution": ambiguous}


def rules_mapping(ambiguous: str) -> dict[str, Any]:
    rules = [
        {"Claim": "custom:tenant", "MatchType": "Equals", "Value": "acme", "RoleARN": ADMIN},
        {"Claim": "cognito:groups", "MatchType": "Contains", "Value": "members", "RoleARN": MEMBER},
    ]
    return {"Type": "Rules", "AmbiguousRoleResolution": ambiguous, "RulesConfiguration": {"Rules": rules}}


def denied_message(setup: Setup) -> str:
    return f"The ambiguous role mapping rules for: {setup.provider} denied this request."


# --- the answer and the default roles ------------------------------------------------------------


def test_credentials_are_sts_shaped_for_one_hour_on_the_virtual_clock(setup: Setup) -> None:
    setup.identity_pool()
    answer = setup.credentials("ana")
    creds = answer["Credentials"]
    assert set(creds) == {"AccessKeyId", "SecretKey", "SessionToken", "Expiration"}
    assert creds["AccessKeyId"].startswith("ASIA") and len(creds["AccessKeyId"]) == 20
    assert len(creds["SecretKey"]) == 40 and len(creds["SessionToken"]) > 100
    assert creds["Expiration"] == datetime.fromtimestamp(1_900_003_600, tz=timezone.utc)
    issued = setup.emulator.remote_control().identity_credential(creds["AccessKeyId"])
    assert issued == {
        "access_key_id": creds["AccessKeyId"], "identity_id": answer["IdentityId"], "identity_pool_id": setup.pool_id,
        "role_arn": AUTH, "authenticated": True, "providers": [setup.provider], "issued": 1_900_000_000.0,
        "expiration": 1_900_003_600.0, "expired": False, "expired_by_control": False,
    }
    again = setup.credentials("ana")
    assert again["IdentityId"] == answer["IdentityId"]
    assert again["Credentials"]["AccessKeyId"] != creds["AccessKeyId"]


def test_without_a_mapping_every_user_gets_the_authenticated_role(setup: Setup) -> None:
    setup.identity_pool()
    assert [setup.role_of(u) for u in ("ana", "ben", "cy")] == [AUTH, AUTH, AUTH]


def test_no_authenticated_role_is_an_invalid_configuration(setup: Setup) -> None:
    setup.identity_pool(roles={"unauthenticated": UNAUTH})
    with raises("InvalidIdentityPoolConfigurationException", INVALID_CONFIG):
        setup.credentials("ana")


# --- Token mappings ---------------------------------------------------------------------------------


def test_token_mapping_takes_the_preferred_role_or_a_custom_role_in_the_token(setup: Setup) -> None:
    setup.identity_pool(mapping=token_mapping("Deny"))
    assert setup.role_of("ana") == ADMIN  # admins has the lowest precedence
    assert setup.role_of("ben") == MEMBER
    assert setup.role_of("ana", CustomRoleArn=MEMBER) == MEMBER  # one of ana's cognito:roles
    assert setup.role_of("dee", CustomRoleArn=AUDITOR) == AUDITOR
    with raises("NotAuthorizedException"):
        setup.credentials("ben", CustomRoleArn=ADMIN)  # not one of ben's roles


@pytest.mark.parametrize("username", ["cy", "dee"])  # no roles at all; two roles of equal precedence
def test_token_mapping_ambiguous_deny(setup: Setup, username: str) -> None:
    setup.identity_pool(mapping=token_mapping("Deny"))
    with raises("NotAuthorizedException", denied_message(setup)):
        setup.credentials(username)
    denied = setup.emulator.remote_control().events("identity.denied", pool_id=setup.pool_id)
    assert len(denied) == 1 and denied[0]["data"]["error"] == "NotAuthorizedException"
    assert setup.emulator.remote_control().identity_credentials(identity_pool_id=setup.pool_id) == []


@pytest.mark.parametrize("username", ["cy", "dee"])
def test_token_mapping_ambiguous_authenticated_role(setup: Setup, username: str) -> None:
    setup.identity_pool(mapping=token_mapping("AuthenticatedRole"))
    assert setup.role_of(username) == AUTH
    assert setup.role_of("ana") == ADMIN


# --- Rules mappings ---------------------------------------------------------------------------------


def test_rules_mapping_first_match_in_order(setup: Setup) -> None:
    setup.identity_pool(mapping=rules_mapping("Deny"))
    assert setup.role_of("ana") == ADMIN  # custom:tenant Equals acme (ana is in members too: first rule wins)
    assert setup.role_of("ben") == MEMBER  # cognito:groups Contains members
    with raises("NotAuthorizedException", denied_message(setup)):
        setup.credentials("cy")  # neither claim matches


def test_rules_mapping_ambiguous_authenticated_role(setup: Setup) -> None:
    setup.identity_pool(mapping=rules_mapping("AuthenticatedRole"))
    assert setup.role_of("cy") == AUTH


def test_leaving_the_group_changes_the_role_on_the_next_credentials(setup: Setup) -> None:
    setup.identity_pool(mapping=rules_mapping("AuthenticatedRole"))
    assert setup.role_of("ben") == MEMBER
    setup.app.idp.admin_remove_user_from_group(UserPoolId=setup.app.pool_id, Username="ben", GroupName="members")
    assert setup.role_of("ben") == AUTH


# --- expiry on the virtual clock ------------------------------------------------------------------


def test_credentials_expire_on_the_virtual_clock(setup: Setup) -> None:
    setup.identity_pool(mapping=token_mapping("Deny"))
    remote = setup.emulator.remote_control()
    key = setup.credentials("ana")["Credentials"]["AccessKeyId"]
    remote.advance(3599)
    assert remote.identity_credential(key)["expired"] is False
    remote.advance(1)
    assert remote.identity_credential(key)["expired"] is True
    fresh = setup.credentials("ana")["Credentials"]  # a fresh sign-in: new credentials, a new hour
    assert fresh["Expiration"] == datetime.fromtimestamp(1_900_003_600 + 3600, tz=timezone.utc)
    assert remote.expire_identity_credentials(access_key_id=fresh["AccessKeyId"]) == {"expired": 1}
    assert remote.identity_credential(fresh["AccessKeyId"])["expired"] is True


# --- unauthenticated identities ----------------------------------------------------------------------


def test_unauthenticated_identity_gets_the_unauthenticated_role(setup: Setup) -> None:
    setup.identity_pool(mapping=token_mapping("Deny"))
    identity_id = setup.cognito.get_id(IdentityPoolId=setup.pool_id)["IdentityId"]
    answer = setup.cognito.get_credentials_for_identity(IdentityId=identity_id)
    issued = setup.emulator.remote_control().identity_credential(answer["Credentials"]["AccessKeyId"])
    assert (issued["role_arn"], issued["authenticated"], issued["providers"]) == (UNAUTH, False, [])


def test_unauthenticated_access_where_not_allowed_is_refused(setup: Setup) -> None:
    setup.identity_pool(allow_unauthenticated=False)
    with raises("NotAuthorizedException", "Unauthenticated access is not supported for this identity pool."):
        setup.cognito.get_id(IdentityPoolId=setup.pool_id)
    identity_id = setup.cognito.get_id(IdentityPoolId=setup.pool_id, Logins=setup.logins("ana"))["IdentityId"]
    with raises("NotAuthorizedException"):  # an authenticated identity asked for without its logins
        setup.cognito.get_credentials_for_identity(IdentityId=identity_id)


def test_unauthenticated_without_an_unauthenticated_role_is_an_invalid_configuration(setup: Setup) -> None:
    setup.identity_pool(roles={"authenticated": AUTH})
    identity_id = setup.cognito.get_id(IdentityPoolId=setup.pool_id)["IdentityId"]
    with raises("InvalidIdentityPoolConfigurationException", INVALID_CONFIG):
        setup.cognito.get_credentials_for_identity(IdentityId=identity_id)
    assert setup.role_of("ana") == AUTH


# --- bad input: typed 400s ----------------------------------------------------------------------------


def test_bad_input_is_a_typed_400(setup: Setup) -> None:
    setup.identity_pool()
    logins = setup.logins("ana")
    identity_id = setup.cognito.get_id(IdentityPoolId=setup.pool_id, Logins=logins)["IdentityId"]
    ben_identity = setup.cognito.get_id(IdentityPoolId=setup.pool_id, Logins=setup.logins("ben"))["IdentityId"]
    region = setup.emulator.region
    with raises("InvalidParameterException"):
        setup.cognito.get_credentials_for_identity(IdentityId="not an identity id")
    with raises("ResourceNotFoundException"):
        setup.cognito.get_credentials_for_identity(IdentityId=f"{region}:00000000-0000-4000-8000-000000000000")
    unchecked = setup.emulator.identity_client(config=Config(parameter_validation=False, retries=ONE_ATTEMPT))
    with raises("InvalidParameterException"):  # shorter than the model's 20: the server checks too
        unchecked.get_credentials_for_identity(IdentityId=identity_id, Logins=logins, CustomRoleArn="short")
    with raises("InvalidParameterException"):
        unchecked.get_credentials_for_identity(IdentityId=identity_id, Logins={f"p{i}": "t" for i in range(11)})
    with raises("InvalidParameterException"):
        unchecked.get_credentials_for_identity(Logins=logins)
    with raises("NotAuthorizedException"):  # not a token at all
        setup.cognito.get_credentials_for_identity(IdentityId=identity_id, Logins={setup.provider: "x.y.z"})
    with raises("NotAuthorizedException"):  # ben's logins for ana's identity
        setup.cognito.get_credentials_for_identity(IdentityId=ben_identity, Logins=logins)
    with raises("NotAuthorizedException"):  # a provider the identity pool does not trust
        setup.cognito.get_credentials_for_identity(
            IdentityId=identity_id, Logins={f"cognito-idp.{region}.amazonaws.com/{region}_Zzzzzzzzz": "x.y.z"})
    setup.emulator.remote_control().advance(3601)  # the ID token has expired
    with raises("NotAuthorizedException"):
        setup.cognito.get_credentials_for_identity(IdentityId=identity_id, Logins=logins)
    assert setup.emulator.remote_control().identity_credentials() == []
