"""The Lambda trigger sources around sign-up, confirmation, sign-in, migration and messages.

Each function here builds one source's ``request`` (and default ``response``)
as the Cognito developer guide documents it, runs it through the one door
(:func:`harness.engine.triggers.invoke`) and checks the answer's *types*: a
wrongly-typed member is InvalidLambdaResponseException, as in Cognito.

* PostConfirmation (``PostConfirmation_ConfirmSignUp`` / ``_ConfirmForgotPassword``)
  runs after the state changed; a failing function fails the call but the
  change stands (the user stays confirmed, the new password stays set).
* PreAuthentication runs before the password is checked, with the
  InitiateAuth ClientMetadata as ``validationData``; ``userNotFound`` is only
  sent to clients with PreventUserExistenceErrors=ENABLED.
* PostAuthentication runs after the last step, before tokens; its
  ``clientMetadata`` comes only from RespondToAuthChallenge.
* UserMigration (``_Authentication`` on a plain-password sign-in, ``_ForgotPassword``)
  creates the user the function describes.
* CustomMessage: every code-bearing message; an answer whose body lacks the
  code placeholder (or, for AdminCreateUser, the username placeholder) is
  ignored for that body and the pool's own template is sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from harness.engine import messaging, users
from harness.engine.attributes import USER_STATUS, event_attributes
from harness.engine.models import User, UserPool
from harness.engine.triggers import invoke
from harness.errors import CognitoError, Err

if TYPE_CHECKING:  # pragma: no cover
    from harness.engine.store import Backend

CODE_PARAMETER = "{####}"
USERNAME_PARAMETER = "{username}"
LINK_PARAMETER = "{##Click Here##}"

POST_CONFIRMATION_SIGN_UP = "PostConfirmation_ConfirmSignUp"
POST_CONFIRMATION_FORGOT_PASSWORD = "PostConfirmation_ConfirmForgotPassword"
MIGRATION_AUTHENTICATION = "UserMigration_Authentication"
MIGRATION_FORGOT_PASSWORD = "UserMigration_ForgotPassword"
MESSAGE_ADMIN_CREATE_USER = "CustomMessage_AdminCreateUser"
MESSAGE_AUTHENTICATION = "CustomMessage_Authentication"

MESSAGE_SOURCE_OF_OPERATION = {
    "SignUp": "CustomMessage_SignUp",
    "ResendConfirmationCode": "CustomMessage_ResendCode",
    "ForgotPassword": "CustomMessage_ForgotPassword",
    "AdminResetUserPassword": "CustomMessage_ForgotPassword",
    "UpdateUserAttributes": "CustomMessage_UpdateUserAttribute",
    "AdminUpdateUserAttributes": "CustomMessage_UpdateUserAttribute",
    "GetUserAttributeVerificationCode": "CustomMessage_VerifyUserAttribute",
    "AdminCreateUser": MESSAGE_ADMIN_CREATE_USER,
}
"""The CustomMessage source of each operation that sends a code (MFA codes: CustomMessage_Authentication)."""

FINAL_STATUSES = ("CONFIRMED", "RESET_REQUIRED")
MESSAGE_ACTIONS = ("SUPPRESS", "RESEND")
DELIVERY_MEDIUMS = {"EMAIL": "email", "SMS": "phone_number"}


# --- shared pieces ---------------------------------------------------------------------------------


def _metadata(value: Mapping[str, str] | None) -> dict[str, str] | None:
    return dict(value) if value else None


def _with_metadata(request: dict[str, Any], client_metadata: Mapping[str, str] | None) -> dict[str, Any]:
    """``clientMetadata`` is sent only when the API call passed some."""
    if client_metadata:
        request["clientMetadata"] = dict(client_metadata)
    return request


def _bad_response() -> CognitoError:
    return Err.LAMBDA_BAD_RESPONSE.error()


def _optional_str(response: Mapping[str, Any], name: str) -> str | None:
    value = response.get(name)
    if value is None or isinstance(value, str):
        return value
    raise _bad_response()


def _optional_bool(response: Mapping[str, Any], name: str) -> bool:
    """A boolean member (JSON true/false, or the strings "true"/"false" some runtimes send)."""
    value = response.get(name)
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise _bad_response()


# --- post confirmation ------------------------------------------------------------------------------


def post_confirmation(backend: Backend, pool: UserPool, user: User, source: str, *, client_id: str | None,
                      client_metadata: Mapping[str, str] | None = None) -> None:
    """Run PostConfirmation for a user who was just confirmed (or reset a password).

    Runs after the change; its failure is the call's error, the change stays.
    """
    invoke(backend, pool, "PostConfirmation", source, username=user.username, client_id=client_id,
           request=_with_metadata({"userAttributes": event_attributes(pool, user)}, client_metadata),
           response={})


# --- pre and post authentication ---------------------------------------------------------------------


def pre_authentication(backend: Backend, pool: UserPool, user: User | None, username: str, *, client_id: str,
                       hides_existence: bool, validation_data: Mapping[str, str] | None = None) -> None:
    """Run PreAuthentication_Authentication before the password is checked.

    ``user`` None (an unknown name) is only sent to clients that hide user
    existence, with ``userNotFound: true`` and no attributes.
    """
    request: dict[str, Any] = {
        "userAttributes": event_attributes(pool, user) if user is not None else {},
        "validationData": _metadata(validation_data),
    }
    if hides_existence:
        request["userNotFound"] = user is None
    invoke(backend, pool, "PreAuthentication", "PreAuthentication_Authentication",
           username=user.username if user is not None else username, client_id=client_id,
           request=request, response={})


def post_authentication(backend: Backend, pool: UserPool, user: User, *, client_id: str, new_device_used: bool,
                        client_metadata: Mapping[str, str] | None = None) -> None:
    """Run PostAuthentication_Authentication after the last step, before tokens are issued."""
    request = {"userAttributes": event_attributes(pool, user), "newDeviceUsed": new_device_used}
    invoke(backend, pool, "PostAuthentication", "PostAuthentication_Authentication", username=user.username,
           client_id=client_id, request=_with_metadata(request, client_metadata), response={})


# --- user migration ---------------------------------------------------------------------------------


@dataclass
class Migration:
    """The user a UserMigration function described (its ``response``, checked)."""

    attributes: dict[str, str]
    final_status: str
    message_action: str | None
    delivery_mediums: list[str] = field(default_factory=lambda: ["SMS"])
    force_alias: bool = False
    sms_mfa: bool = False  # enableSMSMFA: SMS MFA turned on for the new user


MIGRATION_RESPONSE = {"userAttributes": None, "finalUserStatus": None, "messageAction": None,
                      "desiredDeliveryMediums": None, "forceAliasCreation": None, "enableSMSMFA": None}


def _migration(response: Mapping[str, Any], source: str) -> Migration:
    """Check a UserMigration answer; anything of the wrong type is InvalidLambdaResponseException."""
    values = response.get("userAttributes")
    if not isinstance(values, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in values.items()):
        raise _bad_response()
    status = _optional_str(response, "finalUserStatus") or "CONFIRMED"
    if status not in FINAL_STATUSES:
        raise _bad_response()
    action = _optional_str(response, "messageAction")
    if action is not None and action not in MESSAGE_ACTIONS:
        raise _bad_response()
    mediums = response.get("desiredDeliveryMediums")
    if mediums is None:
        mediums = ["SMS"]
    if not isinstance(mediums, list) or not mediums or any(m not in DELIVERY_MEDIUMS for m in mediums):
        raise _bad_response()
    return Migration(
        attributes=dict(values),
        # the forgot-password flow always leaves the user to choose a new password
        final_status="RESET_REQUIRED" if source == MIGRATION_FORGOT_PASSWORD else status,
        message_action=action,
        delivery_mediums=list(dict.fromkeys(mediums)),
        force_alias=_optional_bool(response, "forceAliasCreation"),
        sms_mfa=_optional_bool(response, "enableSMSMFA"),
    )


def user_migration(backend: Backend, pool: UserPool, source: str, username: str, *, client_id: str,
                   hides_existence: bool, password: str | None = None,
                   validation_data: Mapping[str, str] | None = None,
                   client_metadata: Mapping[str, str] | None = None) -> User | None:
    """Ask the pool's UserMigration function about an unknown user and create them.

    None when the pool has no such trigger. A function that fails (the usual
    "bad password" answer) is Cognito's UserNotFoundException "Exception migrating
    user in app client ...", or the generic NotAuthorizedException for a client
    that hides user existence; a wrongly-typed answer is InvalidLambdaResponseException.
    """
    request: dict[str, Any] = {"validationData": _metadata(validation_data)}
    if password is not None:
        request["password"] = password
    try:
        response = invoke(backend, pool, "UserMigration", source, username=username, client_id=client_id,
                          request=_with_metadata(request, client_metadata), response=dict(MIGRATION_RESPONSE))
    except CognitoError as error:
        if error.type != "UserLambdaValidationException":
            raise
        if hides_existence and source == MIGRATION_AUTHENTICATION:
            raise Err.INCORRECT_CREDENTIALS.error() from None
        raise Err.MIGRATION_FAILED.error(client_id=client_id) from None
    if response is None:
        return None
    migration = _migration(response, source)
    user = _create_migrated(backend, pool, username, migration, password)
    user.mfa.sms_enabled = migration.sms_mfa
    if migration.message_action != "SUPPRESS":
        _welcome(backend, pool, user, username, migration.delivery_mediums)
    return user


def _create_migrated(backend: Backend, pool: UserPool, username: str, migration: Migration,
                     password: str | None) -> User:
    """The migrated user, stored with the password typed (the pool's policy is not applied to it).

    Creation errors the sign-in and forgot-password APIs do not model (an alias
    held by another user without forceAliasCreation) are InvalidParameterException.
    """
    try:
        return users.create_user(backend, pool, username, migration.attributes, status=migration.final_status,
                                 password=password, force_alias=migration.force_alias, admin=True)
    except CognitoError as error:
        if error.type == "InvalidParameterException":
            raise
        raise Err.INVALID_PARAMETER.error(detail=error.message) from None


def _welcome(backend: Backend, pool: UserPool, user: User, username: str, mediums: list[str]) -> None:
    """The welcome (invitation) message a migrated user gets unless messageAction is SUPPRESS.

    Sent with the pool's invitation template; there is no temporary password to
    put in it. A medium whose attribute the user lacks is skipped; delivery
    failures are recorded, not raised (the user exists either way).
    """
    for medium in mediums:
        to = user.attributes.get(DELIVERY_MEDIUMS[medium])
        if not to:
            continue
        try:
            messaging.deliver(
                backend, pool_id=pool.pool_id, operation="UserMigration", purpose="INVITE", channel=medium, to=to,
                username=username,
                body_template=pool.invite_email_message if medium == "EMAIL" else pool.invite_sms_message,
                subject=pool.invite_email_subject, code=None,
            )
        except CognitoError:
            continue


# --- custom message -----------------------------------------------------------------------------------


@dataclass
class MessageTemplates:
    """The bodies and subject a message is sent with (``{####}`` and ``{username}`` still in them)."""

    sms: str
    email: str
    subject: str | None

    def body(self, channel: str) -> str:
        return self.email if channel == "EMAIL" else self.sms


def custom_message(backend: Backend, pool: UserPool, user: User, source: str, defaults: MessageTemplates, *,
                   client_id: str | None, client_metadata: Mapping[str, str] | None = None) -> MessageTemplates:
    """Run CustomMessage for ``source`` and return the templates to send with.

    The pool's templates when it has no such trigger. A body the function
    answers without ``{####}`` (for AdminCreateUser, without ``{username}`` as
    well) is not used: Cognito sends its own template instead.
    """
    admin = source == MESSAGE_ADMIN_CREATE_USER
    request = {
        "userAttributes": event_attributes(pool, user),
        "codeParameter": CODE_PARAMETER,
        "linkParameter": LINK_PARAMETER,
        "usernameParameter": USERNAME_PARAMETER if admin else None,
    }
    response = invoke(backend, pool, "CustomMessage", source, username=user.username, client_id=client_id,
                      request=_with_metadata(request, client_metadata),
                      response={"smsMessage": None, "emailMessage": None, "emailSubject": None})
    if response is None:
        return defaults
    needed = (CODE_PARAMETER, USERNAME_PARAMETER) if admin else (CODE_PARAMETER,)

    def usable(name: str, default: str) -> str:
        body = _optional_str(response, name)
        return body if body and all(p in body for p in needed) else default

    subject = _optional_str(response, "emailSubject")
    return MessageTemplates(sms=usable("smsMessage", defaults.sms), email=usable("emailMessage", defaults.email),
                            subject=subject or defaults.subject)


__all__ = [
    "CODE_PARAMETER", "USERNAME_PARAMETER", "LINK_PARAMETER", "USER_STATUS", "MESSAGE_SOURCE_OF_OPERATION",
    "MESSAGE_AUTHENTICATION", "MESSAGE_ADMIN_CREATE_USER", "POST_CONFIRMATION_SIGN_UP",
    "POST_CONFIRMATION_FORGOT_PASSWORD", "MIGRATION_AUTHENTICATION", "MIGRATION_FORGOT_PASSWORD", "Migration",
    "MessageTemplates", "event_attributes", "post_confirmation", "pre_authentication", "post_authentication",
    "user_migration", "custom_message",
]
