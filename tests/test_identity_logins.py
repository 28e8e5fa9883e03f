"""Logins maps verified in the engine, and the identities they make: GetId (create, return, link,
merge), unauthenticated identities, UnlinkIdentity, and every way a login token is refused.

All over HTTP with real boto3 clients: the ID tokens come from real user-pool sign-ins and from the
fake Google IdP; the virtual clock decides expiry.
"""

from __future__ import annotations

import re
from typing import Any

import jwt
import pytest

from auth_support import add_client, make_app, raises
from harness.engine.signing import foreign_key, sign_custom
from harness.fake_idps import FakeIdPHandle, FakeIdPs
from harness.server import Emulator
from identity_flow_support import START, Flow, make_flow

IDENTITY_ID = re.compile(r"us-east-1:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}")
GOOGLE = "accounts.google.com"
NOT_SUPPORTED = "Token is not from a supported provider of this identity pool."
UNVERIFIABLE = "Invalid login token. Couldn't verify signed token."
DONT_MATCH = "Logins don't match. Please include at least one valid login for this identity or identity pool."
REVOKED = "Invalid login token. The user has been signed out, disabled or deleted."


@pytest.fixture()
def flow(emulator: Emulator) -> Flow:
    return make_flow(emulator)


@pytest.fixture()
def google(emulator: Emulator) -> FakeIdPHandle:
    handle = FakeIdPs(emulator.backend).create("google", preset="google")
    handle.set_user("g-1", email="ann@gmail.com", email_verified=True)
    handle.set_user("g-2", email="bob@gmail.com", email_verified=True)
    return handle


def events(emulator: Emulator, kind: str) -> list[dict[str, Any]]:
    return [e.data for e in emulator.backend.events.list(type_=kind)]


# --- GetId: create, return, link, merge -------------------------------------------------------


def test_get_id_returns_one_stable_identity_per_user(flow: Flow) -> None:
    flow.identity_pool()
    ann = flow.get_id(flow.logins("ann"))
    assert IDENTITY_ID.fullmatch(ann)
    assert flow.get_id(flow.logins("ann")) == ann  # a new sign-in, a new token: the same identity
    bob = flow.get_id(flow.logins("bob"))
    assert bob != ann
    described = flow.cognito.describe_identity(IdentityId=ann)
    assert described["Logins"] == [flow.provider]
    assert [e["identity_id"] for e in events(flow.emulator, "identity.created")] == [ann, bob]


def test_the_local_issuer_as_logins_key_is_the_pool_s_aws_name(flow: Flow) -> None:
    """Amplify keys Logins by the ID token's iss without its scheme: the local issuer names the same provider."""
    flow.identity_pool()
    token = flow.logins("ann")[flow.provider]
    local = jwt.decode(token, options={"verify_signature": False})["iss"].partition("://")[2]
    assert local.startswith("127.0.0.1:") and local != flow.provider
    assert flow.get_id({local: token}) == flow.get_id({flow.provider: token})
    with raises("NotAuthorizedException", NOT_SUPPORTED):  # another host's issuer is not the pool
        flow.get_id({local.replace("127.0.0.1", "127.0.0.2"): token})


def test_unauthenticated_identities_only_where_allowed(flow: Flow) -> None:
    flow.identity_pool(unauthenticated=True)
    first, second = flow.get_id(), flow.get_id()
    assert first != second and IDENTITY_ID.fullmatch(first)  # no logins: a new guest identity each time
    flow.identity_pool(unauthenticated=False)
    with raises("NotAuthorizedException", "Unauthenticated access is not supported for this identity pool."):
        flow.get_id()


def test_several_logins_link_to_one_identity(flow: Flow, google: FakeIdPHandle) -> None:
    flow.identity_pool(SupportedLoginProviders={GOOGLE: google.client_id})
    both = flow.get_id({**flow.logins("ann"), GOOGLE: google.id_token("g-1")})
    assert flow.get_id({GOOGLE: google.id_token("g-1")}) == both
    assert flow.get_id(flow.logins("ann")) == both
    assert sorted(flow.cognito.describe_identity(IdentityId=both)["Logins"]) == sorted([GOOGLE, flow.provider])


def test_a_login_linked_elsewhere_merges_that_identity(flow: Flow, google: FakeIdPHandle) -> None:
    flow.identity_pool(SupportedLoginProviders={GOOGLE: google.client_id})
    by_pool = flow.get_id(flow.logins("ann"))
    flow.emulator.backend.clock.advance(5)
    by_google = flow.get_id({GOOGLE: google.id_token("g-1")})
    assert by_google != by_pool
    merged = flow.get_id({GOOGLE: google.id_token("g-1"), **flow.logins("ann")})
    assert merged == by_pool  # the older identity survives
    assert flow.get_id({GOOGLE: google.id_token("g-1")}) == by_pool
    assert events(flow.emulator, "identity.merged") == [
        {"identity_id": by_pool, "merged_identity_id": by_google}]
    listed = flow.cognito.list_identities(IdentityPoolId=flow.pool_id, MaxResults=10, HideDisabled=True)
    assert [i["IdentityId"] for i in listed["Identities"]] == [by_pool]


def test_two_users_of_one_provider_cannot_share_an_identity(flow: Flow, google: FakeIdPHandle) -> None:
    flow.identity_pool(SupportedLoginProviders={GOOGLE: google.client_id})
    ann = flow.get_id({**flow.logins("ann"), GOOGLE: google.id_token("g-1")})
    with raises("ResourceConflictException"):  # bob's user-pool login would join ann's identity
        flow.get_id({**flow.logins("bob"), GOOGLE: google.id_token("g-1")})
    assert flow.get_id({GOOGLE: google.id_token("g-1")}) == ann  # nothing changed
    assert flow.get_id(flow.logins("bob")) != ann


def test_unlink_identity_forgets_a_login(flow: Flow, google: FakeIdPHandle) -> None:
    flow.identity_pool(SupportedLoginProviders={GOOGLE: google.client_id})
    ann = flow.get_id({**flow.logins("ann"), GOOGLE: google.id_token("g-1")})
    with raises("NotAuthorizedException", DONT_MATCH):  # bob's login does not authorise ann's identity
        flow.cognito.unlink_identity(IdentityId=ann, Logins=flow.logins("bob"), LoginsToRemove=[GOOGLE])
    flow.cognito.unlink_identity(IdentityId=ann, Logins=flow.logins("ann"), LoginsToRemove=[GOOGLE])
    assert flow.cognito.describe_identity(IdentityId=ann)["Logins"] == [flow.provider]
    fresh = flow.get_id({GOOGLE: google.id_token("g-1")})
    assert fresh != ann  # an unlinked login is a new identity next time it is seen
    assert [e["provider"] for e in events(flow.emulator, "identity.unlinked")] == [GOOGLE]


def test_an_unknown_identity_is_not_found(flow: Flow) -> None:
    flow.identity_pool()
    missing = "us-east-1:00000000-0000-4000-8000-000000000000"
    with raises("ResourceNotFoundException", f"Identity '{missing}' not found."):
        flow.cognito.unlink_identity(IdentityId=missing, Logins=flow.logins("ann"), LoginsToRemove=[flow.provider])
    with raises("ResourceNotFoundException", "IdentityPool 'us-east-1:00000000-0000-4000-8000-000000000000' not found."):
        flow.cognito.get_id(IdentityPoolId=missing, Logins=flow.logins("ann"))


# --- user-pool ID tokens: every check ---------------------------------------------------------------


def test_only_a_verified_id_token_of_the_named_pool_and_client_passes(flow: Flow) -> None:
    flow.identity_pool()
    tokens = flow.app.sign_in("ann")
    with raises("NotAuthorizedException", "Invalid login token. Not a valid OpenId Connect identity token."):
        flow.get_id({flow.provider: tokens["AccessToken"]})
    head, body, signature = tokens["IdToken"].split(".")
    tampered = f"{head}.{body}.{signature[:-4]}AAAA"
    with raises("NotAuthorizedException", UNVERIFIABLE):
        flow.get_id({flow.provider: tampered})
    claims = flow.app.decode(tokens["IdToken"], "id")
    forged = sign_custom({**claims, "sub": flow.users["bob"]}, alg="RS256", kid=jwt_kid(tokens["IdToken"]),
                         rsa_key=foreign_key(0))
    with raises("NotAuthorizedException", UNVERIFIABLE):
        flow.get_id({flow.provider: forged})
    with raises("NotAuthorizedException", UNVERIFIABLE):
        flow.get_id({flow.provider: "not-a-token"})


def jwt_kid(token: str) -> str:
    return str(jwt.get_unverified_header(token)["kid"])


def test_a_token_of_another_user_pool_does_not_match_the_provider_name(flow: Flow) -> None:
    other = make_app(flow.emulator, None)
    other.confirmed_user("zed", email="zed@example.com")
    flow.identity_pool()
    with raises("NotAuthorizedException", "Invalid login token. Issuer doesn't match providerName"):
        flow.get_id({flow.provider: other.sign_in("zed")["IdToken"]})
    other_provider = f"cognito-idp.{flow.emulator.region}.amazonaws.com/{other.pool_id}"
    with raises("NotAuthorizedException", NOT_SUPPORTED):  # a user pool the identity pool does not list
        flow.get_id({other_provider: other.sign_in("zed")["IdToken"]})


def test_the_token_audience_must_be_a_configured_client(flow: Flow) -> None:
    second = add_client(flow.app)
    flow.identity_pool(client_id=second.client_id)
    with raises("NotAuthorizedException", NOT_SUPPORTED):
        flow.get_id(flow.logins("ann"))  # signed in through the first client
    assert IDENTITY_ID.fullmatch(flow.get_id({flow.provider: second.sign_in("ann")["IdToken"]}))


def test_an_expired_token_is_refused_on_the_virtual_clock(flow: Flow) -> None:
    flow.identity_pool()
    token = flow.id_token("ann")
    exp = flow.app.decode(token, "id")["exp"]
    flow.emulator.backend.clock.freeze(exp - 1)
    assert IDENTITY_ID.fullmatch(flow.get_id({flow.provider: token}))
    flow.emulator.backend.clock.freeze(exp + 5)
    with raises("NotAuthorizedException", f"Invalid login token. Token expired: {exp + 5} >= {exp}"):
        flow.get_id({flow.provider: token})
    assert exp == START + 3600


@pytest.mark.parametrize("action", ["global_sign_out", "disable", "delete"])
def test_server_side_token_check_refuses_signed_out_disabled_and_deleted_users(flow: Flow, action: str) -> None:
    checked = flow.identity_pool(check=True)
    unchecked = make_unchecked_pool(flow)
    token = flow.id_token("ann")
    pool_id, username = flow.app.pool_id, "ann"
    if action == "global_sign_out":
        flow.app.idp.admin_user_global_sign_out(UserPoolId=pool_id, Username=username)
    elif action == "disable":
        flow.app.idp.admin_disable_user(UserPoolId=pool_id, Username=username)
    else:
        flow.app.idp.admin_delete_user(UserPoolId=pool_id, Username=username)
    with raises("NotAuthorizedException", REVOKED):
        flow.cognito.get_id(IdentityPoolId=checked, Logins={flow.provider: token})
    # without ServerSideTokenCheck the signature and exp decide, as in AWS
    assert IDENTITY_ID.fullmatch(flow.cognito.get_id(IdentityPoolId=unchecked, Logins={flow.provider: token})["IdentityId"])


def make_unchecked_pool(flow: Flow) -> str:
    return flow.cognito.create_identity_pool(
        IdentityPoolName="unchecked", AllowUnauthenticatedIdentities=False,
        CognitoIdentityProviders=[{"ProviderName": flow.provider, "ClientId": flow.app.client_id}],
    )["IdentityPoolId"]


def test_server_side_token_check_accepts_a_live_session(flow: Flow) -> None:
    flow.identity_pool(check=True)
    assert IDENTITY_ID.fullmatch(flow.get_id(flow.logins("ann")))


# --- the fake Google IdP, developer names, unknown providers ----------------------------------------


def test_google_tokens_are_verified_against_the_stand_in_idp(flow: Flow, google: FakeIdPHandle,
                                                             emulator: Emulator) -> None:
    flow.identity_pool(SupportedLoginProviders={GOOGLE: google.client_id})
    assert IDENTITY_ID.fullmatch(flow.get_id({GOOGLE: google.id_token("g-2")}))
    with raises("NotAuthorizedException", NOT_SUPPORTED):  # issued to another app
        flow.get_id({GOOGLE: google.id_token("g-2", audience="someone-else")})
    apple = FakeIdPs(emulator.backend).create("apple", preset="apple")
    apple.set_user("a-1", email="x@privaterelay.appleid.com")
    with raises("NotAuthorizedException", UNVERIFIABLE):  # signed by Apple's stand-in, not Google's
        flow.get_id({GOOGLE: apple.id_token("a-1", audience=google.client_id)})
    google.sign_with_unpublished_key()
    with raises("NotAuthorizedException", UNVERIFIABLE):
        flow.get_id({GOOGLE: google.id_token("g-2")})
    google.clear_faults()
    token = google.id_token("g-2")
    emulator.backend.clock.advance(3601)
    with raises("NotAuthorizedException"):
        flow.get_id({GOOGLE: token})


def test_providers_the_pool_does_not_list_are_refused(flow: Flow, google: FakeIdPHandle) -> None:
    flow.identity_pool(DeveloperProviderName="login.example.app")
    with raises("NotAuthorizedException", NOT_SUPPORTED):
        flow.get_id({GOOGLE: google.id_token("g-1")})
    with raises("NotAuthorizedException", NOT_SUPPORTED):
        flow.get_id({"graph.facebook.com": "EAAB-some-facebook-token"})
    with raises("NotAuthorizedException"):  # developer logins belong to GetOpenIdTokenForDeveloperIdentity
        flow.get_id({"login.example.app": "user-42"})

