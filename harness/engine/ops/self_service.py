"""Operations a signed-in user authorises with their access token.

GetUser, GlobalSignOut, ChangePassword, UpdateUserAttributes,
DeleteUserAttributes, DeleteUser, GetUserAttributeVerificationCode and
VerifyUserAttribute. Each starts with :func:`tokens.validate_access_token`
(signature, ``token_use``, revocation, expiry on the virtual clock, the
``aws.cognito.signin.user.admin`` scope), so revoked, expired, foreign and
under-scoped tokens get Cognito's exact NotAuthorizedException messages.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from harness.engine import attributes as attrs
from harness.engine import codes, indexes, mfa, tokens, users
from harness.engine import events as ev
from harness.engine.models import AppClient, User, UserPool
from harness.engine.passwords import check_policy, verify_password
from harness.engine.registry import operation
from harness.errors import CognitoError, Err

if TYPE_CHECKING:  # pragma: no cover
    from harness.engine.store import Backend


def authorise(backend: Backend, access_token: str) -> tuple[UserPool, AppClient | None, User]:
    """The pool, issuing client and user behind a valid access token."""
    pool, user, claims = tokens.validate_access_token(backend, access_token)
    if user.status == "RESET_REQUIRED":
        raise Err.PASSWORD_RESET_REQUIRED.error()
    return pool, pool.clients.get(str(claims.get("client_id", ""))), user


def _verifiable(name: str) -> str:
    if name not in codes.CHANNEL_OF:
        raise Err.INVALID_PARAMETER.error(detail=f"Cannot verify attribute {name}. Only email and phone_number can be verified.")
    return name


@operation("GetUser")
def get_user(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool, client, user = authorise(backend, params["AccessToken"])
    response: dict[str, Any] = {
        "Username": user.username,
        "UserAttributes": attrs.user_attributes(pool, client, user),
    }
    if user.mfa_options:
        response["MFAOptions"] = list(user.mfa_options)
    response.update(mfa.settings_view(user))
    return response


@operation("GlobalSignOut")
def global_sign_out(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    """Revoke every refresh token of the user, on every device and client."""
    try:
        pool, _, user = authorise(backend, params["AccessToken"])
    except CognitoError as error:
        if error.type == "UserNotFoundException":  # not in GlobalSignOut's model: a deleted user's token
            raise Err.ACCESS_TOKEN_REVOKED.error() from None
        raise
    tokens.revoke_user_sessions(backend, pool, user, "GlobalSignOut")
    return {}


@operation("ChangePassword")
def change_password(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    """Change the password; other sessions stay valid (Cognito revokes nothing here)."""
    pool, client, user = authorise(backend, params["AccessToken"])
    codes.take_attempt(backend, user, "ChangePassword")
    previous = params.get("PreviousPassword")
    if user.password_hash is not None and not (previous and verify_password(user, previous)):
        backend.events.emit(
            ev.AUTH_FAILURE, pool.pool_id, username=user.username,
            client_id=client.client_id if client else None, flow="ChangePassword", reason="wrong_previous_password",
        )
        raise Err.INCORRECT_CREDENTIALS.error()
    proposed = params["ProposedPassword"]
    check_policy(pool, proposed, "other")
    users.set_user_password(backend, pool, user, proposed, permanent=True, reason="ChangePassword")
    return {}


def _send_verification(
    backend: Backend, pool: UserPool, user: User, attribute: str, operation_name: str,
    client: AppClient | None, client_metadata: dict[str, str] | None,
) -> dict[str, str]:
    destination = user.pending_attributes.get(attribute) or user.attributes.get(attribute)
    if not destination:
        raise Err.ATTRIBUTE_NOT_PRESENT.error(name=attribute)
    return codes.send_code(
        backend, pool, user, purpose=codes.verify_purpose(attribute), attribute=attribute,
        operation=operation_name, destination=destination,
        client_id=client.client_id if client else None, client_metadata=client_metadata,
    )


@operation("UpdateUserAttributes")
def update_user_attributes(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    """Update attributes; a changed email/phone is sent a code when the pool auto-verifies it.

    With AttributesRequireVerificationBeforeUpdate the old verified value
    stays in force until VerifyUserAttribute confirms the new one.
    """
    pool, client, user = authorise(backend, params["AccessToken"])
    unverified = users.update_attributes(backend, pool, user, params["UserAttributes"], client=client)
    details = []
    for attribute in unverified:
        if attribute not in pool.auto_verified_attributes:
            continue
        try:
            details.append(_send_verification(backend, pool, user, attribute, "UpdateUserAttributes", client,
                                              params.get("ClientMetadata")))
        except CognitoError as error:
            if error.type != "LimitExceededException":
                raise
            # UpdateUserAttributes's model has no LimitExceededException: an
            # exhausted email quota surfaces as a failed delivery
            raise Err.CODE_DELIVERY_FAILURE.error() from None
    return {"CodeDeliveryDetailsList": details}


@operation("DeleteUserAttributes")
def delete_user_attributes(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool, client, user = authorise(backend, params["AccessToken"])
    users.delete_attributes(backend, pool, user, params["UserAttributeNames"], client=client)
    return {}


@operation("DeleteUser")
def delete_user(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    """The user deletes themselves; all their tokens are revoked."""
    pool, _, user = authorise(backend, params["AccessToken"])
    users.delete_user(backend, pool, user, reason="DeleteUser")
    return {}


@operation("GetUserAttributeVerificationCode")
def get_user_attribute_verification_code(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool, client, user = authorise(backend, params["AccessToken"])
    attribute = _verifiable(params["AttributeName"])
    codes.take_attempt(backend, user, "GetUserAttributeVerificationCode")
    details = _send_verification(backend, pool, user, attribute, "GetUserAttributeVerificationCode", client,
                                 params.get("ClientMetadata"))
    return {"CodeDeliveryDetails": details}


@operation("VerifyUserAttribute")
def verify_user_attribute(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    """Verify an email/phone with its code; a pending new value takes effect now."""
    pool, _, user = authorise(backend, params["AccessToken"])
    attribute = _verifiable(params["AttributeName"])
    codes.take_attempt(backend, user, "VerifyUserAttribute")
    purpose = codes.verify_purpose(attribute)
    codes.verify(backend, user, purpose, params["Code"], consume=False)
    before = dict(user.attributes)
    pending = user.pending_attributes.get(attribute)
    with indexes.reindexing(pool, user):  # a pending email/phone takes effect (or is rolled back)
        if pending is not None:
            attrs.release_aliases(attrs.check_unique(pool, {attribute: pending}, user=user))
            user.attributes[attribute] = pending
        user.attributes[f"{attribute}_verified"] = "true"
        try:
            attrs.claim_verified_aliases(pool, user)
        except CognitoError:
            user.attributes = before
            raise
    user.pending_attributes.pop(attribute, None)
    codes.discard(user, purpose)
    users.touch(backend, user)
    return {}
