"""pycognito, a client library many Python apps sign users in with, against the emulator over HTTP.

pycognito does the client side on its own: SRP (``Cognito.authenticate``), TOTP
enrolment (``associate_software_token``, ``verify_software_token``,
``set_user_mfa_preference``), the MFA challenges (it raises
``SoftwareTokenMFAChallengeException`` / ``SMSMFAChallengeException`` carrying the
challenge's Session, then ``respond_to_*_mfa_challenge``) and remembered devices
(``AWSSRP.confirm_device``, ``update_device_status``, ``forget_device`` and the
DEVICE_SRP_AUTH / DEVICE_PASSWORD_VERIFIER sign-in of ``AWSSRP.authenticate_user``).
TOTP codes come from pyotp on the emulator's frozen virtual clock, SMS codes from
the mailbox; tokens are verified by pycognito itself and by PyJWT against the
served JWKS. pycognito stamps SRP TIMESTAMPs with the wall clock, which the frozen
clock stays within Cognito's five minutes of.
"""

from __future__ import annotations

from typing import Any

import pyotp
import pytest
import requests
from pycognito import Cognito, aws_srp
from pycognito.exceptions import SMSMFAChallengeException, SoftwareTokenMFAChallengeException

from auth_support import PASSWORD, App, make_app, raises
from harness.server import TEST_CREDENTIALS

SMS = {"SnsCallerArn": "arn:aws:iam::123456789012:role/sns", "ExternalId": "x"}
PHONE = "+15555550123"
DEVICE_CONFIG = {"ChallengeRequiredOnNewDevice": True, "DeviceOnlyRememberedOnUserPrompt": True}


def mfa_app(emulator: Any, idp: Any, *, sms: bool = False, secret: bool = False, **pool: Any) -> App:
    """A pool with optional MFA (TOTP, and SMS if asked) under a frozen virtual clock."""
    emulator.backend.clock.freeze()
    if sms:
        pool.update(SmsConfiguration=SMS, AutoVerifiedAttributes=["email", "phone_number"])
    app = make_app(emulator, idp, pool=pool, secret=secret)
    sms_mfa = {"SmsAuthenticationMessage": "Your code is {####}", "SmsConfiguration": SMS}
    extra = {"SmsMfaConfiguration": sms_mfa} if sms else {}
    app.idp.set_user_pool_mfa_config(UserPoolId=app.pool_id, MfaConfiguration="OPTIONAL",
                                     SoftwareTokenMfaConfiguration={"Enabled": True}, **extra)
    return app


def cognito(app: App, username: str) -> Cognito:
    """A fresh pycognito client for the user, talking to the emulator (as a new process would)."""
    return Cognito(app.pool_id, app.client_id, username=username, client_secret=app.client_secret,
                   boto3_client_kwargs={"endpoint_url": app.emulator.url, **TEST_CREDENTIALS})


def totp_code(app: App, secret: str) -> str:
    return pyotp.TOTP(secret).at(app.clock.now())


def tokens_of(user: Cognito) -> dict[str, Any]:
    """The tokens pycognito holds, shaped as an AuthenticationResult for App.verify."""
    return {"AccessToken": user.access_token, "IdToken": user.id_token, "RefreshToken": user.refresh_token,
            "TokenType": user.token_type, "ExpiresIn": user.access_claims["exp"] - user.access_claims["iat"]}


def signed_in(app: App, user: Cognito) -> dict[str, dict[str, Any]]:
    """pycognito's own verification (served JWKS, issuer, audience), then PyJWT's."""
    user.verify_tokens()
    return app.verify(tokens_of(user))


def enrol_totp(app: App, user: Cognito) -> str:
    """pycognito's enrolment of an authenticator app, made the preferred factor; the secret."""
    secret = user.associate_software_token()
    with raises("EnableSoftwareTokenMFAException"):
        user.verify_software_token("000000" if totp_code(app, secret) != "000000" else "111111", "Pixel")
    assert user.verify_software_token(totp_code(app, secret), "Pixel") is True
    user.set_user_mfa_preference(sms_mfa=False, software_token_mfa=True, preferred="SOFTWARE_TOKEN")
    app.clock.advance(30)  # the enrolment used this time step's code
    return secret


# --- SRP ------------------------------------------------------------------------------------------


def test_srp_authenticate_and_verify_tokens(emulator: Any, idp: Any) -> None:
    app = mfa_app(emulator, idp)
    sub = app.confirmed_user("alice", email="alice@example.com")
    user = cognito(app, "alice")
    user.authenticate(PASSWORD)
    claims = signed_in(app, user)
    assert claims["access"]["sub"] == sub == user.id_claims["sub"]
    assert user.access_claims["username"] == "alice"
    with raises("NotAuthorizedException", "Incorrect username or password."):
        cognito(app, "alice").authenticate("Wrong-passw0rd")


# --- SOFTWARE_TOKEN_MFA ------------------------------------------------------------------------------


def test_totp_enrolment_then_the_challenge_pycognito_raises(emulator: Any, idp: Any) -> None:
    app = mfa_app(emulator, idp)
    app.confirmed_user("alice", email="alice@example.com")
    enrolling = cognito(app, "alice")
    enrolling.authenticate(PASSWORD)  # OPTIONAL and no factor yet: tokens at once
    secret = enrol_totp(app, enrolling)
    profile = app.idp.get_user(AccessToken=enrolling.access_token)
    assert profile["UserMFASettingList"] == ["SOFTWARE_TOKEN_MFA"]
    assert profile["PreferredMfaSetting"] == "SOFTWARE_TOKEN_MFA"

    user = cognito(app, "alice")
    with pytest.raises(SoftwareTokenMFAChallengeException) as challenge:
        user.authenticate(PASSWORD)
    carried = challenge.value.get_tokens()
    assert carried["ChallengeName"] == "SOFTWARE_TOKEN_MFA" and carried["Session"]
    assert "AuthenticationResult" not in carried and user.access_token is None  # nothing before the second factor
    assert carried["ChallengeParameters"]["FRIENDLY_DEVICE_NAME"] == "Pixel"
    code = totp_code(app, secret)
    with raises("CodeMismatchException", "Invalid code or auth state for the user."):
        user.respond_to_software_token_mfa_challenge("000000" if code != "000000" else "111111")
    assert user.access_token is None
    # the Session travels in the exception: another process answers with it
    answering = cognito(app, "alice")
    answering.respond_to_software_token_mfa_challenge(code, mfa_tokens=carried)
    assert signed_in(app, answering)["access"]["username"] == "alice"

    app.clock.advance(30)
    again = cognito(app, "alice")
    with pytest.raises(SoftwareTokenMFAChallengeException):
        again.authenticate(PASSWORD)
    with raises("CodeMismatchException"):  # the code already used in the last time step: a replay
        again.respond_to_software_token_mfa_challenge(code)
    again.respond_to_software_token_mfa_challenge(totp_code(app, secret))  # the session lives on after one miss
    signed_in(app, again)

    again.set_user_mfa_preference(sms_mfa=False, software_token_mfa=False)  # MFA off for the user
    plain = cognito(app, "alice")
    plain.authenticate(PASSWORD)
    signed_in(app, plain)
    assert "UserMFASettingList" not in app.idp.get_user(AccessToken=plain.access_token)


def test_totp_with_a_client_secret(emulator: Any, idp: Any) -> None:
    app = mfa_app(emulator, idp, secret=True)
    app.confirmed_user("bob", email="bob@example.com")
    enrolling = cognito(app, "bob")
    enrolling.authenticate(PASSWORD)
    secret = enrol_totp(app, enrolling)
    user = cognito(app, "bob")
    with pytest.raises(SoftwareTokenMFAChallengeException):
        user.authenticate(PASSWORD)
    user.respond_to_software_token_mfa_challenge(totp_code(app, secret))  # SECRET_HASH added by pycognito
    signed_in(app, user)


# --- SMS_MFA ----------------------------------------------------------------------------------------


def test_sms_mfa_with_the_code_from_the_mailbox(emulator: Any, idp: Any) -> None:
    app = mfa_app(emulator, idp, sms=True, secret=True)
    app.confirmed_user("carol", email="carol@example.com", phone_number=PHONE)
    enrolling = cognito(app, "carol")
    enrolling.authenticate(PASSWORD)
    enrolling.set_user_mfa_preference(sms_mfa=True, software_token_mfa=False, preferred="SMS")
    assert app.idp.get_user(AccessToken=enrolling.access_token)["PreferredMfaSetting"] == "SMS_MFA"

    user = cognito(app, "carol")
    with pytest.raises(SMSMFAChallengeException) as challenge:
        user.authenticate(PASSWORD)
    carried = challenge.value.get_tokens()
    assert carried["ChallengeName"] == "SMS_MFA"
    assert carried["ChallengeParameters"]["CODE_DELIVERY_DELIVERY_MEDIUM"] == "SMS"
    assert carried["ChallengeParameters"]["CODE_DELIVERY_DESTINATION"] == "+*******0123"
    message = app.backend.mailbox.latest(to=PHONE)
    assert message.purpose == "MFA:SMS_MFA" and message.body == f"Your code is {message.code}"
    with raises("CodeMismatchException"):
        user.respond_to_sms_mfa_challenge(str((int(message.code) + 1) % 1_000_000).zfill(6))
    user.respond_to_sms_mfa_challenge(message.code)
    assert signed_in(app, user)["id"]["phone_number"] == PHONE


# --- remembered devices -----------------------------------------------------------------------------


class DevicesAtTheEmulator:
    """Stands in for ``requests`` inside pycognito.aws_srp, whose ConfirmDevice, UpdateDeviceStatus and
    ForgetDevice POST to the hard-coded https://cognito-idp.<region>.amazonaws.com/: the same request,
    sent to the emulator instead (nothing leaves the loopback)."""

    def __init__(self, app: App) -> None:
        self.aws = f"https://cognito-idp.{app.pool_id.split('_')[0]}.amazonaws.com/"
        self.emulator = app.emulator.url + "/"
        self.targets: list[str] = []

    def post(self, url: str, **kwargs: Any) -> requests.Response:
        assert url == self.aws, url
        self.targets.append(kwargs["headers"]["X-Amz-Target"].rpartition(".")[2])
        return requests.post(self.emulator, **kwargs)


@pytest.fixture()
def device_app(emulator: Any, idp: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[App, DevicesAtTheEmulator]:
    app = mfa_app(emulator, idp, DeviceConfiguration=DEVICE_CONFIG)
    redirect = DevicesAtTheEmulator(app)
    monkeypatch.setattr(aws_srp, "requests", redirect)
    return app, redirect


def srp(app: App, username: str, **device: str) -> aws_srp.AWSSRP:
    return aws_srp.AWSSRP(username, PASSWORD, app.pool_id, app.client_id, client=app.idp, **device)


def test_device_remembered_with_pycognito_skips_mfa(device_app: tuple[App, DevicesAtTheEmulator]) -> None:
    app, redirect = device_app
    app.confirmed_user("dora", email="dora@example.com")
    enrolling = cognito(app, "dora")
    enrolling.authenticate(PASSWORD)
    secret = enrol_totp(app, enrolling)

    # a new device: SRP, then the TOTP challenge; the tokens name a new, unconfirmed device
    client = srp(app, "dora")
    with pytest.raises(SoftwareTokenMFAChallengeException) as challenge:
        client.authenticate_user()
    session = challenge.value.get_tokens()["Session"]
    tokens = app.idp.respond_to_auth_challenge(
        ClientId=app.client_id, ChallengeName="SOFTWARE_TOKEN_MFA", Session=session,
        ChallengeResponses={"USERNAME": "dora", "SOFTWARE_TOKEN_MFA_CODE": totp_code(app, secret)})
    meta = tokens["AuthenticationResult"]["NewDeviceMetadata"]
    assert app.verify(tokens["AuthenticationResult"])["access"]["device_key"] == meta["DeviceKey"]

    answer, device_password = client.confirm_device(tokens, device_name="Dora's laptop")
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"UserConfirmationNecessary": True}  # DeviceOnlyRememberedOnUserPrompt
    access = tokens["AuthenticationResult"]["AccessToken"]
    device = app.idp.get_device(AccessToken=access, DeviceKey=meta["DeviceKey"])["Device"]
    names = {a["Name"]: a["Value"] for a in device["DeviceAttributes"]}
    assert names["device_name"] == "Dora's laptop" and names["dev:device_remembered_status"] == "not_remembered"
    client.update_device_status(True, access, meta["DeviceKey"])
    device = app.idp.get_device(AccessToken=access, DeviceKey=meta["DeviceKey"])["Device"]
    assert {a["Name"]: a["Value"] for a in device["DeviceAttributes"]}["dev:device_remembered_status"] == "remembered"

    # the remembered device: PASSWORD_VERIFIER, DEVICE_SRP_AUTH, DEVICE_PASSWORD_VERIFIER and no MFA
    app.clock.advance(30)
    device_keys = {"device_key": meta["DeviceKey"], "device_group_key": meta["DeviceGroupKey"],
                   "device_password": device_password}
    result = srp(app, "dora", **device_keys).authenticate_user()
    assert "ChallengeName" not in result and "NewDeviceMetadata" not in result["AuthenticationResult"]
    claims = app.verify(result["AuthenticationResult"])
    assert claims["access"]["device_key"] == meta["DeviceKey"] and claims["access"]["username"] == "dora"
    challenges = [e.data["challenge"] for e in app.backend.events.list("mfa.challenge")]
    assert challenges == ["SOFTWARE_TOKEN_MFA"]  # only the new device's sign-in was challenged

    # a wrong device password is refused at DEVICE_PASSWORD_VERIFIER
    with raises("NotAuthorizedException"):
        srp(app, "dora", **{**device_keys, "device_password": device_password[::-1]}).authenticate_user()

    # forgotten: listed no more, and its key no longer signs in
    client.forget_device(result["AuthenticationResult"]["AccessToken"], meta["DeviceKey"])
    assert app.idp.list_devices(AccessToken=enrolling.access_token)["Devices"] == []
    with raises("ResourceNotFoundException"):
        srp(app, "dora", **device_keys).authenticate_user()
    assert redirect.targets == ["ConfirmDevice", "UpdateDeviceStatus", "ForgetDevice"]

