"""GetOpenIdToken and GetOpenIdTokenForDeveloperIdentity: RS256 tokens of the identity service's own
issuer, verified with PyJWT against the JWKS fetched over HTTP from the discovery document, with the
``aud`` / ``sub`` / ``amr`` / lifetime AWS documents; and where the classic flow is refused.
"""

from __future__ import annotations

from typing import Any

import jwt
import pytest
import requests

from auth_support import raises
from harness.server import Emulator
from identity_flow_support import START, Flow, make_flow

DONT_MATCH = "Logins don't match. Please include at least one valid login for this identity or identity pool."
DEVELOPER = "login.example.app"
AWS_ISSUER = "https://cognito-identity.amazonaws.com"


@pytest.fixture()
def flow(emulator: Emulator) -> Flow:
    return make_flow(emulator)


def verified_claims(emulator: Emulator, token: str, audience: str) -> dict[str, Any]:
    """The token's claims, verified as a relying party does: discovery -> jwks_uri -> PyJWT."""
    issuer = f"{emulator.url}/cognito-identity"
    discovery = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=5).json()
    assert discovery["issuer"] == issuer
    assert discovery["jwks_uri"] == f"{issuer}/.well-known/jwks_uri"
    keys = jwt.PyJWKSet.from_dict(requests.get(discovery["jwks_uri"], timeout=5).json())
    kid = jwt.get_unverified_header(token)["kid"]
    key = next(k for k in keys.keys if k.key_id == kid)
    return jwt.decode(token, key.key, algorithms=["RS256"], audience=audience, issuer=issuer,
                      options={"verify_exp": False, "verify_iat": False})  # the virtual clock decides those


def test_an_authenticated_identity_gets_a_verifiable_openid_token(flow: Flow) -> None:
    pool_id = flow.identity_pool(classic=True)
    logins = flow.logins("ann")
    identity = flow.get_id(logins)
    answer = flow.cognito.get_open_id_token(IdentityId=identity, Logins=logins)
    assert answer["IdentityId"] == identity
    token = answer["Token"]
    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    claims = verified_claims(flow.emulator, token, pool_id)
    sub = flow.users["ann"]
    assert claims["sub"] == identity and claims["aud"] == pool_id
    assert claims["amr"] == ["authenticated", flow.provider, f"{flow.provider}:CognitoSignIn:{sub}"]
    assert claims["iat"] == START and claims["exp"] == START + 600  # 10 minutes on the virtual clock
    issued = [e.data for e in flow.emulator.backend.events.list(type_="identity.openid_token")]
    assert issued == [{"identity_id": identity, "authenticated": True, "providers": [flow.provider],
                       "expires_in": 600}]


def test_a_guest_token_says_unauthenticated(flow: Flow) -> None:
    pool_id = flow.identity_pool(classic=True)
    guest = flow.get_id()
    token = flow.cognito.get_open_id_token(IdentityId=guest)["Token"]
    assert verified_claims(flow.emulator, token, pool_id)["amr"] == ["unauthenticated"]


def test_the_token_needs_the_identity_s_own_logins(flow: Flow) -> None:
    flow.identity_pool(classic=True, unauthenticated=False)
    ann = flow.get_id(flow.logins("ann"))
    with raises("NotAuthorizedException", DONT_MATCH):
        flow.cognito.get_open_id_token(IdentityId=ann)
    with raises("NotAuthorizedException", DONT_MATCH):
        flow.cognito.get_open_id_token(IdentityId=ann, Logins=flow.logins("bob"))


def test_the_classic_flow_is_refused_where_the_pool_does_not_allow_it(flow: Flow) -> None:
    flow.identity_pool(classic=False)
    guest = flow.get_id()
    with raises("InvalidParameterException", "Basic (classic) flow is not enabled, please use enhanced flow."):
        flow.cognito.get_open_id_token(IdentityId=guest)
    pool_id = flow.identity_pool(classic=True)
    key = f"{flow.provider}:{flow.app.client_id}"
    flow.cognito.set_identity_pool_roles(
        IdentityPoolId=pool_id, Roles={"authenticated": "arn:aws:iam::123456789012:role/app-authenticated"},
        RoleMappings={key: {"Type": "Token", "AmbiguousRoleResolution": "AuthenticatedRole"}})
    ann = flow.get_id(flow.logins("ann"))
    with raises("InvalidParameterException",
                "Basic (classic) flow is not supported with RoleMappings, please use enhanced flow."):
        flow.cognito.get_open_id_token(IdentityId=ann, Logins=flow.logins("ann"))


def test_the_root_well_known_documents_describe_aws_s_issuer(flow: Flow) -> None:
    pool_id = flow.identity_pool(classic=True, IdentityPoolTags={"harness:issuer": "aws"})
    token = flow.cognito.get_open_id_token(IdentityId=flow.get_id())["Token"]
    root = requests.get(f"{flow.emulator.url}/.well-known/openid-configuration", timeout=5).json()
    assert root["issuer"] == AWS_ISSUER and root["jwks_uri"] == f"{AWS_ISSUER}/.well-known/jwks_uri"
    keys = requests.get(f"{flow.emulator.url}/.well-known/jwks_uri", timeout=5).json()
    local = requests.get(f"{flow.emulator.url}/cognito-identity/.well-known/jwks_uri", timeout=5).json()
    assert keys == local and [k["kid"] for k in keys["keys"]] == [jwt.get_unverified_header(token)["kid"]]
    key = jwt.PyJWK.from_dict(keys["keys"][0])
    claims = jwt.decode(token, key.key, algorithms=["RS256"], audience=pool_id, issuer=AWS_ISSUER,
                        options={"verify_exp": False, "verify_iat": False})
    assert claims["amr"] == ["unauthenticated"]


# --- developer-authenticated identities ------------------------------------------------------------


def developer_pool(flow: Flow) -> str:
    return flow.identity_pool(DeveloperProviderName=DEVELOPER, unauthenticated=False)


def test_developer_tokens_make_and_return_the_identity_of_a_user_identifier(flow: Flow) -> None:
    pool_id = developer_pool(flow)
    answer = flow.cognito.get_open_id_token_for_developer_identity(
        IdentityPoolId=pool_id, Logins={DEVELOPER: "user-42"}, TokenDuration=3600, PrincipalTags={"team": "red"})
    identity = answer["IdentityId"]
    claims = verified_claims(flow.emulator, answer["Token"], pool_id)
    assert claims["sub"] == identity
    assert claims["amr"] == ["authenticated", DEVELOPER, f"{DEVELOPER}:{pool_id}:user-42"]
    assert claims["exp"] - claims["iat"] == 3600
    assert claims["https://aws.amazon.com/tags"] == {"principal_tags": {"team": ["red"]}}
    again = flow.cognito.get_open_id_token_for_developer_identity(IdentityPoolId=pool_id,
                                                                  Logins={DEVELOPER: "user-42"})
    assert again["IdentityId"] == identity
    default = verified_claims(flow.emulator, again["Token"], pool_id)
    assert default["exp"] - default["iat"] == 900  # TokenDuration's default: 15 minutes
    looked_up = flow.cognito.lookup_developer_identity(IdentityPoolId=pool_id, DeveloperUserIdentifier="user-42",
                                                       MaxResults=10)
    assert looked_up["IdentityId"] == identity


def test_a_developer_token_is_a_login_for_enhanced_credentials(flow: Flow) -> None:
    pool_id = developer_pool(flow)
    answer = flow.cognito.get_open_id_token_for_developer_identity(IdentityPoolId=pool_id,
                                                                   Logins={DEVELOPER: "user-7"})
    logins = {"cognito-identity.amazonaws.com": answer["Token"]}
    granted = flow.cognito.get_credentials_for_identity(IdentityId=answer["IdentityId"], Logins=logins)
    assert granted["IdentityId"] == answer["IdentityId"]
    assert granted["Credentials"]["AccessKeyId"].startswith("ASIA")
    other = flow.cognito.get_open_id_token_for_developer_identity(IdentityPoolId=pool_id,
                                                                  Logins={DEVELOPER: "user-8"})
    with raises("NotAuthorizedException", DONT_MATCH):  # user-8's token does not open user-7's identity
        flow.cognito.get_credentials_for_identity(IdentityId=answer["IdentityId"],
                                                  Logins={"cognito-identity.amazonaws.com": other["Token"]})
    flow.emulator.backend.clock.advance(901)
    with raises("NotAuthorizedException"):
        flow.cognito.get_credentials_for_identity(IdentityId=answer["IdentityId"], Logins=logins)


def test_developer_identity_errors(flow: Flow) -> None:
    pool_id = developer_pool(flow)
    first = flow.cognito.get_open_id_token_for_developer_identity(IdentityPoolId=pool_id,
                                                                  Logins={DEVELOPER: "user-1"})["IdentityId"]
    second = flow.cognito.get_open_id_token_for_developer_identity(IdentityPoolId=pool_id,
                                                                   Logins={DEVELOPER: "user-2"})["IdentityId"]
    with raises("DeveloperUserAlreadyRegisteredException"):
        flow.cognito.get_open_id_token_for_developer_identity(IdentityPoolId=pool_id, IdentityId=second,
                                                              Logins={DEVELOPER: "user-1"})
    linked = flow.cognito.get_open_id_token_for_developer_identity(
        IdentityPoolId=pool_id, IdentityId=first, Logins={DEVELOPER: "user-1", **flow.logins("ann")})
    assert linked["IdentityId"] == first and flow.get_id(flow.logins("ann")) == first
    with raises("InvalidParameterException", "This identity pool does not support the specified developer provider."):
        flow.cognito.get_open_id_token_for_developer_identity(IdentityPoolId=pool_id, Logins={"login.other": "u"})
    with raises("ResourceNotFoundException"):
        flow.cognito.get_open_id_token_for_developer_identity(
            IdentityPoolId="us-east-1:00000000-0000-4000-8000-000000000000", Logins={DEVELOPER: "u"})
