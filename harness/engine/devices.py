"""Remembered devices: the pool's DeviceConfiguration, device keys and device SRP.

A pool tracks devices once its ``DeviceConfiguration`` names any property.
Every sign-in that names no ``DEVICE_KEY`` is handed a new, unconfirmed device
(``NewDeviceMetadata``: ``DeviceKey`` = ``<region>_<uuid>``, ``DeviceGroupKey``).
ConfirmDevice registers the device's SRP verifier; it is then remembered at
once, or (``DeviceOnlyRememberedOnUserPrompt``) only after UpdateDeviceStatus.

A later sign-in that names a remembered device answers the password with a
``DEVICE_SRP_AUTH`` challenge: the same SRP-6a as USER_SRP_AUTH
(:mod:`harness.engine.srp`) with the DeviceGroupKey in place of the pool name
and the DeviceKey in place of the user id. A confirmed but not remembered
device signs in without device SRP ("Amazon Cognito stores the association but
proceeds with non-device sign-in"). A remembered device skips MFA only where
``ChallengeRequiredOnNewDevice`` is true (:func:`suppresses_mfa`).

Tokens of a sign-in that named a device carry ``device_key``; their refresh
needs that DEVICE_KEY (:func:`check_refresh`). Forgetting a device revokes the
refresh tokens bound to it.

Sources: the developer guide's "Working with user devices in your user pool"
(amazon-cognito-user-pools-device-tracking.html), the API reference of
ConfirmDevice and GetDevice, the model's DeviceConfigurationType; "Device does
not exist." and "Invalid Refresh Token" are observed (amplify-android #2605,
#2506; amazon-cognito-identity-js #200).
"""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING, Any

from harness.engine import events as ev
from harness.engine import srp, srp_math, tokens
from harness.engine.common import find_user
from harness.engine.models import AuthSession, Device, RefreshSession, User, UserPool
from harness.engine.sessions import of_user
from harness.errors import Err

if TYPE_CHECKING:  # pragma: no cover
    from harness.engine.models import AppClient
    from harness.engine.signin import SignIn
    from harness.engine.store import Backend

DEVICE_SRP_AUTH = "DEVICE_SRP_AUTH"
DEVICE_PASSWORD_VERIFIER = "DEVICE_PASSWORD_VERIFIER"
REMEMBERED = "remembered"
NOT_REMEMBERED = "not_remembered"
MAX_UNCONFIRMED = 50
"""Unconfirmed device keys kept per user (each sign-in without DEVICE_KEY makes one); the oldest go first."""
DEVICE_SDK = "aws-sdk"


# --- the pool's configuration ------------------------------------------------------------------


def configuration(pool: UserPool) -> dict[str, Any]:
    """The pool's DeviceConfiguration ({} when the pool does not track devices)."""
    return dict(pool.extra.get("DeviceConfiguration") or {})


def tracking(pool: UserPool) -> bool:
    """Device tracking is on once DeviceConfiguration names any property."""
    return bool(configuration(pool))


def asks_user(pool: UserPool) -> bool:
    """DeviceOnlyRememberedOnUserPrompt: ConfirmDevice leaves the device not remembered."""
    return bool(configuration(pool).get("DeviceOnlyRememberedOnUserPrompt"))


# --- the user's devices ---------------------------------------------------------------------------


def remembered(user: User, device_key: str | None) -> bool:
    """Whether ``device_key`` names a confirmed device of the user in the remembered state."""
    device = user.devices.get(device_key or "")
    return device is not None and device.confirmed and device.remembered == REMEMBERED


def suppresses_mfa(pool: UserPool, user: User, device_key: str | None) -> bool:
    """A remembered device stands in for MFA only where ChallengeRequiredOnNewDevice is true."""
    return bool(configuration(pool).get("ChallengeRequiredOnNewDevice")) and remembered(user, device_key)


def confirmed_device(user: User, device_key: str) -> Device:
    """A device of the user that ConfirmDevice registered (unconfirmed keys are not on the profile)."""
    device = user.devices.get(device_key)
    if device is None or not device.confirmed:
        raise Err.DEVICE_NOT_FOUND.error()
    return device


def listed(user: User) -> list[Device]:
    """The user's confirmed devices, oldest first (a stable order for paging)."""
    return sorted((d for d in user.devices.values() if d.confirmed), key=lambda d: (d.created, d.key))


def describe(pool: UserPool, user: User, device: Device) -> dict[str, Any]:
    """Cognito's DeviceType (attribute names as in the AWS CLI get-device example)."""
    attributes = [{"Name": "device_status", "Value": "valid"}]
    if device.name:
        attributes.append({"Name": "device_name", "Value": device.name})
    owner = f"{user.username}.{pool.pool_id}"
    attributes.append({"Name": "dev:device_arn", "Value":
                       f"arn:aws:cognito-idp:{pool.region}:{pool.account_id}:owner/{owner}/device/{device.key}"})
    attributes.append({"Name": "dev:device_owner", "Value": owner})
    if device.last_ip:
        attributes.append({"Name": "last_ip_used", "Value": device.last_ip})
    attributes.append({"Name": "dev:device_remembered_status", "Value": device.remembered})
    attributes.append({"Name": "dev:device_sdk", "Value": DEVICE_SDK})
    return {
        "DeviceKey": device.key,
        "DeviceAttributes": attributes,
        "DeviceCreateDate": device.created,
        "DeviceLastModifiedDate": device.modified,
        "DeviceLastAuthenticatedDate": device.last_authenticated,
    }


def _new_device(backend: Backend, pool: UserPool, client: AppClient, user: User) -> Device:
    now = backend.clock.now()
    device = Device(
        key=f"{pool.region}_{backend.ids.uuid()}",
        group_key="-" + backend.ids.token_blob(6),
        created=now,
        modified=now,
        last_authenticated=now,
    )
    pending = sorted((d for d in user.devices.values() if not d.confirmed), key=lambda d: (d.created, d.key))
    for stale in pending[: max(0, len(pending) - MAX_UNCONFIRMED + 1)]:
        del user.devices[stale.key]
    user.devices[device.key] = device
    backend.events.emit(ev.DEVICE_NEW, pool.pool_id, username=user.username, client_id=client.client_id,
                        device_key=device.key)
    return device


def for_tokens(
    backend: Backend, pool: UserPool, client: AppClient, user: User, device_key: str | None
) -> tuple[str | None, dict[str, Any] | None]:
    """The device a sign-in's tokens name, and NewDeviceMetadata when it is a new one.

    A key the user holds is reused (and its last sign-in noted); no key, or one
    the user no longer holds, gets a new unconfirmed device.
    """
    if not tracking(pool):
        return None, None
    device = user.devices.get(device_key or "")
    if device is not None:
        device.last_authenticated = backend.clock.now()
        return device.key, None
    device = _new_device(backend, pool, client, user)
    return device.key, {"DeviceKey": device.key, "DeviceGroupKey": device.group_key}


def check_refresh(pool: UserPool, session: RefreshSession, device_key: str | None) -> None:
    """A refresh of tokens bound to a device must name that device (Cognito: "Invalid Refresh Token")."""
    if session.device_key and device_key != session.device_key:
        raise Err.REFRESH_TOKEN_INVALID.error()


# --- ConfirmDevice, UpdateDeviceStatus, ForgetDevice ----------------------------------------------------


def _b64(value: Any) -> bytes:
    try:
        raw = base64.b64decode(str(value or ""), validate=True)
    except (binascii.Error, ValueError):
        raise Err.DEVICE_VERIFIER_INVALID.error() from None
    if not raw:
        raise Err.DEVICE_VERIFIER_INVALID.error()
    return raw


def confirm(
    backend: Backend, pool: UserPool, user: User, device_key: str, verifier_config: dict[str, Any] | None,
    name: str | None,
) -> bool:
    """Register the device's SRP verifier; returns UserConfirmationNecessary.

    The verifier and salt arrive base64-encoded (Amplify's ``generateHashDevice``,
    pycognito's ``generate_hash_device``): v = g^x with
    x = H(salt ‖ H(DeviceGroupKey ‖ DeviceKey ‖ ":" ‖ device password)).
    """
    device = user.devices.get(device_key)
    if device is None:
        raise Err.DEVICE_KEY_INVALID.error()
    if device.confirmed:
        raise Err.DEVICE_KEY_EXISTS.error()
    config = verifier_config or {}
    salt = _b64(config.get("Salt"))
    verifier = int.from_bytes(_b64(config.get("PasswordVerifier")), "big")
    if not 1 < verifier < srp_math.N:
        raise Err.DEVICE_VERIFIER_INVALID.error()
    prompt = asks_user(pool)
    device.salt_hex = salt.hex()
    device.verifier = verifier
    device.name = name or device.name
    device.confirmed = True
    device.remembered = NOT_REMEMBERED if prompt else REMEMBERED
    device.modified = backend.clock.now()
    backend.events.emit(ev.DEVICE_CONFIRMED, pool.pool_id, username=user.username, device_key=device.key,
                        remembered=device.remembered)
    return prompt


def set_status(backend: Backend, pool: UserPool, user: User, device_key: str, status: str | None) -> None:
    """UpdateDeviceStatus: remembered devices sign in with device SRP, not-remembered ones without."""
    if status not in (REMEMBERED, NOT_REMEMBERED):
        raise Err.MISSING_AUTH_PARAMETER.error(name="DeviceRememberedStatus")
    device = confirmed_device(user, device_key)
    device.remembered = status
    device.modified = backend.clock.now()
    backend.events.emit(ev.DEVICE_STATUS, pool.pool_id, username=user.username, device_key=device.key,
                        remembered=status)


def forget(backend: Backend, pool: UserPool, user: User, device_key: str, reason: str) -> None:
    """Delete the device; the refresh tokens issued to it are revoked (its sessions end with it)."""
    device = confirmed_device(user, device_key)
    del user.devices[device.key]
    pool.auth_sessions.pop(device.pending_session, None)
    for session in of_user(pool, user.sub):
        if session.device_key == device.key:
            tokens.revoke_session(backend, pool, session, reason)
    backend.events.emit(ev.DEVICE_FORGOTTEN, pool.pool_id, username=user.username, device_key=device.key,
                        reason=reason)


# --- device SRP ------------------------------------------------------------------------------------------


def device_challenge(si: SignIn, user: User, device_key: str) -> dict[str, Any] | None:
    """After the password: DEVICE_SRP_AUTH for a remembered device, None to carry on.

    A key the user does not hold (forgotten, never issued) is Cognito's
    ResourceNotFoundException "Device does not exist." (SDKs retry without it).
    """
    if not tracking(si.pool):
        return None
    device = user.devices.get(device_key)
    if device is None:
        raise si.fail(user.username, "device_not_found", Err.DEVICE_NOT_FOUND.error())
    if not remembered(user, device_key):
        return None
    session = si.open_session(user.username, DEVICE_SRP_AUTH, user.sub)
    session.device_key = device.key
    device.pending_session = session.session
    return {"ChallengeName": DEVICE_SRP_AUTH, "Session": session.session, "ChallengeParameters": {}}


def pending_session(pool: UserPool, username: str, device_key: str) -> str:
    """The DEVICE_SRP_AUTH session a Session-less answer continues (pycognito sends none)."""
    user = find_user(pool, username)
    device = user.devices.get(device_key) if user is not None else None
    return device.pending_session if device is not None else ""


def srp_begin(backend: Backend, session: AuthSession, big_a: int, user: User, device: Device) -> dict[str, str]:
    """DEVICE_PASSWORD_VERIFIER's parameters: SALT, SRP_B, SECRET_BLOCK (naming the session), USERNAME."""
    device.pending_session = ""
    params = srp.begin(backend, session, big_a, _credentials(device))
    params.pop("USER_ID_FOR_SRP", None)
    params["USERNAME"] = user.username
    return params


def signature_valid(backend: Backend, pool: UserPool, session: AuthSession, device: Device,
                    responses: dict[str, str]) -> bool:
    """Whether PASSWORD_CLAIM_SIGNATURE proves the device password (realm: the DeviceGroupKey)."""
    return srp.signature_valid(backend, pool, session, _credentials(device), responses, realm=device.group_key)


def _credentials(device: Device) -> srp.Credentials:
    return srp.Credentials(user_id=device.key, salt_hex=device.salt_hex, verifier=device.verifier)


__all__ = [
    "DEVICE_SRP_AUTH", "DEVICE_PASSWORD_VERIFIER", "REMEMBERED", "NOT_REMEMBERED", "configuration", "tracking",
    "remembered", "suppresses_mfa", "confirmed_device", "listed", "describe", "for_tokens", "check_refresh",
    "confirm", "set_status", "forget", "device_challenge", "pending_session", "srp_begin", "signature_valid",
]
