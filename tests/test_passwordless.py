"""Choice-based sign-in (USER_AUTH) with one-time-code first factors, over HTTP with real boto3:
EMAIL_OTP and SMS_OTP offered by the pool's sign-in policy, chosen with SELECT_CHALLENGE or
PREFERRED_CHALLENGE, codes read from the mailbox, tokens verified against the served JWKS; and
GetUserAuthFactors / AdminGetUserAuthFactors."""

from __future__ import annotations

from typing import Any

import pytest

from auth_support import App, make_app, raises

SES = {"EmailSendingAccount": "DEVELOPER", "SourceArn": "arn:aws:ses:us-east-1:123456789012:identity/example.com"}
PHONE = "+15555550123"
FACTORS = ["PASSWORD", "EMAIL_OTP", "SMS_OTP"]


def passwordless_app(emulator: Any, idp: Any, factors: list[str] = FACTORS, **client: Any) -> App:
    emulator.backend.clock.freeze()
    return make_app(emulator, idp,
                    pool={"Policies": {"SignInPolicy": {"AllowedFirstAuthFactors": factors}},
                          "AutoVerifiedAttributes": ["email", "phone_number"], "EmailConfiguration": SES},
                    client={"ExplicitAuthFlows": ["ALLOW_USER_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"], **client})


@pytest.fixture()
def app(emulator: Any, idp: Any) -> App:
    made = passwordless_app(emulator, idp)
    made.confirmed_user("ivy", email="ivy@example.com")
    return made


def start(app: App, username: str, **auth: str) -> dict[str, Any]:
    return app.idp.initiate_auth(ClientId=app.client_id, AuthFlow="USER_AUTH",
                                 AuthParameters={"USERNAME": username, **auth})


def respond(app: App, step: dict[str, Any], name: str, **responses: str) -> dict[str, Any]:
    return app.idp.respond_to_auth_challenge(ClientId=app.client_id, ChallengeName=name, Session=step["Session"],
                                             ChallengeResponses=responses)


def test_email_otp_chosen_from_select_challenge(app: App) -> None:
    first = start(app, "ivy")
    assert first["ChallengeName"] == "SELECT_CHALLENGE"
    assert first["AvailableChallenges"] == ["PASSWORD", "PASSWORD_SRP", "EMAIL_OTP"]  # no verified phone: no SMS_OTP
    sent = respond(app, first, "SELECT_CHALLENGE", USERNAME="ivy", ANSWER="EMAIL_OTP")
    assert sent["ChallengeName"] == "EMAIL_OTP" and "AuthenticationResult" not in sent
    assert sent["ChallengeParameters"] == {"CODE_DELIVERY_DELIVERY_MEDIUM": "EMAIL", "CODE_DELIVERY_DESTINATION": "i***@e***"}
    message = app.backend.mailbox.latest(to="ivy@example.com")
    assert message.purpose == "MFA:EMAIL_OTP" and message.code in message.body
    done = respond(app, sent, "EMAIL_OTP", USERNAME="ivy", EMAIL_OTP_CODE=message.code)
    assert app.verify(done["AuthenticationResult"])["access"]["username"] == "ivy"
    assert not app.backend.events.list("mfa.passed")  # a first factor, not a second one


def test_sms_otp_as_preferred_challenge(app: App) -> None:
    app.idp.admin_update_user_attributes(UserPoolId=app.pool_id, Username="ivy", UserAttributes=[
        {"Name": "phone_number", "Value": PHONE}, {"Name": "phone_number_verified", "Value": "true"}])
    sent = start(app, "ivy", PREFERRED_CHALLENGE="SMS_OTP")
    assert sent["ChallengeName"] == "SMS_OTP"
    assert sent["ChallengeParameters"]["CODE_DELIVERY_DELIVERY_MEDIUM"] == "SMS"
    code = app.backend.mailbox.latest(to=PHONE).code
    done = respond(app, sent, "SMS_OTP", USERNAME="ivy", SMS_OTP_CODE=code)
    app.verify(done["AuthenticationResult"])


def test_wrong_codes_refused_then_session_closed(app: App) -> None:
    sent = start(app, "ivy", PREFERRED_CHALLENGE="EMAIL_OTP")
    right = app.backend.mailbox.latest(to="ivy@example.com").code
    wrong = "0" * 5 + str((int(right[-1]) + 1) % 10)
    for _ in range(3):
        with raises("CodeMismatchException", "Invalid code or auth state for the user."):
            respond(app, sent, "EMAIL_OTP", USERNAME="ivy", EMAIL_OTP_CODE=wrong)
    with raises("NotAuthorizedException", "Invalid session for the user."):
        respond(app, sent, "EMAIL_OTP", USERNAME="ivy", EMAIL_OTP_CODE=right)
    reasons = [e.data["reason"] for e in app.backend.events.list("auth.failure")]
    assert reasons[-3:] == ["otp_wrong_code", "otp_wrong_code", "otp_attempts_exceeded"]


def test_factor_the_user_cannot_use_is_refused(app: App) -> None:
    first = start(app, "ivy")
    with raises("InvalidParameterException"):
        respond(app, first, "SELECT_CHALLENGE", USERNAME="ivy", ANSWER="SMS_OTP")


def test_policy_without_otp_offers_passwords_only(emulator: Any, idp: Any) -> None:
    app = passwordless_app(emulator, idp, ["PASSWORD"])
    app.confirmed_user("jo", email="jo@example.com")
    assert start(app, "jo")["AvailableChallenges"] == ["PASSWORD", "PASSWORD_SRP"]
    first = start(app, "jo", PREFERRED_CHALLENGE="EMAIL_OTP")  # not allowed: falls back to the choice
    assert first["ChallengeName"] == "SELECT_CHALLENGE"


def test_unknown_user_with_hidden_existence_gets_a_code_that_never_comes(emulator: Any, idp: Any) -> None:
    app = passwordless_app(emulator, idp, PreventUserExistenceErrors="ENABLED")
    sent = start(app, "nobody", PREFERRED_CHALLENGE="EMAIL_OTP")
    assert sent["ChallengeName"] == "EMAIL_OTP"
    assert app.backend.mailbox.list() == []
    with raises("CodeMismatchException"):
        respond(app, sent, "EMAIL_OTP", USERNAME="nobody", EMAIL_OTP_CODE="123456")


def test_get_user_auth_factors(app: App) -> None:
    first = start(app, "ivy", PREFERRED_CHALLENGE="PASSWORD", PASSWORD="Passw0rd!")
    access = first["AuthenticationResult"]["AccessToken"]
    mine = app.idp.get_user_auth_factors(AccessToken=access)
    assert mine["Username"] == "ivy"
    assert mine["ConfiguredUserAuthFactors"] == ["PASSWORD", "EMAIL_OTP"]
    admin = app.idp.admin_get_user_auth_factors(UserPoolId=app.pool_id, Username="ivy")
    assert admin["ConfiguredUserAuthFactors"] == mine["ConfiguredUserAuthFactors"]
    with raises("UserNotFoundException"):
        app.idp.admin_get_user_auth_factors(UserPoolId=app.pool_id, Username="nobody")
    with raises("NotAuthorizedException"):
        app.idp.get_user_auth_factors(AccessToken="not.a.token")
