"""Self-service sign-up and password recovery: SignUp, ConfirmSignUp,
ResendConfirmationCode, ForgotPassword, ConfirmForgotPassword.

These are public operations (no credentials): the app client and, for a
client with a secret, SECRET_HASH authenticate the caller. With
``PreventUserExistenceErrors=ENABLED`` unknown usernames get the same answer
shape as real ones (simulated delivery details, generic code mismatch), so
the API does not reveal who has an account.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from harness.engine import attributes as attrs
from harness.engine import codes, messaging, trigger_sources, users
from harness.engine.common import check_secret_hash, find_client, find_user
from harness.engine.models import AppClient, User, UserPool
from harness.engine.passwords import check_policy
from harness.engine.registry import operation
from harness.engine.signin import SIGN_UP_CONFIRMED, SignIn, secret_alternates
from harness.engine.triggers import run_pre_signup
from harness.errors import CognitoError, Err

if TYPE_CHECKING:  # pragma: no cover
    from harness.engine.store import Backend


# --- shared helpers --------------------------------------------------------------------


def hides_existence(client: AppClient) -> bool:
    return client.prevent_user_existence_errors == "ENABLED"


def client_user(
    backend: Backend, params: dict[str, Any]
) -> tuple[UserPool, AppClient, str, User | None]:
    """Client, SECRET_HASH and user lookup shared by the public user operations."""
    pool, client = find_client(backend, params["ClientId"])
    username = params["Username"]
    user = find_user(pool, username)
    check_secret_hash(client, username, params.get("SecretHash"), *secret_alternates(user))
    return pool, client, username, user


def simulated_delivery(pool: UserPool, username: str) -> dict[str, str]:
    """Deterministic CodeDeliveryDetails for a user who does not exist.

    The same username always gets the same masked destination, and the
    shape matches a real delivery, so the answer leaks nothing.
    """
    if attrs.is_phone(username):
        return messaging.delivery_details("SMS", username)
    if attrs.is_email(username):
        return messaging.delivery_details("EMAIL", username)
    digest = hashlib.sha256(f"{pool.pool_id}\x00{pool.user_key(username)}".encode()).hexdigest()
    letters = [c for c in digest if c.isalpha()] + ["a", "e"]
    if pool.auto_verified_attributes == ["phone_number"]:
        digits = "".join(str(int(c, 16) % 10) for c in digest[:10])
        return messaging.delivery_details("SMS", f"+1{digits}")
    return messaging.delivery_details("EMAIL", f"{letters[0]}@{letters[1]}.com")


def unknown_user() -> CognitoError:
    """What LEGACY clients hear about an unknown username (ENABLED ones hear nothing)."""
    return Err.USER_CLIENT_NOT_FOUND.error()


def _session(backend: Backend, pool: UserPool, client: AppClient, user: User, stage: str) -> str:
    """The sign-up ``Session``: ConfirmSignUp's one signs the user in through USER_AUTH.

    It lives AuthSessionValidity minutes and names the user by sub, so a
    deleted-and-recreated username cannot use it.
    """
    return SignIn(backend, pool, client, "USER_AUTH").open_session(user.username, stage, user.sub).session


def _mark_verified(user: User, attribute: str) -> None:
    user.attributes[f"{attribute}_verified"] = "true"


# --- SignUp -----------------------------------------------------------------------------


@operation("SignUp")
def sign_up(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    """Create an UNCONFIRMED user and send the confirmation code.

    When delivery fails (CodeDeliveryFailureException) or the daily email
    quota is exhausted (LimitExceededException), the user stays created and
    UNCONFIRMED and the error is returned, as the SignUp documentation says.
    """
    pool, client = find_client(backend, params["ClientId"])
    username = params["Username"]
    check_secret_hash(client, username, params.get("SecretHash"))
    if pool.allow_admin_create_user_only:
        raise Err.SIGNUP_NOT_PERMITTED.error()
    password = params.get("Password") or ""
    check_policy(pool, password, "signup")
    decision = run_pre_signup(
        backend, pool, "PreSignUp_SignUp",
        {**attrs.as_dict(params.get("UserAttributes")), **users.sign_in_attribute_values(pool, username)},
        username, client.client_id,
        validation_data=attrs.as_dict(params.get("ValidationData")) or None,
        client_metadata=params.get("ClientMetadata"),
    )
    user = users.create_user(
        backend,
        pool,
        username,
        params.get("UserAttributes"),
        status="UNCONFIRMED",
        password=password,
        client=client,
        check_required=True,
    )
    # the trigger's verdicts apply after creation: the client may not write *_verified itself
    for flag, attribute in ((decision.auto_verify_email, "email"), (decision.auto_verify_phone, "phone_number")):
        if flag and user.attributes.get(attribute):
            _mark_verified(user, attribute)
    if decision.auto_confirm_user:
        attrs.claim_verified_aliases(pool, user, force_alias=False)
        users.confirm_user(backend, pool, user, by="PreSignUp")
        trigger_sources.post_confirmation(backend, pool, user, trigger_sources.POST_CONFIRMATION_SIGN_UP,
                                          client_id=client.client_id, client_metadata=params.get("ClientMetadata"))
        return {"UserConfirmed": True, "UserSub": user.sub,
                "Session": _session(backend, pool, client, user, SIGN_UP_CONFIRMED)}
    response: dict[str, Any] = {"UserConfirmed": False, "UserSub": user.sub}
    destination = codes.signup_destination(pool, user)
    if destination is not None:
        response["CodeDeliveryDetails"] = codes.send_code(
            backend, pool, user, purpose=codes.SIGN_UP, attribute=destination, operation="SignUp",
            client_id=client.client_id, client_metadata=params.get("ClientMetadata"),
        )
    response["Session"] = _session(backend, pool, client, user, "SIGN_UP")
    return response


@operation("ConfirmSignUp")
def confirm_sign_up(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool, client, _, user = client_user(backend, params)
    if user is None:
        if hides_existence(client):
            raise Err.CODE_MISMATCH.error()
        raise unknown_user()
    codes.take_attempt(backend, user, "ConfirmSignUp")
    if user.status != "UNCONFIRMED":
        raise Err.ALREADY_CONFIRMED.error(status=user.status)
    codes.verify(backend, user, codes.SIGN_UP, params["ConfirmationCode"], consume=False)
    destination = codes.signup_destination(pool, user)
    if destination is not None:
        before = user.attributes.get(f"{destination}_verified")
        _mark_verified(user, destination)
        try:
            attrs.claim_verified_aliases(pool, user, force_alias=bool(params.get("ForceAliasCreation")))
        except Exception:
            if before is None:
                user.attributes.pop(f"{destination}_verified", None)
            else:
                user.attributes[f"{destination}_verified"] = before
            raise
    codes.discard(user, codes.SIGN_UP)
    users.confirm_user(backend, pool, user, by="ConfirmSignUp")
    trigger_sources.post_confirmation(backend, pool, user, trigger_sources.POST_CONFIRMATION_SIGN_UP,
                                      client_id=client.client_id, client_metadata=params.get("ClientMetadata"))
    return {"Session": _session(backend, pool, client, user, SIGN_UP_CONFIRMED)}


@operation("ResendConfirmationCode")
def resend_confirmation_code(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool, client, username, user = client_user(backend, params)
    if user is None:
        if hides_existence(client):
            return {"CodeDeliveryDetails": simulated_delivery(pool, username)}
        raise unknown_user()
    if user.status != "UNCONFIRMED":
        raise Err.RESEND_ALREADY_CONFIRMED.error()
    destination = codes.signup_destination(pool, user)
    if destination is None:
        raise Err.AUTO_VERIFY_OFF.error()
    codes.take_attempt(backend, user, "ResendConfirmationCode")
    details = codes.send_code(
        backend, pool, user, purpose=codes.SIGN_UP, attribute=destination, operation="ResendConfirmationCode",
        client_id=client.client_id, client_metadata=params.get("ClientMetadata"),
    )
    return {"CodeDeliveryDetails": details}


# --- password recovery ---------------------------------------------------------------------


@operation("ForgotPassword")
def forgot_password(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    """Send a reset code to the verified contact AccountRecoverySetting picks.

    The current password keeps working until ConfirmForgotPassword. An unknown
    name goes to the pool's UserMigration function (UserMigration_ForgotPassword),
    which may create the user RESET_REQUIRED.
    """
    pool, client, username, user = client_user(backend, params)
    if user is None:
        user = _migrate_for_reset(backend, pool, client, username, params.get("ClientMetadata"))
    if user is None:
        if hides_existence(client):
            return {"CodeDeliveryDetails": simulated_delivery(pool, username)}
        raise unknown_user()
    if not user.enabled:
        raise Err.USER_DISABLED.error()
    if user.status in ("FORCE_CHANGE_PASSWORD", "EXTERNAL_PROVIDER"):
        raise Err.CANNOT_RESET_STATE.error()
    destination = codes.recovery_destination(pool, user)
    if destination is None:
        raise Err.NO_VERIFIED_CONTACT.error()
    details = codes.send_code(
        backend, pool, user, purpose=codes.FORGOT_PASSWORD, attribute=destination, operation="ForgotPassword",
        client_id=client.client_id, client_metadata=params.get("ClientMetadata"),
    )
    return {"CodeDeliveryDetails": details}


def _migrate_for_reset(
    backend: Backend, pool: UserPool, client: AppClient, username: str, client_metadata: dict[str, str] | None
) -> User | None:
    """UserMigration_ForgotPassword; a refusal reads as an unknown user to a client hiding existence."""
    try:
        return trigger_sources.user_migration(
            backend, pool, trigger_sources.MIGRATION_FORGOT_PASSWORD, username, client_id=client.client_id,
            hides_existence=hides_existence(client), client_metadata=client_metadata,
        )
    except CognitoError as error:
        if error.type == "UserNotFoundException" and hides_existence(client):
            return None
        raise


@operation("ConfirmForgotPassword")
def confirm_forgot_password(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    """Set a new password with a reset code; the user ends CONFIRMED (also from RESET_REQUIRED)."""
    pool, client, _, user = client_user(backend, params)
    if user is None:
        if hides_existence(client):
            raise Err.CODE_MISMATCH.error()
        raise unknown_user()
    codes.take_attempt(backend, user, "ConfirmForgotPassword")
    if not user.enabled:
        raise Err.USER_DISABLED.error()
    if user.status == "UNCONFIRMED":
        raise Err.USER_NOT_CONFIRMED.error()
    codes.verify(backend, user, codes.FORGOT_PASSWORD, params["ConfirmationCode"], consume=False)
    password = params["Password"]
    check_policy(pool, password, "other")
    users.set_user_password(backend, pool, user, password, permanent=True, reason="ConfirmForgotPassword")
    codes.discard(user, codes.FORGOT_PASSWORD)
    trigger_sources.post_confirmation(backend, pool, user, trigger_sources.POST_CONFIRMATION_FORGOT_PASSWORD,
                                      client_id=client.client_id, client_metadata=params.get("ClientMetadata"))
    return {}
