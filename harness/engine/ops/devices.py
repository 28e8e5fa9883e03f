"""Device operations and the device-SRP challenge answers.

ConfirmDevice, GetDevice, ListDevices, UpdateDeviceStatus, ForgetDevice
(authorised by the user's access token, as the self-service operations are)
and AdminGetDevice, AdminListDevices, AdminUpdateDeviceStatus,
AdminForgetDevice. ``CHALLENGES`` answers DEVICE_SRP_AUTH and
DEVICE_PASSWORD_VERIFIER; :mod:`harness.engine.ops.auth` routes them here (the
answers resume a :class:`SignIn`, which imports :mod:`harness.engine.devices`,
so they cannot live there). The rules are in :mod:`harness.engine.devices`.

AdminGetDevice and AdminListDevices have no UserNotFoundException in the
model: an unknown user there is a ResourceNotFoundException.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from harness.engine import devices, srp
from harness.engine.common import find_user
from harness.engine.models import AppClient, User, UserPool
from harness.engine.ops.paging import paged_answer
from harness.engine.ops.self_service import authorise
from harness.engine.registry import operation
from harness.engine.signin import SignIn, close_session, find_session, required
from harness.errors import Err

if TYPE_CHECKING:  # pragma: no cover
    from harness.engine.store import Backend


# --- who is asking ---------------------------------------------------------------------------------


def _token_user(backend: Backend, params: dict[str, Any]) -> tuple[UserPool, User]:
    """The user behind AccessToken (optional in GetDevice's and ForgetDevice's model, required here)."""
    token = params.get("AccessToken")
    if not token:
        raise Err.MISSING_AUTH_PARAMETER.error(name="AccessToken")
    pool, _, user = authorise(backend, token)
    return pool, user


def _admin_user(backend: Backend, params: dict[str, Any], missing: Err = Err.USER_NOT_FOUND) -> tuple[UserPool, User]:
    pool = backend.pool(params["UserPoolId"])
    user = find_user(pool, params["Username"])
    if user is None:
        raise missing.error()
    return pool, user


def _listing(pool: UserPool, user: User, params: dict[str, Any], operation_name: str) -> dict[str, Any]:
    return paged_answer(devices.listed(user), lambda d: d.key, params.get("Limit"), params.get("PaginationToken"),
                        scope=f"{pool.pool_id}/{operation_name}/{user.sub}",
                        describe=lambda d: devices.describe(pool, user, d),
                        items_member="Devices", token_member="PaginationToken")


# --- the user's own devices ---------------------------------------------------------------------------


@operation("ConfirmDevice")
def confirm_device(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool, user = _token_user(backend, params)
    necessary = devices.confirm(backend, pool, user, params["DeviceKey"], params.get("DeviceSecretVerifierConfig"),
                                params.get("DeviceName"))
    return {"UserConfirmationNecessary": necessary}


@operation("GetDevice")
def get_device(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool, user = _token_user(backend, params)
    return {"Device": devices.describe(pool, user, devices.confirmed_device(user, params["DeviceKey"]))}


@operation("ListDevices")
def list_devices(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool, user = _token_user(backend, params)
    return _listing(pool, user, params, "ListDevices")


@operation("UpdateDeviceStatus")
def update_device_status(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool, user = _token_user(backend, params)
    devices.set_status(backend, pool, user, params["DeviceKey"], params.get("DeviceRememberedStatus"))
    return {}


@operation("ForgetDevice")
def forget_device(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool, user = _token_user(backend, params)
    devices.forget(backend, pool, user, params["DeviceKey"], "ForgetDevice")
    return {}


# --- administrators --------------------------------------------------------------------------------------


@operation("AdminGetDevice")
def admin_get_device(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool, user = _admin_user(backend, params, Err.DEVICE_OWNER_NOT_FOUND)
    return {"Device": devices.describe(pool, user, devices.confirmed_device(user, params["DeviceKey"]))}


@operation("AdminListDevices")
def admin_list_devices(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool, user = _admin_user(backend, params, Err.DEVICE_OWNER_NOT_FOUND)
    return _listing(pool, user, params, "AdminListDevices")


@operation("AdminUpdateDeviceStatus")
def admin_update_device_status(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool, user = _admin_user(backend, params)
    devices.set_status(backend, pool, user, params["DeviceKey"], params.get("DeviceRememberedStatus"))
    return {}


@operation("AdminForgetDevice")
def admin_forget_device(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool, user = _admin_user(backend, params)
    devices.forget(backend, pool, user, params["DeviceKey"], "AdminForgetDevice")
    return {}


# --- DEVICE_SRP_AUTH and DEVICE_PASSWORD_VERIFIER ------------------------------------------------------------


def device_srp_auth(backend: Backend, pool: UserPool, client: AppClient, params: dict[str, Any],
                    responses: dict[str, str]) -> dict[str, Any]:
    """Device SRP step 1: SRP_A for the remembered device the password step named.

    Without ``Session`` (pycognito sends none) the device's open challenge is used.
    """
    key = required(responses, "DEVICE_KEY")
    session_id = params.get("Session") or devices.pending_session(pool, required(responses, "USERNAME"), key)
    session = find_session(backend, pool, client, session_id, devices.DEVICE_SRP_AUTH)
    si = SignIn.resume(backend, pool, client, session, params.get("ClientMetadata"))
    user = si.session_user(session, responses)
    if key != session.device_key:
        raise Err.INVALID_SESSION.error()
    big_a = srp.parse_a(responses.get("SRP_A"))
    close_session(pool, session)
    if user is None:
        raise si.unknown_user(session.username)
    device = devices.confirmed_device(user, key)
    verifier = si.open_session(user.username, devices.DEVICE_PASSWORD_VERIFIER, user.sub)
    verifier.passed = list(session.passed)
    return {
        "ChallengeName": devices.DEVICE_PASSWORD_VERIFIER,
        "Session": verifier.session,
        "ChallengeParameters": devices.srp_begin(backend, verifier, big_a, user, device),
    }


def device_password_verifier(backend: Backend, pool: UserPool, client: AppClient, params: dict[str, Any],
                             responses: dict[str, str]) -> dict[str, Any]:
    """Device SRP step 2: the signature proves the device password; then MFA or tokens (the session answers once)."""
    session_id = srp.session_id_from_block(responses.get("PASSWORD_CLAIM_SECRET_BLOCK")) or params.get("Session")
    session = find_session(backend, pool, client, session_id, devices.DEVICE_PASSWORD_VERIFIER)
    si = SignIn.resume(backend, pool, client, session, params.get("ClientMetadata"))
    user = si.session_user(session, responses)
    close_session(pool, session)
    if user is None:
        raise si.unknown_user(session.username)
    if required(responses, "DEVICE_KEY") != session.device_key:
        raise Err.INVALID_SESSION.error()
    device = devices.confirmed_device(user, session.device_key)
    si.precheck(user)
    if not devices.signature_valid(backend, pool, session, device, responses):
        raise si.fail(user.username, "wrong_device_signature", Err.INCORRECT_CREDENTIALS.error())
    return si.after_device(user, device)


Answer = Callable[["Backend", UserPool, AppClient, dict[str, Any], dict[str, str]], dict[str, Any]]

CHALLENGES: dict[str, Answer] = {
    devices.DEVICE_SRP_AUTH: device_srp_auth,
    devices.DEVICE_PASSWORD_VERIFIER: device_password_verifier,
}
