"""Cognito's Lambda trigger sources around sign-up, confirmation, sign-in, migration and messages.

Each test binds a recording Python function to the pool's LambdaConfig, drives the
emulator over HTTP with real boto3, checks the event the function received field by
field against the developer guide's shape, and checks what the API answered (tokens
verified with PyJWT) and what the state and mailbox hold afterwards.
"""

from __future__ import annotations

from typing import Any

import pytest
from auth_support import PASSWORD, App, add_client, raises
from devices_support import DEVICE_CONFIG
from trigger_sources_support import NO_CLIENT, Recorder, bind, check_envelope, trigger_app, user_attributes

META = {"tenant": "acme", "step": "one"}
OTHER_META = {"answer": "two"}
SMS = {"SnsCallerArn": "arn:aws:iam::123456789012:role/sns", "ExternalId": "x"}
PHONE = "+15555550100"


@pytest.fixture()
def app(emulator: Any, idp: Any) -> App:
    return trigger_app(emulator, idp)


@pytest.fixture()
def alice(app: App) -> str:
    return app.confirmed_user("alice", email="alice@example.com")


def _code(app: App, to: str) -> str:
    code = app.backend.mailbox.latest_code(to=to)
    assert code
    return code


def _auth(app: App, username: str, password: str = PASSWORD, **extra: Any) -> dict[str, Any]:
    return app.idp.initiate_auth(ClientId=app.client_id, AuthFlow="USER_PASSWORD_AUTH",
                                 AuthParameters={"USERNAME": username, "PASSWORD": password}, **extra)


def _status(app: App, username: str) -> str:
    return app.idp.admin_get_user(UserPoolId=app.pool_id, Username=username)["UserStatus"]


# --- PostConfirmation ---------------------------------------------------------------------------------


def test_confirm_sign_up_runs_post_confirmation_with_the_confirmed_user(app: App) -> None:
    trigger = bind(app, "PostConfirmation")
    app.sign_up("amy", email="amy@example.com")
    assert trigger.events == []  # sign-up alone confirms nothing
    app.idp.confirm_sign_up(ClientId=app.client_id, Username="amy", ConfirmationCode=_code(app, "amy@example.com"),
                            ClientMetadata=META)
    event = trigger.last
    check_envelope(event, app, source="PostConfirmation_ConfirmSignUp", username="amy", client_id=app.client_id)
    assert set(event["request"]) == {"userAttributes", "clientMetadata"}
    attributes = event["request"]["userAttributes"]
    assert attributes == user_attributes(app, "amy")
    assert attributes["cognito:user_status"] == "CONFIRMED" and attributes["email_verified"] == "true"
    assert attributes["email"] == "amy@example.com" and attributes["sub"]
    assert event["request"]["clientMetadata"] == META
    assert event["response"] == {}
    assert len(trigger.events) == 1


def test_admin_confirm_and_pre_sign_up_auto_confirm_run_post_confirmation(app: App) -> None:
    trigger = bind(app, "PostConfirmation")
    app.sign_up("ben", email="ben@example.com")
    app.idp.admin_confirm_sign_up(UserPoolId=app.pool_id, Username="ben", ClientMetadata=META)
    event = trigger.last
    check_envelope(event, app, source="PostConfirmation_ConfirmSignUp", username="ben", client_id=None)
    assert event["callerContext"]["clientId"] == NO_CLIENT
    assert event["request"] == {"userAttributes": user_attributes(app, "ben"), "clientMetadata": META}

    bind(app, "PreSignUp", Recorder(answer=lambda e: e["response"].update(autoConfirmUser=True)))
    answer = app.idp.sign_up(ClientId=app.client_id, Username="cal", Password=PASSWORD, ClientMetadata=OTHER_META,
                             UserAttributes=[{"Name": "email", "Value": "cal@example.com"}])
    assert answer["UserConfirmed"] is True
    event = trigger.last
    check_envelope(event, app, source="PostConfirmation_ConfirmSignUp", username="cal", client_id=app.client_id)
    assert event["request"]["clientMetadata"] == OTHER_META
    assert event["request"]["userAttributes"]["cognito:user_status"] == "CONFIRMED"
    # no ClientMetadata in the call: no clientMetadata in the event
    bind(app, "PreSignUp")
    app.sign_up("dan", email="dan@example.com")
    app.idp.admin_confirm_sign_up(UserPoolId=app.pool_id, Username="dan")
    assert "clientMetadata" not in trigger.last["request"]
    assert trigger.sources() == ["PostConfirmation_ConfirmSignUp"] * 3


def test_confirm_forgot_password_runs_post_confirmation(app: App, alice: str) -> None:
    trigger = bind(app, "PostConfirmation")
    app.idp.forgot_password(ClientId=app.client_id, Username="alice")
    app.idp.confirm_forgot_password(ClientId=app.client_id, Username="alice", Password="N3w-Passw0rd!",
                                    ConfirmationCode=_code(app, "alice@example.com"), ClientMetadata=META)
    event = trigger.last
    check_envelope(event, app, source="PostConfirmation_ConfirmForgotPassword", username="alice",
                   client_id=app.client_id)
    assert event["request"] == {"userAttributes": user_attributes(app, "alice"), "clientMetadata": META}
    assert event["response"] == {}
    app.sign_in("alice", "N3w-Passw0rd!")


def test_a_failing_post_confirmation_fails_the_call_but_the_user_stays_confirmed(app: App) -> None:
    bind(app, "PostConfirmation", Recorder(error="crm down"))
    app.sign_up("eve", email="eve@example.com")
    with raises("UserLambdaValidationException", "PostConfirmation failed with error crm down."):
        app.idp.confirm_sign_up(ClientId=app.client_id, Username="eve", ConfirmationCode=_code(app, "eve@example.com"))
    assert _status(app, "eve") == "CONFIRMED"
    app.sign_in("eve")
    with raises("UserLambdaValidationException", "PostConfirmation failed with error crm down."):
        app.idp.confirm_forgot_password(ClientId=app.client_id, Username="eve", Password="N3w-Passw0rd!",
                                        ConfirmationCode=_forgot_code(app, "eve", "eve@example.com"))
    app.sign_in("eve", "N3w-Passw0rd!")  # the new password stands


def _forgot_code(app: App, username: str, to: str) -> str:
    app.idp.forgot_password(ClientId=app.client_id, Username=username)
    return _code(app, to)


def test_a_post_confirmation_answer_without_a_response_object_is_invalid(app: App) -> None:
    bind(app, "PostConfirmation", Recorder(raw={"response": "done"}))
    app.sign_up("fay", email="fay@example.com")
    with raises("InvalidLambdaResponseException"):
        app.idp.admin_confirm_sign_up(UserPoolId=app.pool_id, Username="fay")


# --- PreAuthentication --------------------------------------------------------------------------------


def test_pre_authentication_sees_the_user_and_client_metadata_as_validation_data(app: App, alice: str) -> None:
    trigger = bind(app, "PreAuthentication")
    result = _auth(app, "alice", ClientMetadata=META)
    app.verify(result["AuthenticationResult"])
    event = trigger.last
    check_envelope(event, app, source="PreAuthentication_Authentication", username="alice", client_id=app.client_id)
    # a client that does not hide user existence gets no userNotFound member
    assert event["request"] == {"userAttributes": user_attributes(app, "alice"), "validationData": META}
    assert event["response"] == {}
    _auth(app, "alice")
    assert trigger.last["request"]["validationData"] is None
    # it runs before the password check: a wrong password still invokes it
    with raises("NotAuthorizedException", "Incorrect username or password."):
        _auth(app, "alice", "wrong-Passw0rd!")
    assert len(trigger.events) == 3


def test_pre_authentication_error_denies_the_sign_in_before_the_password(app: App, alice: str) -> None:
    trigger = bind(app, "PreAuthentication", Recorder(error="Blocked by policy"))
    for password in (PASSWORD, "wrong-Passw0rd!"):  # the password is never looked at
        with raises("UserLambdaValidationException", "PreAuthentication failed with error Blocked by policy."):
            _auth(app, "alice", password)
    with raises("UserLambdaValidationException", "PreAuthentication failed with error Blocked by policy."):
        app.srp_start("alice")
    assert trigger.sources() == ["PreAuthentication_Authentication"] * 3
    # no wrong-password attempt was counted against the lockout
    trigger.error = None
    app.sign_in("alice")


def test_pre_authentication_user_not_found_when_existence_is_hidden(app: App, alice: str) -> None:
    hidden = add_client(app, PreventUserExistenceErrors="ENABLED")
    trigger = bind(app, "PreAuthentication")
    with raises("NotAuthorizedException", "Incorrect username or password."):
        _auth(hidden, "nobody", ClientMetadata=META)
    event = trigger.last
    check_envelope(event, app, source="PreAuthentication_Authentication", username="nobody",
                   client_id=hidden.client_id)
    assert event["request"] == {"userAttributes": {}, "validationData": META, "userNotFound": True}
    _auth(hidden, "alice")
    assert trigger.last["request"] == {"userAttributes": user_attributes(app, "alice"), "validationData": None,
                                       "userNotFound": False}
    # a LEGACY client is told the user does not exist, without a trigger call
    with raises("UserNotFoundException"):
        _auth(app, "nobody")
    assert len(trigger.events) == 2


def test_pre_authentication_runs_at_the_start_of_srp(app: App, alice: str) -> None:
    trigger = bind(app, "PreAuthentication")
    answer = app.srp_sign_in("alice")
    app.verify(answer["AuthenticationResult"])
    assert trigger.sources() == ["PreAuthentication_Authentication"]
    assert trigger.last["request"]["userAttributes"] == user_attributes(app, "alice")


# --- PostAuthentication -------------------------------------------------------------------------------


def test_post_authentication_runs_after_success_before_tokens(app: App, alice: str) -> None:
    trigger = bind(app, "PostAuthentication")
    with raises("NotAuthorizedException"):
        _auth(app, "alice", "wrong-Passw0rd!")
    assert trigger.events == []  # only after a successful authentication
    result = _auth(app, "alice", ClientMetadata=META)
    app.verify(result["AuthenticationResult"])
    event = trigger.last
    check_envelope(event, app, source="PostAuthentication_Authentication", username="alice", client_id=app.client_id)
    # InitiateAuth's ClientMetadata is not passed to post authentication
    assert event["request"] == {"userAttributes": user_attributes(app, "alice"), "newDeviceUsed": False}
    assert event["response"] == {}


def test_post_authentication_gets_client_metadata_from_the_challenge_answer(app: App) -> None:
    trigger = bind(app, "PostAuthentication")
    app.idp.admin_create_user(UserPoolId=app.pool_id, Username="gus", TemporaryPassword="Temp-Passw0rd!",
                              MessageAction="SUPPRESS")
    step = _auth(app, "gus", "Temp-Passw0rd!")
    assert step["ChallengeName"] == "NEW_PASSWORD_REQUIRED" and trigger.events == []
    done = app.idp.respond_to_auth_challenge(
        ClientId=app.client_id, ChallengeName="NEW_PASSWORD_REQUIRED", Session=step["Session"],
        ChallengeResponses={"USERNAME": "gus", "NEW_PASSWORD": PASSWORD}, ClientMetadata=OTHER_META)
    app.verify(done["AuthenticationResult"])
    event = trigger.last
    check_envelope(event, app, source="PostAuthentication_Authentication", username="gus", client_id=app.client_id)
    assert event["request"] == {"userAttributes": user_attributes(app, "gus"), "newDeviceUsed": False,
                                "clientMetadata": OTHER_META}


def test_post_authentication_new_device_used(emulator: Any, idp: Any) -> None:
    app = trigger_app(emulator, idp, pool={"DeviceConfiguration": DEVICE_CONFIG})
    app.confirmed_user("hal", email="hal@example.com")
    trigger = bind(app, "PostAuthentication")
    result = app.sign_in("hal")
    assert "NewDeviceMetadata" in result
    assert trigger.last["request"]["newDeviceUsed"] is True


def test_post_authentication_error_refuses_the_tokens(app: App, alice: str) -> None:
    bind(app, "PostAuthentication", Recorder(error="audit failed"))
    with raises("UserLambdaValidationException", "PostAuthentication failed with error audit failed."):
        _auth(app, "alice")
    bind(app, "PostAuthentication", Recorder(raw=["not", "an", "event"]))
    with raises("InvalidLambdaResponseException"):
        _auth(app, "alice")


# --- UserMigration ------------------------------------------------------------------------------------


def _legacy(status: str | None = "CONFIRMED", action: str | None = "SUPPRESS", **extra: Any) -> Recorder:
    """A migration function that knows one legacy user, "leo" / PASSWORD."""

    def answer(event: dict[str, Any]) -> None:
        if event["userName"] != "leo" or event["request"].get("password", PASSWORD) != PASSWORD:
            raise RuntimeError("Bad password")
        event["response"]["userAttributes"] = {"email": "leo@example.com", "email_verified": "true",
                                               "name": "Leo Legacy"}
        if status is not None:
            event["response"]["finalUserStatus"] = status
        if action is not None:
            event["response"]["messageAction"] = action
        event["response"].update(extra)

    return Recorder(answer=answer)


MIGRATION_RESPONSE = {"userAttributes": None, "finalUserStatus": None, "messageAction": None,
                      "desiredDeliveryMediums": None, "forceAliasCreation": None, "enableSMSMFA": None}


@pytest.mark.parametrize("flow", ["USER_PASSWORD_AUTH", "ADMIN_USER_PASSWORD_AUTH"])
def test_user_migration_at_sign_in_creates_the_user_with_the_password(app: App, flow: str) -> None:
    trigger = bind(app, "UserMigration", _legacy())
    auth = {"USERNAME": "leo", "PASSWORD": PASSWORD}
    if flow == "USER_PASSWORD_AUTH":
        result = app.idp.initiate_auth(ClientId=app.client_id, AuthFlow=flow, AuthParameters=auth,
                                       ClientMetadata=META)
    else:
        result = app.idp.admin_initiate_auth(UserPoolId=app.pool_id, ClientId=app.client_id, AuthFlow=flow,
                                             AuthParameters=auth, ClientMetadata=META)
    claims = app.verify(result["AuthenticationResult"])
    assert claims["id"]["email"] == "leo@example.com" and claims["id"]["cognito:username"] == "leo"
    event = trigger.last
    check_envelope(event, app, source="UserMigration_Authentication", username="leo", client_id=app.client_id)
    # InitiateAuth's ClientMetadata reaches the migration function as validationData
    assert event["request"] == {"password": PASSWORD, "validationData": META}
    assert event["response"] == MIGRATION_RESPONSE
    user = app.idp.admin_get_user(UserPoolId=app.pool_id, Username="leo")
    assert user["UserStatus"] == "CONFIRMED"
    assert {a["Name"]: a["Value"] for a in user["UserAttributes"]}["name"] == "Leo Legacy"
    assert app.backend.mailbox.list(to="leo@example.com") == []  # SUPPRESS
    app.sign_in("leo")  # from now on an ordinary user: the function is not asked again
    assert len(trigger.events) == 1


def test_a_refused_migration_is_an_unknown_user(app: App) -> None:
    trigger = bind(app, "UserMigration", _legacy())
    with raises("UserNotFoundException", "User does not exist."):
        app.srp_start("leo")  # SRP sends no password: a user cannot be migrated through it
    assert trigger.events == []
    with raises("UserNotFoundException", f"Exception migrating user in app client {app.client_id}"):
        _auth(app, "leo", "wrong-Passw0rd!")
    hidden = add_client(app, PreventUserExistenceErrors="ENABLED")
    with raises("NotAuthorizedException", "Incorrect username or password."):
        _auth(hidden, "leo", "wrong-Passw0rd!")
    assert len(trigger.events) == 2
    with raises("UserNotFoundException"):
        app.idp.admin_get_user(UserPoolId=app.pool_id, Username="leo")


@pytest.mark.parametrize("response", [
    {"userAttributes": None},
    {"userAttributes": {"email": 5}},
    {"finalUserStatus": "ARCHIVED"},
    {"messageAction": "SEND"},
    {"desiredDeliveryMediums": "EMAIL"},
    {"desiredDeliveryMediums": ["FAX"]},
    {"forceAliasCreation": "maybe"},
    {"enableSMSMFA": 1},
])
def test_a_wrongly_typed_migration_answer_is_invalid(app: App, response: dict[str, Any]) -> None:
    legacy = _legacy()
    base = legacy.answer
    assert base is not None

    def answer(event: dict[str, Any]) -> None:
        base(event)
        event["response"].update(response)

    bind(app, "UserMigration", Recorder(answer=answer))
    with raises("InvalidLambdaResponseException"):
        _auth(app, "leo")
    with raises("UserNotFoundException"):
        app.idp.admin_get_user(UserPoolId=app.pool_id, Username="leo")


def test_migration_with_reset_required_then_forgot_password(app: App) -> None:
    bind(app, "UserMigration", _legacy(status="RESET_REQUIRED"))
    with raises("PasswordResetRequiredException"):
        _auth(app, "leo")
    assert _status(app, "leo") == "RESET_REQUIRED"
    app.idp.confirm_forgot_password(ClientId=app.client_id, Username="leo", Password="N3w-Passw0rd!",
                                    ConfirmationCode=_forgot_code(app, "leo", "leo@example.com"))
    app.sign_in("leo", "N3w-Passw0rd!")


def test_user_migration_in_forgot_password(app: App) -> None:
    trigger = bind(app, "UserMigration", _legacy())
    answer = app.idp.forgot_password(ClientId=app.client_id, Username="leo", ClientMetadata=META)
    assert answer["CodeDeliveryDetails"] == {"Destination": "l***@e***", "DeliveryMedium": "EMAIL",
                                             "AttributeName": "email"}
    event = trigger.last
    check_envelope(event, app, source="UserMigration_ForgotPassword", username="leo", client_id=app.client_id)
    assert event["request"] == {"validationData": None, "clientMetadata": META}  # no password here
    assert event["response"] == MIGRATION_RESPONSE
    assert _status(app, "leo") == "RESET_REQUIRED"
    message = app.backend.mailbox.latest(to="leo@example.com")
    assert message.purpose == "FORGOT_PASSWORD" and message.body == f"Default code {message.code}"
    app.idp.confirm_forgot_password(ClientId=app.client_id, Username="leo", Password="N3w-Passw0rd!",
                                    ConfirmationCode=message.code)
    app.sign_in("leo", "N3w-Passw0rd!")
    with raises("UserNotFoundException", f"Exception migrating user in app client {app.client_id}"):
        app.idp.forgot_password(ClientId=app.client_id, Username="stranger")


def test_migration_welcome_message_unless_suppressed(app: App) -> None:
    bind(app, "UserMigration", _legacy(action=None, desiredDeliveryMediums=["EMAIL"]))
    app.sign_in("leo")
    welcome = app.backend.mailbox.latest(to="leo@example.com")
    assert welcome is not None and welcome.purpose == "INVITE" and welcome.subject == "Invite subject"
    assert welcome.body.startswith("Invite leo / ")


# --- CustomMessage ------------------------------------------------------------------------------------


def _branded(event: dict[str, Any]) -> None:
    """A custom message function that words every message with the placeholders it was given."""
    request = event["request"]
    code, user = request["codeParameter"], request["usernameParameter"]
    who = f" for {user}" if user else ""
    event["response"]["emailSubject"] = f"Acme: {event['triggerSource']}"
    event["response"]["emailMessage"] = f"<p>Acme code{who}: {code}</p>"
    event["response"]["smsMessage"] = f"Acme SMS code{who}: {code}"


def _check_message_event(event: dict[str, Any], app: App, *, source: str, username: str, client_id: str | None,
                         metadata: dict[str, str] | None) -> None:
    check_envelope(event, app, source=source, username=username, client_id=client_id)
    request = event["request"]
    expected = {"userAttributes", "codeParameter", "linkParameter", "usernameParameter"}
    assert set(request) == (expected | {"clientMetadata"} if metadata else expected)
    assert request["userAttributes"] == user_attributes(app, username)
    assert request["codeParameter"] == "{####}"
    assert request["linkParameter"] == "{##Click Here##}"
    assert request["usernameParameter"] == ("{username}" if source == "CustomMessage_AdminCreateUser" else None)
    assert request.get("clientMetadata") == metadata
    assert event["response"] == {"smsMessage": None, "emailMessage": None, "emailSubject": None}


def test_custom_message_sign_up_words_the_mail_the_user_receives(app: App) -> None:
    trigger = bind(app, "CustomMessage", Recorder(answer=_branded))
    app.idp.sign_up(ClientId=app.client_id, Username="ida", Password=PASSWORD, ClientMetadata=META,
                    UserAttributes=[{"Name": "email", "Value": "ida@example.com"}])
    _check_message_event(trigger.last, app, source="CustomMessage_SignUp", username="ida", client_id=app.client_id,
                         metadata=META)
    assert trigger.last["request"]["userAttributes"]["cognito:user_status"] == "UNCONFIRMED"
    message = app.backend.mailbox.latest(to="ida@example.com")
    assert message.subject == "Acme: CustomMessage_SignUp"
    assert message.body == f"<p>Acme code: {message.code}</p>"
    app.idp.confirm_sign_up(ClientId=app.client_id, Username="ida", ConfirmationCode=message.code)


def _resend(app: App) -> None:
    app.sign_up("jo", email="jo@example.com")
    app.idp.resend_confirmation_code(ClientId=app.client_id, Username="jo", ClientMetadata=META)


def _forgot(app: App) -> None:
    app.confirmed_user("jo", email="jo@example.com")
    app.idp.forgot_password(ClientId=app.client_id, Username="jo", ClientMetadata=META)


def _admin_reset(app: App) -> None:
    app.confirmed_user("jo", email="jo@example.com")
    app.idp.admin_reset_user_password(UserPoolId=app.pool_id, Username="jo", ClientMetadata=META)


def _update(app: App) -> None:
    app.confirmed_user("jo", email="old@example.com")
    token = app.sign_in("jo")["AccessToken"]
    app.idp.update_user_attributes(AccessToken=token, ClientMetadata=META,
                                   UserAttributes=[{"Name": "email", "Value": "jo@example.com"}])


def _admin_update(app: App) -> None:
    app.confirmed_user("jo", email="old@example.com")
    app.idp.admin_update_user_attributes(UserPoolId=app.pool_id, Username="jo", ClientMetadata=META,
                                         UserAttributes=[{"Name": "email", "Value": "jo@example.com"}])


def _verify(app: App) -> None:
    app.idp.admin_create_user(UserPoolId=app.pool_id, Username="jo", MessageAction="SUPPRESS",
                              UserAttributes=[{"Name": "email", "Value": "jo@example.com"}])
    app.idp.admin_set_user_password(UserPoolId=app.pool_id, Username="jo", Password=PASSWORD, Permanent=True)
    token = app.sign_in("jo")["AccessToken"]
    app.idp.get_user_attribute_verification_code(AccessToken=token, AttributeName="email", ClientMetadata=META)


@pytest.mark.parametrize(("source", "act", "via_client"), [
    ("CustomMessage_ResendCode", _resend, True),
    ("CustomMessage_ForgotPassword", _forgot, True),
    ("CustomMessage_ForgotPassword", _admin_reset, False),
    ("CustomMessage_UpdateUserAttribute", _update, True),
    ("CustomMessage_UpdateUserAttribute", _admin_update, False),
    ("CustomMessage_VerifyUserAttribute", _verify, True),
])
def test_custom_message_sources(app: App, source: str, act: Any, via_client: bool) -> None:
    trigger = bind(app, "CustomMessage", Recorder(answer=_branded))
    act(app)
    event = trigger.last
    _check_message_event(event, app, source=source, username="jo", client_id=app.client_id if via_client else None,
                         metadata=META)
    message = app.backend.mailbox.latest(to="jo@example.com")
    assert message.subject == f"Acme: {source}"
    assert message.body == f"<p>Acme code: {message.code}</p>"


def test_custom_message_admin_create_user_needs_both_placeholders(app: App) -> None:
    trigger = bind(app, "CustomMessage", Recorder(answer=_branded))
    app.idp.admin_create_user(UserPoolId=app.pool_id, Username="kim", TemporaryPassword="Temp-Passw0rd!",
                              DesiredDeliveryMediums=["EMAIL"], ClientMetadata=META,
                              UserAttributes=[{"Name": "email", "Value": "kim@example.com"}])
    _check_message_event(trigger.last, app, source="CustomMessage_AdminCreateUser", username="kim", client_id=None,
                         metadata=META)
    assert trigger.last["request"]["userAttributes"]["cognito:user_status"] == "FORCE_CHANGE_PASSWORD"
    invite = app.backend.mailbox.latest(to="kim@example.com")
    assert (invite.subject, invite.body) == ("Acme: CustomMessage_AdminCreateUser",
                                             "<p>Acme code for kim: Temp-Passw0rd!</p>")

    def code_only(event: dict[str, Any]) -> None:
        event["response"]["emailMessage"] = f"Your password is {event['request']['codeParameter']}"
        event["response"]["emailSubject"] = "Welcome aboard"

    trigger.answer = code_only
    app.idp.admin_create_user(UserPoolId=app.pool_id, Username="lou", TemporaryPassword="Temp-Passw0rd!",
                              DesiredDeliveryMediums=["EMAIL"],
                              UserAttributes=[{"Name": "email", "Value": "lou@example.com"}])
    invite = app.backend.mailbox.latest(to="lou@example.com")
    # without {username} Cognito sends its own invitation (the subject is still the function's)
    assert (invite.subject, invite.body) == ("Welcome aboard", "Invite lou / Temp-Passw0rd!")


def test_custom_message_without_the_code_placeholder_falls_back_to_the_template(app: App) -> None:
    def no_code(event: dict[str, Any]) -> None:
        event["response"]["emailMessage"] = "Click the button to confirm"

    trigger = bind(app, "CustomMessage", Recorder(answer=no_code))
    app.sign_up("max", email="max@example.com")
    assert trigger.sources() == ["CustomMessage_SignUp"]
    message = app.backend.mailbox.latest(to="max@example.com")
    assert (message.subject, message.body) == ("Default subject", f"Default code {message.code}")


@pytest.mark.parametrize("response", [{"emailMessage": 42}, {"smsMessage": ["x"]}, {"emailSubject": {"a": 1}}])
def test_custom_message_wrong_types_are_invalid(app: App, response: dict[str, Any]) -> None:
    bind(app, "CustomMessage", Recorder(answer=lambda event: event["response"].update(response)))
    with raises("InvalidLambdaResponseException"):
        app.sign_up("ned", email="ned@example.com")


def test_custom_message_error_fails_the_operation(app: App) -> None:
    bind(app, "CustomMessage", Recorder(error="template service down"))
    app.idp.admin_create_user(UserPoolId=app.pool_id, Username="ola", MessageAction="SUPPRESS",
                              UserAttributes=[{"Name": "email", "Value": "ola@example.com"},
                                              {"Name": "email_verified", "Value": "true"}])
    app.idp.admin_set_user_password(UserPoolId=app.pool_id, Username="ola", Password=PASSWORD, Permanent=True)
    with raises("UserLambdaValidationException", "CustomMessage failed with error template service down."):
        app.idp.forgot_password(ClientId=app.client_id, Username="ola")
    assert app.backend.mailbox.list(to="ola@example.com") == []


def test_custom_message_authentication_words_the_sms_mfa_code(emulator: Any, idp: Any) -> None:
    app = trigger_app(emulator, idp, pool={"MfaConfiguration": "OPTIONAL", "SmsConfiguration": SMS,
                                           "AutoVerifiedAttributes": ["email", "phone_number"]})
    app.idp.set_user_pool_mfa_config(
        UserPoolId=app.pool_id, MfaConfiguration="OPTIONAL",
        SmsMfaConfiguration={"SmsAuthenticationMessage": "Your code: {####}", "SmsConfiguration": SMS})
    app.idp.admin_create_user(UserPoolId=app.pool_id, Username="pia", MessageAction="SUPPRESS",
                              UserAttributes=[{"Name": "phone_number", "Value": PHONE},
                                              {"Name": "phone_number_verified", "Value": "true"}])
    app.idp.admin_set_user_password(UserPoolId=app.pool_id, Username="pia", Password=PASSWORD, Permanent=True)
    app.idp.admin_set_user_mfa_preference(UserPoolId=app.pool_id, Username="pia",
                                          SMSMfaSettings={"Enabled": True, "PreferredMfa": True})
    trigger = bind(app, "CustomMessage", Recorder(answer=_branded))
    step = _auth(app, "pia", ClientMetadata=META)
    assert step["ChallengeName"] == "SMS_MFA"
    # InitiateAuth's ClientMetadata is not passed to custom message
    _check_message_event(trigger.last, app, source="CustomMessage_Authentication", username="pia",
                         client_id=app.client_id, metadata=None)
    message = app.backend.mailbox.latest(to=PHONE)
    assert message.body == f"Acme SMS code: {message.code}" and message.subject is None
    done = app.idp.respond_to_auth_challenge(ClientId=app.client_id, ChallengeName="SMS_MFA", Session=step["Session"],
                                             ChallengeResponses={"USERNAME": "pia", "SMS_MFA_CODE": message.code})
    app.verify(done["AuthenticationResult"])
    trigger.error = "sms vendor down"
    with raises("UserLambdaValidationException", "CustomMessage failed with error sms vendor down."):
        _auth(app, "pia")
