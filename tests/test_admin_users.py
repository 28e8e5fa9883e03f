"""Administrative user, group and query operations over HTTP with real boto3 clients.

AdminCreateUser (invitations in the mailbox, RESEND/SUPPRESS, delivery
faults), username attributes and case sensitivity, custom attributes,
password administration, attribute updates, disable/enable/delete with
session revocation, groups with precedence, ListUsers filters and pagination.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from auth_support import raises
import requests
from botocore.exceptions import ClientError

from harness.engine import srp, tokens, users
from harness.engine.common import require_user

PASSWORD = "Passw0rd!"


def make_pool(idp: Any, **kwargs: Any) -> str:
    kwargs.setdefault("Schema", [
        {"Name": "tenant", "AttributeDataType": "String", "Mutable": False},
        {"Name": "seats", "AttributeDataType": "Number", "NumberAttributeConstraints": {"MinValue": "1", "MaxValue": "99"}},
        {"Name": "admin", "AttributeDataType": "Boolean"},
    ])
    return idp.create_user_pool(PoolName="users", **kwargs)["UserPool"]["Id"]


def attributes(answer: dict[str, Any], key: str = "UserAttributes") -> dict[str, str]:
    return {a["Name"]: a["Value"] for a in answer[key]}


def sign_in(emulator: Any, pool_id: str, username: str) -> dict[str, Any]:
    """Open a session for a user directly in the engine (sessions to revoke)."""
    backend = emulator.backend
    pool = backend.pools[pool_id]
    client = next(iter(pool.clients.values()))
    user = require_user(pool, username)
    with backend.transaction():
        return tokens.sign_in(backend, pool, client, user, flow="TEST")


# --- AdminCreateUser -------------------------------------------------------------------------------


def test_admin_create_user_sends_an_invitation(idp: Any, emulator: Any) -> None:
    pool_id = make_pool(idp)
    answer = idp.admin_create_user(
        UserPoolId=pool_id, Username="alice",
        UserAttributes=[{"Name": "email", "Value": "alice@example.com"}, {"Name": "custom:tenant", "Value": "acme"},
                        {"Name": "custom:seats", "Value": "5"}, {"Name": "custom:admin", "Value": "true"}],
        DesiredDeliveryMediums=["EMAIL"],
    )["User"]
    assert answer["Username"] == "alice" and answer["UserStatus"] == "FORCE_CHANGE_PASSWORD" and answer["Enabled"]
    values = attributes(answer, "Attributes")
    uuid.UUID(values["sub"])
    assert values["custom:tenant"] == "acme" and values["custom:seats"] == "5" and values["custom:admin"] == "true"
    assert answer["Attributes"][0]["Name"] == "sub"
    assert "MFAOptions" not in answer
    mail = emulator.backend.mailbox.list(to="alice@example.com")
    assert len(mail) == 1 and mail[0].purpose == "INVITE" and mail[0].channel == "EMAIL"
    assert mail[0].subject == "Your temporary password"
    password = mail[0].code
    assert mail[0].body == f"Your username is alice and temporary password is {password}. "
    assert re.search(r"[A-Z]", password) and re.search(r"[0-9]", password) and "!" in password
    got = idp.admin_get_user(UserPoolId=pool_id, Username="alice")
    assert got["UserStatus"] == "FORCE_CHANGE_PASSWORD" and got["Enabled"] is True
    assert attributes(got)["email"] == "alice@example.com"
    assert "MFAOptions" not in got
    assert got["UserCreateDate"] == got["UserLastModifiedDate"]
    assert emulator.backend.events.count("user.created") == 1


def test_invitation_channels(idp: Any, emulator: Any) -> None:
    pool_id = make_pool(idp, AdminCreateUserConfig={"InviteMessageTemplate": {
        "SMSMessage": "User {username} code {####}", "EmailMessage": "Hello {username}: {####}", "EmailSubject": "Hi"}})
    mailbox = emulator.backend.mailbox
    idp.admin_create_user(UserPoolId=pool_id, Username="phone", TemporaryPassword="Temp0rary!",
                          UserAttributes=[{"Name": "phone_number", "Value": "+15555550100"},
                                          {"Name": "email", "Value": "p@example.com"}])
    sms = mailbox.latest(to="+15555550100")
    assert sms.channel == "SMS" and sms.body == "User phone code Temp0rary!"  # SMS is the default medium
    assert mailbox.list(to="p@example.com") == []
    idp.admin_create_user(UserPoolId=pool_id, Username="mailonly", UserAttributes=[{"Name": "email", "Value": "m@example.com"}])
    assert mailbox.latest(to="m@example.com").subject == "Hi"
    idp.admin_create_user(UserPoolId=pool_id, Username="both", UserAttributes=[
        {"Name": "phone_number", "Value": "+15555550101"}, {"Name": "email", "Value": "b@example.com"}],
        DesiredDeliveryMediums=["EMAIL", "SMS"])
    assert mailbox.latest(to="b@example.com") and mailbox.latest(to="+15555550101")
    with raises("InvalidParameterException"):
        idp.admin_create_user(UserPoolId=pool_id, Username="nomail", DesiredDeliveryMediums=["EMAIL"])
    with raises("UserNotFoundException"):
        idp.admin_get_user(UserPoolId=pool_id, Username="nomail")
    count = len(mailbox.list())
    idp.admin_create_user(UserPoolId=pool_id, Username="quiet", MessageAction="SUPPRESS",
                          UserAttributes=[{"Name": "email", "Value": "q@example.com"}])
    idp.admin_create_user(UserPoolId=pool_id, Username="nobody")  # no contact: nothing to send
    assert len(mailbox.list()) == count


def test_resend_invitation_issues_a_new_temporary_password(idp: Any, emulator: Any) -> None:
    pool_id = make_pool(idp)
    mailbox = emulator.backend.mailbox
    idp.admin_create_user(UserPoolId=pool_id, Username="bob", UserAttributes=[{"Name": "email", "Value": "bob@example.com"}],
                          DesiredDeliveryMediums=["EMAIL"])
    first = mailbox.latest(to="bob@example.com").code
    answer = idp.admin_create_user(UserPoolId=pool_id, Username="bob", MessageAction="RESEND",
                                   DesiredDeliveryMediums=["EMAIL"])
    assert answer["User"]["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    second = mailbox.latest(to="bob@example.com").code
    assert second and second != first
    user = emulator.backend.pools[pool_id].users["bob"]
    from harness.engine.passwords import verify_password

    assert verify_password(user, second) and not verify_password(user, first)
    with raises("UserNotFoundException", "User does not exist."):
        idp.admin_create_user(UserPoolId=pool_id, Username="ghost", MessageAction="RESEND")
    idp.admin_set_user_password(UserPoolId=pool_id, Username="bob", Password=PASSWORD, Permanent=True)
    with raises("UnsupportedUserStateException"):
        idp.admin_create_user(UserPoolId=pool_id, Username="bob", MessageAction="RESEND")


def test_create_user_errors(idp: Any) -> None:
    pool_id = make_pool(idp)
    idp.admin_create_user(UserPoolId=pool_id, Username="carol")
    with raises("UsernameExistsException", "User account already exists"):
        idp.admin_create_user(UserPoolId=pool_id, Username="carol")
    with raises("InvalidPasswordException", "Password did not conform with password policy: Password must have numeric characters"):
        idp.admin_create_user(UserPoolId=pool_id, Username="dave", TemporaryPassword="Password!")
    with raises("InvalidPasswordException", "Password did not conform with password policy: Password not long enough"):
        idp.admin_create_user(UserPoolId=pool_id, Username="dave", TemporaryPassword="Pa1!")
    with raises("InvalidPasswordException", "Password did not conform with password policy: Password must have symbol characters"):
        idp.admin_create_user(UserPoolId=pool_id, Username="dave", TemporaryPassword="Passw0rdd")
    with raises("InvalidParameterException",
                "Attributes did not conform to the schema: custom:nope: Attribute does not exist in the schema.\n"):
        idp.admin_create_user(UserPoolId=pool_id, Username="dave", UserAttributes=[{"Name": "custom:nope", "Value": "x"}])
    with raises("InvalidParameterException"):
        idp.admin_create_user(UserPoolId=pool_id, Username="dave", UserAttributes=[{"Name": "custom:seats", "Value": "many"}])
    with raises("InvalidParameterException"):
        idp.admin_create_user(UserPoolId=pool_id, Username="dave", UserAttributes=[{"Name": "custom:seats", "Value": "100"}])
    with raises("InvalidParameterException"):
        idp.admin_create_user(UserPoolId=pool_id, Username="dave", UserAttributes=[{"Name": "custom:admin", "Value": "yes"}])
    with raises("InvalidParameterException", "Invalid email address format."):
        idp.admin_create_user(UserPoolId=pool_id, Username="dave", UserAttributes=[{"Name": "email", "Value": "not-an-email"}])
    with raises("InvalidParameterException", "Invalid phone number format."):
        idp.admin_create_user(UserPoolId=pool_id, Username="dave", UserAttributes=[{"Name": "phone_number", "Value": "555-0100"}])
    with raises("InvalidParameterException", "Cannot modify the non-mutable attribute sub"):
        idp.admin_create_user(UserPoolId=pool_id, Username="dave", UserAttributes=[{"Name": "sub", "Value": "x"}])
    with raises("InvalidParameterException"):
        idp.admin_create_user(UserPoolId=pool_id, Username="dave", UserAttributes=[{"Name": "email_verified", "Value": "true"}])
    with raises("ResourceNotFoundException"):
        idp.admin_create_user(UserPoolId="us-east-1_nope", Username="dave")
    assert [u["Username"] for u in idp.list_users(UserPoolId=pool_id)["Users"]] == ["carol"]


def test_delivery_fault_still_creates_the_user(idp: Any, emulator: Any) -> None:
    pool_id = make_pool(idp)
    emulator.backend.faults.arm("delivery_failure", operation="AdminCreateUser", count=1)
    with raises("CodeDeliveryFailureException", "Invalid email provided/Unable to send the email"):
        idp.admin_create_user(UserPoolId=pool_id, Username="erin", DesiredDeliveryMediums=["EMAIL"],
                              UserAttributes=[{"Name": "email", "Value": "erin@example.com"}])
    user = idp.admin_get_user(UserPoolId=pool_id, Username="erin")
    assert user["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    failed = emulator.backend.mailbox.list(to="erin@example.com", include_failed=True)
    assert [m.status for m in failed] == ["failed"]
    assert emulator.backend.events.count("message.failed") == 1
    # the admin re-sends once the fault is gone
    idp.admin_create_user(UserPoolId=pool_id, Username="erin", MessageAction="RESEND", DesiredDeliveryMediums=["EMAIL"])
    assert emulator.backend.mailbox.latest(to="erin@example.com").status == "sent"
    emulator.backend.faults.arm("daily_email_limit", operation="AdminCreateUser", count=1)
    with raises("CodeDeliveryFailureException"):
        idp.admin_create_user(UserPoolId=pool_id, Username="fred", DesiredDeliveryMediums=["EMAIL"],
                              UserAttributes=[{"Name": "email", "Value": "fred@example.com"}])
    assert idp.admin_get_user(UserPoolId=pool_id, Username="fred")["Username"] == "fred"


def test_pre_signup_trigger_sees_admin_created_users(idp: Any, emulator: Any) -> None:
    from harness.engine.triggers import set_trigger

    pool_id = make_pool(idp)
    seen: list[dict[str, Any]] = []

    def handler(event: dict[str, Any]) -> dict[str, Any]:
        seen.append(event)
        if event["userName"] == "blocked":
            raise ValueError("not on the list")
        event["response"]["autoVerifyEmail"] = True
        return event

    set_trigger(emulator.backend, pool_id, "PreSignUp", handler)
    idp.admin_create_user(UserPoolId=pool_id, Username="gina", MessageAction="SUPPRESS",
                          UserAttributes=[{"Name": "email", "Value": "gina@example.com"}],
                          ValidationData=[{"Name": "invite", "Value": "xyz"}])
    assert seen[0]["triggerSource"] == "PreSignUp_AdminCreateUser"
    assert seen[0]["request"]["userAttributes"] == {"email": "gina@example.com"}
    assert seen[0]["request"]["validationData"] == {"invite": "xyz"}
    got = idp.admin_get_user(UserPoolId=pool_id, Username="gina")
    assert attributes(got)["email_verified"] == "true" and got["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    with raises("UserLambdaValidationException", "PreSignUp failed with error not on the list."):
        idp.admin_create_user(UserPoolId=pool_id, Username="blocked", MessageAction="SUPPRESS")
    with raises("UserNotFoundException"):
        idp.admin_get_user(UserPoolId=pool_id, Username="blocked")


# --- username attributes and case --------------------------------------------------------------------


def test_email_as_username(idp: Any, emulator: Any) -> None:
    pool_id = make_pool(idp, UsernameAttributes=["email"], UsernameConfiguration={"CaseSensitive": False})
    with raises("InvalidParameterException", "Username should be an email."):
        idp.admin_create_user(UserPoolId=pool_id, Username="plainname")
    created = idp.admin_create_user(UserPoolId=pool_id, Username="Grace@Example.com",
                                    DesiredDeliveryMediums=["EMAIL"])["User"]
    values = attributes(created, "Attributes")
    assert created["Username"] == values["sub"]  # the internal username is the sub
    assert values["email"] == "Grace@Example.com"
    invite = emulator.backend.mailbox.latest(to="grace@example.com")
    assert "Your username is Grace@Example.com" in invite.body
    by_email = idp.admin_get_user(UserPoolId=pool_id, Username="grace@example.com")
    assert by_email["Username"] == created["Username"]
    assert idp.admin_get_user(UserPoolId=pool_id, Username=values["sub"])["Username"] == created["Username"]
    with raises("UsernameExistsException", "An account with the given email already exists."):
        idp.admin_create_user(UserPoolId=pool_id, Username="GRACE@example.com")
    both = make_pool(idp, UsernameAttributes=["email", "phone_number"])
    with raises("InvalidParameterException", "Username should be either an email or a phone number."):
        idp.admin_create_user(UserPoolId=both, Username="plainname")
    phone = idp.admin_create_user(UserPoolId=both, Username="+15555550123")["User"]
    assert attributes(phone, "Attributes")["phone_number"] == "+15555550123"


def test_case_sensitivity(idp: Any) -> None:
    insensitive = make_pool(idp, UsernameConfiguration={"CaseSensitive": False})
    idp.admin_create_user(UserPoolId=insensitive, Username="Henry")
    assert idp.admin_get_user(UserPoolId=insensitive, Username="HENRY")["Username"] == "Henry"
    with raises("UsernameExistsException", "User account already exists"):
        idp.admin_create_user(UserPoolId=insensitive, Username="henry")
    sensitive = make_pool(idp)
    idp.admin_create_user(UserPoolId=sensitive, Username="Henry")
    idp.admin_create_user(UserPoolId=sensitive, Username="henry")
    with raises("UserNotFoundException", "User does not exist."):
        idp.admin_get_user(UserPoolId=sensitive, Username="HENRY")
    assert sorted(u["Username"] for u in idp.list_users(UserPoolId=sensitive)["Users"]) == ["Henry", "henry"]


def test_email_alias_rules(idp: Any, emulator: Any) -> None:
    pool_id = make_pool(idp, AliasAttributes=["email", "preferred_username"])
    with raises("InvalidParameterException",
                "Username cannot be of email format, since user pool is configured for email alias."):
        idp.admin_create_user(UserPoolId=pool_id, Username="ivy@example.com")
    idp.admin_create_user(UserPoolId=pool_id, Username="ivy", UserAttributes=[
        {"Name": "email", "Value": "ivy@example.com"}, {"Name": "email_verified", "Value": "true"},
        {"Name": "preferred_username", "Value": "ivy_p"}])
    assert idp.admin_get_user(UserPoolId=pool_id, Username="IVY@example.com")["Username"] == "ivy"
    assert idp.admin_get_user(UserPoolId=pool_id, Username="ivy_p")["Username"] == "ivy"
    # the verified alias belongs to ivy; another user can only take it with ForceAliasCreation
    with raises("UsernameExistsException", "An account with the given email already exists."):
        idp.admin_create_user(UserPoolId=pool_id, Username="jack", UserAttributes=[
            {"Name": "email", "Value": "ivy@example.com"}, {"Name": "email_verified", "Value": "true"}])
    idp.admin_create_user(UserPoolId=pool_id, Username="jill", UserAttributes=[{"Name": "email", "Value": "ivy@example.com"}])
    idp.admin_create_user(UserPoolId=pool_id, Username="jack", ForceAliasCreation=True, UserAttributes=[
        {"Name": "email", "Value": "ivy@example.com"}, {"Name": "email_verified", "Value": "true"}])
    assert attributes(idp.admin_get_user(UserPoolId=pool_id, Username="ivy"))["email_verified"] == "false"
    assert idp.admin_get_user(UserPoolId=pool_id, Username="ivy@example.com")["Username"] == "jack"
    with raises("AliasExistsException"):
        idp.admin_update_user_attributes(UserPoolId=pool_id, Username="jill",
                                         UserAttributes=[{"Name": "preferred_username", "Value": "IVY_P"}])
    with raises("AliasExistsException", "An account with the given email already exists."):  # verifying jill's copy
        idp.admin_update_user_attributes(UserPoolId=pool_id, Username="jill",
                                         UserAttributes=[{"Name": "email_verified", "Value": "true"}])
    assert attributes(idp.admin_get_user(UserPoolId=pool_id, Username="jill")).get("email_verified") != "true"


# --- passwords -------------------------------------------------------------------------------------------


def test_admin_set_user_password(idp: Any, emulator: Any) -> None:
    pool_id = make_pool(idp, Policies={"PasswordPolicy": {
        "MinimumLength": 8, "RequireUppercase": True, "RequireLowercase": True, "RequireNumbers": True,
        "RequireSymbols": True, "PasswordHistorySize": 2}})
    idp.admin_create_user(UserPoolId=pool_id, Username="kate")
    with raises("InvalidPasswordException", "Password does not conform to policy: Password must have uppercase characters"):
        idp.admin_set_user_password(UserPoolId=pool_id, Username="kate", Password="passw0rd!", Permanent=True)
    with raises("InvalidPasswordException", "Password does not conform to policy: Password must have lowercase characters"):
        idp.admin_set_user_password(UserPoolId=pool_id, Username="kate", Password="PASSW0RD!", Permanent=True)
    idp.admin_set_user_password(UserPoolId=pool_id, Username="kate", Password=PASSWORD, Permanent=True)
    assert idp.admin_get_user(UserPoolId=pool_id, Username="kate")["UserStatus"] == "CONFIRMED"
    idp.admin_set_user_password(UserPoolId=pool_id, Username="kate", Password="Another1!", Permanent=False)
    assert idp.admin_get_user(UserPoolId=pool_id, Username="kate")["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    with raises("PasswordHistoryPolicyViolationException"):
        idp.admin_set_user_password(UserPoolId=pool_id, Username="kate", Password=PASSWORD, Permanent=True)
    user = emulator.backend.pools[pool_id].users["kate"]
    assert user.temporary_password_expires == pytest.approx(emulator.backend.clock.now() + 7 * 86400, abs=5)
    with raises("UserNotFoundException"):
        idp.admin_set_user_password(UserPoolId=pool_id, Username="nobody", Password=PASSWORD, Permanent=True)


def test_admin_reset_user_password(idp: Any, emulator: Any) -> None:
    pool_id = make_pool(idp, AutoVerifiedAttributes=["email"])
    idp.admin_create_user(UserPoolId=pool_id, Username="leo", MessageAction="SUPPRESS", UserAttributes=[
        {"Name": "email", "Value": "leo@example.com"}, {"Name": "email_verified", "Value": "true"}])
    with raises("NotAuthorizedException", "User password cannot be reset in the current state."):
        idp.admin_reset_user_password(UserPoolId=pool_id, Username="leo")
    idp.admin_set_user_password(UserPoolId=pool_id, Username="leo", Password=PASSWORD, Permanent=True)
    idp.admin_reset_user_password(UserPoolId=pool_id, Username="leo")
    assert idp.admin_get_user(UserPoolId=pool_id, Username="leo")["UserStatus"] == "RESET_REQUIRED"
    message = emulator.backend.mailbox.latest(to="leo@example.com")
    assert message.purpose == "FORGOT_PASSWORD" and re.fullmatch(r"\d{6}", message.code)
    assert emulator.backend.pools[pool_id].users["leo"].codes["FORGOT_PASSWORD"].value == message.code
    idp.admin_create_user(UserPoolId=pool_id, Username="mia", MessageAction="SUPPRESS",
                          UserAttributes=[{"Name": "email", "Value": "mia@example.com"}])
    idp.admin_set_user_password(UserPoolId=pool_id, Username="mia", Password=PASSWORD, Permanent=True)
    with raises("InvalidParameterException",
                "Cannot reset password for the user as there is no registered/verified email or phone_number"):
        idp.admin_reset_user_password(UserPoolId=pool_id, Username="mia")
    idp.admin_disable_user(UserPoolId=pool_id, Username="leo")
    with raises("NotAuthorizedException", "User is disabled"):
        idp.admin_reset_user_password(UserPoolId=pool_id, Username="leo")


# --- confirmation, attributes -------------------------------------------------------------------------------


def test_admin_confirm_sign_up(idp: Any, emulator: Any) -> None:
    pool_id = make_pool(idp)
    backend = emulator.backend
    with backend.transaction():
        users.create_user(backend, backend.pools[pool_id], "nina", {}, status="UNCONFIRMED", password=PASSWORD)
    idp.admin_confirm_sign_up(UserPoolId=pool_id, Username="nina")
    assert idp.admin_get_user(UserPoolId=pool_id, Username="nina")["UserStatus"] == "CONFIRMED"
    with raises("NotAuthorizedException", "User cannot be confirmed. Current status is CONFIRMED"):
        idp.admin_confirm_sign_up(UserPoolId=pool_id, Username="nina")
    idp.admin_create_user(UserPoolId=pool_id, Username="omar")
    with raises("NotAuthorizedException", "User cannot be confirmed. Current status is FORCE_CHANGE_PASSWORD"):
        idp.admin_confirm_sign_up(UserPoolId=pool_id, Username="omar")


def test_admin_update_user_attributes(idp: Any, emulator: Any) -> None:
    pool_id = make_pool(idp, AutoVerifiedAttributes=["email"])
    mailbox = emulator.backend.mailbox
    idp.admin_create_user(UserPoolId=pool_id, Username="pam", MessageAction="SUPPRESS", UserAttributes=[
        {"Name": "email", "Value": "pam@example.com"}, {"Name": "email_verified", "Value": "true"},
        {"Name": "custom:tenant", "Value": "acme"}, {"Name": "name", "Value": "Pam"}])
    idp.admin_update_user_attributes(UserPoolId=pool_id, Username="pam", UserAttributes=[
        {"Name": "email", "Value": "pam@new.example.com"}, {"Name": "given_name", "Value": "Pamela"},
        {"Name": "custom:seats", "Value": "3"}])
    values = attributes(idp.admin_get_user(UserPoolId=pool_id, Username="pam"))
    assert values["email"] == "pam@new.example.com" and values["email_verified"] == "false"
    assert values["given_name"] == "Pamela" and values["custom:seats"] == "3"
    code = mailbox.latest(to="pam@new.example.com")
    assert code.purpose == "VERIFY_ATTRIBUTE" and code.code
    sent = len(mailbox.list())
    idp.admin_update_user_attributes(UserPoolId=pool_id, Username="pam", UserAttributes=[
        {"Name": "email", "Value": "pam@third.example.com"}, {"Name": "email_verified", "Value": "true"}])
    values = attributes(idp.admin_get_user(UserPoolId=pool_id, Username="pam"))
    assert values["email"] == "pam@third.example.com" and values["email_verified"] == "true"
    assert len(mailbox.list()) == sent  # verified in the same request: no message
    idp.admin_update_user_attributes(UserPoolId=pool_id, Username="pam", UserAttributes=[{"Name": "name", "Value": ""}])
    assert "name" not in attributes(idp.admin_get_user(UserPoolId=pool_id, Username="pam"))
    with raises("NotAuthorizedException", "Cannot modify an already provided immutable attribute: custom:tenant"):
        idp.admin_update_user_attributes(UserPoolId=pool_id, Username="pam",
                                         UserAttributes=[{"Name": "custom:tenant", "Value": "other"}])
    with raises("InvalidParameterException"):
        idp.admin_update_user_attributes(UserPoolId=pool_id, Username="pam", UserAttributes=[{"Name": "sub", "Value": "x"}])
    with raises("InvalidParameterException"):
        idp.admin_update_user_attributes(UserPoolId=pool_id, Username="pam",
                                         UserAttributes=[{"Name": "custom:unknown", "Value": "x"}])
    with raises("UserNotFoundException"):
        idp.admin_update_user_attributes(UserPoolId=pool_id, Username="ghost", UserAttributes=[])


def test_update_requiring_verification_keeps_the_old_value(idp: Any, emulator: Any) -> None:
    pool_id = make_pool(idp, AutoVerifiedAttributes=["email"],
                        UserAttributeUpdateSettings={"AttributesRequireVerificationBeforeUpdate": ["email"]})
    idp.admin_create_user(UserPoolId=pool_id, Username="quinn", MessageAction="SUPPRESS", UserAttributes=[
        {"Name": "email", "Value": "quinn@example.com"}, {"Name": "email_verified", "Value": "true"}])
    idp.admin_update_user_attributes(UserPoolId=pool_id, Username="quinn",
                                     UserAttributes=[{"Name": "email", "Value": "quinn@new.example.com"}])
    values = attributes(idp.admin_get_user(UserPoolId=pool_id, Username="quinn"))
    assert values["email"] == "quinn@example.com" and values["email_verified"] == "true"
    assert emulator.backend.pools[pool_id].users["quinn"].pending_attributes == {"email": "quinn@new.example.com"}
    assert emulator.backend.mailbox.latest(to="quinn@new.example.com").purpose == "VERIFY_ATTRIBUTE"


def test_admin_delete_user_attributes(idp: Any) -> None:
    pool_id = make_pool(idp, Schema=[
        {"Name": "email", "AttributeDataType": "String", "Required": True},
        {"Name": "tenant", "AttributeDataType": "String", "Mutable": False}])
    idp.admin_create_user(UserPoolId=pool_id, Username="rita", MessageAction="SUPPRESS", UserAttributes=[
        {"Name": "email", "Value": "rita@example.com"}, {"Name": "email_verified", "Value": "true"},
        {"Name": "nickname", "Value": "R"}, {"Name": "custom:tenant", "Value": "acme"}])
    idp.admin_delete_user_attributes(UserPoolId=pool_id, Username="rita", UserAttributeNames=["nickname"])
    values = attributes(idp.admin_get_user(UserPoolId=pool_id, Username="rita"))
    assert "nickname" not in values and values["email"] == "rita@example.com"
    with raises("InvalidParameterException", "Attributes did not conform to the schema: email: The attribute is required\n"):
        idp.admin_delete_user_attributes(UserPoolId=pool_id, Username="rita", UserAttributeNames=["email"])
    with raises("NotAuthorizedException"):
        idp.admin_delete_user_attributes(UserPoolId=pool_id, Username="rita", UserAttributeNames=["custom:tenant"])
    with raises("InvalidParameterException"):
        idp.admin_delete_user_attributes(UserPoolId=pool_id, Username="rita", UserAttributeNames=["custom:none"])


# --- lifecycle and sessions --------------------------------------------------------------------------------


def test_disable_revokes_sessions_and_enable_does_not_revive_them(idp: Any, emulator: Any) -> None:
    pool_id = make_pool(idp)
    idp.create_user_pool_client(UserPoolId=pool_id, ClientName="app")
    idp.admin_create_user(UserPoolId=pool_id, Username="sam", TemporaryPassword="Temp0rary!", MessageAction="SUPPRESS")
    first = sign_in(emulator, pool_id, "sam")
    second = sign_in(emulator, pool_id, "sam")
    backend = emulator.backend
    assert tokens.token_status(backend, first["RefreshToken"])["active"]
    idp.admin_disable_user(UserPoolId=pool_id, Username="sam")
    got = idp.admin_get_user(UserPoolId=pool_id, Username="sam")
    assert got["Enabled"] is False
    assert [u["Enabled"] for u in idp.list_users(UserPoolId=pool_id)["Users"]] == [False]  # still listed
    for result in (first, second):
        assert tokens.token_status(backend, result["RefreshToken"])["revoked"]
        assert tokens.token_status(backend, result["AccessToken"])["revoked"]
    idp.admin_enable_user(UserPoolId=pool_id, Username="sam")
    assert idp.admin_get_user(UserPoolId=pool_id, Username="sam")["Enabled"] is True
    assert tokens.token_status(backend, first["RefreshToken"])["revoked"]  # not revived
    third = sign_in(emulator, pool_id, "sam")
    assert tokens.token_status(backend, third["RefreshToken"])["active"]
    idp.admin_user_global_sign_out(UserPoolId=pool_id, Username="sam")
    assert tokens.token_status(backend, third["RefreshToken"])["revoked"]
    assert backend.events.count("user.disabled") == 1 and backend.events.count("user.enabled") == 1


def test_admin_delete_user(idp: Any, emulator: Any) -> None:
    pool_id = make_pool(idp)
    idp.create_user_pool_client(UserPoolId=pool_id, ClientName="app")
    idp.create_group(UserPoolId=pool_id, GroupName="staff")
    idp.admin_create_user(UserPoolId=pool_id, Username="tess", MessageAction="SUPPRESS")
    idp.admin_add_user_to_group(UserPoolId=pool_id, Username="tess", GroupName="staff")
    session = sign_in(emulator, pool_id, "tess")
    old_sub = attributes(idp.admin_get_user(UserPoolId=pool_id, Username="tess"))["sub"]
    idp.admin_delete_user(UserPoolId=pool_id, Username="tess")
    with raises("UserNotFoundException", "User does not exist."):
        idp.admin_get_user(UserPoolId=pool_id, Username="tess")
    with raises("UserNotFoundException"):
        idp.admin_delete_user(UserPoolId=pool_id, Username="tess")
    status = tokens.token_status(emulator.backend, session["AccessToken"])
    assert status["revoked"] and not status["active"]
    assert idp.list_users_in_group(UserPoolId=pool_id, GroupName="staff")["Users"] == []
    events = emulator.backend.events.list("user.deleted")
    assert [e.data["username"] for e in events] == ["tess"]
    # the name is free again, with a new sub
    again = idp.admin_create_user(UserPoolId=pool_id, Username="tess", MessageAction="SUPPRESS")["User"]
    assert attributes(again, "Attributes")["sub"] != old_sub


# --- groups ----------------------------------------------------------------------------------------------------


def test_groups_crud_and_pagination(idp: Any) -> None:
    pool_id = make_pool(idp)
    role = "arn:aws:iam::123456789012:role/admins"
    group = idp.create_group(UserPoolId=pool_id, GroupName="admins", Description="Admins", Precedence=1,
                             RoleArn=role)["Group"]
    assert group["GroupName"] == "admins" and group["Precedence"] == 1 and group["RoleArn"] == role
    assert group["UserPoolId"] == pool_id and group["Description"] == "Admins"
    with raises("GroupExistsException", "A group with the name already exists."):
        idp.create_group(UserPoolId=pool_id, GroupName="admins")
    plain = idp.create_group(UserPoolId=pool_id, GroupName="plain")["Group"]
    assert "Precedence" not in plain and "RoleArn" not in plain and "Description" not in plain
    with raises("ResourceNotFoundException", "Group not found."):
        idp.get_group(UserPoolId=pool_id, GroupName="missing")
    updated = idp.update_group(UserPoolId=pool_id, GroupName="admins", Precedence=0)["Group"]
    assert updated["Precedence"] == 0 and updated["Description"] == "Admins" and updated["RoleArn"] == role
    assert idp.get_group(UserPoolId=pool_id, GroupName="admins")["Group"]["Precedence"] == 0
    for name in ("c", "d", "e"):
        idp.create_group(UserPoolId=pool_id, GroupName=name)
    first = idp.list_groups(UserPoolId=pool_id, Limit=2)
    names = [g["GroupName"] for g in first["Groups"]]
    token = first["NextToken"]
    while token:
        answer = idp.list_groups(UserPoolId=pool_id, Limit=2, NextToken=token)
        names += [g["GroupName"] for g in answer["Groups"]]
        token = answer.get("NextToken")
    assert names == ["admins", "c", "d", "e", "plain"]
    with raises("ResourceNotFoundException"):
        idp.update_group(UserPoolId=pool_id, GroupName="missing", Precedence=3)


def test_membership_and_precedence(idp: Any, emulator: Any) -> None:
    pool_id = make_pool(idp)
    client_id = idp.create_user_pool_client(UserPoolId=pool_id, ClientName="app")["UserPoolClient"]["ClientId"]
    idp.create_group(UserPoolId=pool_id, GroupName="readers", Precedence=10, RoleArn="arn:aws:iam::123456789012:role/r")
    idp.create_group(UserPoolId=pool_id, GroupName="admins", Precedence=1, RoleArn="arn:aws:iam::123456789012:role/a")
    idp.create_group(UserPoolId=pool_id, GroupName="misc")
    idp.admin_create_user(UserPoolId=pool_id, Username="uma", MessageAction="SUPPRESS")
    idp.admin_create_user(UserPoolId=pool_id, Username="vic", MessageAction="SUPPRESS")
    for group in ("misc", "readers", "admins"):
        idp.admin_add_user_to_group(UserPoolId=pool_id, Username="uma", GroupName=group)
    idp.admin_add_user_to_group(UserPoolId=pool_id, Username="vic", GroupName="readers")
    groups = idp.admin_list_groups_for_user(UserPoolId=pool_id, Username="uma")["Groups"]
    assert [g["GroupName"] for g in groups] == ["admins", "readers", "misc"]
    page = idp.admin_list_groups_for_user(UserPoolId=pool_id, Username="uma", Limit=1)
    assert len(page["Groups"]) == 1 and page["NextToken"]
    members = idp.list_users_in_group(UserPoolId=pool_id, GroupName="readers")["Users"]
    assert sorted(u["Username"] for u in members) == ["uma", "vic"]
    # tokens carry live membership in precedence order; the ID token gets roles
    result = sign_in(emulator, pool_id, "uma")
    jwks = requests.get(f"{emulator.url}/{pool_id}/.well-known/jwks.json", timeout=5).json()
    keys = {k["kid"]: jwt.PyJWK(k) for k in jwks["keys"]}
    id_token = result["IdToken"]
    claims = jwt.decode(id_token, keys[jwt.get_unverified_header(id_token)["kid"]].key, algorithms=["RS256"],
                        audience=client_id, options={"verify_exp": False, "verify_iat": False})
    assert claims["cognito:groups"] == ["admins", "readers", "misc"]
    assert claims["cognito:preferred_role"] == "arn:aws:iam::123456789012:role/a"
    idp.admin_remove_user_from_group(UserPoolId=pool_id, Username="uma", GroupName="admins")
    assert [g["GroupName"] for g in idp.admin_list_groups_for_user(UserPoolId=pool_id, Username="uma")["Groups"]] == [
        "readers", "misc"]
    assert tokens.token_status(emulator.backend, result["AccessToken"])["active"]  # removal revokes nothing
    idp.delete_group(UserPoolId=pool_id, GroupName="readers")
    assert [g["GroupName"] for g in idp.admin_list_groups_for_user(UserPoolId=pool_id, Username="uma")["Groups"]] == ["misc"]
    with raises("ResourceNotFoundException", "Group not found."):
        idp.list_users_in_group(UserPoolId=pool_id, GroupName="readers")
    with raises("ResourceNotFoundException", "Group not found."):
        idp.admin_add_user_to_group(UserPoolId=pool_id, Username="uma", GroupName="readers")
    with raises("UserNotFoundException"):
        idp.admin_add_user_to_group(UserPoolId=pool_id, Username="ghost", GroupName="misc")
    assert emulator.backend.events.count("group.membership") == 5


# --- ListUsers -------------------------------------------------------------------------------------------------


@pytest.fixture()
def populated(idp: Any) -> str:
    pool_id = make_pool(idp)
    people = [
        ("wendy", "wendy@example.com", "Wendy", "+15555550001"),
        ("walter", "walter@example.org", "Walter", "+15555550002"),
        ("xena", "xena@example.com", "Xena", "+44555550003"),
        ("yusuf", "yusuf@example.net", "Yusuf", None),
    ]
    for username, email, given, phone in people:
        attrs = [{"Name": "email", "Value": email}, {"Name": "given_name", "Value": given},
                 {"Name": "custom:tenant", "Value": "acme"}]
        if phone:
            attrs.append({"Name": "phone_number", "Value": phone})
        idp.admin_create_user(UserPoolId=pool_id, Username=username, UserAttributes=attrs, MessageAction="SUPPRESS")
    idp.admin_set_user_password(UserPoolId=pool_id, Username="xena", Password=PASSWORD, Permanent=True)
    idp.admin_disable_user(UserPoolId=pool_id, Username="yusuf")
    return pool_id


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ('email = "wendy@example.com"', ["wendy"]),
        ('email ^= "w"', ["wendy", "walter"]),
        ('email="xena@example.com"', ["xena"]),
        ('username = "walter"', ["walter"]),
        ('username ^= "w"', ["wendy", "walter"]),
        ('given_name = "Yusuf"', ["yusuf"]),
        ('phone_number ^= "+1"', ["wendy", "walter"]),
        ('cognito:user_status = "confirmed"', ["xena"]),
        ('cognito:user_status = "FORCE_CHANGE_PASSWORD"', ["wendy", "walter", "yusuf"]),
        ('status = "Disabled"', ["yusuf"]),
        ('status = "Enabled"', ["wendy", "walter", "xena"]),
        ('family_name = "nobody"', []),
        ("", ["wendy", "walter", "xena", "yusuf"]),
    ],
)
def test_list_users_filters(idp: Any, populated: str, expression: str, expected: list[str]) -> None:
    found = idp.list_users(UserPoolId=populated, Filter=expression)["Users"]
    assert [u["Username"] for u in found] == expected


def test_list_users_filter_on_sub_and_errors(idp: Any, populated: str) -> None:
    sub = attributes(idp.admin_get_user(UserPoolId=populated, Username="xena"))["sub"]
    assert [u["Username"] for u in idp.list_users(UserPoolId=populated, Filter=f'sub = "{sub}"')["Users"]] == ["xena"]
    for bad in ('email = wendy', 'email ~ "x"', 'email = "a" and name = "b"', 'email ='):
        with raises("InvalidParameterException", "Error while parsing filter"):
            idp.list_users(UserPoolId=populated, Filter=bad)
    with raises("InvalidParameterException", "Invalid search attribute: custom:tenant"):
        idp.list_users(UserPoolId=populated, Filter='custom:tenant = "acme"')
    with raises("ResourceNotFoundException"):
        idp.list_users(UserPoolId="us-east-1_missing")


def test_list_users_attributes_to_get_and_pagination(idp: Any, populated: str) -> None:
    answer = idp.list_users(UserPoolId=populated, AttributesToGet=["email", "custom:tenant"])
    for user in answer["Users"]:
        assert {a["Name"] for a in user["Attributes"]} == {"email", "custom:tenant"}
        assert set(user) >= {"Username", "UserCreateDate", "UserLastModifiedDate", "Enabled", "UserStatus"}
    empty = idp.list_users(UserPoolId=populated, AttributesToGet=[])
    assert all(u["Attributes"] == [] for u in empty["Users"])
    names: list[str] = []
    token = None
    while True:
        kwargs = {"Limit": 3, **({"PaginationToken": token} if token else {})}
        page = idp.list_users(UserPoolId=populated, **kwargs)
        assert len(page["Users"]) <= 3
        names += [u["Username"] for u in page["Users"]]
        token = page.get("PaginationToken")
        if not token:
            break
    assert names == ["wendy", "walter", "xena", "yusuf"]
    filtered = idp.list_users(UserPoolId=populated, Filter='email ^= "w"', Limit=1)
    assert [u["Username"] for u in filtered["Users"]] == ["wendy"]
    rest = idp.list_users(UserPoolId=populated, Filter='email ^= "w"', Limit=1, PaginationToken=filtered["PaginationToken"])
    assert [u["Username"] for u in rest["Users"]] == ["walter"] and "PaginationToken" not in rest
    with raises("InvalidParameterException"):
        idp.list_users(UserPoolId=populated, PaginationToken="not-a-token")
    with raises("InvalidParameterException"):  # a token from another listing
        idp.list_users(UserPoolId=populated, PaginationToken=filtered["PaginationToken"])
    paginator = idp.get_paginator("list_users")
    assert sum(len(p["Users"]) for p in paginator.paginate(UserPoolId=populated, PaginationConfig={"PageSize": 2})) == 4


# --- password machinery shared with the sign-in helpers ------------------------------------------------------


def test_policy_messages_per_context_and_srp_verifier(emulator: Any, idp: Any) -> None:
    import hashlib

    from harness.engine import passwords, srp_math
    from harness.errors import CognitoError

    pool_id = make_pool(idp)
    backend = emulator.backend
    pool = backend.pools[pool_id]
    expected = {
        "signup": "Password did not conform with policy: ",
        "temporary": "Password did not conform with password policy: ",
        "other": "Password does not conform to policy: ",
    }
    for context, prefix in expected.items():
        for password, reason in [
            ("Sh0rt!", "Password not long enough"),
            ("password1!", "Password must have uppercase characters"),
            ("PASSWORD1!", "Password must have lowercase characters"),
            ("Password!!", "Password must have numeric characters"),
            ("Password11", "Password must have symbol characters"),
        ]:
            with pytest.raises(CognitoError) as info:
                passwords.check_policy(pool, password, context)
            assert (info.value.type, info.value.message) == ("InvalidPasswordException", prefix + reason)
    for symbol in "^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+-":
        passwords.check_policy(pool, f"Passw0rd{symbol}", "other")
    with backend.transaction():
        user = users.create_user(backend, pool, "zed", {}, status="CONFIRMED", password="Passw0rd!")
    assert passwords.verify_password(user, "Passw0rd!") and not passwords.verify_password(user, "Passw0rd?")
    assert user.password_hash != "Passw0rd!" and user.temporary_password_expires is None
    # v = g^x mod N with x = H(padHex(salt) || H(poolName || username || ":" || password)), computed independently
    salt = int(user.srp_salt, 16).to_bytes(int(user.srp_salt, 16).bit_length() // 8 + 1, "big")
    inner = hashlib.sha256(f"{pool_id.split('_')[1]}zed:Passw0rd!".encode()).digest()
    x = int.from_bytes(hashlib.sha256(salt + inner).digest(), "big")
    assert int(user.srp_x, 16) == x
    assert srp.credentials_for(user).verifier == pow(2, x, srp_math.N)  # computed on first SRP use
    assert srp_math.pad_hex(0x80) == "0080" and srp_math.pad_hex(0x7F) == "7f" and srp_math.pad_hex("0abc") == "0abc"


def test_invited_user_signs_in_with_the_mailed_temporary_password(idp: Any, emulator: Any) -> None:
    pool_id = make_pool(idp)
    client_id = idp.create_user_pool_client(UserPoolId=pool_id, ClientName="app",
                                            ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH"])["UserPoolClient"]["ClientId"]
    idp.admin_create_user(UserPoolId=pool_id, Username="yara", DesiredDeliveryMediums=["EMAIL"],
                          UserAttributes=[{"Name": "email", "Value": "yara@example.com"}])
    temporary = emulator.backend.mailbox.latest(to="yara@example.com").code
    challenge = idp.admin_initiate_auth(UserPoolId=pool_id, ClientId=client_id, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                                        AuthParameters={"USERNAME": "yara", "PASSWORD": temporary})
    assert challenge["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    done = idp.admin_respond_to_auth_challenge(
        UserPoolId=pool_id, ClientId=client_id, ChallengeName="NEW_PASSWORD_REQUIRED", Session=challenge["Session"],
        ChallengeResponses={"USERNAME": "yara", "NEW_PASSWORD": PASSWORD})
    assert done["AuthenticationResult"]["AccessToken"]
    assert idp.admin_get_user(UserPoolId=pool_id, Username="yara")["UserStatus"] == "CONFIRMED"
