"""One-time codes: issue, deliver, verify, expire and rate-limit them.

Lifetimes and per-user hourly quotas follow the developer guide's "code
security" quotas (reference §1.5): sign-up and attribute-verification codes
live 24 hours, password-reset codes one hour. A user holds at most one live
code per purpose; issuing a new one replaces the old (so "resend" really
invalidates the earlier code). Every value comes from ``backend.ids.code()``
and every time from the virtual clock, so tests can read the code from the
mailbox and fast-forward past its expiry.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from harness.engine import attributes, messaging, trigger_sources
from harness.engine.models import Code, User, UserPool
from harness.errors import Err

if TYPE_CHECKING:  # pragma: no cover
    from harness.engine.store import Backend

SIGN_UP = "SIGN_UP"
FORGOT_PASSWORD = "FORGOT_PASSWORD"
VERIFY_PREFIX = "VERIFY:"

HOUR = 3600.0
LIFETIMES = {SIGN_UP: 24 * HOUR, FORGOT_PASSWORD: HOUR}
VERIFY_LIFETIME = 24 * HOUR

# Per-user attempts per rolling hour (reference §1.5). ConfirmForgotPassword is
# "5-20 depending on risk"; without threat protection the low end applies.
QUOTAS = {
    "ResendConfirmationCode": 5,
    "ConfirmSignUp": 15,
    "ConfirmForgotPassword": 5,
    "ChangePassword": 5,
    "GetUserAttributeVerificationCode": 5,
    "VerifyUserAttribute": 15,
}

# Mailbox purpose per operation (what tests filter the mailbox by).
MAIL_PURPOSE = {
    "SignUp": "SIGN_UP",
    "ResendConfirmationCode": "RESEND",
    "ForgotPassword": "FORGOT_PASSWORD",
    "AdminResetUserPassword": "FORGOT_PASSWORD",
    "UpdateUserAttributes": "VERIFY_ATTRIBUTE",
    "AdminUpdateUserAttributes": "VERIFY_ATTRIBUTE",
    "GetUserAttributeVerificationCode": "VERIFY_ATTRIBUTE",
}

CHANNEL_OF = {"email": "EMAIL", "phone_number": "SMS"}


def verify_purpose(attribute: str) -> str:
    return f"{VERIFY_PREFIX}{attribute}"


def lifetime(purpose: str) -> float:
    return LIFETIMES.get(purpose, VERIFY_LIFETIME)


# --- quotas -------------------------------------------------------------------------


def take_attempt(backend: Backend, user: User, action: str) -> None:
    """Count one attempt at ``action``; LimitExceededException past the hourly quota.

    Refused attempts are not counted, so the window slides open again one
    hour after the oldest counted attempt.
    """
    limit = QUOTAS[action]
    now = backend.clock.now()
    log = [t for t in user.attempt_log.get(action, []) if now - t < HOUR]
    if len(log) >= limit:
        user.attempt_log[action] = log
        raise Err.ATTEMPT_LIMIT.error()
    log.append(now)
    user.attempt_log[action] = log


# --- codes ---------------------------------------------------------------------------


def issue(backend: Backend, user: User, purpose: str) -> Code:
    """A fresh code for ``purpose`` (replacing any earlier one)."""
    now = backend.clock.now()
    code = Code(value=backend.ids.code(), purpose=purpose, created=now, expires_at=now + lifetime(purpose))
    user.codes[purpose] = code
    return code


def verify(backend: Backend, user: User, purpose: str, given: str, *, consume: bool = True) -> None:
    """Check ``given`` against the live code for ``purpose``.

    A wrong (or never requested) code is CodeMismatchException; the right
    code after its lifetime is ExpiredCodeException (and stays unusable).
    A correct code is consumed.
    """
    code = user.codes.get(purpose)
    if code is None or given != code.value:
        if code is not None:
            code.attempts += 1
        raise Err.CODE_MISMATCH.error()
    if backend.clock.now() >= code.expires_at:
        raise Err.CODE_EXPIRED.error()
    if consume:
        del user.codes[purpose]


def discard(user: User, purpose: str) -> None:
    user.codes.pop(purpose, None)


# --- where a code goes ------------------------------------------------------------------


def _verified(user: User, attribute: str) -> bool:
    return bool(user.attributes.get(attribute)) and attributes.is_verified(user.attributes, attribute)


def signup_destination(pool: UserPool, user: User) -> str | None:
    """The attribute a confirmation code goes to: an auto-verified one the user has.

    With both email and phone auto-verified, the SMS is preferred (as Cognito
    does for sign-up confirmation).
    """
    for attribute in ("phone_number", "email"):
        if attribute in pool.auto_verified_attributes and user.attributes.get(attribute):
            return attribute
    return None


def recovery_destination(pool: UserPool, user: User) -> str | None:
    """The verified attribute a reset code goes to, per AccountRecoverySetting.

    Without a setting, the legacy rule applies: a verified phone number is
    preferred over a verified email. ``admin_only`` means no self-service.
    """
    mechanisms = pool.account_recovery or ["verified_phone_number", "verified_email"]
    for mechanism in mechanisms:
        if mechanism == "admin_only":
            return None
        attribute = mechanism.removeprefix("verified_")
        if attribute in CHANNEL_OF and _verified(user, attribute):
            return attribute
    return None


def send_code(
    backend: Backend,
    pool: UserPool,
    user: User,
    *,
    purpose: str,
    attribute: str,
    operation: str,
    destination: str | None = None,
    client_id: str | None = None,
    client_metadata: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Issue a code for ``purpose`` and deliver it to ``attribute``; CodeDeliveryDetails.

    ``destination`` overrides the address (a pending, not yet applied value).
    The pool's CustomMessage function, if any, words the message first (its
    failure is the operation's error, before any code is issued).
    Delivery faults propagate (CodeDeliveryFailureException /
    LimitExceededException) after the code was issued and the failed message
    recorded, which is what Cognito leaves behind.
    """
    channel = CHANNEL_OF[attribute]
    to = destination or user.attributes[attribute]
    templates = trigger_sources.MessageTemplates(
        sms=pool.verification_sms_message, email=pool.verification_email_message,
        subject=pool.verification_email_subject,
    )
    source = trigger_sources.MESSAGE_SOURCE_OF_OPERATION.get(operation)
    if source is not None:
        templates = trigger_sources.custom_message(
            backend, pool, user, source, templates, client_id=client_id, client_metadata=client_metadata
        )
    code = issue(backend, user, purpose)
    details = messaging.deliver(
        backend,
        pool_id=pool.pool_id,
        operation=operation,
        purpose=MAIL_PURPOSE.get(operation, purpose),
        channel=channel,
        to=to,
        username=user.username,
        body_template=templates.body(channel),
        subject=templates.subject,
        code=code.value,
    )
    details["AttributeName"] = attribute
    return details


__all__ = [
    "SIGN_UP",
    "FORGOT_PASSWORD",
    "QUOTAS",
    "verify_purpose",
    "take_attempt",
    "issue",
    "verify",
    "discard",
    "signup_destination",
    "recovery_destination",
    "send_code",
]
