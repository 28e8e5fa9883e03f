"""Administrative user operations (IAM-authorised in Cognito).

AdminCreateUser, AdminGetUser, AdminDeleteUser, AdminDisableUser,
AdminEnableUser, AdminSetUserPassword, AdminResetUserPassword,
AdminUpdateUserAttributes, AdminDeleteUserAttributes, AdminConfirmSignUp,
AdminUserGlobalSignOut. (Group membership is in ops.groups.)

Only error types the botocore model lists for each operation are sent; where
Cognito's own rule would need an unlisted type (an alias clash on
AdminCreateUser, a failed verification message on AdminUpdateUserAttributes)
the nearest modelled behaviour is used and the docstring says so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from harness.engine import attributes as attrs
from harness.engine import codes, mfa, tokens, trigger_sources, users
from harness.engine.common import require_user
from harness.engine.messaging import deliver
from harness.engine.models import User, UserPool
from harness.engine.passwords import check_policy, generate_temporary_password, set_password
from harness.engine.registry import operation
from harness.engine.triggers import run_pre_signup
from harness.errors import CognitoError, Err

if TYPE_CHECKING:  # pragma: no cover
    from harness.engine.store import Backend

CHANNEL_ATTRIBUTE = {"EMAIL": "email", "SMS": "phone_number"}
PLACEHOLDER = "{####}"


def _user(backend: Backend, params: dict[str, Any]) -> tuple[UserPool, User]:
    pool = backend.pool(params["UserPoolId"])
    return pool, require_user(pool, params["Username"])


# --- AdminCreateUser ----------------------------------------------------------------------------


def _invite_channels(requested: list[str] | None, values: dict[str, str]) -> list[str]:
    """Where the invitation goes.

    Mediums the request names need their attribute (the model: "You must
    provide a value for email ... if you set EMAIL in DesiredDeliveryMediums").
    Without DesiredDeliveryMediums the default is SMS; a user with no phone
    number but an email address gets the invitation by email instead, and a
    user with neither gets none.
    """
    if requested:
        channels = list(dict.fromkeys(requested))
        for channel in channels:
            attribute = CHANNEL_ATTRIBUTE[channel]
            if not values.get(attribute):
                raise Err.INVALID_PARAMETER.error(
                    detail=f"User has no attribute {attribute}, required for {channel} delivery."
                )
        return channels
    if values.get("phone_number"):
        return ["SMS"]
    if values.get("email"):
        return ["EMAIL"]
    return []


def _send_invite(
    backend: Backend, pool: UserPool, user: User, shown_name: str, password: str, channels: list[str],
    client_metadata: dict[str, str] | None = None,
) -> None:
    """Deliver the invitation on every channel; raise the first failure after trying all.

    The pool's CustomMessage function (CustomMessage_AdminCreateUser) may word
    it. A template without ``{####}`` is not delivered (the model: "Amazon Cognito
    doesn't deliver the invitation message"). The daily email limit surfaces as
    CodeDeliveryFailureException, the delivery error AdminCreateUser models.
    """
    if not channels:
        return
    templates = trigger_sources.custom_message(
        backend, pool, user, trigger_sources.MESSAGE_ADMIN_CREATE_USER,
        trigger_sources.MessageTemplates(sms=pool.invite_sms_message, email=pool.invite_email_message,
                                         subject=pool.invite_email_subject),
        client_id=None, client_metadata=client_metadata,
    )
    failure: CognitoError | None = None
    for channel in channels:
        template = templates.body(channel)
        if PLACEHOLDER not in template:
            continue
        try:
            deliver(
                backend,
                pool_id=pool.pool_id,
                operation="AdminCreateUser",
                purpose="INVITE",
                channel=channel,
                to=user.attributes[CHANNEL_ATTRIBUTE[channel]],
                username=shown_name,
                body_template=template,
                subject=templates.subject,
                code=password,
            )
        except CognitoError as error:
            if failure is None:
                failure = Err.INVITE_DAILY_LIMIT.error() if error.type == "LimitExceededException" else error
    if failure is not None:
        raise failure


def _check_verified_flags(values: dict[str, str]) -> None:
    for attribute in attrs.VERIFIABLE:
        if attrs.is_verified(values, attribute) and not values.get(attribute):
            raise Err.INVALID_PARAMETER.error(
                detail=f"{attribute} must be provided to set {attribute}_verified to true."
            )


def _resend(backend: Backend, pool: UserPool, params: dict[str, Any]) -> dict[str, Any]:
    user = require_user(pool, params["Username"])
    if user.status != "FORCE_CHANGE_PASSWORD":
        raise Err.RESEND_NOT_POSSIBLE.error(username=params["Username"])
    password = params.get("TemporaryPassword") or generate_temporary_password(backend, pool)
    if params.get("TemporaryPassword"):
        check_policy(pool, password, "temporary")
    channels = _invite_channels(params.get("DesiredDeliveryMediums"), user.attributes)
    set_password(backend, pool, user, password, temporary=True, check_history=False)
    _send_invite(backend, pool, user, _shown_name(pool, user, params["Username"]), password, channels,
                 params.get("ClientMetadata"))
    return {"User": users.user_type(pool, user)}


def _shown_name(pool: UserPool, user: User, given: str) -> str:
    """The name the invitation tells the user to sign in with."""
    return given if pool.username_attributes else user.username


@operation("AdminCreateUser")
def admin_create_user(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    """Create a FORCE_CHANGE_PASSWORD user and send the invitation.

    The PreSignUp trigger runs with source ``PreSignUp_AdminCreateUser``
    (its autoVerifyEmail/autoVerifyPhone mark the contact verified; the user
    is FORCE_CHANGE_PASSWORD regardless). With a delivery failure the user
    still exists (as in Cognito) and CodeDeliveryFailureException is raised
    afterwards. An alias clash (a
    verified email/phone alias held by another user, without
    ForceAliasCreation) is reported as UsernameExistsException, since the
    model lists no AliasExistsException for this operation.
    """
    pool = backend.pool(params["UserPoolId"])
    if params.get("MessageAction") == "RESEND":
        return _resend(backend, pool, params)
    username = params["Username"]
    values = attrs.as_dict(params.get("UserAttributes"))
    given_password = params.get("TemporaryPassword")
    if given_password:
        check_policy(pool, given_password, "temporary")
    password = given_password or generate_temporary_password(backend, pool)
    preview = {**values, **users.sign_in_attribute_values(pool, username)}
    _check_verified_flags(preview)
    suppress = params.get("MessageAction") == "SUPPRESS"
    channels = [] if suppress else _invite_channels(params.get("DesiredDeliveryMediums"), preview)
    decision = run_pre_signup(
        backend, pool, "PreSignUp_AdminCreateUser", preview, username, None,
        validation_data=attrs.as_dict(params.get("ValidationData")) or None,
        client_metadata=params.get("ClientMetadata"),
    )
    for flag, attribute in ((decision.auto_verify_email, "email"), (decision.auto_verify_phone, "phone_number")):
        if flag and preview.get(attribute):
            values[f"{attribute}_verified"] = "true"
    try:
        user = users.create_user(
            backend, pool, username, values,
            status="FORCE_CHANGE_PASSWORD",
            password=password,
            temporary=True,
            force_alias=bool(params.get("ForceAliasCreation", False)),
            admin=True,
        )
    except CognitoError as error:
        if error.type == "AliasExistsException":
            raise CognitoError("UsernameExistsException", error.message) from None
        raise
    _send_invite(backend, pool, user, _shown_name(pool, user, username), password, channels,
                 params.get("ClientMetadata"))
    return {"User": users.user_type(pool, user)}


# --- reading and lifecycle --------------------------------------------------------------------


@operation("AdminGetUser")
def admin_get_user(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool, user = _user(backend, params)
    return {
        "Username": user.username,
        "UserAttributes": attrs.user_attributes(pool, None, user),
        "UserCreateDate": user.created,
        "UserLastModifiedDate": user.modified,
        "Enabled": user.enabled,
        "UserStatus": user.status,
        **({"MFAOptions": list(user.mfa_options)} if user.mfa_options else {}),
        **mfa.settings_view(user),
    }


@operation("AdminDeleteUser")
def admin_delete_user(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool, user = _user(backend, params)
    users.delete_user(backend, pool, user, reason="admin deleted user")
    return {}


@operation("AdminDisableUser")
def admin_disable_user(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool, user = _user(backend, params)
    users.disable_user(backend, pool, user)
    return {}


@operation("AdminEnableUser")
def admin_enable_user(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool, user = _user(backend, params)
    users.enable_user(backend, pool, user)
    return {}


@operation("AdminUserGlobalSignOut")
def admin_user_global_sign_out(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool, user = _user(backend, params)
    tokens.revoke_user_sessions(backend, pool, user, "admin global sign-out")
    return {}


@operation("AdminConfirmSignUp")
def admin_confirm_sign_up(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    """Confirm a user; PostConfirmation_ConfirmSignUp runs after (its failure leaves the user confirmed)."""
    pool, user = _user(backend, params)
    users.confirm_user(backend, pool, user, by="admin")
    codes.discard(user, codes.SIGN_UP)
    trigger_sources.post_confirmation(backend, pool, user, trigger_sources.POST_CONFIRMATION_SIGN_UP,
                                      client_id=None, client_metadata=params.get("ClientMetadata"))
    return {}


# --- passwords ----------------------------------------------------------------------------------


@operation("AdminSetUserPassword")
def admin_set_user_password(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    """Permanent -> CONFIRMED, otherwise a new temporary password (FORCE_CHANGE_PASSWORD)."""
    pool, user = _user(backend, params)
    check_policy(pool, params["Password"], "other")
    users.set_user_password(
        backend, pool, user, params["Password"], permanent=bool(params.get("Permanent", False)),
        reason="AdminSetUserPassword",
    )
    return {}


@operation("AdminResetUserPassword")
def admin_reset_user_password(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    """RESET_REQUIRED plus a FORGOT_PASSWORD code, as ForgotPassword sends it.

    The code goes where ForgotPassword's would (AccountRecoverySetting, else
    verified phone before verified email). A failed delivery is recorded in
    the mailbox and events but not raised (the model lists no
    CodeDeliveryFailureException here); the daily email limit is
    LimitExceededException.
    """
    pool, user = _user(backend, params)
    if not user.enabled:
        raise Err.RESET_USER_DISABLED.error()
    if user.status in ("FORCE_CHANGE_PASSWORD", "EXTERNAL_PROVIDER"):
        raise Err.CANNOT_RESET_STATE.error()
    destination = codes.recovery_destination(pool, user)
    if destination is None:
        raise Err.NO_VERIFIED_CONTACT.error()
    user.status = "RESET_REQUIRED"
    users.touch(backend, user)
    try:
        codes.send_code(
            backend, pool, user, purpose=codes.FORGOT_PASSWORD, attribute=destination,
            operation="AdminResetUserPassword", client_metadata=params.get("ClientMetadata"),
        )
    except CognitoError as error:
        if error.type != "CodeDeliveryFailureException":
            raise
    return {}


# --- attributes -----------------------------------------------------------------------------------


@operation("AdminUpdateUserAttributes")
def admin_update_user_attributes(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    """Update attributes; a changed auto-verified email/phone gets a verification code.

    Setting ``*_verified=true`` in the same request skips the message. Delivery
    problems are recorded (mailbox, events) but not raised: the model lists no
    delivery error for this operation.
    """
    pool, user = _user(backend, params)
    pending = users.update_attributes(backend, pool, user, params["UserAttributes"])
    for attribute in pending:
        if attribute not in pool.auto_verified_attributes:
            continue
        try:
            codes.send_code(
                backend, pool, user, purpose=codes.verify_purpose(attribute), attribute=attribute,
                operation="AdminUpdateUserAttributes", client_metadata=params.get("ClientMetadata"),
                destination=user.pending_attributes.get(attribute) or user.attributes.get(attribute),
            )
        except CognitoError as error:
            if error.type not in ("CodeDeliveryFailureException", "LimitExceededException"):
                raise
    return {}


@operation("AdminDeleteUserAttributes")
def admin_delete_user_attributes(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool, user = _user(backend, params)
    users.delete_attributes(backend, pool, user, params["UserAttributeNames"])
    return {}
