"""Boolean attributes are read case-insensitively, as Cognito reads them, over HTTP with real boto3:
"True" / "TRUE" / "False" are accepted wherever attributes are written and kept as written (GetUser
echoes "True", aws-amplify/amplify-js#8205), they count as true where it matters (verified
aliases, recovery, the ID token's email_verified claim), and a non-boolean is still refused."""

from __future__ import annotations

from typing import Any

import pytest

from auth_support import PASSWORD, App, make_app, raises

FLAG = {"Name": "flag", "AttributeDataType": "Boolean", "Mutable": True}


def not_boolean(name: str) -> str:
    return f"Attributes did not conform to the schema: {name}: Value must be a boolean (true or false)\n"


def attrs(pairs: dict[str, str]) -> list[dict[str, str]]:
    return [{"Name": k, "Value": v} for k, v in pairs.items()]


def shown(app: App, username: str) -> dict[str, str]:
    got = app.idp.admin_get_user(UserPoolId=app.pool_id, Username=username)["UserAttributes"]
    return {a["Name"]: a["Value"] for a in got}


@pytest.fixture()
def app(emulator: Any, idp: Any) -> App:
    emulator.backend.clock.freeze()
    return make_app(emulator, idp, pool={"Schema": [FLAG], "AliasAttributes": ["email"]})


def test_admin_create_user_accepts_capitalised_booleans_and_keeps_them(app: App) -> None:
    app.idp.admin_create_user(UserPoolId=app.pool_id, Username="ana", MessageAction="SUPPRESS",
                              UserAttributes=attrs({"email": "ana@example.com", "email_verified": "True",
                                                    "custom:flag": "FALSE"}))
    assert shown(app, "ana")["email_verified"] == "True" and shown(app, "ana")["custom:flag"] == "FALSE"
    app.idp.admin_set_user_password(UserPoolId=app.pool_id, Username="ana", Password=PASSWORD, Permanent=True)
    tokens = app.sign_in("ana@example.com")  # a verified email alias signs in
    claims = app.verify(tokens)["id"]
    assert claims["email_verified"] is True and claims["cognito:username"] == "ana"
    delivery = app.idp.forgot_password(ClientId=app.client_id, Username="ana")["CodeDeliveryDetails"]
    assert delivery["DeliveryMedium"] == "EMAIL"  # the verified email is a recovery destination


def test_false_in_any_case_is_false(app: App) -> None:
    app.idp.admin_create_user(UserPoolId=app.pool_id, Username="ana", MessageAction="SUPPRESS",
                              UserAttributes=attrs({"email": "ana@example.com", "email_verified": "False"}))
    app.idp.admin_set_user_password(UserPoolId=app.pool_id, Username="ana", Password=PASSWORD, Permanent=True)
    with raises("UserNotFoundException"):  # an unverified email is no alias
        app.password_auth("ana@example.com")
    assert app.verify(app.sign_in("ana"))["id"]["email_verified"] is False


def test_updates_and_sign_up_accept_any_case(app: App) -> None:
    app.sign_up("bob", email="bob@example.com", **{"custom:flag": "TRUE"})
    assert shown(app, "bob")["custom:flag"] == "TRUE"
    app.idp.admin_update_user_attributes(UserPoolId=app.pool_id, Username="bob",
                                         UserAttributes=attrs({"email_verified": "tRuE", "custom:flag": "False"}))
    assert shown(app, "bob")["email_verified"] == "tRuE" and shown(app, "bob")["custom:flag"] == "False"
    app.idp.admin_confirm_sign_up(UserPoolId=app.pool_id, Username="bob")
    access = app.sign_in("bob@example.com")["AccessToken"]  # tRuE counts as verified
    app.idp.update_user_attributes(AccessToken=access, UserAttributes=attrs({"custom:flag": "True"}))
    assert shown(app, "bob")["custom:flag"] == "True"


@pytest.mark.parametrize("value", ["yes", "1", "truthy", "T"])
def test_only_booleans_in_any_case_are_accepted(app: App, value: str) -> None:
    app.sign_up("carol", email="carol@example.com", **{"custom:flag": "TRUE"})  # a boolean, whatever its case
    with raises("InvalidParameterException", not_boolean("email_verified")):
        app.idp.admin_create_user(UserPoolId=app.pool_id, Username="ana", MessageAction="SUPPRESS",
                                  UserAttributes=attrs({"email": "ana@example.com", "email_verified": value}))
    with raises("InvalidParameterException", not_boolean("custom:flag")):
        app.sign_up("bob", email="bob@example.com", **{"custom:flag": value})
