"""Managed login runs the sign-in triggers the API runs: an unknown name goes to UserMigration, a
PreAuthentication refusal keeps the user on the form, PostAuthentication runs before the redirect.
Over HTTP with requests (the form's CSRF pair as a browser sends it); functions are Python callables."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from harness.engine.triggers import set_trigger
from test_hosted_ui import CALLBACK, PASSWORD, VERIFIER, World, native_user, query_of, submit_login, world  # noqa: F401


def _login(world: World, username: str, password: str = PASSWORD) -> Any:
    url = f"{world.base}/login?{urlencode(world.authorize_params())}"
    return submit_login(url, {"username": username, "password": password})


def test_unknown_name_is_migrated_through_the_login_form(world: World) -> None:  # noqa: F811
    seen: list[dict[str, Any]] = []

    def migrate(event: dict[str, Any]) -> dict[str, Any]:
        seen.append(event)
        if event["request"]["password"] != "Legacy-pass1!":
            raise ValueError("Bad password")
        event["response"]["userAttributes"] = {"email": "legacy@example.com", "email_verified": "true"}
        event["response"]["finalUserStatus"] = "CONFIRMED"
        event["response"]["messageAction"] = "SUPPRESS"
        return event

    set_trigger(world.emu.backend, world.pool_id, "UserMigration", migrate)
    refused = _login(world, "legacy", "Wrong-pass1!")
    assert refused.status_code == 400 and "Location" not in refused.headers
    done = _login(world, "legacy", "Legacy-pass1!")
    assert done.status_code == 302 and done.headers["Location"].startswith(CALLBACK)
    assert [e["triggerSource"] for e in seen] == ["UserMigration_Authentication"] * 2
    user = world.idp.admin_get_user(UserPoolId=world.pool_id, Username="legacy")
    assert user["UserStatus"] == "CONFIRMED"
    body = world.token(grant_type="authorization_code", code=query_of(done)["code"], redirect_uri=CALLBACK,
                       code_verifier=VERIFIER).json()
    assert world.verify(body["id_token"], verify_iat=False, verify_exp=False)["email"] == "legacy@example.com"


def test_pre_authentication_refusal_and_post_authentication_in_the_login_form(world: World) -> None:  # noqa: F811
    native_user(world)
    calls: list[str] = []

    def pre(event: dict[str, Any]) -> dict[str, Any]:
        calls.append(event["triggerSource"])
        if calls.count("PreAuthentication_Authentication") == 1:
            raise ValueError("Sign-in is closed for maintenance")
        return event

    def post(event: dict[str, Any]) -> dict[str, Any]:
        calls.append(event["triggerSource"])
        return event

    set_trigger(world.emu.backend, world.pool_id, "PreAuthentication", pre)
    set_trigger(world.emu.backend, world.pool_id, "PostAuthentication", post)
    refused = _login(world, "bob")
    assert refused.status_code == 400 and "PreAuthentication failed with error Sign-in is closed for maintenance." in refused.text
    done = _login(world, "bob")
    assert done.status_code == 302 and done.headers["Location"].startswith(CALLBACK)
    assert calls == ["PreAuthentication_Authentication", "PreAuthentication_Authentication",
                     "PostAuthentication_Authentication"]
