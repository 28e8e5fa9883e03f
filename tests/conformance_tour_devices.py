"""The remembered-devices part of the operation-conformance tour.

A pool that tracks devices hands each sign-in a NewDeviceMetadata; the device is
confirmed with a verifier made by pycognito (``generate_hash_device``), then
listed, described, remembered, used for a device-SRP sign-in (pycognito's
``AWSSRP.authenticate_user`` with the device's key and password: PASSWORD_VERIFIER,
DEVICE_SRP_AUTH, DEVICE_PASSWORD_VERIFIER) and forgotten, through the user's and
the administrator's operations. pycognito stamps SRP TIMESTAMPs with the wall
clock, so this part runs while the virtual clock is still near it.
"""

from __future__ import annotations

from typing import Any

from pycognito.aws_srp import AWSSRP, generate_hash_device

from conformance_tour_support import BAD_TOKEN, PASSWORD, fail, password_auth, permanent_user, pool_with_client

DEVICE_CONFIG = {"ChallengeRequiredOnNewDevice": True, "DeviceOnlyRememberedOnUserPrompt": True}
UNKNOWN_DEVICE = "us-east-1_00000000-0000-4000-8000-000000000000"


def _new_device(idp: Any, cid: str) -> tuple[dict[str, Any], str, dict[str, Any]]:
    """A password sign-in's tokens, a device password and the verifier ConfirmDevice takes."""
    result = password_auth(idp, cid, "dev")["AuthenticationResult"]
    meta = result["NewDeviceMetadata"]
    device_password, verifier = generate_hash_device(meta["DeviceGroupKey"], meta["DeviceKey"])
    return result, device_password, verifier


def devices_tour(idp: Any, backend: Any) -> None:  # noqa: ARG001 - same signature as the other parts
    """Every device operation once to succeed and once to fail, and a device-SRP sign-in."""
    pool_id, cid = pool_with_client(idp, "tour-devices", DeviceConfiguration=DEVICE_CONFIG)
    permanent_user(idp, pool_id, "dev")
    result, device_password, verifier = _new_device(idp, cid)
    access, meta = result["AccessToken"], result["NewDeviceMetadata"]
    key = meta["DeviceKey"]
    answer = idp.confirm_device(AccessToken=access, DeviceKey=key, DeviceSecretVerifierConfig=verifier,
                                DeviceName="tour laptop")
    assert answer["UserConfirmationNecessary"] is True, answer  # DeviceOnlyRememberedOnUserPrompt
    fail(idp.confirm_device, AccessToken=access, DeviceKey=key,  # already confirmed
         DeviceSecretVerifierConfig=verifier)
    idp.get_device(AccessToken=access, DeviceKey=key)
    fail(idp.get_device, AccessToken=access, DeviceKey=UNKNOWN_DEVICE)
    idp.list_devices(AccessToken=access, Limit=10)
    fail(idp.list_devices, AccessToken=BAD_TOKEN)
    idp.update_device_status(AccessToken=access, DeviceKey=key, DeviceRememberedStatus="remembered")
    fail(idp.update_device_status, AccessToken=access, DeviceKey=UNKNOWN_DEVICE, DeviceRememberedStatus="remembered")
    idp.admin_get_device(UserPoolId=pool_id, Username="dev", DeviceKey=key)
    fail(idp.admin_get_device, UserPoolId=pool_id, Username="dev", DeviceKey=UNKNOWN_DEVICE)
    idp.admin_list_devices(UserPoolId=pool_id, Username="dev", Limit=10)
    fail(idp.admin_list_devices, UserPoolId=pool_id, Username="ghost")
    idp.admin_update_device_status(UserPoolId=pool_id, Username="dev", DeviceKey=key,
                                   DeviceRememberedStatus="remembered")
    fail(idp.admin_update_device_status, UserPoolId=pool_id, Username="ghost", DeviceKey=key,
         DeviceRememberedStatus="remembered")

    srp = AWSSRP("dev", PASSWORD, pool_id, cid, client=idp, device_key=key, device_group_key=meta["DeviceGroupKey"],
                 device_password=device_password)
    signed_in = srp.authenticate_user()["AuthenticationResult"]
    assert "NewDeviceMetadata" not in signed_in, signed_in  # the remembered device, not a new one

    idp.forget_device(AccessToken=signed_in["AccessToken"], DeviceKey=key)
    fail(idp.forget_device, AccessToken=signed_in["AccessToken"], DeviceKey=key)
    second, _, second_verifier = _new_device(idp, cid)
    second_key = second["NewDeviceMetadata"]["DeviceKey"]
    idp.confirm_device(AccessToken=second["AccessToken"], DeviceKey=second_key,
                       DeviceSecretVerifierConfig=second_verifier)
    idp.admin_forget_device(UserPoolId=pool_id, Username="dev", DeviceKey=second_key)
    fail(idp.admin_forget_device, UserPoolId=pool_id, Username="dev", DeviceKey=second_key)
