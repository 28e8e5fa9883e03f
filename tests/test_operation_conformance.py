"""Every emulated operation, called once to succeed and once to fail, checked against botocore.

A recorder sits in front of the router and keeps each raw answer. Then, for
every operation in the engine's registry:

* a success was seen, boto3 parsed it, and every member in the raw JSON exists
  in the model's output shape (botocore itself silently drops unknown members,
  so this is checked here, recursively);
* an error was seen, and every error type ever answered for the operation is
  one the model lists for it.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

import pytest
from botocore.model import Shape

from conformance_tour_auth_events import auth_events_tour
from conformance_tour_devices import devices_tour
from conformance_tour_iac import iac_tour
from conformance_tour_identity import identity_tour
from conformance_tour_mfa import mfa_tour
from conformance_tour_support import MISSING_POOL, NEW_PASSWORD, PASSWORD
from conformance_tour_support import fail as _fail
from harness.engine.identity import load_identity_operations
from harness.engine.ops import load_operations
from harness.protocol import COGNITO_IDENTITY, COGNITO_IDP, Service, modeled_errors, operation_model
from harness.web.http import Request, Response


def unknown_members(shape: Shape | None, value: Any, path: str = "") -> list[str]:
    """Paths in ``value`` that the shape does not define."""
    if shape is None:
        return [path or "<response>"] if value not in ({}, None) else []
    kind = shape.type_name
    out: list[str] = []
    if kind == "structure" and isinstance(value, dict):
        for name, item in value.items():
            if name not in shape.members:
                out.append(f"{path}.{name}" if path else name)
            else:
                out += unknown_members(shape.members[name], item, f"{path}.{name}" if path else name)
    elif kind == "list" and isinstance(value, list):
        for i, item in enumerate(value):
            out += unknown_members(shape.member, item, f"{path}[{i}]")
    elif kind == "map" and isinstance(value, dict):
        for key, item in value.items():
            out += unknown_members(shape.value, item, f"{path}[{key}]")
    return out


class Recorder:
    def __init__(self, target_prefix: str = "AWSCognitoIdentityProviderService.") -> None:
        self.seen: dict[str, list[tuple[int, dict[str, Any]]]] = defaultdict(list)
        self.target_prefix = target_prefix  # one service's calls (both have e.g. TagResource)

    def wrap(self, dispatch: Any) -> Any:
        def recording(request: Request) -> Response:
            response = dispatch(request)
            target = request.header("x-amz-target")
            if request.path == "/" and target and target.startswith(self.target_prefix):
                op = target.partition(".")[2]
                self.seen[op].append((response.status, json.loads(response.body or b"{}")))
            return response

        return recording


def tour(idp: Any, backend: Any) -> None:  # noqa: PLR0915 - one linear walk through the API
    """Call each emulated operation so it succeeds, and each so it fails."""
    pool = idp.create_user_pool(
        PoolName="tour", AutoVerifiedAttributes=["email"], AliasAttributes=["email"],
        Schema=[{"Name": "tenant", "AttributeDataType": "String", "Mutable": True}])["UserPool"]
    pool_id = pool["Id"]
    _fail(idp.create_user_pool, PoolName="x", UsernameAttributes=["email"], AliasAttributes=["email"])
    idp.describe_user_pool(UserPoolId=pool_id)
    _fail(idp.describe_user_pool, UserPoolId=MISSING_POOL)
    idp.update_user_pool(UserPoolId=pool_id, AutoVerifiedAttributes=["email"])
    _fail(idp.update_user_pool, UserPoolId=MISSING_POOL)
    idp.list_user_pools(MaxResults=10)
    _fail(idp.list_user_pools, MaxResults=10, NextToken="bogus-token")
    idp.add_custom_attributes(UserPoolId=pool_id, CustomAttributes=[{"Name": "role", "AttributeDataType": "String"}])
    _fail(idp.add_custom_attributes, UserPoolId=pool_id,
          CustomAttributes=[{"Name": "role", "AttributeDataType": "String"}])

    flows = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH",
             "ALLOW_USER_SRP_AUTH"]
    client = idp.create_user_pool_client(UserPoolId=pool_id, ClientName="web", ExplicitAuthFlows=flows,
                                         CallbackURLs=["http://localhost:3000/cb"],
                                         AllowedOAuthFlows=["code"], AllowedOAuthScopes=["openid", "email"],
                                         AllowedOAuthFlowsUserPoolClient=True,
                                         SupportedIdentityProviders=["COGNITO"])["UserPoolClient"]
    cid = client["ClientId"]
    _fail(idp.create_user_pool_client, UserPoolId=MISSING_POOL, ClientName="x")
    rot = idp.create_user_pool_client(UserPoolId=pool_id, ClientName="rot", ExplicitAuthFlows=flows,
                                      RefreshTokenRotation={"Feature": "ENABLED", "RetryGracePeriodSeconds": 0})
    rot_id = rot["UserPoolClient"]["ClientId"]
    secret_client = idp.create_user_pool_client(UserPoolId=pool_id, ClientName="srv", GenerateSecret=True,
                                                ExplicitAuthFlows=flows)["UserPoolClient"]
    idp.describe_user_pool_client(UserPoolId=pool_id, ClientId=cid)
    _fail(idp.describe_user_pool_client, UserPoolId=pool_id, ClientId="nosuchclient")
    idp.update_user_pool_client(UserPoolId=pool_id, ClientId=cid, ExplicitAuthFlows=flows,
                                CallbackURLs=["http://localhost:3000/cb"], AllowedOAuthFlows=["code"],
                                AllowedOAuthScopes=["openid", "email"], AllowedOAuthFlowsUserPoolClient=True,
                                SupportedIdentityProviders=["COGNITO"])
    _fail(idp.update_user_pool_client, UserPoolId=pool_id, ClientId="nosuchclient")
    idp.list_user_pool_clients(UserPoolId=pool_id)
    _fail(idp.list_user_pool_clients, UserPoolId=MISSING_POOL)

    idp.create_group(UserPoolId=pool_id, GroupName="admins", Precedence=1)
    _fail(idp.create_group, UserPoolId=pool_id, GroupName="admins")
    idp.get_group(UserPoolId=pool_id, GroupName="admins")
    _fail(idp.get_group, UserPoolId=pool_id, GroupName="nope")
    idp.update_group(UserPoolId=pool_id, GroupName="admins", Description="d")
    _fail(idp.update_group, UserPoolId=pool_id, GroupName="nope")
    idp.list_groups(UserPoolId=pool_id)
    _fail(idp.list_groups, UserPoolId=MISSING_POOL)

    # users through the admin API
    idp.admin_create_user(UserPoolId=pool_id, Username="ann", TemporaryPassword=PASSWORD,
                          UserAttributes=[{"Name": "email", "Value": "ann@example.com"},
                                          {"Name": "email_verified", "Value": "true"}])
    _fail(idp.admin_create_user, UserPoolId=pool_id, Username="ann", TemporaryPassword=PASSWORD)
    idp.admin_get_user(UserPoolId=pool_id, Username="ann")
    _fail(idp.admin_get_user, UserPoolId=pool_id, Username="ghost")
    idp.admin_set_user_password(UserPoolId=pool_id, Username="ann", Password=PASSWORD, Permanent=True)
    _fail(idp.admin_set_user_password, UserPoolId=pool_id, Username="ghost", Password=PASSWORD, Permanent=True)
    idp.admin_update_user_attributes(UserPoolId=pool_id, Username="ann",
                                     UserAttributes=[{"Name": "custom:tenant", "Value": "acme"}])
    _fail(idp.admin_update_user_attributes, UserPoolId=pool_id, Username="ghost",
          UserAttributes=[{"Name": "custom:tenant", "Value": "x"}])
    idp.admin_delete_user_attributes(UserPoolId=pool_id, Username="ann", UserAttributeNames=["custom:tenant"])
    _fail(idp.admin_delete_user_attributes, UserPoolId=pool_id, Username="ghost", UserAttributeNames=["x"])
    idp.admin_add_user_to_group(UserPoolId=pool_id, Username="ann", GroupName="admins")
    _fail(idp.admin_add_user_to_group, UserPoolId=pool_id, Username="ann", GroupName="nope")
    idp.admin_list_groups_for_user(UserPoolId=pool_id, Username="ann")
    _fail(idp.admin_list_groups_for_user, UserPoolId=pool_id, Username="ghost")
    idp.list_users_in_group(UserPoolId=pool_id, GroupName="admins")
    _fail(idp.list_users_in_group, UserPoolId=pool_id, GroupName="nope")
    idp.list_users(UserPoolId=pool_id, Filter='username = "ann"')
    _fail(idp.list_users, UserPoolId=pool_id, Filter="not a filter")
    idp.admin_remove_user_from_group(UserPoolId=pool_id, Username="ann", GroupName="admins")
    _fail(idp.admin_remove_user_from_group, UserPoolId=pool_id, Username="ghost", GroupName="admins")
    idp.admin_disable_user(UserPoolId=pool_id, Username="ann")
    _fail(idp.admin_disable_user, UserPoolId=pool_id, Username="ghost")
    idp.admin_enable_user(UserPoolId=pool_id, Username="ann")
    _fail(idp.admin_enable_user, UserPoolId=pool_id, Username="ghost")

    # sign-up and codes
    idp.sign_up(ClientId=cid, Username="bea", Password=PASSWORD,
                UserAttributes=[{"Name": "email", "Value": "bea@example.com"}])
    _fail(idp.sign_up, ClientId=cid, Username="bea", Password=PASSWORD)
    idp.resend_confirmation_code(ClientId=cid, Username="bea")
    _fail(idp.resend_confirmation_code, ClientId="nosuchclient", Username="bea")
    code = backend.mailbox.latest_code("bea@example.com")
    _fail(idp.confirm_sign_up, ClientId=cid, Username="bea", ConfirmationCode="000000" if code != "000000" else "111111")
    idp.confirm_sign_up(ClientId=cid, Username="bea", ConfirmationCode=code)
    idp.sign_up(ClientId=cid, Username="cid", Password=PASSWORD,
                UserAttributes=[{"Name": "email", "Value": "cid@example.com"}])
    idp.admin_confirm_sign_up(UserPoolId=pool_id, Username="cid")
    _fail(idp.admin_confirm_sign_up, UserPoolId=pool_id, Username="cid")
    idp.forgot_password(ClientId=cid, Username="bea")
    _fail(idp.forgot_password, ClientId="nosuchclient", Username="bea")
    reset_code = backend.mailbox.latest_code("bea@example.com", purpose="FORGOT_PASSWORD")
    _fail(idp.confirm_forgot_password, ClientId=cid, Username="bea", ConfirmationCode="999999"
          if reset_code != "999999" else "888888", Password=NEW_PASSWORD)
    idp.confirm_forgot_password(ClientId=cid, Username="bea", ConfirmationCode=reset_code, Password=NEW_PASSWORD)
    idp.admin_reset_user_password(UserPoolId=pool_id, Username="ann")
    _fail(idp.admin_reset_user_password, UserPoolId=pool_id, Username="ghost")

    # sign-in, challenges and refresh
    auth = idp.initiate_auth(ClientId=cid, AuthFlow="USER_PASSWORD_AUTH",
                             AuthParameters={"USERNAME": "bea", "PASSWORD": NEW_PASSWORD})["AuthenticationResult"]
    _fail(idp.initiate_auth, ClientId=cid, AuthFlow="USER_PASSWORD_AUTH",
          AuthParameters={"USERNAME": "bea", "PASSWORD": "Wrong-passw0rd"})
    idp.initiate_auth(ClientId=cid, AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters={"REFRESH_TOKEN": auth["RefreshToken"]})
    idp.admin_initiate_auth(UserPoolId=pool_id, ClientId=cid, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                            AuthParameters={"USERNAME": "bea", "PASSWORD": NEW_PASSWORD})
    _fail(idp.admin_initiate_auth, UserPoolId=pool_id, ClientId=cid, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
          AuthParameters={"USERNAME": "ghost", "PASSWORD": NEW_PASSWORD})
    idp.admin_create_user(UserPoolId=pool_id, Username="dan", TemporaryPassword=PASSWORD, MessageAction="SUPPRESS")
    challenge = idp.initiate_auth(ClientId=cid, AuthFlow="USER_PASSWORD_AUTH",
                                  AuthParameters={"USERNAME": "dan", "PASSWORD": PASSWORD})
    _fail(idp.respond_to_auth_challenge, ClientId=cid, ChallengeName="NEW_PASSWORD_REQUIRED",
          Session="x" * 40, ChallengeResponses={"USERNAME": "dan", "NEW_PASSWORD": NEW_PASSWORD})
    idp.respond_to_auth_challenge(ClientId=cid, ChallengeName="NEW_PASSWORD_REQUIRED", Session=challenge["Session"],
                                  ChallengeResponses={"USERNAME": "dan", "NEW_PASSWORD": NEW_PASSWORD})
    idp.admin_create_user(UserPoolId=pool_id, Username="eve", TemporaryPassword=PASSWORD, MessageAction="SUPPRESS")
    challenge = idp.admin_initiate_auth(UserPoolId=pool_id, ClientId=cid, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                                        AuthParameters={"USERNAME": "eve", "PASSWORD": PASSWORD})
    _fail(idp.admin_respond_to_auth_challenge, UserPoolId=pool_id, ClientId=cid,
          ChallengeName="NEW_PASSWORD_REQUIRED", Session="y" * 40,
          ChallengeResponses={"USERNAME": "eve", "NEW_PASSWORD": NEW_PASSWORD})
    idp.admin_respond_to_auth_challenge(UserPoolId=pool_id, ClientId=cid, ChallengeName="NEW_PASSWORD_REQUIRED",
                                        Session=challenge["Session"],
                                        ChallengeResponses={"USERNAME": "eve", "NEW_PASSWORD": NEW_PASSWORD})
    rotating = idp.initiate_auth(ClientId=rot_id, AuthFlow="USER_PASSWORD_AUTH",
                                 AuthParameters={"USERNAME": "bea", "PASSWORD": NEW_PASSWORD})["AuthenticationResult"]
    idp.get_tokens_from_refresh_token(RefreshToken=rotating["RefreshToken"], ClientId=rot_id)
    _fail(idp.get_tokens_from_refresh_token, RefreshToken=rotating["RefreshToken"], ClientId=rot_id)

    # access-token operations
    access = auth["AccessToken"]
    idp.get_user(AccessToken=access)
    _fail(idp.get_user, AccessToken="not.a.token")
    idp.update_user_attributes(AccessToken=access, UserAttributes=[{"Name": "name", "Value": "Bea"}])
    _fail(idp.update_user_attributes, AccessToken="not.a.token", UserAttributes=[{"Name": "name", "Value": "B"}])
    idp.delete_user_attributes(AccessToken=access, UserAttributeNames=["name"])
    _fail(idp.delete_user_attributes, AccessToken="not.a.token", UserAttributeNames=["name"])
    idp.get_user_attribute_verification_code(AccessToken=access, AttributeName="email")
    _fail(idp.get_user_attribute_verification_code, AccessToken="not.a.token", AttributeName="email")
    verify = backend.mailbox.latest_code("bea@example.com")
    _fail(idp.verify_user_attribute, AccessToken=access, AttributeName="email",
          Code="000000" if verify != "000000" else "111111")
    idp.verify_user_attribute(AccessToken=access, AttributeName="email", Code=verify)
    idp.change_password(AccessToken=access, PreviousPassword=NEW_PASSWORD, ProposedPassword=PASSWORD)
    _fail(idp.change_password, AccessToken=access, PreviousPassword="Wrong-passw0rd", ProposedPassword=PASSWORD)
    idp.revoke_token(Token=auth["RefreshToken"], ClientId=cid)
    _fail(idp.revoke_token, Token=auth["RefreshToken"], ClientId=secret_client["ClientId"])
    _fail(idp.global_sign_out, AccessToken=access)  # revoked with its refresh token just above
    second = idp.initiate_auth(ClientId=cid, AuthFlow="USER_PASSWORD_AUTH",
                               AuthParameters={"USERNAME": "bea", "PASSWORD": PASSWORD})["AuthenticationResult"]
    idp.global_sign_out(AccessToken=second["AccessToken"])
    idp.admin_user_global_sign_out(UserPoolId=pool_id, Username="bea")
    _fail(idp.admin_user_global_sign_out, UserPoolId=pool_id, Username="ghost")
    fresh = idp.initiate_auth(ClientId=cid, AuthFlow="USER_PASSWORD_AUTH",
                              AuthParameters={"USERNAME": "dan", "PASSWORD": NEW_PASSWORD})["AuthenticationResult"]
    idp.delete_user(AccessToken=fresh["AccessToken"])
    _fail(idp.delete_user, AccessToken=fresh["AccessToken"])

    # federation, domains and resource servers
    idp.create_resource_server(UserPoolId=pool_id, Identifier="https://api.example.com", Name="api",
                               Scopes=[{"ScopeName": "read", "ScopeDescription": "read"}])
    _fail(idp.create_resource_server, UserPoolId=MISSING_POOL, Identifier="https://api.example.com", Name="api")
    idp.describe_resource_server(UserPoolId=pool_id, Identifier="https://api.example.com")
    _fail(idp.describe_resource_server, UserPoolId=pool_id, Identifier="https://nope.example.com")
    idp.update_resource_server(UserPoolId=pool_id, Identifier="https://api.example.com", Name="api2")
    _fail(idp.update_resource_server, UserPoolId=pool_id, Identifier="https://nope.example.com", Name="x")
    idp.list_resource_servers(UserPoolId=pool_id, MaxResults=10)
    _fail(idp.list_resource_servers, UserPoolId=MISSING_POOL, MaxResults=10)
    idp.delete_resource_server(UserPoolId=pool_id, Identifier="https://api.example.com")
    _fail(idp.delete_resource_server, UserPoolId=pool_id, Identifier="https://api.example.com")
    idp.create_user_pool_domain(UserPoolId=pool_id, Domain="tour-domain")
    _fail(idp.create_user_pool_domain, UserPoolId=pool_id, Domain="tour-domain")
    idp.describe_user_pool_domain(Domain="tour-domain")
    _fail(idp.describe_user_pool_domain, Domain="Bad Domain!")
    idp.update_user_pool_domain(UserPoolId=pool_id, Domain="tour-domain", ManagedLoginVersion=2)
    _fail(idp.update_user_pool_domain, UserPoolId=pool_id, Domain="other-domain", ManagedLoginVersion=2)
    provider_details = {"client_id": "google-client", "client_secret": "google-secret", "authorize_scopes": "openid email"}
    idp.create_identity_provider(UserPoolId=pool_id, ProviderName="Google", ProviderType="Google",
                                 ProviderDetails=provider_details, AttributeMapping={"email": "email"},
                                 IdpIdentifiers=["gmail"])
    _fail(idp.create_identity_provider, UserPoolId=pool_id, ProviderName="Google", ProviderType="Google",
          ProviderDetails=provider_details)
    idp.describe_identity_provider(UserPoolId=pool_id, ProviderName="Google")
    _fail(idp.describe_identity_provider, UserPoolId=pool_id, ProviderName="Nope")
    idp.update_identity_provider(UserPoolId=pool_id, ProviderName="Google", AttributeMapping={"email": "email"})
    _fail(idp.update_identity_provider, UserPoolId=pool_id, ProviderName="Nope")
    idp.list_identity_providers(UserPoolId=pool_id)
    _fail(idp.list_identity_providers, UserPoolId=MISSING_POOL)
    idp.get_identity_provider_by_identifier(UserPoolId=pool_id, IdpIdentifier="gmail")
    _fail(idp.get_identity_provider_by_identifier, UserPoolId=pool_id, IdpIdentifier="nope")
    idp.admin_link_provider_for_user(
        UserPoolId=pool_id, DestinationUser={"ProviderName": "Cognito", "ProviderAttributeValue": "bea"},
        SourceUser={"ProviderName": "Google", "ProviderAttributeName": "Cognito_Subject",
                    "ProviderAttributeValue": "g-123"})
    _fail(idp.admin_link_provider_for_user, UserPoolId=pool_id,
          DestinationUser={"ProviderName": "Cognito", "ProviderAttributeValue": "ghost"},
          SourceUser={"ProviderName": "Google", "ProviderAttributeName": "Cognito_Subject",
                      "ProviderAttributeValue": "g-456"})
    idp.admin_disable_provider_for_user(UserPoolId=pool_id, User={
        "ProviderName": "Google", "ProviderAttributeName": "Cognito_Subject", "ProviderAttributeValue": "g-123"})
    _fail(idp.admin_disable_provider_for_user, UserPoolId=MISSING_POOL, User={
        "ProviderName": "Google", "ProviderAttributeName": "Cognito_Subject", "ProviderAttributeValue": "g-123"})
    idp.delete_identity_provider(UserPoolId=pool_id, ProviderName="Google")
    _fail(idp.delete_identity_provider, UserPoolId=pool_id, ProviderName="Google")
    idp.delete_user_pool_domain(UserPoolId=pool_id, Domain="tour-domain")
    _fail(idp.delete_user_pool_domain, UserPoolId=pool_id, Domain="tour-domain")

    # remembered devices (pycognito's wall-clock SRP timestamps: before the MFA part moves the clock),
    # threat protection's auth events, then MFA; each on pools of its own
    devices_tour(idp, backend)
    auth_events_tour(idp, backend)
    mfa_tour(idp, backend)
    iac_tour(idp, backend)  # tags, signing certificate, UI branding, client secrets, user import

    # teardown operations
    idp.admin_delete_user(UserPoolId=pool_id, Username="cid")
    _fail(idp.admin_delete_user, UserPoolId=pool_id, Username="cid")
    idp.delete_group(UserPoolId=pool_id, GroupName="admins")
    _fail(idp.delete_group, UserPoolId=pool_id, GroupName="admins")
    idp.delete_user_pool_client(UserPoolId=pool_id, ClientId=rot_id)
    _fail(idp.delete_user_pool_client, UserPoolId=pool_id, ClientId=rot_id)
    idp.delete_user_pool(UserPoolId=pool_id)
    _fail(idp.delete_user_pool, UserPoolId=pool_id)


@pytest.fixture()
def recorded(emulator):  # noqa: ANN201
    recorder = Recorder()
    router = emulator.http.router
    router.dispatch = recorder.wrap(router.dispatch)
    tour(emulator.boto3_client(), emulator.backend)
    return recorder


@pytest.fixture()
def recorded_identity(emulator):  # noqa: ANN201
    recorder = Recorder("AWSCognitoIdentityService.")
    router = emulator.http.router
    router.dispatch = recorder.wrap(router.dispatch)
    identity_tour(emulator.identity_client(), emulator.boto3_client())
    return recorder


def shape_problems(recorded: Recorder, operations: list[str], service: Service) -> list[str]:
    problems = []
    for op in operations:
        successes = [body for status, body in recorded.seen.get(op, []) if status == 200]
        if not successes:
            problems.append(f"{op}: never succeeded in the tour")
            continue
        output = operation_model(op, service).output_shape
        for body in successes:
            extra = unknown_members(output, body)
            if extra:
                problems.append(f"{op}: members not in the model: {extra}")
    return problems


def error_problems(recorded: Recorder, operations: list[str], service: Service) -> list[str]:
    problems = []
    for op in operations:
        errors = [body for status, body in recorded.seen.get(op, []) if status != 200]
        if not errors:
            problems.append(f"{op}: never failed in the tour")
        for body in errors:
            if body.get("__type") not in modeled_errors(op, service):
                problems.append(f"{op}: {body.get('__type')} is not listed for it: {body.get('message')}")
    return problems


def test_every_operation_succeeds_with_a_modeled_shape(recorded: Recorder) -> None:
    problems = shape_problems(recorded, sorted(load_operations()), COGNITO_IDP)
    assert not problems, "\n".join(problems)


def test_every_operation_fails_only_with_modeled_errors(recorded: Recorder) -> None:
    problems = error_problems(recorded, sorted(load_operations()), COGNITO_IDP)
    assert not problems, "\n".join(problems)


def test_every_identity_operation_succeeds_with_a_modeled_shape(recorded_identity: Recorder) -> None:
    operations = sorted(load_identity_operations())
    assert operations, "no cognito-identity operation registered"
    problems = shape_problems(recorded_identity, operations, COGNITO_IDENTITY)
    assert not problems, "\n".join(problems)


def test_every_identity_operation_fails_only_with_modeled_errors(recorded_identity: Recorder) -> None:
    problems = error_problems(recorded_identity, sorted(load_identity_operations()), COGNITO_IDENTITY)
    assert not problems, "\n".join(problems)
