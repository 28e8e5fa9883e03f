"""Multi-factor authentication: the pool's factors, a user's factors, and the second step of a sign-in.

Three factors, named as the API names their challenges: ``SOFTWARE_TOKEN_MFA``
(TOTP, :mod:`harness.engine.totp`), ``SMS_MFA`` and ``EMAIL_OTP`` (a six-digit
code sent to the user's phone or email, which lands in the mailbox and obeys its
delivery faults). The pool turns factors on (SetUserPoolMfaConfig; SMS also
through CreateUserPool's SmsConfiguration) and says whether MFA is OFF,
OPTIONAL or ON. A factor is *active* for a user when both the pool and the user
enabled it and the user can receive it.

After the password, :func:`decide` says what the sign-in needs next:

* MFA OFF, or OPTIONAL and nothing active: nothing (tokens);
* one active factor, or the user's preferred one: that factor's challenge;
* several and no preference: SELECT_MFA_TYPE (``MFAS_CAN_CHOOSE``);
* MFA ON and nothing active: SMS_MFA / EMAIL_OTP when the pool has the factor and
  the user has the phone / email (Cognito's fallback), else MFA_SETUP
  (``MFAS_CAN_SETUP``), where the user associates an authenticator with the
  challenge's session.

This module holds the rules; :mod:`harness.engine.signin` holds the sessions
and the order of steps, :mod:`harness.engine.ops.mfa` the operations.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from harness.encoding import secrets_equal
from harness.engine import events as ev
from harness.engine import messaging, tiers, totp, trigger_sources
from harness.engine.models import AuthSession, SoftwareToken, User, UserPool
from harness.errors import CognitoError, Err

if TYPE_CHECKING:  # pragma: no cover
    from harness.engine.store import Backend

TOTP = "SOFTWARE_TOKEN_MFA"
SMS = "SMS_MFA"
EMAIL = "EMAIL_OTP"
FACTORS = (SMS, TOTP, EMAIL)  # the order Cognito lists them in MFAS_CAN_CHOOSE
SMS_OTP = "SMS_OTP"  # USER_AUTH's SMS first factor (EMAIL_OTP is both a first and a second factor)
SELECT = "SELECT_MFA_TYPE"
SETUP = "MFA_SETUP"
CHALLENGES = (*FACTORS, SELECT, SETUP)
ANSWER_KEY = {TOTP: "SOFTWARE_TOKEN_MFA_CODE", SMS: "SMS_MFA_CODE", EMAIL: "EMAIL_OTP_CODE", SMS_OTP: "SMS_OTP_CODE"}
SELECT_ANSWERS = {SMS: SMS, TOTP: TOTP, EMAIL: EMAIL, "EMAIL_MFA": EMAIL}  # the docs also name EMAIL_MFA
CODE_ATTEMPTS = 3  # wrong codes a challenge session takes before it is closed
CODE_LIFETIME = 180.0  # an SMS / email MFA code: Cognito's minimum (3 minutes)
CODE_PLACEHOLDER = "{####}"
SETTING_NAMES = {"SMSMfaSettings": SMS, "SoftwareTokenMfaSettings": TOTP, "EmailMfaSettings": EMAIL}


# --- the pool ------------------------------------------------------------------------------------


def _template(field_name: str, text: Any, default: str) -> str:
    if text is None:
        return default
    if CODE_PLACEHOLDER not in str(text):
        raise Err.MFA_TEMPLATE_CODE.error(field=field_name)
    return str(text)


def _check_mode(pool: UserPool, mode: str) -> None:
    if mode != "OFF" and not (pool.mfa.totp_enabled or pool.mfa.sms_enabled or pool.mfa.email_enabled):
        raise Err.MFA_ON_NEEDS_FACTOR.error(mode=mode)


def apply_pool_settings(pool: UserPool, params: dict[str, Any]) -> None:
    """CreateUserPool / UpdateUserPool: MfaConfiguration, and SMS MFA from SmsConfiguration.

    These operations cannot turn TOTP or email MFA on (SetUserPoolMfaConfig does);
    an update keeps what SetUserPoolMfaConfig set. SMS MFA is on when the pool has
    an SmsConfiguration and MFA is not OFF. MFA ON / OPTIONAL with no other factor
    needs SMS, so an SmsConfiguration (Cognito's refusal otherwise, word for word;
    AWS accepts the SmsConfiguration alone, as moto's AWS-verified tests create it).
    """
    mode = params.get("MfaConfiguration", "OFF")
    if params.get("SmsAuthenticationMessage") is not None:
        pool.mfa.sms_message = _template("SmsAuthenticationMessage", params["SmsAuthenticationMessage"], pool.mfa.sms_message)
    sms_ready = params.get("SmsConfiguration") is not None
    if mode != "OFF" and not (pool.mfa.totp_enabled or pool.mfa.email_enabled or sms_ready):
        raise Err.MFA_NEEDS_SMS_CONFIG.error()
    pool.mfa.sms_enabled = mode != "OFF" and params.get("SmsConfiguration") is not None
    pool.mfa_configuration = mode


def set_pool_config(pool: UserPool, params: dict[str, Any]) -> None:
    """SetUserPoolMfaConfig: factors given are set, factors left out keep their state."""
    if "SoftwareTokenMfaConfiguration" in params:
        pool.mfa.totp_enabled = bool((params["SoftwareTokenMfaConfiguration"] or {}).get("Enabled", False))
    if "SmsMfaConfiguration" in params:
        sms = params["SmsMfaConfiguration"] or {}
        pool.mfa.sms_message = _template("SmsAuthenticationMessage", sms.get("SmsAuthenticationMessage"), pool.mfa.sms_message)
        if sms.get("SmsConfiguration") is not None:
            pool.extra["SmsConfiguration"] = dict(sms["SmsConfiguration"])
        pool.mfa.sms_enabled = bool(sms) and "SmsConfiguration" in pool.extra
    if "EmailMfaConfiguration" in params:
        email = params["EmailMfaConfiguration"] or {}
        if email:
            tiers.require(pool, "EMAIL_MFA")
            if pool.email_sending_account != "DEVELOPER":
                raise Err.EMAIL_MFA_NEEDS_SES.error()
            pool.mfa.email_message = _template("EmailMfaConfiguration.Message", email.get("Message"), pool.mfa.email_message)
            pool.mfa.email_subject = str(email.get("Subject") or pool.mfa.email_subject)
        pool.mfa.email_enabled = bool(email)
    if "WebAuthnConfiguration" in params:
        pool.mfa.webauthn = dict(params["WebAuthnConfiguration"] or {})
    mode = params.get("MfaConfiguration", pool.mfa_configuration)
    _check_mode(pool, mode)
    pool.mfa_configuration = mode


def pool_settings_copy(pool: UserPool) -> UserPool:
    """A stand-in pool holding copies of what SetUserPoolMfaConfig may change (validated before adopted)."""
    trial = copy.copy(pool)
    trial.mfa = copy.deepcopy(pool.mfa)
    trial.extra = copy.deepcopy(pool.extra)
    return trial


def adopt_pool_settings(pool: UserPool, trial: UserPool) -> None:
    pool.mfa, pool.mfa_configuration, pool.extra = trial.mfa, trial.mfa_configuration, trial.extra


def pool_config_view(pool: UserPool) -> dict[str, Any]:
    """GetUserPoolMfaConfig / SetUserPoolMfaConfig's answer."""
    out: dict[str, Any] = {
        "MfaConfiguration": pool.mfa_configuration,
        "SoftwareTokenMfaConfiguration": {"Enabled": pool.mfa.totp_enabled},
    }
    if pool.mfa.sms_enabled:
        sms: dict[str, Any] = {"SmsAuthenticationMessage": pool.mfa.sms_message}
        if "SmsConfiguration" in pool.extra:
            sms["SmsConfiguration"] = dict(pool.extra["SmsConfiguration"])
        out["SmsMfaConfiguration"] = sms
    if pool.mfa.email_enabled:
        out["EmailMfaConfiguration"] = {"Message": pool.mfa.email_message, "Subject": pool.mfa.email_subject}
    if pool.mfa.webauthn:
        out["WebAuthnConfiguration"] = dict(pool.mfa.webauthn)
    return out


# --- a user's factors ------------------------------------------------------------------------------


def _legacy_sms(user: User) -> bool:
    return any(option.get("DeliveryMedium") == "SMS" for option in user.mfa_options)


def user_enabled(user: User) -> list[str]:
    """The factors the user turned on (UserMFASettingList), whatever the pool allows."""
    on = {SMS: user.mfa.sms_enabled or _legacy_sms(user), TOTP: user.mfa.totp_enabled, EMAIL: user.mfa.email_enabled}
    return [factor for factor in FACTORS if on[factor]]


def _pool_enabled(pool: UserPool, factor: str) -> bool:
    return {SMS: pool.mfa.sms_enabled, TOTP: pool.mfa.totp_enabled, EMAIL: pool.mfa.email_enabled}[factor]


def _reachable(user: User, factor: str) -> bool:
    if factor == SMS:
        return bool(user.attributes.get("phone_number"))
    if factor == EMAIL:
        return bool(user.attributes.get("email"))
    return user.mfa.token is not None


def active(pool: UserPool, user: User) -> list[str]:
    """Factors a sign-in can ask this user for now."""
    return [f for f in user_enabled(user) if _pool_enabled(pool, f) and _reachable(user, f)]


def settings_view(user: User) -> dict[str, Any]:
    """``UserMFASettingList`` and ``PreferredMfaSetting`` (GetUser, AdminGetUser, GetUserAuthFactors)."""
    out: dict[str, Any] = {}
    enabled = user_enabled(user)
    if enabled:
        out["UserMFASettingList"] = enabled
    if user.mfa.preferred and user.mfa.preferred in enabled:
        out["PreferredMfaSetting"] = user.mfa.preferred
    return out


def configured_factors(pool: UserPool, user: User) -> list[str]:
    """GetUserAuthFactors' ``ConfiguredUserAuthFactors``: what this user can sign in with.

    PASSWORD when the user has one; EMAIL_OTP / SMS_OTP when the pool's sign-in
    policy allows them and the address is verified; SOFTWARE_TOKEN when an
    authenticator is verified. (WEB_AUTHN: passkeys are not emulated.)
    """
    allowed = tiers.first_factors(pool)
    out = ["PASSWORD"] if user.password_hash is not None else []
    for factor, attribute in ((EMAIL, "email"), (SMS_OTP, "phone_number")):
        if factor in allowed and user.attributes.get(f"{attribute}_verified") == "true":
            out.append(factor)
    if user.mfa.token is not None:
        out.append("SOFTWARE_TOKEN")
    return out


def set_preference(backend: Backend, pool: UserPool, user: User, params: dict[str, Any]) -> None:
    """SetUserMFAPreference / AdminSetUserMFAPreference: each settings block given turns its factor
    on or off and may make it preferred; blocks left out change nothing."""
    changes: dict[str, dict[str, Any]] = {
        SETTING_NAMES[name]: params[name] for name in SETTING_NAMES if params.get(name) is not None
    }
    for factor, setting in changes.items():
        if not setting.get("Enabled"):
            continue
        if factor == TOTP and user.mfa.token is None:
            raise Err.TOTP_NOT_VERIFIED.error()
        if factor == SMS and not user.attributes.get("phone_number"):
            raise Err.SMS_MFA_NO_PHONE.error()
        if factor == EMAIL:
            tiers.require(pool, "EMAIL_MFA")
            if not user.attributes.get("email"):
                raise Err.EMAIL_MFA_NO_EMAIL.error()
    before = set(user_enabled(user))
    for factor, setting in changes.items():
        enabled = bool(setting.get("Enabled"))
        if factor == SMS:
            user.mfa.sms_enabled = enabled
            if not enabled:
                user.mfa_options = [o for o in user.mfa_options if o.get("DeliveryMedium") != "SMS"]
        elif factor == TOTP:
            user.mfa.totp_enabled = enabled
        else:
            user.mfa.email_enabled = enabled
        if setting.get("PreferredMfa") and enabled:
            user.mfa.preferred = factor
        elif user.mfa.preferred == factor and (not enabled or setting.get("PreferredMfa") is False):
            user.mfa.preferred = None
    after = user_enabled(user)
    for factor in after:
        if factor not in before:
            backend.events.emit(ev.MFA_ENROLLED, pool.pool_id, username=user.username, factor=factor, how="preference")
    backend.events.emit(ev.MFA_PREFERENCE, pool.pool_id, username=user.username, enabled=after,
                        preferred=user.mfa.preferred)


def set_legacy_settings(backend: Backend, pool: UserPool, user: User, options: list[dict[str, Any]]) -> None:
    """SetUserSettings / AdminSetUserSettings: the legacy MFAOptions (SMS only).

    An empty list turns SMS MFA off; an SMS option for phone_number turns it on.
    """
    for option in options:
        if option.get("DeliveryMedium") == "SMS" and not user.attributes.get("phone_number"):
            raise Err.SMS_MFA_NO_PHONE.error()
    user.mfa_options = [
        {"DeliveryMedium": str(o.get("DeliveryMedium")), "AttributeName": str(o.get("AttributeName") or "phone_number")}
        for o in options
    ]
    user.mfa.sms_enabled = _legacy_sms(user)
    if not user.mfa.sms_enabled and user.mfa.preferred == SMS:
        user.mfa.preferred = None
    if user.mfa.sms_enabled:
        backend.events.emit(ev.MFA_ENROLLED, pool.pool_id, username=user.username, factor=SMS, how="settings")


# --- TOTP enrolment ------------------------------------------------------------------------------


def associate(backend: Backend, pool: UserPool, user: User) -> str:
    """AssociateSoftwareToken: a fresh secret, pending until VerifySoftwareToken proves it."""
    if not pool.mfa.totp_enabled:
        raise Err.TOTP_NOT_ENABLED_IN_POOL.error()
    secret = totp.new_secret(backend.ids.randbytes(totp.SECRET_BYTES))
    user.mfa.pending = SoftwareToken(secret=secret, associated=backend.clock.now())
    return secret


def verify(backend: Backend, pool: UserPool, user: User, code: str, friendly_name: str | None,
           *, enrolling: bool = False) -> None:
    """VerifySoftwareToken: the pending authenticator becomes the user's (replacing any earlier one).

    ``enrolling`` (an MFA_SETUP session, not an access token) also turns TOTP on and makes
    it preferred: enrolment is what that sign-in asked for.
    """
    if not pool.mfa.totp_enabled:
        raise Err.TOTP_NOT_ENABLED_IN_POOL.error()
    pending = user.mfa.pending
    if pending is None:
        raise Err.TOTP_NOT_ASSOCIATED.error()
    step = totp.matching_step(pending.secret, code, backend.clock.now(), pending.last_step)
    if step is None:
        backend.events.emit(ev.MFA_FAILED, pool.pool_id, username=user.username, challenge="VerifySoftwareToken",
                            reason="wrong_code")
        raise Err.TOTP_VERIFY_MISMATCH.error()
    pending.last_step = step
    pending.verified = backend.clock.now()
    pending.friendly_name = friendly_name or ""
    user.mfa.token = pending
    user.mfa.pending = None
    if enrolling:
        user.mfa.totp_enabled = True
        user.mfa.preferred = user.mfa.preferred or TOTP
    backend.events.emit(ev.MFA_ENROLLED, pool.pool_id, username=user.username, factor=TOTP, how="verified")


def forget_token(backend: Backend, pool: UserPool, user: User) -> None:
    """AdminDeleteSoftwareToken: the authenticator is gone and TOTP off."""
    backend.events.emit(ev.MFA_REMOVED, pool.pool_id, username=user.username, factor=TOTP)
    user.mfa.token = None
    user.mfa.pending = None
    user.mfa.totp_enabled = False
    if user.mfa.preferred == TOTP:
        user.mfa.preferred = None


# --- the second step of a sign-in --------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """What a sign-in needs after the password: a challenge name and, for choices, its options."""

    challenge: str
    options: tuple[str, ...] = ()


def decide(pool: UserPool, user: User) -> Step | None:
    """The MFA step this user's sign-in needs now (None: issue tokens)."""
    if pool.mfa_configuration == "OFF":
        return None
    factors = active(pool, user)
    if factors:
        if user.mfa.preferred in factors:
            return Step(str(user.mfa.preferred))
        if len(factors) == 1:
            return Step(factors[0])
        return Step(SELECT, tuple(factors))
    if pool.mfa_configuration != "ON":
        return None
    if pool.mfa.totp_enabled and user.mfa.token is not None:
        return Step(TOTP)  # verified but never turned on (MFA_SETUP left unanswered): MFA is required
    for fallback in (SMS, EMAIL):
        if _pool_enabled(pool, fallback) and _reachable(user, fallback):
            return Step(fallback)
    return Step(SETUP, tuple(f for f in (TOTP, EMAIL) if _pool_enabled(pool, f)) or (TOTP,))


def _delivery(pool: UserPool, user: User, factor: str) -> tuple[str, str, str, str | None]:
    """(channel, destination, template, subject) of an SMS / email code."""
    if factor in (SMS, SMS_OTP):
        return "SMS", user.attributes.get("phone_number", ""), pool.mfa.sms_message, None
    return "EMAIL", user.attributes.get("email", ""), pool.mfa.email_message, pool.mfa.email_subject


def send_code(backend: Backend, pool: UserPool, user: User, session: AuthSession, factor: str,
              operation: str, *, client_id: str | None = None,
              client_metadata: dict[str, str] | None = None) -> dict[str, str]:
    """Put a fresh code on the session and send it; the challenge's delivery parameters.

    A delivery fault is recorded (failed message, ``message.failed``) and the
    challenge still goes out, as Cognito's asynchronous delivery does: the code
    simply never arrives. The pool's CustomMessage function (source
    CustomMessage_Authentication) words the message; its failure fails the sign-in.
    """
    channel, to, template, subject = _delivery(pool, user, factor)
    worded = trigger_sources.custom_message(
        backend, pool, user, trigger_sources.MESSAGE_AUTHENTICATION,
        trigger_sources.MessageTemplates(sms=template, email=template, subject=subject),
        client_id=client_id, client_metadata=client_metadata,
    )
    template, subject = worded.body(channel), worded.subject if channel == "EMAIL" else None
    session.code = backend.ids.code()
    session.code_expires = min(session.expires_at, backend.clock.now() + CODE_LIFETIME)
    try:
        details = messaging.deliver(
            backend, pool_id=pool.pool_id, operation=operation, purpose=f"MFA:{factor}", channel=channel, to=to,
            username=user.username, body_template=template, subject=subject, code=session.code,
        )
    except CognitoError:
        details = messaging.delivery_details(channel, to)
    return {"CODE_DELIVERY_DELIVERY_MEDIUM": details["DeliveryMedium"],
            "CODE_DELIVERY_DESTINATION": details["Destination"]}


def challenge_parameters(user: User, step: Step) -> dict[str, str]:
    """ChallengeParameters of a TOTP, choice or setup step (codes sent add their delivery details)."""
    if step.challenge == TOTP:
        token = user.mfa.token
        params = {"USER_ID_FOR_SRP": user.username}
        if token is not None and token.friendly_name:
            params["FRIENDLY_DEVICE_NAME"] = token.friendly_name
        return params
    if step.challenge == SELECT:
        return {"MFAS_CAN_CHOOSE": json.dumps(list(step.options))}
    if step.challenge == SETUP:
        return {"MFAS_CAN_SETUP": json.dumps(list(step.options))}
    return {}


def check_code(backend: Backend, pool: UserPool, user: User, session: AuthSession, factor: str, given: str) -> str | None:
    """Whether ``given`` answers the challenge: None if it does, else the failure reason.

    TOTP codes are checked against the authenticator (once per time step);
    SMS / email codes against the one sent for this session, until it expires.
    """
    if factor == TOTP:
        token = user.mfa.token
        if token is None:
            return "no_authenticator"
        step = totp.matching_step(token.secret, given, backend.clock.now(), token.last_step)
        if step is None:
            return "wrong_code"
        token.last_step = step
        return None
    if backend.clock.now() >= session.code_expires:
        return "code_expired"
    if not secrets_equal(given, session.code):
        return "wrong_code"
    return None


__all__ = [
    "TOTP", "SMS", "EMAIL", "SMS_OTP", "FACTORS", "SELECT", "SETUP", "CHALLENGES", "ANSWER_KEY", "SELECT_ANSWERS",
    "CODE_ATTEMPTS", "Step", "apply_pool_settings", "set_pool_config", "pool_settings_copy", "adopt_pool_settings", "pool_config_view", "user_enabled", "active",
    "settings_view", "configured_factors", "set_preference", "set_legacy_settings", "associate", "verify", "forget_token", "decide",
    "send_code", "challenge_parameters", "check_code",
]
