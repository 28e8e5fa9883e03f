"""The classic (basic) flow over HTTP with real boto3 clients: GetId -> GetOpenIdToken (cognito-identity)
-> AssumeRoleWithWebIdentity (STS, query protocol, XML), credentials issued for the pool's role the
token's ``amr`` allows, on the virtual clock, and seen by the control plane like enhanced-flow ones.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

import pytest
import requests
from botocore.exceptions import ClientError

from harness.engine.signing import foreign_key, sign_custom
from harness.server import Emulator
from identity_flow_support import AUTH_ROLE, GUEST_ROLE, START, Flow, make_flow

SESSION = "app-session"


@pytest.fixture()
def flow(emulator: Emulator) -> Flow:
    made = make_flow(emulator)
    made.identity_pool(classic=True)
    return made


def open_id_token(flow: Flow, username: str | None) -> tuple[str, str]:
    logins = flow.logins(username) if username else {}
    identity = flow.get_id(logins if username else None)
    return identity, flow.cognito.get_open_id_token(IdentityId=identity, Logins=logins)["Token"]


def sts_error(call: Any) -> tuple[int, str, str]:
    with pytest.raises(ClientError) as info:
        call()
    error = info.value.response["Error"]
    return info.value.response["ResponseMetadata"]["HTTPStatusCode"], error["Code"], error["Message"]


def test_a_signed_in_user_assumes_the_authenticated_role(flow: Flow) -> None:
    identity, token = open_id_token(flow, "ann")
    sts = flow.emulator.sts_client()
    answer = sts.assume_role_with_web_identity(RoleArn=AUTH_ROLE, RoleSessionName=SESSION, WebIdentityToken=token)
    credentials = answer["Credentials"]
    assert re.fullmatch(r"ASIA[A-Z0-9]{16}", credentials["AccessKeyId"])
    assert len(credentials["SecretAccessKey"]) == 40 and credentials["SessionToken"]
    assert credentials["Expiration"] == datetime.fromtimestamp(START + 3600, timezone.utc)
    assert answer["SubjectFromWebIdentityToken"] == identity
    assert answer["Audience"] == flow.pool_id
    assert answer["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::123456789012:assumed-role/app-authenticated/{SESSION}"
    assert re.fullmatch(rf"AROA[A-Z2-7]{{17}}:{SESSION}", answer["AssumedRoleUser"]["AssumedRoleId"])
    issued = flow.emulator.remote_control().identity_credential(credentials["AccessKeyId"])
    assert issued["role_arn"] == AUTH_ROLE and issued["identity_id"] == identity and issued["authenticated"] is True
    assert issued["providers"] == [flow.provider]


def test_a_guest_assumes_only_the_unauthenticated_role(flow: Flow) -> None:
    _, token = open_id_token(flow, None)
    sts = flow.emulator.sts_client()
    answer = sts.assume_role_with_web_identity(RoleArn=GUEST_ROLE, RoleSessionName=SESSION, WebIdentityToken=token,
                                               DurationSeconds=900)
    assert answer["Credentials"]["Expiration"] == datetime.fromtimestamp(START + 900, timezone.utc)
    status, code, message = sts_error(lambda: sts.assume_role_with_web_identity(
        RoleArn=AUTH_ROLE, RoleSessionName=SESSION, WebIdentityToken=token))
    assert (status, code, message) == (403, "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity")
    _, user_token = open_id_token(flow, "ann")
    status, code, _ = sts_error(lambda: sts.assume_role_with_web_identity(  # the trust policy AWS recommends
        RoleArn=GUEST_ROLE, RoleSessionName=SESSION, WebIdentityToken=user_token))
    assert (status, code) == (403, "AccessDenied")
    status, code, _ = sts_error(lambda: sts.assume_role_with_web_identity(
        RoleArn="arn:aws:iam::123456789012:role/someone-else", RoleSessionName=SESSION, WebIdentityToken=user_token))
    assert (status, code) == (403, "AccessDenied")


def test_bad_and_expired_tokens_are_refused(flow: Flow) -> None:
    sts = flow.emulator.sts_client()

    def assume(token: str) -> Any:
        return lambda: sts.assume_role_with_web_identity(RoleArn=AUTH_ROLE, RoleSessionName=SESSION,
                                                         WebIdentityToken=token)

    assert sts_error(assume("not-a-jwt")) == (
        400, "InvalidIdentityToken",
        "The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)")
    _, token = open_id_token(flow, "ann")
    claims = {"sub": "x", "aud": flow.pool_id, "amr": ["authenticated"], "exp": START + 600,
              "iss": f"{flow.emulator.url}/cognito-identity"}
    forged = sign_custom(claims, alg="RS256", kid="forged", rsa_key=foreign_key(0))
    assert sts_error(assume(forged))[:2] == (400, "InvalidIdentityToken")
    user_pool_token = flow.id_token("ann")  # a user-pool token is not the identity service's
    assert sts_error(assume(user_pool_token))[:2] == (400, "InvalidIdentityToken")
    flow.emulator.backend.clock.advance(601)
    assert sts_error(assume(token))[:2] == (400, "ExpiredTokenException")


def test_the_query_face_validates_and_names_what_it_does_not_emulate(flow: Flow) -> None:
    _, token = open_id_token(flow, "ann")
    form = {"Action": "AssumeRoleWithWebIdentity", "Version": "2011-06-15", "RoleArn": AUTH_ROLE,
            "RoleSessionName": SESSION, "WebIdentityToken": token, "DurationSeconds": "60"}
    answer = requests.post(flow.emulator.url + "/", data=form, timeout=5)
    assert answer.status_code == 400 and answer.headers["Content-Type"] == "text/xml"
    assert "<Code>ValidationError</Code>" in answer.text and "durationSeconds" in answer.text
    answer = requests.post(flow.emulator.url + "/", data={**form, "DurationSeconds": "900",
                                                          "RoleSessionName": "bad name!"}, timeout=5)
    assert answer.status_code == 400 and "roleSessionName" in answer.text
    answer = requests.post(flow.emulator.url + "/", data={"Action": "GetCallerIdentity", "Version": "2011-06-15"},
                           timeout=5)
    assert answer.status_code == 400 and "<Code>InvalidAction</Code>" in answer.text
    assert "GetCallerIdentity" in answer.text


def test_credentials_are_refused_before_sts_where_the_classic_flow_is_off(flow: Flow) -> None:
    flow.identity_pool(classic=False)
    identity = flow.get_id(flow.logins("ann"))
    with pytest.raises(ClientError) as info:
        flow.cognito.get_open_id_token(IdentityId=identity, Logins=flow.logins("ann"))
    assert info.value.response["Error"]["Code"] == "InvalidParameterException"
    assert flow.emulator.remote_control().identity_credentials(identity_pool_id=flow.pool_id) == []
