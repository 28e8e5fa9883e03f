"""Remembered-device helpers for the device tests: pycognito does the client-side SRP.

pycognito's ``generate_hash_device`` makes the device password and the
verifier ConfirmDevice registers, and ``AWSSRP.process_challenge`` /
``process_device_challenge`` answer PASSWORD_VERIFIER and
DEVICE_PASSWORD_VERIFIER; the emulator shares no code with it. The calls go
through the test's own boto3 client so every challenge name can be checked on
the way.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

from pycognito.aws_srp import AWSSRP, generate_hash_device, long_to_hex

from auth_support import PASSWORD, App

DEVICE_CONFIG = {"ChallengeRequiredOnNewDevice": True, "DeviceOnlyRememberedOnUserPrompt": False}
OPT_IN_CONFIG = {"ChallengeRequiredOnNewDevice": True, "DeviceOnlyRememberedOnUserPrompt": True}


@dataclass
class DeviceSecret:
    """What a client keeps for a confirmed device: its key, group key and random password."""

    key: str
    group_key: str
    password: str


def confirm(app: App, result: dict[str, Any], name: str = "laptop") -> tuple[DeviceSecret, dict[str, Any]]:
    """ConfirmDevice for the NewDeviceMetadata of an AuthenticationResult (a fresh device password)."""
    meta = result["NewDeviceMetadata"]
    password, verifier = generate_hash_device(meta["DeviceGroupKey"], meta["DeviceKey"])
    answer = app.idp.confirm_device(AccessToken=result["AccessToken"], DeviceKey=meta["DeviceKey"],
                                    DeviceSecretVerifierConfig=verifier, DeviceName=name)
    return DeviceSecret(meta["DeviceKey"], meta["DeviceGroupKey"], password), answer


def srp_client(app: App, username: str, device: DeviceSecret | None = None, password: str = PASSWORD) -> AWSSRP:
    extra = {"device_key": device.key, "device_group_key": device.group_key,
             "device_password": device.password} if device else {}
    return AWSSRP(username, password, app.pool_id, app.client_id, client=app.idp, client_secret=app.client_secret,
                  **extra)


def password_step(app: App, username: str, device: DeviceSecret | None = None) -> tuple[AWSSRP, dict[str, Any]]:
    """USER_SRP_AUTH (DEVICE_KEY in AuthParameters and in the PASSWORD_VERIFIER answer): what follows it."""
    srp = srp_client(app, username, device)
    params = srp.get_auth_params()
    first = app.idp.initiate_auth(ClientId=app.client_id, AuthFlow="USER_SRP_AUTH", AuthParameters=params)
    assert first["ChallengeName"] == "PASSWORD_VERIFIER"
    answer = srp.process_challenge(first["ChallengeParameters"], params)
    return srp, app.idp.respond_to_auth_challenge(ClientId=app.client_id, ChallengeName="PASSWORD_VERIFIER",
                                                  ChallengeResponses=answer)


def device_srp(app: App, srp: AWSSRP, step: dict[str, Any], *, admin: bool = False) -> dict[str, Any]:
    """DEVICE_SRP_AUTH then DEVICE_PASSWORD_VERIFIER (through AdminRespondToAuthChallenge with ``admin``);
    the answer to the second."""
    assert step["ChallengeName"] == "DEVICE_SRP_AUTH", step
    respond = (partial(app.idp.admin_respond_to_auth_challenge, UserPoolId=app.pool_id) if admin
               else app.idp.respond_to_auth_challenge)
    srp_a = {"USERNAME": srp.username, "DEVICE_KEY": srp.device_key, "SRP_A": long_to_hex(srp.large_a_value)}
    srp_a.update({"SECRET_HASH": srp.get_secret_hash(srp.username, app.client_id, app.client_secret)}
                 if app.client_secret else {})
    verifier = respond(ClientId=app.client_id, ChallengeName="DEVICE_SRP_AUTH", ChallengeResponses=srp_a,
                       Session=step["Session"])
    assert verifier["ChallengeName"] == "DEVICE_PASSWORD_VERIFIER", verifier
    assert set(verifier["ChallengeParameters"]) >= {"SALT", "SRP_B", "SECRET_BLOCK", "USERNAME"}
    answer = srp.process_device_challenge(verifier["ChallengeParameters"])
    return respond(ClientId=app.client_id, ChallengeName="DEVICE_PASSWORD_VERIFIER", ChallengeResponses=answer,
                   Session=verifier["Session"])


def attributes(device: dict[str, Any]) -> dict[str, str]:
    return {a["Name"]: a["Value"] for a in device["DeviceAttributes"]}
