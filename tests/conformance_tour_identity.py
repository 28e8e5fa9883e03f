"""The cognito-identity part of the operation-conformance tour: every identity-pool operation once to
succeed and once to fail, through a real boto3 cognito-identity client.

The conformance test asks every registered operation for a success and a failure, so an operation
registered without a stop here fails it.
"""

from __future__ import annotations

from typing import Any

from conformance_tour_support import PASSWORD, password_auth
from conformance_tour_support import fail as _fail

ACCOUNT = "123456789012"
AUTH_ROLE = f"arn:aws:iam::{ACCOUNT}:role/tour-auth"
UNAUTH_ROLE = f"arn:aws:iam::{ACCOUNT}:role/tour-unauth"
DEVELOPER = "login.tour.app"
MISSING_IDENTITY_POOL = "us-east-1:00000000-0000-4000-8000-000000000000"
MISSING_IDENTITY = "us-east-1:11111111-1111-4111-8111-111111111111"


def _user_pool_login(idp: Any) -> tuple[str, str, str]:
    """A user pool, an app client and a signed-in user: (provider name, client id, ID token)."""
    pool_id = idp.create_user_pool(PoolName="identity-tour")["UserPool"]["Id"]
    client_id = idp.create_user_pool_client(UserPoolId=pool_id, ClientName="web",
                                            ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
                                            )["UserPoolClient"]["ClientId"]
    idp.admin_create_user(UserPoolId=pool_id, Username="ida", TemporaryPassword=PASSWORD, MessageAction="SUPPRESS")
    idp.admin_set_user_password(UserPoolId=pool_id, Username="ida", Password=PASSWORD, Permanent=True)
    tokens = password_auth(idp, client_id, "ida")["AuthenticationResult"]
    return f"cognito-idp.us-east-1.amazonaws.com/{pool_id}", client_id, tokens["IdToken"]


def identity_tour(ci: Any, idp: Any) -> None:  # noqa: PLR0915 - one linear walk through the API
    """Call each registered cognito-identity operation so it succeeds, and so it fails."""
    provider, client_id, id_token = _user_pool_login(idp)
    pool = ci.create_identity_pool(
        IdentityPoolName="tour", AllowUnauthenticatedIdentities=True, AllowClassicFlow=True, DeveloperProviderName=DEVELOPER,
        CognitoIdentityProviders=[{"ProviderName": provider, "ClientId": client_id}],
        IdentityPoolTags={"team": "tour"})
    pool_id = pool["IdentityPoolId"]
    _fail(ci.create_identity_pool, IdentityPoolName="bad", AllowUnauthenticatedIdentities=False,
          SupportedLoginProviders={"login.example.com": "x"})
    ci.describe_identity_pool(IdentityPoolId=pool_id)
    _fail(ci.describe_identity_pool, IdentityPoolId=MISSING_IDENTITY_POOL)
    ci.update_identity_pool(IdentityPoolId=pool_id, IdentityPoolName="tour", AllowUnauthenticatedIdentities=True,
                            AllowClassicFlow=True,
                            DeveloperProviderName=DEVELOPER,
                            CognitoIdentityProviders=[{"ProviderName": provider, "ClientId": client_id}])
    _fail(ci.update_identity_pool, IdentityPoolId=MISSING_IDENTITY_POOL, IdentityPoolName="x",
          AllowUnauthenticatedIdentities=True)
    ci.list_identity_pools(MaxResults=10)
    _fail(ci.list_identity_pools, MaxResults=10, NextToken="bogus-token")

    arn = f"arn:aws:cognito-identity:us-east-1:{ACCOUNT}:identitypool/{pool_id}"
    ci.tag_resource(ResourceArn=arn, Tags={"env": "tour"})
    _fail(ci.tag_resource, ResourceArn=arn.replace(pool_id, MISSING_IDENTITY_POOL), Tags={"env": "tour"})
    ci.list_tags_for_resource(ResourceArn=arn)
    _fail(ci.list_tags_for_resource, ResourceArn=f"arn:aws:iam::{ACCOUNT}:role/not-a-pool")
    ci.untag_resource(ResourceArn=arn, TagKeys=["env"])
    _fail(ci.untag_resource, ResourceArn=arn.replace(pool_id, MISSING_IDENTITY_POOL), TagKeys=["env"])

    rules = {"Type": "Rules", "AmbiguousRoleResolution": "AuthenticatedRole", "RulesConfiguration": {"Rules": [
        {"Claim": "cognito:groups", "MatchType": "Contains", "Value": "admins", "RoleARN": AUTH_ROLE}]}}
    ci.set_identity_pool_roles(IdentityPoolId=pool_id, Roles={"authenticated": AUTH_ROLE, "unauthenticated": UNAUTH_ROLE},
                               RoleMappings={f"{provider}:{client_id}": rules})
    _fail(ci.set_identity_pool_roles, IdentityPoolId=pool_id, Roles={"authenticated": AUTH_ROLE},
          RoleMappings={"cognito-idp.us-east-1.amazonaws.com/us-east-1_Nope00000:x": rules})
    ci.get_identity_pool_roles(IdentityPoolId=pool_id)
    _fail(ci.get_identity_pool_roles, IdentityPoolId=MISSING_IDENTITY_POOL)
    # the basic (classic) flow below does not take role mappings: the default roles only from here
    ci.set_identity_pool_roles(IdentityPoolId=pool_id, Roles={"authenticated": AUTH_ROLE, "unauthenticated": UNAUTH_ROLE})

    # identities: a signed-in user's, a guest's, two developer users'
    logins = {provider: id_token}
    signed_in = ci.get_id(IdentityPoolId=pool_id, Logins=logins)["IdentityId"]
    _fail(ci.get_id, IdentityPoolId=MISSING_IDENTITY_POOL)
    guest = ci.get_id(IdentityPoolId=pool_id)["IdentityId"]
    ci.get_credentials_for_identity(IdentityId=guest)
    _fail(ci.get_credentials_for_identity, IdentityId=MISSING_IDENTITY)
    ci.get_open_id_token(IdentityId=guest)
    _fail(ci.get_open_id_token, IdentityId=MISSING_IDENTITY)
    ci.get_open_id_token_for_developer_identity(IdentityPoolId=pool_id, Logins={DEVELOPER: "dev-a"})
    ci.get_open_id_token_for_developer_identity(IdentityPoolId=pool_id, Logins={DEVELOPER: "dev-b"})
    _fail(ci.get_open_id_token_for_developer_identity, IdentityPoolId=pool_id, Logins={"other.app": "dev-a"})

    ci.list_identities(IdentityPoolId=pool_id, MaxResults=10)
    _fail(ci.list_identities, IdentityPoolId=MISSING_IDENTITY_POOL, MaxResults=10)
    ci.describe_identity(IdentityId=signed_in)
    _fail(ci.describe_identity, IdentityId=MISSING_IDENTITY)
    ci.lookup_developer_identity(IdentityPoolId=pool_id, DeveloperUserIdentifier="dev-a")
    _fail(ci.lookup_developer_identity, IdentityPoolId=pool_id)
    ci.merge_developer_identities(SourceUserIdentifier="dev-b", DestinationUserIdentifier="dev-a",
                                  DeveloperProviderName=DEVELOPER, IdentityPoolId=pool_id)
    _fail(ci.merge_developer_identities, SourceUserIdentifier="dev-b", DestinationUserIdentifier="dev-a",
          DeveloperProviderName="other.app", IdentityPoolId=pool_id)
    dev_identity = ci.lookup_developer_identity(IdentityPoolId=pool_id, DeveloperUserIdentifier="dev-a")["IdentityId"]
    ci.unlink_developer_identity(IdentityId=dev_identity, IdentityPoolId=pool_id, DeveloperProviderName=DEVELOPER,
                                 DeveloperUserIdentifier="dev-b")
    _fail(ci.unlink_developer_identity, IdentityId=dev_identity, IdentityPoolId=pool_id,
          DeveloperProviderName=DEVELOPER, DeveloperUserIdentifier="dev-b")
    ci.unlink_identity(IdentityId=signed_in, Logins=logins, LoginsToRemove=[provider])
    _fail(ci.unlink_identity, IdentityId=MISSING_IDENTITY, Logins=logins, LoginsToRemove=[provider])

    ci.delete_identities(IdentityIdsToDelete=[dev_identity])
    _fail(ci.delete_identities, IdentityIdsToDelete=["not-an-identity-id"])  # the model's REGION:GUID pattern
    ci.delete_identity_pool(IdentityPoolId=pool_id)
    _fail(ci.delete_identity_pool, IdentityPoolId=pool_id)

