"""Identity pool administration over HTTP with a real boto3 cognito-identity client: pool CRUD, tags,
roles with AWS's checks, identities and developer identities, snapshots, the serve export.

Identities are made by GetOpenIdTokenForDeveloperIdentity (developer-authenticated); the public
logins some tests need besides are linked through the model (see ``link``).
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto import mock_aws

from harness.awsendpoint.mode import AwsEndpointMode
from harness.engine import snapshot
from harness.engine.identity.models import login_key
from harness.server import Emulator
from tests.serve_support import Served

ACCOUNT = "123456789012"
AUTH_ROLE = f"arn:aws:iam::{ACCOUNT}:role/app-auth"
UNAUTH_ROLE = f"arn:aws:iam::{ACCOUNT}:role/app-unauth"
ADMIN_ROLE = f"arn:aws:iam::{ACCOUNT}:role/app-admin"
USER_POOL = "cognito-idp.us-east-1.amazonaws.com/us-east-1_Abc123456"
CLIENT = "client1abc"
DEVELOPER = "login.example.app"


@pytest.fixture()
def ci(emulator: Emulator) -> Any:
    return emulator.identity_client()


def refused(call: Any, error_type: str, **kwargs: Any) -> str:
    """The call answers a typed 400 of ``error_type``; returns the message."""
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    response = info.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400, response
    assert response["Error"]["Code"] == error_type, response["Error"]
    return str(response["Error"]["Message"])


def make_pool(ci: Any, name: str = "app", **extra: Any) -> str:
    options: dict[str, Any] = {"AllowUnauthenticatedIdentities": False,
                               "CognitoIdentityProviders": [{"ProviderName": USER_POOL, "ClientId": CLIENT}]}
    options.update(extra)
    return str(ci.create_identity_pool(IdentityPoolName=name, **options)["IdentityPoolId"])


def link(emulator: Emulator, pool_id: str, identifier: str, **logins: str) -> str:
    """A developer-authenticated identity made by GetOpenIdTokenForDeveloperIdentity over HTTP. ``logins``
    (public provider -> subject) are linked to it through the model: a real one needs a signed token of
    that provider, which is the login tests' business, not these."""
    answer = emulator.identity_client().get_open_id_token_for_developer_identity(
        IdentityPoolId=pool_id, Logins={DEVELOPER: identifier})
    identity_id = str(answer["IdentityId"])
    backend = emulator.backend
    with backend.transaction():
        pool = backend.identity.pools[pool_id]
        for provider, subject in logins.items():
            pool.identities[identity_id].logins[provider] = subject
            pool.login_index[login_key(provider, subject)] = identity_id
    return identity_id


# --- pools ---------------------------------------------------------------------------------------------


def test_create_describe_update_list_delete(ci: Any) -> None:
    created = ci.create_identity_pool(
        IdentityPoolName="shop app", AllowUnauthenticatedIdentities=True, AllowClassicFlow=True,
        SupportedLoginProviders={"accounts.google.com": "123.apps.googleusercontent.com"},
        DeveloperProviderName=DEVELOPER,
        CognitoIdentityProviders=[{"ProviderName": USER_POOL, "ClientId": CLIENT, "ServerSideTokenCheck": True}],
        OpenIdConnectProviderARNs=[f"arn:aws:iam::{ACCOUNT}:oidc-provider/issuer.example.com"],
        IdentityPoolTags={"team": "web"})
    pool_id = created["IdentityPoolId"]
    region, _, guid = pool_id.partition(":")
    assert region == "us-east-1" and len(guid) == 36
    described = ci.describe_identity_pool(IdentityPoolId=pool_id)
    described.pop("ResponseMetadata")
    created.pop("ResponseMetadata")
    assert described == created
    assert described["CognitoIdentityProviders"] == [
        {"ProviderName": USER_POOL, "ClientId": CLIENT, "ServerSideTokenCheck": True}]
    assert described["DeveloperProviderName"] == DEVELOPER and described["AllowClassicFlow"] is True

    # an update replaces the configuration: what is left out is cleared (not the developer provider, tags)
    updated = ci.update_identity_pool(IdentityPoolId=pool_id, IdentityPoolName="shop",
                                      AllowUnauthenticatedIdentities=False)
    assert updated["IdentityPoolName"] == "shop" and updated["AllowUnauthenticatedIdentities"] is False
    assert "CognitoIdentityProviders" not in updated and "SupportedLoginProviders" not in updated
    assert "OpenIdConnectProviderARNs" not in updated
    assert updated["AllowClassicFlow"] is False
    assert updated["DeveloperProviderName"] == DEVELOPER and updated["IdentityPoolTags"] == {"team": "web"}

    listed = ci.list_identity_pools(MaxResults=60)["IdentityPools"]
    assert listed == [{"IdentityPoolId": pool_id, "IdentityPoolName": "shop"}]
    ci.delete_identity_pool(IdentityPoolId=pool_id)
    assert ci.list_identity_pools(MaxResults=60)["IdentityPools"] == []
    message = refused(ci.describe_identity_pool, "ResourceNotFoundException", IdentityPoolId=pool_id)
    assert message == f"IdentityPool '{pool_id}' not found."
    refused(ci.delete_identity_pool, "ResourceNotFoundException", IdentityPoolId=pool_id)
    refused(ci.update_identity_pool, "ResourceNotFoundException", IdentityPoolId=pool_id, IdentityPoolName="x",
            AllowUnauthenticatedIdentities=True)


def test_list_identity_pools_pages_in_creation_order(ci: Any) -> None:
    made = [make_pool(ci, f"pool{i}") for i in range(5)]
    seen, token, pages = [], None, 0
    while True:
        page = ci.list_identity_pools(MaxResults=2, **({"NextToken": token} if token else {}))
        seen += [p["IdentityPoolId"] for p in page["IdentityPools"]]
        pages += 1
        token = page.get("NextToken")
        if not token:
            break
    assert seen == made and pages == 3
    refused(ci.list_identity_pools, "InvalidParameterException", MaxResults=2, NextToken="not-a-token")


def test_the_seed_fixes_the_pool_ids() -> None:
    ids = []
    for _ in range(2):
        with Emulator.start(seed=77) as emu:
            ids.append([make_pool(emu.identity_client(), f"p{i}") for i in range(2)])
    assert ids[0] == ids[1] and ids[0][0] != ids[0][1]


@pytest.mark.parametrize(("options", "error_type", "fragment"), [
    ({"SupportedLoginProviders": {"login.example.com": "x"}}, "InvalidParameterException", "login.example.com"),
    ({"CognitoIdentityProviders": [{"ProviderName": "my-user-pool", "ClientId": CLIENT}]},
     "InvalidParameterException", "my-user-pool"),
    ({"CognitoIdentityProviders": [{"ProviderName": USER_POOL, "ClientId": CLIENT}] * 2},
     "InvalidParameterException", "listed twice"),
    ({"CognitoIdentityProviders": [{"ProviderName": USER_POOL, "ClientId": f"c{i}"} for i in range(51)]},
     "LimitExceededException", "at most 50"),
    ({"IdentityPoolTags": {"aws:owner": "me"}}, "InvalidParameterException", "reserved"),
    ({"IdentityPoolTags": {f"k{i}": "v" for i in range(51)}}, "InvalidParameterException", "at most 50 tags"),
    ({"DeveloperProviderName": "bad name!"}, "InvalidParameterException", "developerProviderName"),
])
def test_create_refuses_a_bad_configuration(ci: Any, options: dict[str, Any], error_type: str, fragment: str) -> None:
    message = refused(ci.create_identity_pool, error_type, IdentityPoolName="app",
                      AllowUnauthenticatedIdentities=False, **options)
    assert fragment in message
    assert ci.list_identity_pools(MaxResults=60)["IdentityPools"] == []  # nothing half-made


def test_the_pool_name_is_checked_against_the_model(ci: Any) -> None:
    message = refused(ci.create_identity_pool, "InvalidParameterException", IdentityPoolName="bad/name",
                      AllowUnauthenticatedIdentities=False)
    assert "identityPoolName" in message


def test_the_developer_provider_name_is_fixed_once_set(ci: Any) -> None:
    pool_id = make_pool(ci, DeveloperProviderName=DEVELOPER)
    message = refused(ci.update_identity_pool, "InvalidParameterException", IdentityPoolId=pool_id,
                      IdentityPoolName="app", AllowUnauthenticatedIdentities=False, DeveloperProviderName="other.app")
    assert DEVELOPER in message
    ci.update_identity_pool(IdentityPoolId=pool_id, IdentityPoolName="app", AllowUnauthenticatedIdentities=False,
                            DeveloperProviderName=DEVELOPER)
    later = make_pool(ci, "later")
    assert ci.update_identity_pool(IdentityPoolId=later, IdentityPoolName="later", AllowUnauthenticatedIdentities=False,
                                   DeveloperProviderName="late.app")["DeveloperProviderName"] == "late.app"


# --- tags ----------------------------------------------------------------------------------------------


def test_tags(ci: Any) -> None:
    pool_id = make_pool(ci, IdentityPoolTags={"team": "web"})
    arn = f"arn:aws:cognito-identity:us-east-1:{ACCOUNT}:identitypool/{pool_id}"
    ci.tag_resource(ResourceArn=arn, Tags={"env": "test", "team": "api"})
    assert ci.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"team": "api", "env": "test"}
    ci.untag_resource(ResourceArn=arn, TagKeys=["team", "absent"])
    assert ci.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"env": "test"}
    assert ci.describe_identity_pool(IdentityPoolId=pool_id)["IdentityPoolTags"] == {"env": "test"}
    refused(ci.tag_resource, "InvalidParameterException", ResourceArn=arn, Tags={f"k{i}": "v" for i in range(50)})
    refused(ci.tag_resource, "InvalidParameterException", ResourceArn=arn, Tags={"aws:x": "v"})
    assert ci.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"env": "test"}  # refused: unchanged
    missing = arn.replace(pool_id, "us-east-1:00000000-0000-4000-8000-000000000000")
    refused(ci.list_tags_for_resource, "ResourceNotFoundException", ResourceArn=missing)
    for bad in (f"arn:aws:cognito-idp:us-east-1:{ACCOUNT}:userpool/us-east-1_Abc123456",
                arn.replace(ACCOUNT, "999999999999"), arn.replace("arn:aws:cognito-identity:us-east-1",
                                                                  "arn:aws:cognito-identity:eu-west-1")):
        refused(ci.tag_resource, "InvalidParameterException", ResourceArn=bad, Tags={"a": "b"})


# --- roles ---------------------------------------------------------------------------------------------


def rules_mapping(count: int = 2) -> dict[str, Any]:
    rules = [{"Claim": "cognito:groups", "MatchType": "Contains", "Value": f"g{i}", "RoleARN": ADMIN_ROLE}
             for i in range(count)]
    return {"Type": "Rules", "AmbiguousRoleResolution": "Deny", "RulesConfiguration": {"Rules": rules}}


def test_set_and_get_roles_with_mappings(ci: Any) -> None:
    pool_id = make_pool(ci, SupportedLoginProviders={"accounts.google.com": "g-app"})
    assert ci.get_identity_pool_roles(IdentityPoolId=pool_id)["Roles"] == {}
    mappings = {f"{USER_POOL}:{CLIENT}": rules_mapping(),
                "accounts.google.com": {"Type": "Token", "AmbiguousRoleResolution": "AuthenticatedRole"}}
    ci.set_identity_pool_roles(IdentityPoolId=pool_id, Roles={"authenticated": AUTH_ROLE, "unauthenticated": UNAUTH_ROLE},
                               RoleMappings=mappings)
    got = ci.get_identity_pool_roles(IdentityPoolId=pool_id)
    assert got["IdentityPoolId"] == pool_id
    assert got["Roles"] == {"authenticated": AUTH_ROLE, "unauthenticated": UNAUTH_ROLE}
    assert got["RoleMappings"] == mappings
    # a second call replaces both: the mappings left out are gone
    ci.set_identity_pool_roles(IdentityPoolId=pool_id, Roles={"authenticated": AUTH_ROLE})
    got = ci.get_identity_pool_roles(IdentityPoolId=pool_id)
    assert got["Roles"] == {"authenticated": AUTH_ROLE} and "RoleMappings" not in got
    refused(ci.get_identity_pool_roles, "ResourceNotFoundException",
            IdentityPoolId="us-east-1:00000000-0000-4000-8000-000000000000")


@pytest.mark.parametrize(("roles", "mappings", "fragment"), [
    ({"authenticated": "not-an-arn-but-long-enough"}, {}, "Invalid role ARN"),
    ({"authenticated": f"arn:aws:iam::{ACCOUNT}:user/someone"}, {}, "Invalid role ARN"),
    ({"admin": AUTH_ROLE}, {}, "roles.key"),  # the model's (un)?authenticated key pattern
    ({}, {"cognito-idp.us-east-1.amazonaws.com/us-east-1_Other0000:c": {"Type": "Token",
                                                                        "AmbiguousRoleResolution": "Deny"}},
     "(cognito-idp.us-east-1.amazonaws.com/us-east-1_Other0000:c) is not a valid RoleMapping ProviderName or is not "
     "a configured provider."),
    ({}, {USER_POOL: {"Type": "Token", "AmbiguousRoleResolution": "Deny"}}, "is not a valid RoleMapping"),
    ({}, {f"{USER_POOL}:{CLIENT}": {"Type": "Token"}}, "AmbiguousRoleResolution"),
    ({}, {f"{USER_POOL}:{CLIENT}": {"Type": "Rules", "AmbiguousRoleResolution": "Deny"}}, "RulesConfiguration"),
    ({}, {f"{USER_POOL}:{CLIENT}": {**rules_mapping(), "Type": "Token"}}, "only allowed"),
    ({}, {f"{USER_POOL}:{CLIENT}": rules_mapping(26)}, "26 rules: at most 25"),
    ({}, {f"{USER_POOL}:{CLIENT}": {**rules_mapping(1), "RulesConfiguration": {"Rules": [
        {"Claim": "x", "MatchType": "Equals", "Value": "y", "RoleARN": "arn:aws:iam::1:role/too-short-acct"}]}}},
     "Invalid role ARN"),
])
def test_set_roles_refuses_what_aws_refuses(ci: Any, roles: dict[str, str], mappings: dict[str, Any],
                                            fragment: str) -> None:
    pool_id = make_pool(ci)
    ci.set_identity_pool_roles(IdentityPoolId=pool_id, Roles={"authenticated": AUTH_ROLE})
    message = refused(ci.set_identity_pool_roles, "InvalidParameterException", IdentityPoolId=pool_id, Roles=roles,
                      RoleMappings=mappings)
    assert fragment in message
    assert ci.get_identity_pool_roles(IdentityPoolId=pool_id)["Roles"] == {"authenticated": AUTH_ROLE}  # unchanged


def test_twenty_five_rules_are_allowed(ci: Any) -> None:
    pool_id = make_pool(ci)
    ci.set_identity_pool_roles(IdentityPoolId=pool_id, Roles={}, RoleMappings={f"{USER_POOL}:{CLIENT}": rules_mapping(25)})
    got = ci.get_identity_pool_roles(IdentityPoolId=pool_id)["RoleMappings"][f"{USER_POOL}:{CLIENT}"]
    assert len(got["RulesConfiguration"]["Rules"]) == 25


def test_removing_a_provider_removes_its_mapping(ci: Any) -> None:
    pool_id = make_pool(ci)
    ci.set_identity_pool_roles(IdentityPoolId=pool_id, Roles={"authenticated": AUTH_ROLE},
                               RoleMappings={f"{USER_POOL}:{CLIENT}": rules_mapping()})
    ci.update_identity_pool(IdentityPoolId=pool_id, IdentityPoolName="app", AllowUnauthenticatedIdentities=False)
    assert "RoleMappings" not in ci.get_identity_pool_roles(IdentityPoolId=pool_id)


# --- identities ------------------------------------------------------------------------------------------


def test_list_describe_and_delete_identities(emulator: Emulator, ci: Any) -> None:
    pool_id = make_pool(ci, DeveloperProviderName=DEVELOPER)
    ids = [link(emulator, pool_id, f"user-{i}", **{USER_POOL: f"sub-{i}"}) for i in range(3)]
    listed = ci.list_identities(IdentityPoolId=pool_id, MaxResults=2)
    assert listed["IdentityPoolId"] == pool_id
    assert [i["IdentityId"] for i in listed["Identities"]] == ids[:2]
    rest = ci.list_identities(IdentityPoolId=pool_id, MaxResults=2, NextToken=listed["NextToken"])
    assert [i["IdentityId"] for i in rest["Identities"]] == ids[2:] and "NextToken" not in rest
    described = ci.describe_identity(IdentityId=ids[0])
    assert described["IdentityId"] == ids[0] and described["Logins"] == [USER_POOL, DEVELOPER]
    assert described["CreationDate"] <= described["LastModifiedDate"]

    missing = "us-east-1:00000000-0000-4000-8000-000000000000"
    assert ci.delete_identities(IdentityIdsToDelete=[ids[0], missing])["UnprocessedIdentityIds"] == []
    message = refused(ci.describe_identity, "ResourceNotFoundException", IdentityId=ids[0])
    assert message == f"Identity '{ids[0]}' not found."
    assert [i["IdentityId"] for i in ci.list_identities(IdentityPoolId=pool_id, MaxResults=60)["Identities"]] == ids[1:]
    refused(ci.lookup_developer_identity, "ResourceNotFoundException", IdentityPoolId=pool_id,
            DeveloperUserIdentifier="user-0")  # its logins went with it
    with emulator.backend.transaction():
        assert emulator.backend.identity.pools[pool_id].developer_identity("user-0") is None
    refused(ci.list_identities, "ResourceNotFoundException", IdentityPoolId=missing, MaxResults=10)
    refused(ci.list_identities, "InvalidParameterException", IdentityPoolId=pool_id, MaxResults=10, NextToken="junk")


def test_lookup_developer_identity(emulator: Emulator, ci: Any) -> None:
    pool_id = make_pool(ci, DeveloperProviderName=DEVELOPER)
    first = link(emulator, pool_id, "alice")
    second = link(emulator, pool_id, "bob")
    assert ci.lookup_developer_identity(IdentityPoolId=pool_id, DeveloperUserIdentifier="alice")["IdentityId"] == first
    by_id = ci.lookup_developer_identity(IdentityPoolId=pool_id, IdentityId=second)
    assert by_id["IdentityId"] == second and by_id["DeveloperUserIdentifierList"] == ["bob"]
    both = ci.lookup_developer_identity(IdentityPoolId=pool_id, IdentityId=first, DeveloperUserIdentifier="alice")
    assert both["IdentityId"] == first and both["DeveloperUserIdentifierList"] == ["alice"]
    refused(ci.lookup_developer_identity, "ResourceConflictException", IdentityPoolId=pool_id, IdentityId=second,
            DeveloperUserIdentifier="alice")
    refused(ci.lookup_developer_identity, "InvalidParameterException", IdentityPoolId=pool_id)
    refused(ci.lookup_developer_identity, "ResourceNotFoundException", IdentityPoolId=pool_id,
            DeveloperUserIdentifier="carol")


def test_merge_developer_identities(emulator: Emulator, ci: Any) -> None:
    pool_id = make_pool(ci, DeveloperProviderName=DEVELOPER)
    source = link(emulator, pool_id, "alice", **{"accounts.google.com": "g-1"})
    target = link(emulator, pool_id, "alice-2")
    merged = ci.merge_developer_identities(SourceUserIdentifier="alice", DestinationUserIdentifier="alice-2",
                                           DeveloperProviderName=DEVELOPER, IdentityPoolId=pool_id)
    assert merged["IdentityId"] == target
    found = ci.lookup_developer_identity(IdentityPoolId=pool_id, IdentityId=target)
    assert found["DeveloperUserIdentifierList"] == ["alice-2", "alice"]
    assert ci.lookup_developer_identity(IdentityPoolId=pool_id, DeveloperUserIdentifier="alice")["IdentityId"] == target
    assert ci.describe_identity(IdentityId=target)["Logins"] == ["accounts.google.com", DEVELOPER]
    with emulator.backend.transaction():
        assert emulator.backend.identity.pools[pool_id].login_index["accounts.google.com\ng-1"] == target
    # the source identity stays, disabled: HideDisabled leaves it out
    everything = [i["IdentityId"] for i in ci.list_identities(IdentityPoolId=pool_id, MaxResults=60)["Identities"]]
    enabled = [i["IdentityId"] for i in
               ci.list_identities(IdentityPoolId=pool_id, MaxResults=60, HideDisabled=True)["Identities"]]
    assert everything == [source, target] and enabled == [target]

    google = link(emulator, pool_id, "dave", **{"accounts.google.com": "g-2"})
    message = refused(ci.merge_developer_identities, "ResourceConflictException", SourceUserIdentifier="dave",
                      DestinationUserIdentifier="alice", DeveloperProviderName=DEVELOPER, IdentityPoolId=pool_id)
    assert "accounts.google.com" in message
    assert ci.lookup_developer_identity(IdentityPoolId=pool_id, DeveloperUserIdentifier="dave")["IdentityId"] == google
    refused(ci.merge_developer_identities, "InvalidParameterException", SourceUserIdentifier="alice",
            DestinationUserIdentifier="dave", DeveloperProviderName="other.app", IdentityPoolId=pool_id)
    refused(ci.merge_developer_identities, "ResourceNotFoundException", SourceUserIdentifier="nobody",
            DestinationUserIdentifier="dave", DeveloperProviderName=DEVELOPER, IdentityPoolId=pool_id)


def test_unlink_developer_identity(emulator: Emulator, ci: Any) -> None:
    pool_id = make_pool(ci, DeveloperProviderName=DEVELOPER)
    alice = link(emulator, pool_id, "alice")
    bob = link(emulator, pool_id, "bob")
    refused(ci.unlink_developer_identity, "ResourceConflictException", IdentityId=bob, IdentityPoolId=pool_id,
            DeveloperProviderName=DEVELOPER, DeveloperUserIdentifier="alice")
    refused(ci.unlink_developer_identity, "InvalidParameterException", IdentityId=alice, IdentityPoolId=pool_id,
            DeveloperProviderName="other.app", DeveloperUserIdentifier="alice")
    ci.unlink_developer_identity(IdentityId=alice, IdentityPoolId=pool_id, DeveloperProviderName=DEVELOPER,
                                 DeveloperUserIdentifier="alice")
    refused(ci.lookup_developer_identity, "ResourceNotFoundException", IdentityPoolId=pool_id,
            DeveloperUserIdentifier="alice")
    assert ci.describe_identity(IdentityId=alice)["Logins"] == []
    unlinked = emulator.remote_control().events(type="identity.unlinked")
    assert [(e["pool_id"], e["data"]) for e in unlinked] == [(pool_id, {"identity_id": alice, "provider": DEVELOPER})]
    refused(ci.unlink_developer_identity, "ResourceNotFoundException", IdentityId=alice, IdentityPoolId=pool_id,
            DeveloperProviderName=DEVELOPER, DeveloperUserIdentifier="alice")


def test_a_pool_without_a_developer_provider_has_no_developer_identities(ci: Any) -> None:
    pool_id = make_pool(ci)
    refused(ci.merge_developer_identities, "InvalidParameterException", SourceUserIdentifier="a",
            DestinationUserIdentifier="b", DeveloperProviderName=DEVELOPER, IdentityPoolId=pool_id)
    refused(ci.lookup_developer_identity, "ResourceNotFoundException", IdentityPoolId=pool_id,
            DeveloperUserIdentifier="a")


# --- snapshots, clients, exports ------------------------------------------------------------------------


def test_identity_pools_survive_snapshot_and_restore(emulator: Emulator, ci: Any) -> None:
    control = emulator.remote_control()
    pool_id = make_pool(ci, DeveloperProviderName=DEVELOPER, IdentityPoolTags={"team": "web"})
    ci.set_identity_pool_roles(IdentityPoolId=pool_id, Roles={"authenticated": AUTH_ROLE},
                               RoleMappings={f"{USER_POOL}:{CLIENT}": rules_mapping()})
    alice = link(emulator, pool_id, "alice", **{USER_POOL: "sub-1"})
    saved = control.snapshot(include_secrets=True)
    assert [p["pool_id"] for p in saved["identity"]["pools"]] == [pool_id]
    next_pool = make_pool(ci, "after")
    before = {"pool": ci.describe_identity_pool(IdentityPoolId=pool_id), "identity": ci.describe_identity(IdentityId=alice),
              "roles": ci.get_identity_pool_roles(IdentityPoolId=pool_id)}

    control.reset()
    refused(ci.describe_identity_pool, "ResourceNotFoundException", IdentityPoolId=pool_id)
    control.restore(json.loads(json.dumps(saved)))
    after = {"pool": ci.describe_identity_pool(IdentityPoolId=pool_id), "identity": ci.describe_identity(IdentityId=alice),
             "roles": ci.get_identity_pool_roles(IdentityPoolId=pool_id)}
    for answer in (*before.values(), *after.values()):
        answer.pop("ResponseMetadata")
    assert after == before
    assert ci.lookup_developer_identity(IdentityPoolId=pool_id, DeveloperUserIdentifier="alice")["IdentityId"] == alice
    assert [p["IdentityPoolId"] for p in ci.list_identity_pools(MaxResults=60)["IdentityPools"]] == [pool_id]
    assert make_pool(ci, "after") == next_pool  # the ids carry on from where the snapshot was taken


def test_a_snapshot_with_a_broken_identity_member_is_refused(emulator: Emulator, ci: Any) -> None:
    control = emulator.remote_control()
    pool_id = make_pool(ci)
    saved = control.snapshot(include_secrets=True)
    broken = json.loads(json.dumps(saved))
    broken["identity"]["pools"][0]["allow_unauthenticated"] = "yes"
    with pytest.raises(Exception, match="identity.pools"):
        control.restore(broken)
    assert ci.describe_identity_pool(IdentityPoolId=pool_id)["IdentityPoolId"] == pool_id  # left as it was
    older = {k: v for k, v in saved.items() if k != "identity"}  # a snapshot from before identity pools
    control.restore(older)
    assert ci.list_identity_pools(MaxResults=60)["IdentityPools"] == []


def test_serve_exports_the_cognito_identity_endpoint() -> None:
    server = Served("--port", "0", "--seed", "1")
    try:
        endpoint = server.env["AWS_ENDPOINT_URL_COGNITO_IDENTITY"]
        assert endpoint == server.env["AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER"]
        client = boto3.client("cognito-identity", endpoint_url=endpoint, region_name=server.env["AWS_DEFAULT_REGION"],
                              aws_access_key_id=server.env["AWS_ACCESS_KEY_ID"],
                              aws_secret_access_key=server.env["AWS_SECRET_ACCESS_KEY"])
        pool_id = make_pool(client)
        assert client.describe_identity_pool(IdentityPoolId=pool_id)["IdentityPoolName"] == "app"
    finally:
        server.stop()


def test_the_aws_endpoint_mode_answers_for_the_cognito_identity_hosts(emulator: Emulator) -> None:
    """An unchanged boto3 cognito-identity client (AWS's default endpoint) reaches the emulator through the mode."""
    mode = AwsEndpointMode("us-east-1", emulator.url).start()
    try:
        env = mode.app_env("us-east-1_Abc123456")
        assert env["AWS_ENDPOINT_URL_COGNITO_IDENTITY"] == "https://cognito-identity.us-east-1.amazonaws.com"
        client = boto3.client("cognito-identity", region_name="us-east-1", aws_access_key_id="testing",
                              aws_secret_access_key="testing", verify=env["AWS_CA_BUNDLE"],
                              config=Config(proxies={"https": env["HTTPS_PROXY"]}, retries={"total_max_attempts": 1}))
        assert client.meta.endpoint_url == "https://cognito-identity.us-east-1.amazonaws.com"
        pool_id = make_pool(client)
        assert emulator.identity_client().describe_identity_pool(IdentityPoolId=pool_id)["IdentityPoolName"] == "app"
        assert mode.front is not None and mode.front.log.admitted.get("cognito-identity.us-east-1.amazonaws.com") == 1
        assert mode.evidence()[0].data["hosts"] == ["cognito-idp.us-east-1.amazonaws.com",
                                                     "cognito-identity.us-east-1.amazonaws.com",
                                                     "cognito-identity.amazonaws.com"]
    finally:
        mode.stop()


def test_the_pool_shape_matches_moto_for_the_members_both_send(ci: Any) -> None:
    """moto (an independent cognito-identity) as a differential oracle for DescribeIdentityPool's shape."""
    request = {"IdentityPoolName": "app", "AllowUnauthenticatedIdentities": True, "DeveloperProviderName": DEVELOPER,
               "SupportedLoginProviders": {"accounts.google.com": "g-app"},
               "CognitoIdentityProviders": [{"ProviderName": USER_POOL, "ClientId": CLIENT, "ServerSideTokenCheck": False}],
               "IdentityPoolTags": {"team": "web"}}
    ours = ci.describe_identity_pool(IdentityPoolId=ci.create_identity_pool(**request)["IdentityPoolId"])
    with mock_aws():
        moto = boto3.client("cognito-identity", region_name="us-east-1", aws_access_key_id="testing",
                            aws_secret_access_key="testing")
        theirs = moto.describe_identity_pool(IdentityPoolId=moto.create_identity_pool(**request)["IdentityPoolId"])
    for answer in (ours, theirs):
        answer.pop("ResponseMetadata")
    assert set(theirs) <= set(ours)
    assert {k: v for k, v in ours.items() if k not in ("IdentityPoolId", "AllowClassicFlow")} == \
        {k: v for k, v in theirs.items() if k != "IdentityPoolId"}


def test_rolling_back_a_failed_pool_definition_forgets_its_identity_pools(emulator: Emulator, ci: Any) -> None:
    """A pool definition that fails half-way is undone (snapshot.roll_back): identity pools it made go too."""
    kept = make_pool(ci, "kept")
    mark = snapshot.checkpoint(emulator.backend)
    made = make_pool(ci, "made by the definition")
    snapshot.roll_back(emulator.backend, mark)
    assert [p["IdentityPoolId"] for p in ci.list_identity_pools(MaxResults=60)["IdentityPools"]] == [kept]
    assert make_pool(ci, "again") == made  # the ids were rolled back too
