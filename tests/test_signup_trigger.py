"""SignUp runs the PreSignUp trigger with Cognito's event and honours its answer."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from harness.engine.triggers import set_trigger

PASSWORD = "Passw0rd!x"


@pytest.fixture()
def pool(idp) -> tuple[str, str]:  # noqa: ANN001
    pool_id = idp.create_user_pool(PoolName="trig", AutoVerifiedAttributes=["email"])["UserPool"]["Id"]
    client_id = idp.create_user_pool_client(UserPoolId=pool_id, ClientName="web",
                                            ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH",
                                                               "ALLOW_REFRESH_TOKEN_AUTH"])["UserPoolClient"]["ClientId"]
    return pool_id, client_id


def _sign_up(idp: Any, client_id: str, username: str) -> dict[str, Any]:
    return idp.sign_up(ClientId=client_id, Username=username, Password=PASSWORD,
                       UserAttributes=[{"Name": "email", "Value": f"{username}@example.com"}],
                       ValidationData=[{"Name": "invite", "Value": "abc"}])


def test_auto_confirm_and_verify(emulator, idp, pool) -> None:  # noqa: ANN001
    pool_id, client_id = pool
    seen: list[dict[str, Any]] = []

    def hook(event: dict[str, Any]) -> dict[str, Any]:
        seen.append(event)
        event["response"]["autoConfirmUser"] = True
        event["response"]["autoVerifyEmail"] = True
        return event

    set_trigger(emulator.backend, pool_id, "PreSignUp", hook)
    answer = _sign_up(idp, client_id, "amy")
    assert answer["UserConfirmed"] is True
    assert "CodeDeliveryDetails" not in answer
    event = seen[0]
    assert event["triggerSource"] == "PreSignUp_SignUp"
    assert event["userName"] == "amy"
    assert event["callerContext"]["clientId"] == client_id
    assert event["request"]["userAttributes"]["email"] == "amy@example.com"
    assert event["request"]["validationData"] == {"invite": "abc"}
    user = idp.admin_get_user(UserPoolId=pool_id, Username="amy")
    assert user["UserStatus"] == "CONFIRMED"
    assert {"Name": "email_verified", "Value": "true"} in user["UserAttributes"]
    assert emulator.backend.mailbox.list(to="amy@example.com") == []
    # a confirmed user signs in straight away
    idp.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                      AuthParameters={"USERNAME": "amy", "PASSWORD": PASSWORD})


def test_without_verdicts_the_user_waits_for_the_code(emulator, idp, pool) -> None:  # noqa: ANN001
    pool_id, client_id = pool
    set_trigger(emulator.backend, pool_id, "PreSignUp", lambda event: event)
    answer = _sign_up(idp, client_id, "ben")
    assert answer["UserConfirmed"] is False
    assert answer["CodeDeliveryDetails"]["DeliveryMedium"] == "EMAIL"
    assert emulator.backend.mailbox.latest_code("ben@example.com")


def test_a_failing_trigger_stops_the_sign_up(emulator, idp, pool) -> None:  # noqa: ANN001
    pool_id, client_id = pool

    def hook(event: dict[str, Any]) -> dict[str, Any]:
        raise ValueError("invitations only")

    set_trigger(emulator.backend, pool_id, "PreSignUp", hook)
    with pytest.raises(ClientError) as info:
        _sign_up(idp, client_id, "cat")
    error = info.value.response["Error"]
    assert error["Code"] == "UserLambdaValidationException"
    assert error["Message"] == "PreSignUp failed with error invitations only."
    with pytest.raises(ClientError) as missing:
        idp.admin_get_user(UserPoolId=pool_id, Username="cat")
    assert missing.value.response["Error"]["Code"] == "UserNotFoundException"
