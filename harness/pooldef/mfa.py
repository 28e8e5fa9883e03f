"""A pool definition's MFA and delivery settings: ``mfa``, ``mfa_factors``, ``[pool.email]``, ``[pool.sms]``.

CreateUserPool can only turn SMS MFA on; TOTP and email MFA are turned on by
SetUserPoolMfaConfig after it, as an API caller must. So a definition with
``mfa_factors`` creates its pool with MFA OFF and then sets the factors and the
mode in one SetUserPoolMfaConfig (:func:`mfa_settings` gives its parameters)::

    [pool]
    mfa = "OPTIONAL"                    # OFF | ON | OPTIONAL
    mfa_factors = ["totp", "email", "sms"]   # SOFTWARE_TOKEN_MFA, EMAIL_OTP, SMS_MFA
    mfa_email_subject = "Your sign-in code"  # optional templates ({####} is the code)
    mfa_email_message = "Your sign-in code is {####}."
    mfa_sms_message = "Your sign-in code is {####}."

    [pool.email]                        # EmailConfiguration; email MFA needs DEVELOPER (Amazon SES)
    sending_account = "DEVELOPER"       # COGNITO_DEFAULT | DEVELOPER
    source_arn = "arn:aws:ses:us-east-1:123456789012:identity/no-reply@example.com"
    from = "Example <no-reply@example.com>"   # optional; reply_to, configuration_set too

    [pool.sms]                          # SmsConfiguration (CreateUserPool's), needed for the "sms" factor
    sns_caller_arn = "arn:aws:iam::123456789012:role/cognito-sms"
    external_id = "harness"             # optional; sns_region too
"""

from __future__ import annotations

from typing import Any

from harness.pooldef.reader import DefinitionTable

MFA_MODES = ("OFF", "ON", "OPTIONAL")
MFA_FACTORS = ("totp", "sms", "email")  # SOFTWARE_TOKEN_MFA, SMS_MFA, EMAIL_OTP
DEFAULT_EMAIL_SUBJECT = "Your authentication code"  # Cognito's defaults
DEFAULT_CODE_MESSAGE = "Your authentication code is {####}. "


def mfa_settings(t: DefinitionTable, sms: dict[str, Any] | None) -> dict[str, Any] | None:
    """SetUserPoolMfaConfig's parameters for ``mfa`` and ``mfa_factors`` (None without factors); ``sms`` is the
    pool's SmsConfiguration ([pool.sms]), which the "sms" factor sends its codes with."""
    mode = t.get("mfa", str, "OFF", choices=MFA_MODES)
    factors = t.strings("mfa_factors")
    sms_message = t.get("mfa_sms_message", str, None)
    email_subject, email_message = t.get("mfa_email_subject", str, None), t.get("mfa_email_message", str, None)
    if not factors:
        if factors is not None or sms_message or email_subject or email_message:
            raise t.fail("mfa_factors", f"expected a non-empty list of {', '.join(map(repr, MFA_FACTORS))} "
                                        "(the MFA settings given need a factor to apply to)")
        return None
    unknown = [f for f in factors if f not in MFA_FACTORS]
    if unknown or len(set(factors)) != len(factors):
        raise t.wrong("mfa_factors", f"a list of distinct factors among {', '.join(map(repr, MFA_FACTORS))}",
                      factors)
    if mode == "OFF":
        raise t.fail("mfa_factors", 'expected mfa = "ON" or "OPTIONAL" with MFA factors (mfa is "OFF")')
    config: dict[str, Any] = {"MfaConfiguration": mode,
                              "SoftwareTokenMfaConfiguration": {"Enabled": "totp" in factors}}
    if "sms" in factors:
        if sms is None:
            raise t.missing("sms", 'a [pool.sms] table with sns_caller_arn (the SNS role SMS codes go through)')
        config["SmsMfaConfiguration"] = {"SmsConfiguration": sms,
                                         **({"SmsAuthenticationMessage": sms_message} if sms_message else {})}
    elif sms_message:
        raise t.fail("mfa_sms_message", 'expected "sms" in mfa_factors')
    if "email" in factors:
        # an empty EmailMfaConfiguration turns email MFA off: the template is always given
        config["EmailMfaConfiguration"] = {"Subject": email_subject or DEFAULT_EMAIL_SUBJECT,
                                           "Message": email_message or DEFAULT_CODE_MESSAGE}
    elif email_subject or email_message:
        raise t.fail("mfa_email_message" if email_message else "mfa_email_subject",
                     'expected "email" in mfa_factors')
    return config

def sms_configuration(t: DefinitionTable) -> dict[str, Any]:
    out = {"SnsCallerArn": t.get("sns_caller_arn", str, what="the ARN of the IAM role Cognito sends SMS with")}
    for key, member in (("external_id", "ExternalId"), ("sns_region", "SnsRegion")):
        value = t.get(key, str, None)
        if value is not None:
            out[member] = value
    t.done()
    return out

def email_configuration(t: DefinitionTable) -> dict[str, Any]:
    out: dict[str, Any] = {"EmailSendingAccount": t.get("sending_account", str, "COGNITO_DEFAULT",
                                                        choices=("COGNITO_DEFAULT", "DEVELOPER"))}
    for key, member in (("source_arn", "SourceArn"), ("from", "From"), ("reply_to", "ReplyToEmailAddress"),
                        ("configuration_set", "ConfigurationSet")):
        value = t.get(key, str, None)
        if value is not None:
            out[member] = value
    t.done()
    return out


__all__ = ["MFA_FACTORS", "MFA_MODES", "email_configuration", "mfa_settings", "sms_configuration"]
