"""Sign-up, confirmation and reset codes over HTTP: delivery through the mailbox,
expiry and quotas on the virtual clock, delivery faults with Cognito's side
effects, PreventUserExistenceErrors, attribute verification."""

from __future__ import annotations

import pytest

from auth_support import PASSWORD, App, add_client, app, make_app, raises, secret_hash  # noqa: F401 - fixture

ATTEMPT_LIMIT = "Attempt limit exceeded, please try after some time."
BAD_CODE = "Invalid verification code provided, please try again."
EXPIRED_CODE = "Invalid code provided, please request a code again."


def status_of(app: App, username: str) -> str:
    return app.idp.admin_get_user(UserPoolId=app.pool_id, Username=username)["UserStatus"]


def confirm(app: App, username: str, code: str) -> dict:
    return app.idp.confirm_sign_up(ClientId=app.client_id, Username=username, ConfirmationCode=code)


def wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


# --- sign-up and confirmation ---------------------------------------------------------------


def test_sign_up_code_confirm_sign_in(app: App) -> None:
    answer = app.sign_up("alice", email="alice@example.com")
    assert answer["UserConfirmed"] is False
    assert answer["CodeDeliveryDetails"] == {"Destination": "a***@e***", "DeliveryMedium": "EMAIL", "AttributeName": "email"}
    assert len(answer["UserSub"]) == 36
    message = app.backend.mailbox.latest(to="alice@example.com", purpose="SIGN_UP")
    assert message.subject == "Your verification code" and message.code in message.body
    assert status_of(app, "alice") == "UNCONFIRMED"
    with raises("CodeMismatchException", BAD_CODE):
        confirm(app, "alice", wrong(message.code))
    confirm(app, "alice", message.code)
    assert status_of(app, "alice") == "CONFIRMED"
    claims = app.verify(app.sign_in("alice"))
    assert claims["id"]["email_verified"] is True and claims["access"]["sub"] == answer["UserSub"]
    app.verify(app.srp_sign_in("alice")["AuthenticationResult"])
    with raises("NotAuthorizedException", "User cannot be confirmed. Current status is CONFIRMED"):
        confirm(app, "alice", message.code)
    with raises("InvalidParameterException", "User is already confirmed."):
        app.idp.resend_confirmation_code(ClientId=app.client_id, Username="alice")


def test_confirmation_code_expires_after_24_hours(app: App) -> None:
    app.sign_up("bob", email="bob@example.com")
    code = app.backend.mailbox.latest_code(to="bob@example.com")
    app.clock.advance(24 * 3600)
    with raises("ExpiredCodeException", EXPIRED_CODE):
        confirm(app, "bob", code)
    resent = app.idp.resend_confirmation_code(ClientId=app.client_id, Username="bob")
    assert resent["CodeDeliveryDetails"]["DeliveryMedium"] == "EMAIL"
    fresh = app.backend.mailbox.latest(to="bob@example.com", purpose="RESEND").code
    if fresh != code:
        with raises("CodeMismatchException", BAD_CODE):  # the resend replaced the old code
            confirm(app, "bob", code)
    app.clock.advance(24 * 3600 - 1)
    confirm(app, "bob", fresh)


def test_sign_up_rejections(app: App) -> None:
    with raises("InvalidPasswordException", "Password did not conform with policy: Password must have numeric characters"):
        app.sign_up("carol", "No-numbers-here", email="carol@example.com")
    with raises("InvalidPasswordException", "Password did not conform with policy: Password not long enough"):
        app.sign_up("carol", "Sh0rt!", email="carol@example.com")
    app.sign_up("carol", email="carol@example.com")
    with raises("UsernameExistsException", "User already exists"):
        app.sign_up("carol", email="other@example.com")
    with raises("InvalidParameterException"):
        app.sign_up("dan", email="not-an-email")
    closed = make_app(app.emulator, app.idp, pool={"AdminCreateUserConfig": {"AllowAdminCreateUserOnly": True}})
    with raises("NotAuthorizedException", "SignUp is not permitted for this user pool"):
        closed.sign_up("erin", email="erin@example.com")


def test_email_as_username_duplicates(emulator, idp) -> None:
    app = make_app(emulator, idp, pool={"UsernameAttributes": ["email"]})
    sub = app.sign_up("fay@example.com")["UserSub"]
    with raises("UsernameExistsException", "An account with the given email already exists."):
        app.sign_up("fay@example.com")
    with raises("InvalidParameterException", "Username should be an email."):
        app.sign_up("fay")
    code = emulator.backend.mailbox.latest_code(to="fay@example.com")
    confirm(app, "fay@example.com", code)
    assert app.verify(app.sign_in("fay@example.com"))["access"]["username"] == sub


def test_secret_hash_on_public_user_operations(emulator, idp) -> None:
    app = make_app(emulator, idp, secret=True)
    with raises("NotAuthorizedException", f"Client {app.client_id} is configured for secret but secret was not received"):
        idp.sign_up(ClientId=app.client_id, Username="gus", Password=PASSWORD)
    with raises("NotAuthorizedException", f"Unable to verify secret hash for client {app.client_id}"):
        idp.sign_up(ClientId=app.client_id, Username="gus", Password=PASSWORD, SecretHash="d3Jvbmc=")
    app.confirmed_user("gus", email="gus@example.com")
    app.verify(app.sign_in("gus"))
    with raises("NotAuthorizedException", f"Client {app.client_id} is configured for secret but secret was not received"):
        idp.forgot_password(ClientId=app.client_id, Username="gus")
    idp.forgot_password(ClientId=app.client_id, Username="gus", SecretHash=secret_hash(app.client_id, app.client_secret, "gus"))


def test_phone_is_preferred_when_both_are_auto_verified(emulator, idp) -> None:
    app = make_app(emulator, idp, pool={"AutoVerifiedAttributes": ["email", "phone_number"]})
    answer = app.sign_up("hal", email="hal@example.com", phone_number="+15555550100")
    assert answer["CodeDeliveryDetails"]["DeliveryMedium"] == "SMS"
    assert answer["CodeDeliveryDetails"]["AttributeName"] == "phone_number"
    message = emulator.backend.mailbox.latest(to="+15555550100")
    assert message.channel == "SMS" and message.subject is None
    confirm(app, "hal", message.code)
    attributes = {a["Name"]: a["Value"] for a in idp.admin_get_user(UserPoolId=app.pool_id, Username="hal")["UserAttributes"]}
    assert attributes["phone_number_verified"] == "true"


def test_no_auto_verification_means_no_code(emulator, idp) -> None:
    app = make_app(emulator, idp, pool={"AutoVerifiedAttributes": []})
    answer = app.sign_up("ida", email="ida@example.com")
    assert "CodeDeliveryDetails" not in answer
    assert emulator.backend.mailbox.list(to="ida@example.com") == []
    with raises("InvalidParameterException", "Cannot resend codes. Auto verification not turned on."):
        idp.resend_confirmation_code(ClientId=app.client_id, Username="ida")


# --- quotas ------------------------------------------------------------------------------------


def test_resend_quota_is_five_per_hour(app: App) -> None:
    app.sign_up("jack", email="jack@example.com")
    for _ in range(5):
        app.idp.resend_confirmation_code(ClientId=app.client_id, Username="jack")
    with raises("LimitExceededException", ATTEMPT_LIMIT):
        app.idp.resend_confirmation_code(ClientId=app.client_id, Username="jack")
    assert len(app.backend.mailbox.list(to="jack@example.com")) == 6  # sign-up + 5 resends
    app.clock.advance(3600)
    app.idp.resend_confirmation_code(ClientId=app.client_id, Username="jack")


def test_confirm_quota_is_fifteen_per_hour(app: App) -> None:
    app.sign_up("kim", email="kim@example.com")
    code = app.backend.mailbox.latest_code(to="kim@example.com")
    for _ in range(15):
        with raises("CodeMismatchException", BAD_CODE):
            confirm(app, "kim", wrong(code))
    with raises("LimitExceededException", ATTEMPT_LIMIT):
        confirm(app, "kim", code)
    app.clock.advance(3600)
    confirm(app, "kim", code)


# --- delivery faults ------------------------------------------------------------------------------


def test_delivery_failure_leaves_an_unconfirmed_user(app: App) -> None:
    app.backend.faults.arm("delivery_failure", operation="SignUp")
    with raises("CodeDeliveryFailureException", "Invalid email provided/Unable to send the email"):
        app.sign_up("liz", email="liz@example.com")
    assert status_of(app, "liz") == "UNCONFIRMED"
    failed = app.backend.mailbox.list(to="liz@example.com", include_failed=True)
    assert [m.status for m in failed] == ["failed"]
    assert app.backend.events.count("message.failed", to="liz@example.com") == 1
    with raises("UsernameExistsException", "User already exists"):
        app.sign_up("liz", email="liz@example.com")
    app.idp.resend_confirmation_code(ClientId=app.client_id, Username="liz")
    confirm(app, "liz", app.backend.mailbox.latest_code(to="liz@example.com"))
    app.verify(app.sign_in("liz"))


def test_daily_email_limit(app: App) -> None:
    app.backend.faults.arm("daily_email_limit", operation="SignUp", count=1)
    with raises(
        "LimitExceededException",
        "Exceeded daily email limit for the operation or the account. If a higher limit is required, "
        "please configure your user pool to use your own Amazon SES configuration for sending email.",
    ):
        app.sign_up("max", email="max@example.com")
    assert status_of(app, "max") == "UNCONFIRMED"  # "the user is successfully created"
    app.sign_up("ned", email="ned@example.com")  # the fault fired once
    app.backend.settings.daily_email_limit = len(app.backend.mailbox.list())
    with raises("LimitExceededException"):
        app.idp.resend_confirmation_code(ClientId=app.client_id, Username="max")
    app.clock.advance(86400)  # a new day
    app.idp.resend_confirmation_code(ClientId=app.client_id, Username="max")


# --- password reset -----------------------------------------------------------------------------


def test_forgot_password_flow(app: App) -> None:
    app.confirmed_user("olga", email="olga@example.com")
    details = app.idp.forgot_password(ClientId=app.client_id, Username="olga")["CodeDeliveryDetails"]
    assert details == {"Destination": "o***@e***", "DeliveryMedium": "EMAIL", "AttributeName": "email"}
    code = app.backend.mailbox.latest(to="olga@example.com", purpose="FORGOT_PASSWORD").code
    app.verify(app.sign_in("olga"))  # the old password still works until the reset is confirmed
    reset = dict(ClientId=app.client_id, Username="olga")
    with raises("CodeMismatchException", BAD_CODE):
        app.idp.confirm_forgot_password(**reset, ConfirmationCode=wrong(code), Password="Brand-new-1")
    with raises("InvalidPasswordException", "Password does not conform to policy: Password must have uppercase characters"):
        app.idp.confirm_forgot_password(**reset, ConfirmationCode=code, Password="brand-new-1")
    app.idp.confirm_forgot_password(**reset, ConfirmationCode=code, Password="Brand-new-1")
    app.verify(app.sign_in("olga", "Brand-new-1"))
    with raises("NotAuthorizedException", "Incorrect username or password."):
        app.password_auth("olga", PASSWORD)
    with raises("CodeMismatchException", BAD_CODE):  # codes are single-use
        app.idp.confirm_forgot_password(**reset, ConfirmationCode=code, Password="Brand-new-2")


def test_reset_code_expires_after_an_hour_and_attempts_are_limited(app: App) -> None:
    app.confirmed_user("pia", email="pia@example.com")
    app.idp.forgot_password(ClientId=app.client_id, Username="pia")
    code = app.backend.mailbox.latest_code(to="pia@example.com", purpose="FORGOT_PASSWORD")
    app.clock.advance(3600)
    reset = dict(ClientId=app.client_id, Username="pia", Password="Brand-new-1")
    with raises("ExpiredCodeException", EXPIRED_CODE):
        app.idp.confirm_forgot_password(**reset, ConfirmationCode=code)
    app.idp.forgot_password(ClientId=app.client_id, Username="pia")
    code = app.backend.mailbox.latest_code(to="pia@example.com", purpose="FORGOT_PASSWORD")
    for _ in range(4):
        with raises("CodeMismatchException", BAD_CODE):
            app.idp.confirm_forgot_password(**reset, ConfirmationCode=wrong(code))
    with raises("LimitExceededException", ATTEMPT_LIMIT):
        app.idp.confirm_forgot_password(**reset, ConfirmationCode=code)


def test_forgot_password_refusals(app: App) -> None:
    with raises("UserNotFoundException", "Username/client id combination not found."):
        app.idp.forgot_password(ClientId=app.client_id, Username="nobody")
    hidden = add_client(app, PreventUserExistenceErrors="ENABLED")
    first = app.idp.forgot_password(ClientId=hidden.client_id, Username="nobody")["CodeDeliveryDetails"]
    again = app.idp.forgot_password(ClientId=hidden.client_id, Username="nobody")["CodeDeliveryDetails"]
    assert first == again and set(first) == {"Destination", "DeliveryMedium", "AttributeName"}
    assert app.backend.mailbox.list() == []
    with raises("CodeMismatchException", BAD_CODE):
        app.idp.confirm_forgot_password(ClientId=hidden.client_id, Username="nobody", ConfirmationCode="123456", Password="Brand-new-1")
    assert app.idp.resend_confirmation_code(ClientId=hidden.client_id, Username="nobody")["CodeDeliveryDetails"] == first
    app.sign_up("quinn", email="quinn@example.com")  # unverified email: nowhere to send a code
    with raises(
        "InvalidParameterException",
        "Cannot reset password for the user as there is no registered/verified email or phone_number",
    ):
        app.idp.forgot_password(ClientId=app.client_id, Username="quinn")
    app.idp.admin_create_user(
        UserPoolId=app.pool_id, Username="rita", TemporaryPassword="Temp-Passw0rd", MessageAction="SUPPRESS",
        UserAttributes=[{"Name": "email", "Value": "rita@example.com"}, {"Name": "email_verified", "Value": "true"}],
    )
    with raises("NotAuthorizedException", "User password cannot be reset in the current state."):
        app.idp.forgot_password(ClientId=app.client_id, Username="rita")
    app.confirmed_user("sam", email="sam@example.com")
    app.idp.admin_disable_user(UserPoolId=app.pool_id, Username="sam")
    with raises("NotAuthorizedException", "User is disabled."):
        app.idp.forgot_password(ClientId=app.client_id, Username="sam")


def test_admin_reset_then_confirm_forgot_password(app: App) -> None:
    app.confirmed_user("tom", email="tom@example.com")
    app.idp.admin_reset_user_password(UserPoolId=app.pool_id, Username="tom")
    assert status_of(app, "tom") == "RESET_REQUIRED"
    code = app.backend.mailbox.latest_code(to="tom@example.com")
    app.idp.confirm_forgot_password(ClientId=app.client_id, Username="tom", ConfirmationCode=code, Password="Brand-new-1")
    assert status_of(app, "tom") == "CONFIRMED"
    app.verify(app.sign_in("tom", "Brand-new-1"))


def test_account_recovery_setting_picks_the_channel(emulator, idp) -> None:
    app = make_app(
        emulator, idp,
        pool={
            "AutoVerifiedAttributes": ["email"],
            "AccountRecoverySetting": {"RecoveryMechanisms": [
                {"Name": "verified_email", "Priority": 1}, {"Name": "verified_phone_number", "Priority": 2},
            ]},
        },
    )
    app.idp.admin_create_user(
        UserPoolId=app.pool_id, Username="uma", MessageAction="SUPPRESS", TemporaryPassword="Temp-Passw0rd",
        UserAttributes=[
            {"Name": "email", "Value": "uma@example.com"}, {"Name": "email_verified", "Value": "true"},
            {"Name": "phone_number", "Value": "+15555550111"}, {"Name": "phone_number_verified", "Value": "true"},
        ],
    )
    app.idp.admin_set_user_password(UserPoolId=app.pool_id, Username="uma", Password=PASSWORD, Permanent=True)
    details = idp.forgot_password(ClientId=app.client_id, Username="uma")["CodeDeliveryDetails"]
    assert details["DeliveryMedium"] == "EMAIL"


# --- attribute verification -----------------------------------------------------------------------


def test_update_email_sends_code_and_verify(app: App) -> None:
    app.confirmed_user("vic", email="vic@example.com")
    tokens = app.sign_in("vic")
    answer = app.idp.update_user_attributes(
        AccessToken=tokens["AccessToken"], UserAttributes=[{"Name": "email", "Value": "vic2@example.com"}]
    )
    assert answer["CodeDeliveryDetailsList"] == [
        {"Destination": "v***@e***", "DeliveryMedium": "EMAIL", "AttributeName": "email"}
    ]
    attributes = {a["Name"]: a["Value"] for a in app.idp.get_user(AccessToken=tokens["AccessToken"])["UserAttributes"]}
    assert attributes["email"] == "vic2@example.com" and attributes["email_verified"] == "false"
    code = app.backend.mailbox.latest(to="vic2@example.com", purpose="VERIFY_ATTRIBUTE").code
    with raises("CodeMismatchException", BAD_CODE):
        app.idp.verify_user_attribute(AccessToken=tokens["AccessToken"], AttributeName="email", Code=wrong(code))
    app.idp.verify_user_attribute(AccessToken=tokens["AccessToken"], AttributeName="email", Code=code)
    refreshed = app.idp.initiate_auth(
        ClientId=app.client_id, AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters={"REFRESH_TOKEN": tokens["RefreshToken"]}
    )["AuthenticationResult"]
    claims = app.verify(refreshed)["id"]
    assert claims["email"] == "vic2@example.com" and claims["email_verified"] is True


def test_verification_before_update_keeps_the_old_email(emulator, idp) -> None:
    app = make_app(
        emulator, idp,
        pool={"UserAttributeUpdateSettings": {"AttributesRequireVerificationBeforeUpdate": ["email"]}},
    )
    emulator.backend.clock.freeze()
    app.confirmed_user("wes", email="wes@example.com")
    tokens = app.sign_in("wes")
    app.idp.update_user_attributes(AccessToken=tokens["AccessToken"], UserAttributes=[{"Name": "email", "Value": "new@example.com"}])
    attributes = {a["Name"]: a["Value"] for a in app.idp.get_user(AccessToken=tokens["AccessToken"])["UserAttributes"]}
    assert attributes["email"] == "wes@example.com" and attributes["email_verified"] == "true"
    code = emulator.backend.mailbox.latest_code(to="new@example.com")
    app.clock.advance(24 * 3600)
    with raises("ExpiredCodeException", EXPIRED_CODE):
        app.idp.verify_user_attribute(AccessToken=app.sign_in("wes")["AccessToken"], AttributeName="email", Code=code)
    fresh = app.sign_in("wes")
    app.idp.get_user_attribute_verification_code(AccessToken=fresh["AccessToken"], AttributeName="email")
    code = emulator.backend.mailbox.latest_code(to="new@example.com")
    app.idp.verify_user_attribute(AccessToken=fresh["AccessToken"], AttributeName="email", Code=code)
    attributes = {a["Name"]: a["Value"] for a in app.idp.get_user(AccessToken=fresh["AccessToken"])["UserAttributes"]}
    assert attributes["email"] == "new@example.com" and attributes["email_verified"] == "true"


def test_attribute_code_quotas(app: App) -> None:
    app.confirmed_user("xia", email="xia@example.com")
    token = app.sign_in("xia")["AccessToken"]
    for _ in range(5):
        app.idp.get_user_attribute_verification_code(AccessToken=token, AttributeName="email")
    with raises("LimitExceededException", ATTEMPT_LIMIT):
        app.idp.get_user_attribute_verification_code(AccessToken=token, AttributeName="email")
    code = app.backend.mailbox.latest_code(to="xia@example.com", purpose="VERIFY_ATTRIBUTE")
    for _ in range(15):
        with raises("CodeMismatchException", BAD_CODE):
            app.idp.verify_user_attribute(AccessToken=token, AttributeName="email", Code=wrong(code))
    with raises("LimitExceededException", ATTEMPT_LIMIT):
        app.idp.verify_user_attribute(AccessToken=token, AttributeName="email", Code=code)
    with raises("InvalidParameterException"):
        app.idp.get_user_attribute_verification_code(AccessToken=token, AttributeName="name")


def test_alias_moves_only_with_force_alias_creation(emulator, idp) -> None:
    app = make_app(emulator, idp, pool={"AliasAttributes": ["email"]})
    app.confirmed_user("yara", email="shared@example.com")
    app.verify(app.sign_in("shared@example.com"))  # a verified email alias signs in
    app.sign_up("zed", email="shared@example.com")
    code = emulator.backend.mailbox.latest_code(to="shared@example.com", purpose="SIGN_UP")
    with raises("AliasExistsException", "An account with the given email already exists."):
        confirm(app, "zed", code)
    assert status_of(app, "zed") == "UNCONFIRMED"
    app.idp.confirm_sign_up(ClientId=app.client_id, Username="zed", ConfirmationCode=code, ForceAliasCreation=True)
    assert app.verify(app.sign_in("shared@example.com"))["access"]["username"] == "zed"
    yara = {a["Name"]: a["Value"] for a in idp.admin_get_user(UserPoolId=app.pool_id, Username="yara")["UserAttributes"]}
    assert yara["email_verified"] == "false"


def test_attribute_update_delivery_failure(app: App) -> None:
    app.confirmed_user("abe", email="abe@example.com")
    token = app.sign_in("abe")["AccessToken"]
    app.backend.faults.arm("delivery_failure", operation="UpdateUserAttributes", count=1)
    with raises("CodeDeliveryFailureException", "Invalid email provided/Unable to send the email"):
        app.idp.update_user_attributes(AccessToken=token, UserAttributes=[{"Name": "email", "Value": "abe2@example.com"}])
    app.idp.get_user_attribute_verification_code(AccessToken=token, AttributeName="email")
    code = app.backend.mailbox.latest_code(to="abe2@example.com")
    app.idp.verify_user_attribute(AccessToken=token, AttributeName="email", Code=code)


def test_password_history_applies_to_resets_and_changes(emulator, idp) -> None:
    policy = {"MinimumLength": 8, "RequireUppercase": True, "RequireLowercase": True, "RequireNumbers": True,
              "RequireSymbols": True, "PasswordHistorySize": 2}
    app = make_app(emulator, idp, pool={"Policies": {"PasswordPolicy": policy}})
    emulator.backend.clock.freeze()
    app.confirmed_user("bea", email="bea@example.com")
    app.idp.forgot_password(ClientId=app.client_id, Username="bea")
    code = emulator.backend.mailbox.latest_code(to="bea@example.com", purpose="FORGOT_PASSWORD")
    reused = "The password you entered was used recently. Choose a different password."
    with raises("PasswordHistoryPolicyViolationException", reused):
        app.idp.confirm_forgot_password(ClientId=app.client_id, Username="bea", ConfirmationCode=code, Password=PASSWORD)
    app.idp.confirm_forgot_password(ClientId=app.client_id, Username="bea", ConfirmationCode=code, Password="Second-pass1")
    token = app.sign_in("bea", "Second-pass1")["AccessToken"]
    with raises("PasswordHistoryPolicyViolationException", reused):
        app.idp.change_password(AccessToken=token, PreviousPassword="Second-pass1", ProposedPassword=PASSWORD)
    app.idp.change_password(AccessToken=token, PreviousPassword="Second-pass1", ProposedPassword="Third-pass1")
    app.idp.change_password(AccessToken=token, PreviousPassword="Third-pass1", ProposedPassword=PASSWORD)  # 3 back: allowed
