"""Remembered devices over HTTP with real boto3 and pycognito's device SRP.

A pool with DeviceConfiguration hands every sign-in without DEVICE_KEY a new
device (NewDeviceMetadata, ``device_key`` in the access token, verified with
PyJWT against the served JWKS); ConfirmDevice registers pycognito's verifier;
a remembered device answers the password with DEVICE_SRP_AUTH ->
DEVICE_PASSWORD_VERIFIER and skips TOTP MFA (codes from pyotp); a
not-remembered one signs in without device SRP and must pass MFA. Then the
device operations, their Admin forms and their errors, refresh bound to the
device, and what forgetting a device ends.
"""

from __future__ import annotations

import re
from typing import Any

import pyotp
import pytest

from auth_support import PASSWORD, App, add_client, make_app, raises
from devices_support import (
    DEVICE_CONFIG,
    OPT_IN_CONFIG,
    DeviceSecret,
    attributes,
    confirm,
    device_srp,
    password_step,
    srp_client,
)

DEVICE_KEY = re.compile(r"us-east-1_[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
NO_DEVICE = "Device does not exist."


def device_app(emulator: Any, idp: Any, config: dict[str, Any] | None = None, **client: Any) -> App:
    """A pool that tracks devices (DeviceConfiguration), alice confirmed, under a frozen clock."""
    emulator.backend.clock.freeze()
    app = make_app(emulator, idp, pool={"DeviceConfiguration": config or DEVICE_CONFIG}, client=client or None)
    app.confirmed_user("alice", email="alice@example.com")
    return app


@pytest.fixture()
def dapp(emulator: Any, idp: Any) -> App:
    return device_app(emulator, idp)


def remembered_device(app: App, username: str = "alice") -> tuple[DeviceSecret, dict[str, Any]]:
    """Sign in (a new device), confirm it; the device and the sign-in's AuthenticationResult."""
    result = app.sign_in(username)
    device, answer = confirm(app, result)
    assert answer["UserConfirmationNecessary"] is False
    return device, result


def device_sign_in(app: App, device: DeviceSecret, username: str = "alice") -> dict[str, Any]:
    """Password (SRP) then device SRP; the AuthenticationResult."""
    srp, step = password_step(app, username, device)
    final = device_srp(app, srp, step)
    assert final["ChallengeParameters"] == {} and "ChallengeName" not in final
    return final["AuthenticationResult"]


# --- NewDeviceMetadata and the device_key claim ------------------------------------------------------


def test_sign_in_hands_out_a_new_device_named_in_the_access_token(dapp: App) -> None:
    first = dapp.sign_in("alice")
    meta = first["NewDeviceMetadata"]
    assert DEVICE_KEY.fullmatch(meta["DeviceKey"]) and meta["DeviceGroupKey"]
    claims = dapp.verify(first)
    assert claims["access"]["device_key"] == meta["DeviceKey"]
    assert "device_key" not in claims["id"]
    _, final = password_step(dapp, "alice")  # SRP without DEVICE_KEY: another new device
    second = final["AuthenticationResult"]["NewDeviceMetadata"]
    assert DEVICE_KEY.fullmatch(second["DeviceKey"]) and second["DeviceKey"] != meta["DeviceKey"]
    assert dapp.verify(final["AuthenticationResult"])["access"]["device_key"] == second["DeviceKey"]
    assert [e.data["device_key"] for e in dapp.backend.events.list("device.new")] == [meta["DeviceKey"],
                                                                                       second["DeviceKey"]]
    # an unconfirmed key is not on the user's profile yet
    assert dapp.idp.list_devices(AccessToken=first["AccessToken"])["Devices"] == []


def test_pool_without_device_configuration_tracks_nothing(emulator: Any, idp: Any) -> None:
    emulator.backend.clock.freeze()
    app = make_app(emulator, idp)
    app.confirmed_user("alice", email="alice@example.com")
    result = app.sign_in("alice")
    assert "NewDeviceMetadata" not in result
    assert "device_key" not in app.verify(result)["access"]
    named = app.idp.initiate_auth(ClientId=app.client_id, AuthFlow="USER_PASSWORD_AUTH", AuthParameters={
        "USERNAME": "alice", "PASSWORD": PASSWORD, "DEVICE_KEY": "us-east-1_0f0f0f0f-0000-4000-8000-000000000000"})
    assert "device_key" not in app.verify(named["AuthenticationResult"])["access"]
    assert app.idp.list_devices(AccessToken=result["AccessToken"])["Devices"] == []


# --- ConfirmDevice and device SRP ---------------------------------------------------------------------


def test_confirmed_device_signs_in_with_device_srp(dapp: App) -> None:
    device, _ = remembered_device(dapp)
    got = dapp.idp.get_device(AccessToken=dapp.sign_in("alice")["AccessToken"], DeviceKey=device.key)["Device"]
    assert got["DeviceKey"] == device.key
    assert attributes(got)["device_name"] == "laptop"
    assert attributes(got)["dev:device_remembered_status"] == "remembered"
    assert attributes(got)["device_status"] == "valid"

    result = device_sign_in(dapp, device)
    assert "NewDeviceMetadata" not in result  # a known device gets no new key
    claims = dapp.verify(result)
    assert claims["access"]["device_key"] == device.key
    assert dapp.backend.events.count("auth.success", username="alice") == 3


def test_pycognito_device_flow_without_session_strings(dapp: App) -> None:
    """pycognito's authenticate_user sends no Session on the device steps (the SECRET_BLOCK and the
    device's open challenge carry it)."""
    device, _ = remembered_device(dapp)
    final = srp_client(dapp, "alice", device).authenticate_user()
    assert dapp.verify(final["AuthenticationResult"])["access"]["device_key"] == device.key
    assert "NewDeviceMetadata" not in final["AuthenticationResult"]


@pytest.mark.parametrize("flow", ["USER_PASSWORD_AUTH", "ADMIN_USER_PASSWORD_AUTH"])
def test_password_flows_with_device_key_go_through_device_srp(dapp: App, flow: str) -> None:
    device, _ = remembered_device(dapp)
    params = {"USERNAME": "alice", "PASSWORD": PASSWORD, "DEVICE_KEY": device.key}
    if flow == "USER_PASSWORD_AUTH":
        step = dapp.idp.initiate_auth(ClientId=dapp.client_id, AuthFlow=flow, AuthParameters=params)
    else:
        step = dapp.idp.admin_initiate_auth(UserPoolId=dapp.pool_id, ClientId=dapp.client_id, AuthFlow=flow,
                                            AuthParameters=params)
    assert step["ChallengeName"] == "DEVICE_SRP_AUTH" and "AuthenticationResult" not in step
    srp = srp_client(dapp, "alice", device)
    result = device_srp(dapp, srp, step, admin=flow.startswith("ADMIN"))["AuthenticationResult"]
    assert dapp.verify(result)["access"]["device_key"] == device.key


def test_wrong_device_secret_is_refused_and_the_session_ends(dapp: App) -> None:
    device, _ = remembered_device(dapp)
    thief = DeviceSecret(device.key, device.group_key, "not-the-device-password")
    srp, step = password_step(dapp, "alice", thief)
    with raises("NotAuthorizedException", "Incorrect username or password."):
        device_srp(dapp, srp, step)
    assert dapp.backend.events.count("auth.failure", username="alice", reason="wrong_device_signature") == 1
    # the right device still works, and a DEVICE_SRP_AUTH answer naming another key is refused
    srp, step = password_step(dapp, "alice", device)
    with raises("NotAuthorizedException", "Invalid session for the user."):
        dapp.idp.respond_to_auth_challenge(
            ClientId=dapp.client_id, ChallengeName="DEVICE_SRP_AUTH", Session=step["Session"],
            ChallengeResponses={"USERNAME": "alice", "DEVICE_KEY": "us-east-1_00000000-0000-4000-8000-000000000000",
                                "SRP_A": "ab"})
    assert dapp.verify(device_srp(dapp, srp, step)["AuthenticationResult"])["access"]["device_key"] == device.key


def test_device_challenges_check_their_input(dapp: App) -> None:
    device, _ = remembered_device(dapp)
    srp, step = password_step(dapp, "alice", device)
    with raises("InvalidParameterException", "Missing required parameter DEVICE_KEY"):
        dapp.idp.respond_to_auth_challenge(ClientId=dapp.client_id, ChallengeName="DEVICE_SRP_AUTH",
                                           Session=step["Session"], ChallengeResponses={"USERNAME": "alice"})
    with raises("InvalidParameterException", "Missing required parameter SRP_A"):
        dapp.idp.respond_to_auth_challenge(ClientId=dapp.client_id, ChallengeName="DEVICE_SRP_AUTH",
                                           Session=step["Session"],
                                           ChallengeResponses={"USERNAME": "alice", "DEVICE_KEY": device.key})
    with raises("NotAuthorizedException", "Invalid session for the user."):
        dapp.idp.respond_to_auth_challenge(ClientId=dapp.client_id, ChallengeName="DEVICE_PASSWORD_VERIFIER",
                                           Session="s" * 40, ChallengeResponses={"USERNAME": "alice",
                                                                               "DEVICE_KEY": device.key})
    dapp.clock.advance(181)  # the client's AuthSessionValidity (3 minutes)
    with raises("NotAuthorizedException", "Invalid session for the user, session is expired."):
        device_srp(dapp, srp, step)


def test_opt_in_pool_remembers_only_after_update_device_status(emulator: Any, idp: Any) -> None:
    app = device_app(emulator, idp, OPT_IN_CONFIG)
    result = app.sign_in("alice")
    device, answer = confirm(app, result, name="phone")
    assert answer["UserConfirmationNecessary"] is True
    token = result["AccessToken"]
    assert attributes(app.idp.get_device(AccessToken=token, DeviceKey=device.key)["Device"])[
        "dev:device_remembered_status"] == "not_remembered"
    # confirmed but not remembered: the key is used without device SRP ("non-device sign-in")
    _, final = password_step(app, "alice", device)
    assert "ChallengeName" not in final
    assert "NewDeviceMetadata" not in final["AuthenticationResult"]
    assert app.verify(final["AuthenticationResult"])["access"]["device_key"] == device.key

    app.idp.update_device_status(AccessToken=token, DeviceKey=device.key, DeviceRememberedStatus="remembered")
    assert attributes(app.idp.get_device(AccessToken=token, DeviceKey=device.key)["Device"])[
        "dev:device_remembered_status"] == "remembered"
    assert app.verify(device_sign_in(app, device))["access"]["device_key"] == device.key
    app.idp.update_device_status(AccessToken=token, DeviceKey=device.key, DeviceRememberedStatus="not_remembered")
    assert "ChallengeName" not in password_step(app, "alice", device)[1]
    assert [e.data["remembered"] for e in app.backend.events.list("device.status")] == ["remembered",
                                                                                         "not_remembered"]


# --- remembered devices and MFA --------------------------------------------------------------------------


def mfa_device_app(emulator: Any, idp: Any, config: dict[str, Any]) -> tuple[App, str]:
    """Pool MFA ON with TOTP; alice enrolled (while MFA was optional); returns the TOTP secret."""
    app = device_app(emulator, idp, config)
    idp.set_user_pool_mfa_config(UserPoolId=app.pool_id, MfaConfiguration="OPTIONAL",
                                 SoftwareTokenMfaConfiguration={"Enabled": True})
    token = app.sign_in("alice")["AccessToken"]
    secret = idp.associate_software_token(AccessToken=token)["SecretCode"]
    assert idp.verify_software_token(AccessToken=token, UserCode=pyotp.TOTP(secret).at(app.clock.now()))[
        "Status"] == "SUCCESS"
    idp.set_user_mfa_preference(AccessToken=token, SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True})
    idp.set_user_pool_mfa_config(UserPoolId=app.pool_id, MfaConfiguration="ON",
                                 SoftwareTokenMfaConfiguration={"Enabled": True})
    return app, secret


def pass_totp(app: App, secret: str, step: dict[str, Any]) -> dict[str, Any]:
    assert step["ChallengeName"] == "SOFTWARE_TOKEN_MFA", step
    app.clock.advance(30)  # a fresh time step: a TOTP code is accepted once
    final = app.idp.respond_to_auth_challenge(
        ClientId=app.client_id, ChallengeName="SOFTWARE_TOKEN_MFA", Session=step["Session"],
        ChallengeResponses={"USERNAME": "alice", "SOFTWARE_TOKEN_MFA_CODE": pyotp.TOTP(secret).at(app.clock.now())})
    return final["AuthenticationResult"]


def test_remembered_device_skips_mfa_and_a_forgotten_one_does_not(emulator: Any, idp: Any) -> None:
    app, secret = mfa_device_app(emulator, idp, DEVICE_CONFIG)
    _, step = password_step(app, "alice")  # a new device must pass MFA
    result = pass_totp(app, secret, step)
    device, answer = confirm(app, result)
    assert answer["UserConfirmationNecessary"] is False

    srp, step = password_step(app, "alice", device)
    final = device_srp(app, srp, step)  # no SOFTWARE_TOKEN_MFA after the device proved itself
    assert app.verify(final["AuthenticationResult"])["access"]["device_key"] == device.key
    assert app.backend.events.count("mfa.challenge", username="alice") == 1

    app.idp.admin_update_device_status(UserPoolId=app.pool_id, Username="alice", DeviceKey=device.key,
                                       DeviceRememberedStatus="not_remembered")
    _, step = password_step(app, "alice", device)  # confirmed, not remembered: MFA again
    assert app.verify(pass_totp(app, secret, step))["access"]["device_key"] == device.key


def test_remembered_device_does_not_replace_mfa_unless_the_pool_says_so(emulator: Any, idp: Any) -> None:
    """ChallengeRequiredOnNewDevice false: device SRP still runs, then MFA (the model's DeviceConfigurationType)."""
    app, secret = mfa_device_app(emulator, idp, {"ChallengeRequiredOnNewDevice": False,
                                                 "DeviceOnlyRememberedOnUserPrompt": False})
    _, step = password_step(app, "alice")
    device, _ = confirm(app, pass_totp(app, secret, step))
    srp, step = password_step(app, "alice", device)
    after_device = device_srp(app, srp, step)
    assert app.verify(pass_totp(app, secret, after_device))["access"]["device_key"] == device.key


# --- List / Get / Update / Forget and their errors ------------------------------------------------------------


def test_list_devices_pages_and_get_device_refuses_what_is_not_there(dapp: App) -> None:
    keys = [remembered_device(dapp)[0].key for _ in range(3)]
    token = dapp.sign_in("alice")["AccessToken"]
    seen, page_token = [], None
    while True:
        page = dapp.idp.list_devices(AccessToken=token, Limit=2, **({"PaginationToken": page_token}
                                                                     if page_token else {}))
        assert len(page["Devices"]) <= 2
        seen += [d["DeviceKey"] for d in page["Devices"]]
        page_token = page.get("PaginationToken")
        if not page_token:
            break
    assert seen == keys
    with raises("InvalidParameterException", "Pagination token is invalid."):
        dapp.idp.list_devices(AccessToken=token, PaginationToken="bogus")
    with raises("ResourceNotFoundException", NO_DEVICE):
        dapp.idp.get_device(AccessToken=token, DeviceKey="us-east-1_00000000-0000-4000-8000-000000000000")
    unconfirmed = dapp.sign_in("alice")["NewDeviceMetadata"]["DeviceKey"]
    with raises("ResourceNotFoundException", NO_DEVICE):
        dapp.idp.get_device(AccessToken=token, DeviceKey=unconfirmed)
    with raises("InvalidParameterException", "Missing required parameter AccessToken"):
        dapp.idp.get_device(DeviceKey=keys[0])
    with raises("NotAuthorizedException", "Invalid Access Token"):
        dapp.idp.list_devices(AccessToken="not.a.token")
    with raises("ResourceNotFoundException", NO_DEVICE):
        dapp.idp.update_device_status(AccessToken=token, DeviceKey=unconfirmed, DeviceRememberedStatus="remembered")
    # another user's device is not this user's
    dapp.confirmed_user("bob", email="bob@example.com")
    bob = dapp.sign_in("bob")["AccessToken"]
    with raises("ResourceNotFoundException", NO_DEVICE):
        dapp.idp.get_device(AccessToken=bob, DeviceKey=keys[0])
    with raises("ResourceNotFoundException", NO_DEVICE):
        dapp.idp.forget_device(AccessToken=bob, DeviceKey=keys[0])
    assert dapp.idp.list_devices(AccessToken=bob)["Devices"] == []


def test_confirm_device_errors(dapp: App) -> None:
    result = dapp.sign_in("alice")
    key, token = result["NewDeviceMetadata"]["DeviceKey"], result["AccessToken"]
    with raises("InvalidParameterException", "Invalid device key given."):
        dapp.idp.confirm_device(AccessToken=token, DeviceKey="us-east-1_00000000-0000-4000-8000-000000000000",
                                DeviceSecretVerifierConfig={"PasswordVerifier": "AQID", "Salt": "AQID"})
    with raises("InvalidParameterException"):
        dapp.idp.confirm_device(AccessToken=token, DeviceKey=key,
                                DeviceSecretVerifierConfig={"PasswordVerifier": "not base64!", "Salt": "AQID"})
    with raises("InvalidParameterException"):
        dapp.idp.confirm_device(AccessToken=token, DeviceKey=key)
    with raises("InvalidParameterException"):  # v = 1 would let anyone sign the device claim
        dapp.idp.confirm_device(AccessToken=token, DeviceKey=key,
                                DeviceSecretVerifierConfig={"PasswordVerifier": "AQ==", "Salt": "AQID"})
    with raises("NotAuthorizedException", "Invalid Access Token"):
        dapp.idp.confirm_device(AccessToken="not.a.token", DeviceKey=key)
    confirm(dapp, result)
    with raises("DeviceKeyExistsException"):
        confirm(dapp, result)


def test_forget_device_ends_device_sign_in_and_its_refresh_tokens(dapp: App) -> None:
    device, first = remembered_device(dapp)
    signed = device_sign_in(dapp, device)
    other = dapp.sign_in("alice")  # another device of the same user
    dapp.idp.forget_device(AccessToken=signed["AccessToken"], DeviceKey=device.key)
    with raises("ResourceNotFoundException", NO_DEVICE):
        dapp.idp.forget_device(AccessToken=other["AccessToken"], DeviceKey=device.key)
    with raises("ResourceNotFoundException", NO_DEVICE):
        dapp.idp.get_device(AccessToken=other["AccessToken"], DeviceKey=device.key)
    with raises("ResourceNotFoundException", NO_DEVICE):  # SDKs retry the sign-in without the key
        password_step(dapp, "alice", device)
    for bound in (first, signed):
        with raises("NotAuthorizedException", "Refresh Token has been revoked"):
            dapp.idp.initiate_auth(ClientId=dapp.client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                                   AuthParameters={"REFRESH_TOKEN": bound["RefreshToken"], "DEVICE_KEY": device.key})
    key = other["NewDeviceMetadata"]["DeviceKey"]
    refreshed = dapp.idp.initiate_auth(ClientId=dapp.client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                                       AuthParameters={"REFRESH_TOKEN": other["RefreshToken"], "DEVICE_KEY": key})
    assert dapp.verify(refreshed["AuthenticationResult"])["access"]["device_key"] == key
    assert dapp.backend.events.count("device.forgotten", device_key=device.key, reason="ForgetDevice") == 1


def test_admin_device_operations(dapp: App) -> None:
    device, _ = remembered_device(dapp)
    pool, idp = dapp.pool_id, dapp.idp
    listed = idp.admin_list_devices(UserPoolId=pool, Username="alice")["Devices"]
    assert [d["DeviceKey"] for d in listed] == [device.key]
    assert attributes(listed[0])["dev:device_owner"] == f"alice.{pool}"
    got = idp.admin_get_device(UserPoolId=pool, Username="alice", DeviceKey=device.key)["Device"]
    assert got == listed[0]
    idp.admin_update_device_status(UserPoolId=pool, Username="alice", DeviceKey=device.key,
                                   DeviceRememberedStatus="not_remembered")
    assert "ChallengeName" not in password_step(dapp, "alice", device)[1]
    idp.admin_update_device_status(UserPoolId=pool, Username="alice", DeviceKey=device.key,
                                   DeviceRememberedStatus="remembered")
    assert dapp.verify(device_sign_in(dapp, device))["access"]["device_key"] == device.key
    idp.admin_forget_device(UserPoolId=pool, Username="alice", DeviceKey=device.key)
    assert idp.admin_list_devices(UserPoolId=pool, Username="alice")["Devices"] == []
    with raises("ResourceNotFoundException", NO_DEVICE):
        idp.admin_get_device(UserPoolId=pool, Username="alice", DeviceKey=device.key)
    with raises("ResourceNotFoundException", NO_DEVICE):
        idp.admin_forget_device(UserPoolId=pool, Username="alice", DeviceKey=device.key)
    with raises("ResourceNotFoundException", "User does not exist."):  # AdminGetDevice has no UserNotFound
        idp.admin_get_device(UserPoolId=pool, Username="ghost", DeviceKey=device.key)
    with raises("ResourceNotFoundException", "User does not exist."):
        idp.admin_list_devices(UserPoolId=pool, Username="ghost")
    with raises("UserNotFoundException", "User does not exist."):
        idp.admin_update_device_status(UserPoolId=pool, Username="ghost", DeviceKey=device.key,
                                       DeviceRememberedStatus="remembered")
    with raises("UserNotFoundException", "User does not exist."):
        idp.admin_forget_device(UserPoolId=pool, Username="ghost", DeviceKey=device.key)
    with raises("ResourceNotFoundException"):
        idp.admin_list_devices(UserPoolId="us-east-1_Missing00", Username="alice")
    with raises("InvalidParameterException", "Missing required parameter DeviceRememberedStatus"):
        idp.admin_update_device_status(UserPoolId=pool, Username="alice", DeviceKey=device.key)


# --- refresh bound to the device ------------------------------------------------------------------------


def test_refresh_of_a_device_bound_session_needs_its_device_key(dapp: App) -> None:
    device, _ = remembered_device(dapp)
    result = device_sign_in(dapp, device)
    refresh = {"REFRESH_TOKEN": result["RefreshToken"]}
    for given in ({}, {"DEVICE_KEY": "us-east-1_00000000-0000-4000-8000-000000000000"}):
        with raises("NotAuthorizedException", "Invalid Refresh Token"):
            dapp.idp.initiate_auth(ClientId=dapp.client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                                   AuthParameters={**refresh, **given})
    fresh = dapp.idp.initiate_auth(ClientId=dapp.client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                                   AuthParameters={**refresh, "DEVICE_KEY": device.key})["AuthenticationResult"]
    assert "RefreshToken" not in fresh and "NewDeviceMetadata" not in fresh
    assert dapp.verify(fresh)["access"]["device_key"] == device.key


def test_get_tokens_from_refresh_token_needs_the_device_key(dapp: App) -> None:
    rotating = add_client(dapp, RefreshTokenRotation={"Feature": "ENABLED", "RetryGracePeriodSeconds": 0})
    result = rotating.sign_in("alice")
    key = result["NewDeviceMetadata"]["DeviceKey"]
    with raises("NotAuthorizedException", "Invalid Refresh Token"):
        rotating.idp.get_tokens_from_refresh_token(ClientId=rotating.client_id, RefreshToken=result["RefreshToken"])
    fresh = rotating.idp.get_tokens_from_refresh_token(ClientId=rotating.client_id,
                                                       RefreshToken=result["RefreshToken"],
                                                       DeviceKey=key)["AuthenticationResult"]
    assert fresh["RefreshToken"] != result["RefreshToken"]
    assert rotating.verify(fresh)["access"]["device_key"] == key


def test_global_sign_out_keeps_the_device_remembered(dapp: App) -> None:
    """GlobalSignOut revokes every refresh token; the device stays on the profile and signs in again."""
    device, _ = remembered_device(dapp)
    signed = device_sign_in(dapp, device)
    dapp.idp.global_sign_out(AccessToken=signed["AccessToken"])
    with raises("NotAuthorizedException", "Refresh Token has been revoked"):
        dapp.idp.initiate_auth(ClientId=dapp.client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                               AuthParameters={"REFRESH_TOKEN": signed["RefreshToken"], "DEVICE_KEY": device.key})
    again = device_sign_in(dapp, device)
    assert [d["DeviceKey"] for d in dapp.idp.list_devices(AccessToken=again["AccessToken"])["Devices"]] == [device.key]
