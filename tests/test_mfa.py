"""MFA as Cognito does it, over HTTP with real boto3: pool configuration, TOTP enrolment (codes from
pyotp, never "any code works"), per-user factors, and the SOFTWARE_TOKEN_MFA, SMS_MFA, EMAIL_OTP,
SELECT_MFA_TYPE and MFA_SETUP challenges of password, SRP and admin sign-ins. Tokens are verified
with PyJWT against the served JWKS (auth_support.App.verify)."""

from __future__ import annotations

import json
from typing import Any

import pyotp
import requests
import pytest

from auth_support import PASSWORD, App, make_app, raises

SES = {"EmailSendingAccount": "DEVELOPER", "SourceArn": "arn:aws:ses:us-east-1:123456789012:identity/example.com"}
SMS = {"SnsCallerArn": "arn:aws:iam::123456789012:role/sns", "ExternalId": "x"}
PHONE = "+15555550100"
WRONG = "Invalid code or auth state for the user."


def totp_pool(emulator: Any, idp: Any, mode: str = "ON", **pool: Any) -> App:
    emulator.backend.clock.freeze()
    app = make_app(emulator, idp, pool=pool)
    app.idp.set_user_pool_mfa_config(UserPoolId=app.pool_id, MfaConfiguration=mode,
                                     SoftwareTokenMfaConfiguration={"Enabled": True})
    return app


def code(app: App, secret: str, offset: float = 0) -> str:
    return pyotp.TOTP(secret).at(app.clock.now() + offset)


def enrol_totp(app: App, access_token: str, name: str = "phone") -> str:
    """Associate and verify an authenticator with the access token; returns the secret."""
    secret = app.idp.associate_software_token(AccessToken=access_token)["SecretCode"]
    answer = app.idp.verify_software_token(AccessToken=access_token, UserCode=code(app, secret), FriendlyDeviceName=name)
    assert answer["Status"] == "SUCCESS" and "Session" not in answer
    return secret


def events(app: App, kind: str) -> list[dict[str, Any]]:
    return [e.data for e in app.backend.events.list(kind)]


@pytest.fixture()
def optional_app(emulator: Any, idp: Any) -> App:
    return totp_pool(emulator, idp, "OPTIONAL")


def totp_user(app: App, username: str = "alice") -> str:
    """A confirmed user with TOTP enrolled and preferred; returns the secret."""
    app.confirmed_user(username, email=f"{username}@example.com")
    tokens = app.sign_in(username)
    secret = enrol_totp(app, tokens["AccessToken"])
    app.idp.set_user_mfa_preference(AccessToken=tokens["AccessToken"],
                                    SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True})
    app.clock.advance(30)  # the enrolment used this time step's code
    return secret


# --- pool configuration ---------------------------------------------------------------------------


def test_pool_mfa_config_round_trips_and_shows_in_describe(emulator: Any, idp: Any) -> None:
    app = make_app(emulator, idp, pool={"EmailConfiguration": SES})
    answer = idp.set_user_pool_mfa_config(
        UserPoolId=app.pool_id, MfaConfiguration="OPTIONAL", SoftwareTokenMfaConfiguration={"Enabled": True},
        EmailMfaConfiguration={"Message": "Code {####}", "Subject": "Sign-in code"},
    )
    got = idp.get_user_pool_mfa_config(UserPoolId=app.pool_id)
    for view in (answer, got):
        assert view["MfaConfiguration"] == "OPTIONAL"
        assert view["SoftwareTokenMfaConfiguration"] == {"Enabled": True}
        assert view["EmailMfaConfiguration"] == {"Message": "Code {####}", "Subject": "Sign-in code"}
        assert "SmsMfaConfiguration" not in view
    assert idp.describe_user_pool(UserPoolId=app.pool_id)["UserPool"]["MfaConfiguration"] == "OPTIONAL"


def test_pool_mfa_config_refusals_change_nothing(emulator: Any, idp: Any) -> None:
    app = make_app(emulator, idp)
    with raises("InvalidParameterException"):
        idp.set_user_pool_mfa_config(UserPoolId=app.pool_id, MfaConfiguration="ON")  # no factor at all
    with raises("InvalidParameterException"):  # email MFA needs the pool to send through SES
        idp.set_user_pool_mfa_config(UserPoolId=app.pool_id, MfaConfiguration="ON",
                                     SoftwareTokenMfaConfiguration={"Enabled": True},
                                     EmailMfaConfiguration={"Message": "{####}", "Subject": "s"})
    with raises("InvalidParameterException"):
        idp.set_user_pool_mfa_config(UserPoolId=app.pool_id, MfaConfiguration="ON",
                                     SmsMfaConfiguration={"SmsAuthenticationMessage": "no code here",
                                                          "SmsConfiguration": SMS})
    got = idp.get_user_pool_mfa_config(UserPoolId=app.pool_id)
    assert got["MfaConfiguration"] == "OFF" and got["SoftwareTokenMfaConfiguration"] == {"Enabled": False}
    with raises("ResourceNotFoundException"):
        idp.get_user_pool_mfa_config(UserPoolId="us-east-1_Missing00")


def test_create_pool_with_mfa_needs_sms_configuration(idp: Any) -> None:
    with raises("InvalidParameterException",
                "SMS configuration and Auto verification for phone_number are required when MFA is required/optional"):
        idp.create_user_pool(PoolName="p", MfaConfiguration="ON")
    pool = idp.create_user_pool(PoolName="p", MfaConfiguration="ON", SmsConfiguration=SMS)["UserPool"]
    config = idp.get_user_pool_mfa_config(UserPoolId=pool["Id"])
    assert config["MfaConfiguration"] == "ON" and config["SmsMfaConfiguration"]["SmsConfiguration"] == SMS


# --- TOTP enrolment and the SOFTWARE_TOKEN_MFA challenge -------------------------------------------


def test_totp_enrolment_with_access_token_then_challenge(optional_app: App) -> None:
    app = optional_app
    app.confirmed_user("alice", email="alice@example.com")
    access = app.sign_in("alice")["AccessToken"]  # OPTIONAL and no factor yet: tokens straight away
    secret = app.idp.associate_software_token(AccessToken=access)["SecretCode"]
    assert len(secret) == 52 and pyotp.TOTP(secret).now()  # a base32 secret an authenticator app accepts
    with raises("EnableSoftwareTokenMFAException"):
        app.idp.verify_software_token(AccessToken=access, UserCode="000000" if code(app, secret) != "000000" else "111111")
    with raises("InvalidParameterException", "User has not verified software token mfa"):
        app.idp.set_user_mfa_preference(AccessToken=access, SoftwareTokenMfaSettings={"Enabled": True})
    assert app.idp.verify_software_token(AccessToken=access, UserCode=code(app, secret),
                                         FriendlyDeviceName="Pixel")["Status"] == "SUCCESS"
    assert "UserMFASettingList" not in app.idp.get_user(AccessToken=access)  # verified is not enabled
    app.idp.set_user_mfa_preference(AccessToken=access, SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True})
    user = app.idp.get_user(AccessToken=access)
    assert user["UserMFASettingList"] == ["SOFTWARE_TOKEN_MFA"] and user["PreferredMfaSetting"] == "SOFTWARE_TOKEN_MFA"
    admin_view = app.idp.admin_get_user(UserPoolId=app.pool_id, Username="alice")
    assert admin_view["UserMFASettingList"] == ["SOFTWARE_TOKEN_MFA"]

    app.clock.advance(30)
    first = app.password_auth("alice")
    assert first["ChallengeName"] == "SOFTWARE_TOKEN_MFA" and "AuthenticationResult" not in first
    assert first["ChallengeParameters"] == {"USER_ID_FOR_SRP": "alice", "FRIENDLY_DEVICE_NAME": "Pixel"}
    right = code(app, secret)
    with raises("CodeMismatchException", WRONG):
        app.idp.respond_to_auth_challenge(ClientId=app.client_id, ChallengeName="SOFTWARE_TOKEN_MFA", Session=first["Session"],
                                          ChallengeResponses={"USERNAME": "alice", "SOFTWARE_TOKEN_MFA_CODE": "12345x"})
    done = app.idp.respond_to_auth_challenge(ClientId=app.client_id, ChallengeName="SOFTWARE_TOKEN_MFA", Session=first["Session"],
                                             ChallengeResponses={"USERNAME": "alice", "SOFTWARE_TOKEN_MFA_CODE": right})
    claims = app.verify(done["AuthenticationResult"])
    assert claims["access"]["username"] == "alice"
    with raises("NotAuthorizedException"):  # the session answered once
        app.idp.respond_to_auth_challenge(ClientId=app.client_id, ChallengeName="SOFTWARE_TOKEN_MFA", Session=first["Session"],
                                          ChallengeResponses={"USERNAME": "alice", "SOFTWARE_TOKEN_MFA_CODE": right})
    # the same code again, in a new sign-in within the same time step: a replay
    again = app.password_auth("alice")
    with raises("CodeMismatchException", WRONG):
        app.idp.respond_to_auth_challenge(ClientId=app.client_id, ChallengeName="SOFTWARE_TOKEN_MFA", Session=again["Session"],
                                          ChallengeResponses={"USERNAME": "alice", "SOFTWARE_TOKEN_MFA_CODE": right})
    app.clock.advance(30)
    done = app.idp.respond_to_auth_challenge(ClientId=app.client_id, ChallengeName="SOFTWARE_TOKEN_MFA", Session=again["Session"],
                                             ChallengeResponses={"USERNAME": "alice", "SOFTWARE_TOKEN_MFA_CODE": code(app, secret)})
    app.verify(done["AuthenticationResult"])


def test_totp_window_is_one_step_either_side(optional_app: App) -> None:
    app = optional_app
    secret = totp_user(app)
    for offset, accepted in ((-30, True), (30, True), (-60, False), (90, False)):
        app.clock.advance(120)
        step = app.password_auth("alice")
        respond = {"USERNAME": "alice", "SOFTWARE_TOKEN_MFA_CODE": code(app, secret, offset)}
        if accepted:
            assert "AuthenticationResult" in app.idp.respond_to_auth_challenge(
                ClientId=app.client_id, ChallengeName="SOFTWARE_TOKEN_MFA", Session=step["Session"], ChallengeResponses=respond)
        else:
            with raises("CodeMismatchException"):
                app.idp.respond_to_auth_challenge(ClientId=app.client_id, ChallengeName="SOFTWARE_TOKEN_MFA",
                                                  Session=step["Session"], ChallengeResponses=respond)


def test_three_wrong_codes_close_the_session_and_expiry_ends_it(optional_app: App) -> None:
    app = optional_app
    secret = totp_user(app)
    step = app.password_auth("alice")
    wrong = {"USERNAME": "alice", "SOFTWARE_TOKEN_MFA_CODE": "999999" if code(app, secret) != "999999" else "888888"}
    for _ in range(3):
        with raises("CodeMismatchException", WRONG):
            app.idp.respond_to_auth_challenge(ClientId=app.client_id, ChallengeName="SOFTWARE_TOKEN_MFA",
                                              Session=step["Session"], ChallengeResponses=wrong)
    with raises("NotAuthorizedException", "Invalid session for the user."):
        app.idp.respond_to_auth_challenge(ClientId=app.client_id, ChallengeName="SOFTWARE_TOKEN_MFA", Session=step["Session"],
                                          ChallengeResponses={"USERNAME": "alice", "SOFTWARE_TOKEN_MFA_CODE": code(app, secret)})
    failed = events(app, "mfa.failed")
    assert [e["reason"] for e in failed[-3:]] == ["wrong_code", "wrong_code", "attempts_exceeded"]

    late = app.password_auth("alice")
    app.clock.advance(3 * 60 + 1)  # AuthSessionValidity: 3 minutes by default
    with raises("NotAuthorizedException", "Invalid session for the user, session is expired."):
        app.idp.respond_to_auth_challenge(ClientId=app.client_id, ChallengeName="SOFTWARE_TOKEN_MFA", Session=late["Session"],
                                          ChallengeResponses={"USERNAME": "alice", "SOFTWARE_TOKEN_MFA_CODE": code(app, secret)})


def test_srp_and_admin_sign_ins_take_the_same_challenge(optional_app: App) -> None:
    app = optional_app
    secret = totp_user(app)
    srp = app.srp_sign_in("alice")
    assert srp["ChallengeName"] == "SOFTWARE_TOKEN_MFA" and "AuthenticationResult" not in srp
    done = app.idp.respond_to_auth_challenge(ClientId=app.client_id, ChallengeName="SOFTWARE_TOKEN_MFA", Session=srp["Session"],
                                             ChallengeResponses={"USERNAME": "alice", "SOFTWARE_TOKEN_MFA_CODE": code(app, secret)})
    app.verify(done["AuthenticationResult"])
    app.clock.advance(30)
    admin = app.idp.admin_initiate_auth(UserPoolId=app.pool_id, ClientId=app.client_id, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                                        AuthParameters={"USERNAME": "alice", "PASSWORD": PASSWORD})
    assert admin["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
    done = app.idp.admin_respond_to_auth_challenge(
        UserPoolId=app.pool_id, ClientId=app.client_id, ChallengeName="SOFTWARE_TOKEN_MFA", Session=admin["Session"],
        ChallengeResponses={"USERNAME": "alice", "SOFTWARE_TOKEN_MFA_CODE": code(app, secret)})
    app.verify(done["AuthenticationResult"])


# --- MFA_SETUP ------------------------------------------------------------------------------------


def test_mfa_required_user_without_factor_enrols_during_sign_in(emulator: Any, idp: Any) -> None:
    app = totp_pool(emulator, idp, "ON")
    app.confirmed_user("bob", email="bob@example.com")
    step = app.password_auth("bob")
    assert step["ChallengeName"] == "MFA_SETUP" and "AuthenticationResult" not in step
    assert json.loads(step["ChallengeParameters"]["MFAS_CAN_SETUP"]) == ["SOFTWARE_TOKEN_MFA"]
    with raises("InvalidParameterException", "User has not verified software token mfa"):  # no skipping the enrolment
        app.idp.respond_to_auth_challenge(ClientId=app.client_id, ChallengeName="MFA_SETUP", Session=step["Session"],
                                          ChallengeResponses={"USERNAME": "bob"})
    associated = app.idp.associate_software_token(Session=step["Session"])
    secret, session = associated["SecretCode"], associated["Session"]
    assert session != step["Session"]
    with raises("EnableSoftwareTokenMFAException"):
        app.idp.verify_software_token(Session=session, UserCode="000000" if code(app, secret) != "000000" else "111111")
    verified = app.idp.verify_software_token(Session=session, UserCode=code(app, secret))
    assert verified["Status"] == "SUCCESS"
    done = app.idp.respond_to_auth_challenge(ClientId=app.client_id, ChallengeName="MFA_SETUP", Session=verified["Session"],
                                             ChallengeResponses={"USERNAME": "bob"})
    access = done["AuthenticationResult"]["AccessToken"]
    app.verify(done["AuthenticationResult"])
    user = app.idp.get_user(AccessToken=access)
    assert user["UserMFASettingList"] == ["SOFTWARE_TOKEN_MFA"] and user["PreferredMfaSetting"] == "SOFTWARE_TOKEN_MFA"
    assert [e["how"] for e in events(app, "mfa.enrolled")] == ["verified", "setup"]
    app.clock.advance(30)
    assert app.password_auth("bob")["ChallengeName"] == "SOFTWARE_TOKEN_MFA"  # enrolled: the challenge from now on


def test_associate_refused_when_pool_has_no_totp_and_with_both_credentials(emulator: Any, idp: Any) -> None:
    app = make_app(emulator, idp)
    app.confirmed_user("carol", email="carol@example.com")
    access = app.sign_in("carol")["AccessToken"]
    with raises("SoftwareTokenMFANotFoundException", "Software Token MFA has not been enabled by the userPool."):
        idp.associate_software_token(AccessToken=access)
    with raises("InvalidParameterException"):
        idp.associate_software_token(AccessToken=access, Session="x" * 40)
    with raises("NotAuthorizedException", "Invalid session for the user."):
        idp.associate_software_token(Session="x" * 40)
    with raises("SoftwareTokenMFANotFoundException"):
        idp.verify_software_token(AccessToken=access, UserCode="123456")


def test_new_password_required_then_mfa_setup(emulator: Any, idp: Any) -> None:
    app = totp_pool(emulator, idp, "ON")
    app.idp.admin_create_user(UserPoolId=app.pool_id, Username="dana", TemporaryPassword="Temp0rary!x",
                              MessageAction="SUPPRESS")
    first = app.password_auth("dana", "Temp0rary!x")
    assert first["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    second = app.idp.respond_to_auth_challenge(ClientId=app.client_id, ChallengeName="NEW_PASSWORD_REQUIRED",
                                               Session=first["Session"],
                                               ChallengeResponses={"USERNAME": "dana", "NEW_PASSWORD": PASSWORD})
    assert second["ChallengeName"] == "MFA_SETUP" and "AuthenticationResult" not in second


# --- SMS_MFA, EMAIL_OTP and SELECT_MFA_TYPE --------------------------------------------------------


def sms_pool(emulator: Any, idp: Any, **client: Any) -> App:
    emulator.backend.clock.freeze()
    app = make_app(emulator, idp, pool={"MfaConfiguration": "OPTIONAL", "SmsConfiguration": SMS,
                                        "AutoVerifiedAttributes": ["email", "phone_number"], "EmailConfiguration": SES},
                   client=client or None)
    app.idp.set_user_pool_mfa_config(
        UserPoolId=app.pool_id, MfaConfiguration="OPTIONAL", SoftwareTokenMfaConfiguration={"Enabled": True},
        SmsMfaConfiguration={"SmsAuthenticationMessage": "Your code: {####}", "SmsConfiguration": SMS},
        EmailMfaConfiguration={"Message": "Sign-in code {####}", "Subject": "Your code"})
    return app


def test_sms_mfa_code_comes_from_the_mailbox(emulator: Any, idp: Any) -> None:
    app = sms_pool(emulator, idp)
    app.idp.admin_create_user(UserPoolId=app.pool_id, Username="erin", MessageAction="SUPPRESS",
                              UserAttributes=[{"Name": "phone_number", "Value": PHONE},
                                              {"Name": "phone_number_verified", "Value": "true"}])
    app.idp.admin_set_user_password(UserPoolId=app.pool_id, Username="erin", Password=PASSWORD, Permanent=True)
    app.idp.admin_set_user_mfa_preference(UserPoolId=app.pool_id, Username="erin",
                                          SMSMfaSettings={"Enabled": True, "PreferredMfa": True})
    step = app.password_auth("erin")
    assert step["ChallengeName"] == "SMS_MFA"
    assert step["ChallengeParameters"] == {"CODE_DELIVERY_DELIVERY_MEDIUM": "SMS", "CODE_DELIVERY_DESTINATION": "+*******0100"}
    message = app.backend.mailbox.latest(to=PHONE)
    assert message.body == f"Your code: {message.code}" and message.purpose == "MFA:SMS_MFA"
    with raises("CodeMismatchException", WRONG):
        app.idp.respond_to_auth_challenge(ClientId=app.client_id, ChallengeName="SMS_MFA", Session=step["Session"],
                                          ChallengeResponses={"USERNAME": "erin", "SMS_MFA_CODE": "00000" + str((int(message.code[-1]) + 1) % 10)})
    done = app.idp.respond_to_auth_challenge(ClientId=app.client_id, ChallengeName="SMS_MFA", Session=step["Session"],
                                             ChallengeResponses={"USERNAME": "erin", "SMS_MFA_CODE": message.code})
    app.verify(done["AuthenticationResult"])


def test_sms_delivery_fault_still_challenges_but_no_code_arrives(emulator: Any, idp: Any) -> None:
    app = sms_pool(emulator, idp)
    app.idp.admin_create_user(UserPoolId=app.pool_id, Username="erin", MessageAction="SUPPRESS",
                              UserAttributes=[{"Name": "phone_number", "Value": PHONE}])
    app.idp.admin_set_user_password(UserPoolId=app.pool_id, Username="erin", Password=PASSWORD, Permanent=True)
    app.idp.admin_set_user_settings(UserPoolId=app.pool_id, Username="erin",
                                    MFAOptions=[{"DeliveryMedium": "SMS", "AttributeName": "phone_number"}])
    assert app.idp.admin_get_user(UserPoolId=app.pool_id, Username="erin")["UserMFASettingList"] == ["SMS_MFA"]
    app.backend.faults.arm("delivery_failure", "InitiateAuth", None, "SMS", 1)
    step = app.password_auth("erin")
    assert step["ChallengeName"] == "SMS_MFA"
    assert app.backend.mailbox.list(to=PHONE) == []  # nothing delivered
    assert app.backend.mailbox.list(to=PHONE, include_failed=True)[-1].status == "failed"
    assert events(app, "message.failed")[-1]["purpose"] == "MFA:SMS_MFA"


def test_email_otp_mfa_and_its_code_lifetime(emulator: Any, idp: Any) -> None:
    app = sms_pool(emulator, idp, AuthSessionValidity=15)
    app.confirmed_user("fay", email="fay@example.com")
    app.idp.admin_set_user_mfa_preference(UserPoolId=app.pool_id, Username="fay", EmailMfaSettings={"Enabled": True})
    step = app.password_auth("fay")
    assert step["ChallengeName"] == "EMAIL_OTP"
    assert step["ChallengeParameters"]["CODE_DELIVERY_DELIVERY_MEDIUM"] == "EMAIL"
    message = app.backend.mailbox.latest(to="fay@example.com")
    assert message.subject == "Your code" and message.code in message.body
    app.clock.advance(181)  # the session (15 min) lives on, the code (3 min) does not
    with raises("ExpiredCodeException"):
        app.idp.respond_to_auth_challenge(ClientId=app.client_id, ChallengeName="EMAIL_OTP", Session=step["Session"],
                                          ChallengeResponses={"USERNAME": "fay", "EMAIL_OTP_CODE": message.code})
    fresh = app.password_auth("fay")
    done = app.idp.respond_to_auth_challenge(
        ClientId=app.client_id, ChallengeName="EMAIL_OTP", Session=fresh["Session"],
        ChallengeResponses={"USERNAME": "fay", "EMAIL_OTP_CODE": app.backend.mailbox.latest(to="fay@example.com").code})
    app.verify(done["AuthenticationResult"])


def test_select_mfa_type_when_several_factors_and_no_preference(emulator: Any, idp: Any) -> None:
    app = sms_pool(emulator, idp)
    app.confirmed_user("gus", email="gus@example.com", phone_number=PHONE)
    access = app.sign_in("gus")["AccessToken"]
    secret = enrol_totp(app, access)
    app.idp.set_user_mfa_preference(AccessToken=access, SoftwareTokenMfaSettings={"Enabled": True},
                                    SMSMfaSettings={"Enabled": True})
    app.clock.advance(30)
    step = app.password_auth("gus")
    assert step["ChallengeName"] == "SELECT_MFA_TYPE"
    assert json.loads(step["ChallengeParameters"]["MFAS_CAN_CHOOSE"]) == ["SMS_MFA", "SOFTWARE_TOKEN_MFA"]
    with raises("MFAMethodNotFoundException"):
        app.idp.respond_to_auth_challenge(ClientId=app.client_id, ChallengeName="SELECT_MFA_TYPE", Session=step["Session"],
                                          ChallengeResponses={"USERNAME": "gus", "ANSWER": "EMAIL_OTP"})
    chosen = app.idp.respond_to_auth_challenge(ClientId=app.client_id, ChallengeName="SELECT_MFA_TYPE", Session=step["Session"],
                                               ChallengeResponses={"USERNAME": "gus", "ANSWER": "SOFTWARE_TOKEN_MFA"})
    assert chosen["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
    done = app.idp.respond_to_auth_challenge(ClientId=app.client_id, ChallengeName="SOFTWARE_TOKEN_MFA", Session=chosen["Session"],
                                             ChallengeResponses={"USERNAME": "gus", "SOFTWARE_TOKEN_MFA_CODE": code(app, secret)})
    app.verify(done["AuthenticationResult"])
    challenges = [e["challenge"] for e in events(app, "mfa.challenge")]
    assert challenges == ["SELECT_MFA_TYPE", "SOFTWARE_TOKEN_MFA"]


def test_preference_refusals(emulator: Any, idp: Any) -> None:
    app = sms_pool(emulator, idp)
    app.confirmed_user("hal", email="hal@example.com")
    access = app.sign_in("hal")["AccessToken"]
    with raises("InvalidParameterException", "User does not have delivery config set to turn on SMS_MFA"):
        app.idp.set_user_mfa_preference(AccessToken=access, SMSMfaSettings={"Enabled": True})
    with raises("InvalidParameterException"):
        app.idp.admin_set_user_settings(UserPoolId=app.pool_id, Username="hal",
                                        MFAOptions=[{"DeliveryMedium": "SMS", "AttributeName": "phone_number"}])
    with raises("UserNotFoundException"):
        app.idp.admin_set_user_mfa_preference(UserPoolId=app.pool_id, Username="nobody", EmailMfaSettings={"Enabled": True})
    app.idp.set_user_mfa_preference(AccessToken=access, EmailMfaSettings={"Enabled": True, "PreferredMfa": True})
    assert app.idp.get_user(AccessToken=access)["PreferredMfaSetting"] == "EMAIL_OTP"
    app.idp.set_user_mfa_preference(AccessToken=access, EmailMfaSettings={"Enabled": False})
    assert "PreferredMfaSetting" not in app.idp.get_user(AccessToken=access)
    assert app.password_auth("hal")["AuthenticationResult"]  # OPTIONAL, nothing enabled: no challenge


def test_admin_delete_software_token_sends_the_user_back_to_setup(emulator: Any, idp: Any) -> None:
    app = totp_pool(emulator, idp, "ON")
    app.confirmed_user("kim", email="kim@example.com")
    step = app.password_auth("kim")
    associated = app.idp.associate_software_token(Session=step["Session"])
    verified = app.idp.verify_software_token(Session=associated["Session"], UserCode=code(app, associated["SecretCode"]))
    app.idp.respond_to_auth_challenge(ClientId=app.client_id, ChallengeName="MFA_SETUP", Session=verified["Session"],
                                      ChallengeResponses={"USERNAME": "kim"})
    app.idp.admin_delete_software_token(UserPoolId=app.pool_id, Username="kim")
    assert "UserMFASettingList" not in app.idp.admin_get_user(UserPoolId=app.pool_id, Username="kim")
    assert app.password_auth("kim")["ChallengeName"] == "MFA_SETUP"
    assert events(app, "mfa.removed")[-1]["factor"] == "SOFTWARE_TOKEN_MFA"
    with raises("ResourceNotFoundException"):
        app.idp.admin_delete_software_token(UserPoolId=app.pool_id, Username="kim")
    with raises("UserNotFoundException"):
        app.idp.admin_delete_software_token(UserPoolId=app.pool_id, Username="nobody")


def test_enrolment_drop_off_is_measurable_from_the_control_plane(emulator: Any, idp: Any) -> None:
    """Two users are asked to enrol, one does: the control plane's event log over HTTP says so."""
    app = totp_pool(emulator, idp, "ON", UserPoolTier="LITE")  # whatever the tier
    for name in ("lee", "max"):
        app.confirmed_user(name, email=f"{name}@example.com")
        step = app.password_auth(name)
        if name == "lee":
            associated = app.idp.associate_software_token(Session=step["Session"])
            verified = app.idp.verify_software_token(Session=associated["Session"],
                                                     UserCode=code(app, associated["SecretCode"]))
            app.idp.respond_to_auth_challenge(ClientId=app.client_id, ChallengeName="MFA_SETUP",
                                              Session=verified["Session"], ChallengeResponses={"USERNAME": name})
    page = requests.get(f"{app.emulator.url}/_harness/events", params={"type": "mfa.*", "pool_id": app.pool_id},
                        timeout=5).json()
    seen = [(e["type"], e["data"]["username"], e["data"].get("challenge") or e["data"].get("how")) for e in page["events"]]
    offered = {user for kind, user, what in seen if kind == "mfa.challenge" and what == "MFA_SETUP"}
    enrolled = {user for kind, user, what in seen if kind == "mfa.enrolled" and what == "setup"}
    assert offered == {"lee", "max"} and enrolled == {"lee"}
