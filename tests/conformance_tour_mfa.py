"""The MFA part of the operation-conformance tour: pool MFA configuration, TOTP enrolment (and
AdminDeleteSoftwareToken), factors, preferences and (Admin)GetUserAuthFactors, every MFA challenge
through RespondToAuthChallenge and its admin form, and USER_AUTH's EMAIL_OTP / SMS_OTP first factors.

Codes are real: TOTP from pyotp on the emulator's frozen virtual clock, SMS and
email codes from the mailbox. Each TOTP code is used once (Cognito refuses a
replay), so the clock moves a 30-second step before the next one is needed.
"""

from __future__ import annotations

import json
from typing import Any

import pyotp

from conformance_tour_support import (
    BAD_TOKEN, MISSING_POOL, PASSWORD, SES, SMS, fail, other_code, password_auth, permanent_user, pool_with_client,
)

PHONE = "+15555550142"
EMAIL = "mo@example.com"


class Authenticator:
    """The user's authenticator app: pyotp codes on the emulator's virtual clock."""

    def __init__(self, backend: Any, secret: str) -> None:
        self.clock = backend.clock
        self.totp = pyotp.TOTP(secret)

    def code(self) -> str:
        return self.totp.at(self.clock.now())

    def next_code(self) -> str:
        """A code of the next time step (the one just used cannot be used again)."""
        self.clock.advance(30)
        return self.code()


def mfa_tour(idp: Any, backend: Any) -> None:
    """Every MFA operation once to succeed and once to fail, then each MFA challenge answered."""
    backend.clock.freeze()
    pool_id, cid = pool_with_client(idp, "tour-mfa", AutoVerifiedAttributes=["email", "phone_number"],
                                    SmsConfiguration=SMS, EmailConfiguration=SES)
    pool_config(idp, pool_id)
    permanent_user(idp, pool_id, "mo", email=EMAIL, email_verified="true", phone_number=PHONE,
                   phone_number_verified="true")
    access = password_auth(idp, cid, "mo")["AuthenticationResult"]["AccessToken"]  # OPTIONAL, nothing on yet
    app = enrol_totp(idp, backend, access)
    user_factors(idp, pool_id, access)
    totp_challenges(idp, pool_id, cid, app)
    code_challenges(idp, backend, pool_id, cid)
    select_challenge(idp, backend, pool_id, cid)
    setup_challenge(idp, backend, pool_id, cid)
    passwordless(idp, backend)


def pool_config(idp: Any, pool_id: str) -> None:
    idp.set_user_pool_mfa_config(
        UserPoolId=pool_id, MfaConfiguration="OPTIONAL", SoftwareTokenMfaConfiguration={"Enabled": True},
        SmsMfaConfiguration={"SmsAuthenticationMessage": "Your code {####}", "SmsConfiguration": SMS},
        EmailMfaConfiguration={"Message": "Your code {####}", "Subject": "Sign-in code"})
    fail(idp.set_user_pool_mfa_config, UserPoolId=pool_id, MfaConfiguration="ON",
         SmsMfaConfiguration={"SmsAuthenticationMessage": "no placeholder", "SmsConfiguration": SMS})
    fail(idp.set_user_pool_mfa_config, UserPoolId=MISSING_POOL, MfaConfiguration="OFF")
    idp.get_user_pool_mfa_config(UserPoolId=pool_id)
    fail(idp.get_user_pool_mfa_config, UserPoolId=MISSING_POOL)


def enrol_totp(idp: Any, backend: Any, access: str) -> Authenticator:
    secret = idp.associate_software_token(AccessToken=access)["SecretCode"]
    fail(idp.associate_software_token, AccessToken=BAD_TOKEN)
    app = Authenticator(backend, secret)
    fail(idp.verify_software_token, AccessToken=access, UserCode=other_code(app.code()))
    idp.verify_software_token(AccessToken=access, UserCode=app.code(), FriendlyDeviceName="tour phone")
    return app


def user_factors(idp: Any, pool_id: str, access: str) -> None:
    """TOTP preferred, SMS on (through the new and the legacy settings), email on; what the user has."""
    idp.set_user_mfa_preference(AccessToken=access, SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True})
    fail(idp.set_user_mfa_preference, AccessToken=BAD_TOKEN, SoftwareTokenMfaSettings={"Enabled": True})
    idp.admin_set_user_mfa_preference(UserPoolId=pool_id, Username="mo", EmailMfaSettings={"Enabled": True})
    fail(idp.admin_set_user_mfa_preference, UserPoolId=pool_id, Username="ghost", EmailMfaSettings={"Enabled": True})
    sms_option = [{"DeliveryMedium": "SMS", "AttributeName": "phone_number"}]
    idp.set_user_settings(AccessToken=access, MFAOptions=sms_option)
    fail(idp.set_user_settings, AccessToken=BAD_TOKEN, MFAOptions=sms_option)
    idp.admin_set_user_settings(UserPoolId=pool_id, Username="mo", MFAOptions=sms_option)
    fail(idp.admin_set_user_settings, UserPoolId=pool_id, Username="ghost", MFAOptions=sms_option)
    user = idp.admin_get_user(UserPoolId=pool_id, Username="mo")
    assert user["PreferredMfaSetting"] == "SOFTWARE_TOKEN_MFA", user
    assert sorted(user["UserMFASettingList"]) == ["EMAIL_OTP", "SMS_MFA", "SOFTWARE_TOKEN_MFA"], user
    factors = idp.get_user_auth_factors(AccessToken=access)
    assert factors["Username"] == "mo" and factors["PreferredMfaSetting"] == "SOFTWARE_TOKEN_MFA", factors
    fail(idp.get_user_auth_factors, AccessToken=BAD_TOKEN)
    idp.admin_get_user_auth_factors(UserPoolId=pool_id, Username="mo")
    fail(idp.admin_get_user_auth_factors, UserPoolId=pool_id, Username="ghost")


def totp_challenges(idp: Any, pool_id: str, cid: str, app: Authenticator) -> None:
    """SOFTWARE_TOKEN_MFA after a user and after an admin password sign-in."""
    step = password_auth(idp, cid, "mo")
    assert step["ChallengeName"] == "SOFTWARE_TOKEN_MFA", step
    code = app.next_code()
    answer = {"USERNAME": "mo", "SOFTWARE_TOKEN_MFA_CODE": other_code(code)}
    fail(idp.respond_to_auth_challenge, ClientId=cid, ChallengeName="SOFTWARE_TOKEN_MFA", Session=step["Session"],
         ChallengeResponses=answer)
    answer["SOFTWARE_TOKEN_MFA_CODE"] = code
    idp.respond_to_auth_challenge(ClientId=cid, ChallengeName="SOFTWARE_TOKEN_MFA", Session=step["Session"],
                                  ChallengeResponses=answer)
    step = idp.admin_initiate_auth(UserPoolId=pool_id, ClientId=cid, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                                   AuthParameters={"USERNAME": "mo", "PASSWORD": PASSWORD})
    assert step["ChallengeName"] == "SOFTWARE_TOKEN_MFA", step
    fail(idp.admin_respond_to_auth_challenge, UserPoolId=pool_id, ClientId=cid, ChallengeName="SOFTWARE_TOKEN_MFA",
         Session=step["Session"], ChallengeResponses=answer)  # the code just used: a replay
    answer["SOFTWARE_TOKEN_MFA_CODE"] = app.next_code()
    idp.admin_respond_to_auth_challenge(UserPoolId=pool_id, ClientId=cid, ChallengeName="SOFTWARE_TOKEN_MFA",
                                        Session=step["Session"], ChallengeResponses=answer)


def _answer_with_mailbox_code(idp: Any, backend: Any, cid: str, to: str, challenge: str, key: str) -> None:
    step = password_auth(idp, cid, "mo")
    assert step["ChallengeName"] == challenge, step
    code = backend.mailbox.latest_code(to=to)
    fail(idp.respond_to_auth_challenge, ClientId=cid, ChallengeName=challenge, Session=step["Session"],
         ChallengeResponses={"USERNAME": "mo", key: other_code(code)})
    idp.respond_to_auth_challenge(ClientId=cid, ChallengeName=challenge, Session=step["Session"],
                                  ChallengeResponses={"USERNAME": "mo", key: code})


def code_challenges(idp: Any, backend: Any, pool_id: str, cid: str) -> None:
    """SMS_MFA and EMAIL_OTP, each the preferred factor in turn, codes read from the mailbox."""
    idp.admin_set_user_mfa_preference(UserPoolId=pool_id, Username="mo",
                                      SMSMfaSettings={"Enabled": True, "PreferredMfa": True})
    _answer_with_mailbox_code(idp, backend, cid, PHONE, "SMS_MFA", "SMS_MFA_CODE")
    idp.admin_set_user_mfa_preference(UserPoolId=pool_id, Username="mo",
                                      EmailMfaSettings={"Enabled": True, "PreferredMfa": True})
    _answer_with_mailbox_code(idp, backend, cid, EMAIL, "EMAIL_OTP", "EMAIL_OTP_CODE")


def select_challenge(idp: Any, backend: Any, pool_id: str, cid: str) -> None:
    """Several factors and no preference: SELECT_MFA_TYPE, then the chosen factor's challenge."""
    idp.admin_set_user_mfa_preference(UserPoolId=pool_id, Username="mo",
                                      EmailMfaSettings={"Enabled": True, "PreferredMfa": False})
    step = password_auth(idp, cid, "mo")
    assert step["ChallengeName"] == "SELECT_MFA_TYPE", step
    assert "SMS_MFA" in json.loads(step["ChallengeParameters"]["MFAS_CAN_CHOOSE"])
    fail(idp.respond_to_auth_challenge, ClientId=cid, ChallengeName="SELECT_MFA_TYPE", Session=step["Session"],
         ChallengeResponses={"USERNAME": "mo", "ANSWER": "NO_SUCH_FACTOR"})
    chosen = idp.respond_to_auth_challenge(ClientId=cid, ChallengeName="SELECT_MFA_TYPE", Session=step["Session"],
                                           ChallengeResponses={"USERNAME": "mo", "ANSWER": "SMS_MFA"})
    assert chosen["ChallengeName"] == "SMS_MFA", chosen
    code = backend.mailbox.latest_code(to=PHONE)
    idp.respond_to_auth_challenge(ClientId=cid, ChallengeName="SMS_MFA", Session=chosen["Session"],
                                  ChallengeResponses={"USERNAME": "mo", "SMS_MFA_CODE": code})


def setup_challenge(idp: Any, backend: Any, pool_id: str, cid: str) -> None:
    """MFA ON and a user with no factor and nothing to send a code to: MFA_SETUP with a session-bound TOTP."""
    idp.set_user_pool_mfa_config(UserPoolId=pool_id, MfaConfiguration="ON")
    permanent_user(idp, pool_id, "nu")
    step = password_auth(idp, cid, "nu")
    assert step["ChallengeName"] == "MFA_SETUP", step
    fail(idp.associate_software_token, Session="x" * 40)
    associated = idp.associate_software_token(Session=step["Session"])
    app = Authenticator(backend, associated["SecretCode"])
    fail(idp.verify_software_token, Session=associated["Session"], UserCode=other_code(app.next_code()))
    verified = idp.verify_software_token(Session=associated["Session"], UserCode=app.code())
    fail(idp.respond_to_auth_challenge, ClientId=cid, ChallengeName="MFA_SETUP", Session="z" * 40,
         ChallengeResponses={"USERNAME": "nu"})
    done = idp.respond_to_auth_challenge(ClientId=cid, ChallengeName="MFA_SETUP", Session=verified["Session"],
                                         ChallengeResponses={"USERNAME": "nu"})
    assert done["AuthenticationResult"]["AccessToken"], done
    idp.admin_delete_software_token(UserPoolId=pool_id, Username="nu")  # a lost phone
    fail(idp.admin_delete_software_token, UserPoolId=pool_id, Username="nu")  # nothing left to delete
    assert password_auth(idp, cid, "nu")["ChallengeName"] == "MFA_SETUP"  # MFA ON: enrol again


def passwordless(idp: Any, backend: Any) -> None:
    """USER_AUTH's one-time-code first factors: EMAIL_OTP chosen at SELECT_CHALLENGE, SMS_OTP preferred."""
    policy = {"SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "EMAIL_OTP", "SMS_OTP"]}}
    pool_id = idp.create_user_pool(PoolName="tour-passwordless", AutoVerifiedAttributes=["email", "phone_number"],
                                   SmsConfiguration=SMS, EmailConfiguration=SES, Policies=policy)["UserPool"]["Id"]
    cid = idp.create_user_pool_client(UserPoolId=pool_id, ClientName="choice",
                                      ExplicitAuthFlows=["ALLOW_USER_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
                                      )["UserPoolClient"]["ClientId"]
    permanent_user(idp, pool_id, "pat", email="pat@example.com", email_verified="true", phone_number=PHONE,
                   phone_number_verified="true")
    step = idp.initiate_auth(ClientId=cid, AuthFlow="USER_AUTH", AuthParameters={"USERNAME": "pat"})
    assert step["ChallengeName"] == "SELECT_CHALLENGE", step
    assert {"EMAIL_OTP", "SMS_OTP"} <= set(step["AvailableChallenges"]), step
    fail(idp.respond_to_auth_challenge, ClientId=cid, ChallengeName="SELECT_CHALLENGE", Session=step["Session"],
         ChallengeResponses={"USERNAME": "pat", "ANSWER": "WEB_AUTHN"})
    chosen = idp.respond_to_auth_challenge(ClientId=cid, ChallengeName="SELECT_CHALLENGE", Session=step["Session"],
                                           ChallengeResponses={"USERNAME": "pat", "ANSWER": "EMAIL_OTP"})
    assert chosen["ChallengeName"] == "EMAIL_OTP", chosen
    idp.respond_to_auth_challenge(
        ClientId=cid, ChallengeName="EMAIL_OTP", Session=chosen["Session"],
        ChallengeResponses={"USERNAME": "pat", "EMAIL_OTP_CODE": backend.mailbox.latest_code(to="pat@example.com")})
    step = idp.initiate_auth(ClientId=cid, AuthFlow="USER_AUTH",
                             AuthParameters={"USERNAME": "pat", "PREFERRED_CHALLENGE": "SMS_OTP"})
    assert step["ChallengeName"] == "SMS_OTP", step
    code = backend.mailbox.latest_code(to=PHONE)
    fail(idp.respond_to_auth_challenge, ClientId=cid, ChallengeName="SMS_OTP", Session=step["Session"],
         ChallengeResponses={"USERNAME": "pat", "SMS_OTP_CODE": other_code(code)})
    done = idp.respond_to_auth_challenge(ClientId=cid, ChallengeName="SMS_OTP", Session=step["Session"],
                                         ChallengeResponses={"USERNAME": "pat", "SMS_OTP_CODE": code})
    assert done["AuthenticationResult"]["AccessToken"], done
    assert idp.admin_get_user_auth_factors(UserPoolId=pool_id, Username="pat")["ConfiguredUserAuthFactors"]
