"""moto's MFA tests that its maintainers verified against real AWS, ported to run over HTTP.

moto marks a test it ran against a real AWS account with ``@pytest.mark.aws_verified``
and the ``cognitoidp_aws_verified`` decorator (moto 5.2.6,
tests/test_cognitoidp/test_cognitoidp.py and tests/test_cognitoidp/__init__.py).
Every such test about MFA, software tokens, SetUserMFAPreference,
SetUserPoolMfaConfig or devices is here (moto has no AWS-verified device test):
the same calls and the same expected values, in code of our own. Each runs
against the emulator and, as a cross-check, against moto_server.

What differs from moto's text, and why:

* The decorator's IAM role (an SNS caller for the pool's SmsConfiguration) is a
  role ARN written out: neither endpoint checks the role, and the emulator has no IAM.
* Where moto, on AWS, waits for the authenticator's next code ("Your software
  token has already been used once"), the emulator's virtual clock moves to the
  next 30-second step instead; moto_server accepts a repeated code, as moto's own
  run does.
* pycognito computes the SRP answers, as in moto's tests.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3
import pyotp
import pycognito.aws_srp
import pytest
from botocore.config import Config

from harness.server import ONE_ATTEMPT, TEST_CREDENTIALS

SNS_CALLER_ROLE = "arn:aws:iam::123456789012:role/test-role-cognito-sns"  # stands for the decorator's IAM role
PASSWORD = "P2$Sword"


@dataclass
class Endpoint:
    """A cognito-idp endpoint and the clock its TOTP codes run on."""

    idp: Any
    now: Callable[[], float]
    next_code_step: Callable[[], None]  # what AWS's "wait for a new code" loop becomes here

    def totp_now(self, totp: pyotp.TOTP) -> str:
        return totp.at(self.now())


@pytest.fixture(params=["emulator", "moto_server"])
def endpoint(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Endpoint:
    if request.param == "emulator":
        emulator = request.getfixturevalue("emulator")
        emulator.backend.clock.freeze()
        clock = emulator.backend.clock
        return Endpoint(emulator.boto3_client(), clock.now, lambda: clock.advance(30))
    monkeypatch.setenv("MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP", "true")  # read by the moto_server process
    url = request.getfixturevalue("moto_server")
    idp = boto3.client("cognito-idp", region_name="us-west-2", endpoint_url=url, config=Config(retries=ONE_ATTEMPT),
                       **TEST_CREDENTIALS)
    return Endpoint(idp, settled_wall_clock, lambda: None)


def settled_wall_clock() -> float:
    """Wall-clock now, out of the last seconds of a 30 s step: moto checks a code against the current
    step only, so a code computed just before a step ends would be refused by the time it arrives."""
    into_step = time.time() % 30
    if into_step > 27:
        time.sleep(30.1 - into_step)
    return time.time()


def aws_verified_pool(
    conn: Any, *, with_mfa: str, generate_secret: bool = False, explicit_auth_flows: list[str] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """What moto's ``cognitoidp_aws_verified`` decorator creates (with_software_mfa=True): a pool with
    MfaConfiguration and an SNS SmsConfiguration, TOTP turned on, and one app client."""
    user_pool = conn.create_user_pool(PoolName=f"TestUserPool_{str(uuid.uuid4())[0:6]}", MfaConfiguration=with_mfa,
                                      SmsConfiguration={"SnsCallerArn": SNS_CALLER_ROLE})
    pool_id = user_pool["UserPool"]["Id"]
    conn.set_user_pool_mfa_config(UserPoolId=pool_id, SoftwareTokenMfaConfiguration={"Enabled": True},
                                  MfaConfiguration=with_mfa)
    client_kwargs: dict[str, Any] = {}
    if explicit_auth_flows:
        client_kwargs["ExplicitAuthFlows"] = explicit_auth_flows
    if generate_secret:
        client_kwargs["GenerateSecret"] = True
    user_pool_client = conn.create_user_pool_client(UserPoolId=pool_id, ClientName="TestAppClient", **client_kwargs)
    return user_pool, user_pool_client


@dataclass
class SignedUp:
    """A user signed up with a secret hash and confirmed by the admin, and pycognito's SRP client for them."""

    username: str
    client_id: str
    secret_hash: str
    aws_srp: pycognito.aws_srp.AWSSRP
    auth_params: dict[str, str]


def sign_up_confirmed(conn: Any, user_pool: dict[str, Any], user_pool_client: dict[str, Any]) -> SignedUp:
    """The opening both TOTP flow tests share: SignUp, DescribeUserPoolClient, AdminConfirmSignUp."""
    username = str(uuid.uuid4())
    user_pool_id = user_pool["UserPool"]["Id"]
    client_id = user_pool_client["UserPoolClient"]["ClientId"]
    client_secret = user_pool_client["UserPoolClient"]["ClientSecret"]
    secret_hash = pycognito.aws_srp.AWSSRP.get_secret_hash(username=username, client_id=client_id,
                                                           client_secret=client_secret)
    conn.sign_up(ClientId=client_id, Username=username, Password=PASSWORD, SecretHash=secret_hash)
    client_secret = conn.describe_user_pool_client(UserPoolId=user_pool_id, ClientId=client_id)["UserPoolClient"][
        "ClientSecret"]
    conn.admin_confirm_sign_up(UserPoolId=user_pool_id, Username=username)
    aws_srp = pycognito.aws_srp.AWSSRP(username=username, password=PASSWORD, pool_id=user_pool_id,
                                       client_id=client_id, client_secret=client_secret, client=conn)
    return SignedUp(username, client_id, secret_hash, aws_srp, aws_srp.get_auth_params())


def srp_password_step(conn: Any, user: SignedUp, auth_params: dict[str, str]) -> dict[str, Any]:
    """InitiateAuth USER_SRP_AUTH, then the PASSWORD_VERIFIER answer pycognito computes; what follows."""
    result = conn.initiate_auth(ClientId=user.client_id, AuthFlow="USER_SRP_AUTH", AuthParameters=auth_params)
    challenge_response = user.aws_srp.process_challenge(result["ChallengeParameters"], user.auth_params)
    return conn.respond_to_auth_challenge(ClientId=user.client_id, ChallengeName=result["ChallengeName"],
                                          ChallengeResponses=challenge_response)


def sign_in_again(conn: Any, user: SignedUp) -> dict[str, Any]:
    """moto's "authenticate user once again": the same SRP_A, written out, and the secret hash."""
    return srp_password_step(conn, user, {
        "USERNAME": user.username,
        "SRP_A": pycognito.aws_srp.long_to_hex(user.aws_srp.large_a_value),
        "SECRET_HASH": user.secret_hash,
    })


def answer_totp_with_a_new_code(endpoint: Endpoint, user: SignedUp, result: dict[str, Any], totp: pyotp.TOTP) -> None:
    """The SOFTWARE_TOKEN_MFA answer with the authenticator's next code; tokens come back."""
    endpoint.next_code_step()
    result = endpoint.idp.respond_to_auth_challenge(
        ClientId=user.client_id, Session=result["Session"], ChallengeName=result["ChallengeName"],
        ChallengeResponses={"SOFTWARE_TOKEN_MFA_CODE": endpoint.totp_now(totp), "USERNAME": user.username,
                            "SECRET_HASH": user.auth_params["SECRET_HASH"]})
    assert result["AuthenticationResult"]["AccessToken"]
    assert result["AuthenticationResult"]["IdToken"]
    assert result["AuthenticationResult"]["RefreshToken"]


def test_user_authentication_flow_mfa_on(endpoint: Endpoint) -> None:
    """moto: test_user_authentication_flow_mfa_on (generate_secret=True, with_mfa="ON")."""
    conn = endpoint.idp
    user = sign_up_confirmed(conn, *aws_verified_pool(conn, with_mfa="ON", generate_secret=True))
    result = srp_password_step(conn, user, user.auth_params)
    assert result["ChallengeName"] == "MFA_SETUP"

    resp = conn.associate_software_token(Session=result["Session"])
    totp = pyotp.TOTP(resp["SecretCode"])
    resp = conn.verify_software_token(Session=resp["Session"], UserCode=endpoint.totp_now(totp))
    assert resp["Status"] == "SUCCESS"

    result = sign_in_again(conn, user)  # MFA_SETUP was never answered: the verified token is enough
    assert result["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
    answer_totp_with_a_new_code(endpoint, user, result, totp)


def test_user_authentication_flow_mfa_optional(endpoint: Endpoint) -> None:
    """moto: test_user_authentication_flow_mfa_optional (generate_secret=True, with_mfa="OPTIONAL")."""
    conn = endpoint.idp
    user = sign_up_confirmed(conn, *aws_verified_pool(conn, with_mfa="OPTIONAL", generate_secret=True))
    result = srp_password_step(conn, user, user.auth_params)

    access_token = result["AuthenticationResult"]["AccessToken"]
    resp = conn.associate_software_token(AccessToken=access_token)
    totp = pyotp.TOTP(resp["SecretCode"])
    resp = conn.verify_software_token(AccessToken=access_token, UserCode=endpoint.totp_now(totp))
    assert resp["Status"] == "SUCCESS"
    conn.set_user_mfa_preference(AccessToken=access_token,
                                 SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True})

    result = sign_in_again(conn, user)
    assert result["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
    answer_totp_with_a_new_code(endpoint, user, result, totp)


def test_initiate_mfa_auth_user_password_auth_with_force_change_password_status(endpoint: Endpoint) -> None:
    """moto: test_initiate_mfa_auth_USER_PASSWORD_AUTH_with_FORCE_CHANGE_PASSWORD_status
    (explicit_auth_flows=["USER_PASSWORD_AUTH"], with_mfa="ON")."""
    client = endpoint.idp
    user_pool, user_pool_client = aws_verified_pool(client, with_mfa="ON", explicit_auth_flows=["USER_PASSWORD_AUTH"])
    username = str(uuid.uuid4())
    user_pool_id = user_pool["UserPool"]["Id"]
    client_id = user_pool_client["UserPoolClient"]["ClientId"]

    temporary_password = PASSWORD
    client.admin_create_user(UserPoolId=user_pool_id, Username=username, TemporaryPassword=temporary_password)
    result = client.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                                  AuthParameters={"USERNAME": username, "PASSWORD": temporary_password})
    assert result["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    assert result.get("AuthenticationResult") is None

    new_password = "P2$Sword2"
    result = client.respond_to_auth_challenge(
        ClientId=client_id, ChallengeName="NEW_PASSWORD_REQUIRED", Session=result["Session"],
        ChallengeResponses={"NEW_PASSWORD": new_password, "USERNAME": username})
    assert result["ChallengeName"] == "MFA_SETUP"
    assert result["Session"]

    assoc_response = client.associate_software_token(Session=result["Session"])
    totp = pyotp.TOTP(assoc_response["SecretCode"])
    verify_response = client.verify_software_token(Session=assoc_response["Session"], UserCode=endpoint.totp_now(totp))
    assert verify_response["Status"] == "SUCCESS"

    endpoint.next_code_step()
    result = client.respond_to_auth_challenge(
        ClientId=client_id, Session=verify_response["Session"], ChallengeName=result["ChallengeName"],  # MFA_SETUP
        ChallengeResponses={"SOFTWARE_TOKEN_MFA_CODE": endpoint.totp_now(totp), "USERNAME": username})
    assert result["ChallengeParameters"] == {}
    assert result["AuthenticationResult"]["AccessToken"]
    assert result["AuthenticationResult"]["RefreshToken"]
    assert result["AuthenticationResult"]["IdToken"]

    result = client.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                                  AuthParameters={"USERNAME": username, "PASSWORD": new_password})
    assert result["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
    endpoint.next_code_step()
    result = client.respond_to_auth_challenge(
        ClientId=client_id, Session=result["Session"], ChallengeName=result["ChallengeName"],
        ChallengeResponses={"SOFTWARE_TOKEN_MFA_CODE": endpoint.totp_now(totp), "USERNAME": username})
    assert result["ChallengeParameters"] == {}
    assert result["AuthenticationResult"]["AccessToken"]
    assert result["AuthenticationResult"]["RefreshToken"]
    assert result["AuthenticationResult"]["IdToken"]
