"""What every part of the operation-conformance tour shares: the names it uses and the failing call.

The tour (tests/test_operation_conformance.py) is one linear walk through the
API; its areas live in ``conformance_tour_*.py`` modules so no file grows past
a few hundred lines.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

MISSING_POOL = "us-east-1_Missing00"
PASSWORD = "Passw0rd!x"
NEW_PASSWORD = "N3wPassw0rd!x"
BAD_TOKEN = "not.a.token"
SES = {"EmailSendingAccount": "DEVELOPER", "SourceArn": "arn:aws:ses:us-east-1:123456789012:identity/example.com"}
SMS = {"SnsCallerArn": "arn:aws:iam::123456789012:role/sns", "ExternalId": "tour"}
ALL_FLOWS = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH",
             "ALLOW_USER_SRP_AUTH"]


def fail(call: Any, **kwargs: Any) -> None:
    """The call must reach the server and come back as a Cognito error."""
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400, info.value


def other_code(code: str) -> str:
    """A six-digit code that is not ``code`` (a wrong answer that cannot be right by chance)."""
    return "000000" if code != "000000" else "111111"


def password_auth(idp: Any, client_id: str, username: str, password: str = PASSWORD) -> dict[str, Any]:
    return idp.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                             AuthParameters={"USERNAME": username, "PASSWORD": password})


def pool_with_client(idp: Any, name: str, **pool: Any) -> tuple[str, str]:
    """A pool and one secretless client with every password and SRP flow; (pool id, client id)."""
    pool_id = idp.create_user_pool(PoolName=name, **pool)["UserPool"]["Id"]
    client = idp.create_user_pool_client(UserPoolId=pool_id, ClientName="web", ExplicitAuthFlows=ALL_FLOWS)
    return pool_id, client["UserPoolClient"]["ClientId"]


def permanent_user(idp: Any, pool_id: str, username: str, **attributes: str) -> None:
    """A confirmed user with PASSWORD (no invitation sent)."""
    idp.admin_create_user(UserPoolId=pool_id, Username=username, MessageAction="SUPPRESS",
                          UserAttributes=[{"Name": k, "Value": v} for k, v in attributes.items()])
    idp.admin_set_user_password(UserPoolId=pool_id, Username=username, Password=PASSWORD, Permanent=True)
