"""Tokens after sign-in: refresh, access-token operations, global sign-out across
devices, RevokeToken per device, rotation with grace period and reuse,
disabled and deleted users, expiry on the virtual clock."""

from __future__ import annotations

import jwt
import pytest

from auth_support import PASSWORD, App, add_client, alice, app, make_app, raises  # noqa: F401 - fixtures


def refresh(app: App, token: str) -> dict:
    return app.idp.initiate_auth(
        ClientId=app.client_id, AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters={"REFRESH_TOKEN": token}
    )


# --- refresh ------------------------------------------------------------------------------


def test_refresh_keeps_session_identity_and_reads_live_groups(app: App, alice: str) -> None:
    first = app.sign_in("alice")
    before = app.verify(first)
    app.clock.advance(600)
    app.idp.create_group(UserPoolId=app.pool_id, GroupName="admins")
    app.idp.admin_add_user_to_group(UserPoolId=app.pool_id, Username="alice", GroupName="admins")
    answer = refresh(app, first["RefreshToken"])
    assert answer["ChallengeParameters"] == {}
    result = answer["AuthenticationResult"]
    assert "RefreshToken" not in result
    after = app.verify(result)
    assert after["access"]["origin_jti"] == before["access"]["origin_jti"]
    assert after["access"]["auth_time"] == before["access"]["auth_time"]
    assert after["access"]["iat"] == before["access"]["iat"] + 600
    assert after["access"]["jti"] != before["access"]["jti"]
    assert after["id"]["cognito:groups"] == ["admins"] and "cognito:groups" not in before["id"]
    # REFRESH_TOKEN is an alias of REFRESH_TOKEN_AUTH
    again = app.idp.initiate_auth(ClientId=app.client_id, AuthFlow="REFRESH_TOKEN", AuthParameters={"REFRESH_TOKEN": first["RefreshToken"]})
    app.verify(again["AuthenticationResult"])
    assert app.backend.events.count("token.refreshed", username="alice") == 2


def test_refresh_errors(app: App, alice: str) -> None:
    tokens = app.sign_in("alice")
    other = add_client(app)
    with raises("NotAuthorizedException", "Invalid Refresh Token"):
        refresh(other, tokens["RefreshToken"])
    with raises("NotAuthorizedException", "Invalid Refresh Token"):
        refresh(app, "not.a.real.refresh.token")
    with raises("InvalidParameterException", "Missing required parameter REFRESH_TOKEN"):
        app.idp.initiate_auth(ClientId=app.client_id, AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters={})
    app.clock.advance(30 * 86400)
    with raises("NotAuthorizedException", "Refresh Token has expired"):
        refresh(app, tokens["RefreshToken"])


def test_refresh_with_client_secret_needs_secret_hash(emulator, idp) -> None:
    app = make_app(emulator, idp, secret=True)
    emulator.backend.clock.freeze()
    app.confirmed_user("bob", email="bob@example.com")
    tokens = app.sign_in("bob")
    with raises("NotAuthorizedException", f"Client {app.client_id} is configured for secret but secret was not received"):
        refresh(app, tokens["RefreshToken"])
    answer = idp.initiate_auth(
        ClientId=app.client_id, AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": tokens["RefreshToken"], **app.hash_for("bob")},
    )
    app.verify(answer["AuthenticationResult"])


def test_token_validity_units_are_honoured(app: App, alice: str) -> None:
    short = add_client(
        app, AccessTokenValidity=5, IdTokenValidity=10, RefreshTokenValidity=60,
        TokenValidityUnits={"AccessToken": "minutes", "IdToken": "minutes", "RefreshToken": "minutes"},
    )
    tokens = short.sign_in("alice")
    claims = short.verify(tokens)
    assert tokens["ExpiresIn"] == 300
    assert claims["id"]["exp"] - claims["id"]["iat"] == 600
    app.clock.advance(301)
    with raises("NotAuthorizedException", "Access Token has expired"):
        app.idp.get_user(AccessToken=tokens["AccessToken"])
    app.clock.advance(3600)
    with raises("NotAuthorizedException", "Refresh Token has expired"):
        refresh(short, tokens["RefreshToken"])


# --- access-token operations ------------------------------------------------------------------


def test_get_user_and_access_token_errors(app: App, alice: str) -> None:
    tokens = app.sign_in("alice")
    user = app.idp.get_user(AccessToken=tokens["AccessToken"])
    assert user["Username"] == "alice"
    assert {a["Name"]: a["Value"] for a in user["UserAttributes"]} == {
        "sub": alice, "email": "alice@example.com", "email_verified": "true",
    }
    with raises("NotAuthorizedException", "Invalid Access Token"):
        app.idp.get_user(AccessToken=tokens["IdToken"])
    with raises("NotAuthorizedException", "Invalid Access Token"):
        app.idp.get_user(AccessToken="abc.def.ghi")
    forged = jwt.encode({"token_use": "access"}, "s" * 32, algorithm="HS256", headers={"kid": "x"})
    with raises("NotAuthorizedException", "Invalid Access Token"):
        app.idp.get_user(AccessToken=forged)
    app.clock.advance(3600)
    with raises("NotAuthorizedException", "Access Token has expired"):
        app.idp.get_user(AccessToken=tokens["AccessToken"])


def test_scope_is_required_and_forgeries_refused(app: App, alice: str) -> None:
    from harness.control import Control

    control = Control(app.backend)
    no_scope = control.mint(app.pool_id, "alice", client_id=app.client_id, claims={"scope": "openid email"})
    with raises("NotAuthorizedException", "Access Token does not have required scopes"):
        app.idp.get_user(AccessToken=no_scope)
    for sign_with in ("foreign", "none", "hs256-public-key"):
        forged = control.mint(app.pool_id, "alice", client_id=app.client_id, sign_with=sign_with)
        with raises("NotAuthorizedException", "Invalid Access Token"):
            app.idp.get_user(AccessToken=forged)


def test_change_password_rules_and_quota(app: App, alice: str) -> None:
    tokens = app.sign_in("alice")
    other_device = app.sign_in("alice")
    with raises("NotAuthorizedException", "Incorrect username or password."):
        app.idp.change_password(AccessToken=tokens["AccessToken"], PreviousPassword="Wrong-pass1", ProposedPassword="Brand-new-1")
    with raises("InvalidPasswordException", "Password does not conform to policy: Password must have symbol characters"):
        app.idp.change_password(AccessToken=tokens["AccessToken"], PreviousPassword=PASSWORD, ProposedPassword="Brandnew11")
    app.idp.change_password(AccessToken=tokens["AccessToken"], PreviousPassword=PASSWORD, ProposedPassword="Brand-new-1")
    app.verify(app.sign_in("alice", "Brand-new-1"))
    with raises("NotAuthorizedException", "Incorrect username or password."):
        app.password_auth("alice", PASSWORD)
    app.idp.get_user(AccessToken=other_device["AccessToken"])  # password change revokes nothing
    app.idp.change_password(AccessToken=tokens["AccessToken"], PreviousPassword="Brand-new-1", ProposedPassword="Brand-new-2")
    app.idp.change_password(AccessToken=tokens["AccessToken"], PreviousPassword="Brand-new-2", ProposedPassword="Brand-new-3")
    # five attempts (failed ones included) per hour
    with raises("LimitExceededException", "Attempt limit exceeded, please try after some time."):
        app.idp.change_password(AccessToken=tokens["AccessToken"], PreviousPassword="Brand-new-3", ProposedPassword="Brand-new-4")
    app.clock.advance(3600)
    fresh = app.sign_in("alice", "Brand-new-3")
    app.idp.change_password(AccessToken=fresh["AccessToken"], PreviousPassword="Brand-new-3", ProposedPassword="Brand-new-4")


def test_update_and_delete_attributes(app: App, alice: str) -> None:
    tokens = app.sign_in("alice")
    answer = app.idp.update_user_attributes(
        AccessToken=tokens["AccessToken"], UserAttributes=[{"Name": "name", "Value": "Alice"}]
    )
    assert answer["CodeDeliveryDetailsList"] == []
    app.idp.delete_user_attributes(AccessToken=tokens["AccessToken"], UserAttributeNames=["name"])
    names = {a["Name"] for a in app.idp.get_user(AccessToken=tokens["AccessToken"])["UserAttributes"]}
    assert "name" not in names
    with raises("InvalidParameterException"):
        app.idp.update_user_attributes(AccessToken=tokens["AccessToken"], UserAttributes=[{"Name": "custom:nope", "Value": "x"}])


# --- sign-out and revocation across devices -------------------------------------------------------


def test_global_sign_out_revokes_every_device(app: App, alice: str) -> None:
    laptop = app.sign_in("alice")
    phone = app.srp_sign_in("alice")["AuthenticationResult"]
    app.verify(phone)
    app.idp.global_sign_out(AccessToken=laptop["AccessToken"])
    for device in (laptop, phone):
        with raises("NotAuthorizedException", "Refresh Token has been revoked"):
            refresh(app, device["RefreshToken"])
        with raises("NotAuthorizedException", "Access Token has been revoked"):
            app.idp.get_user(AccessToken=device["AccessToken"])
        app.verify(device)  # still signature-valid JWTs: only Cognito's own APIs know
    with raises("NotAuthorizedException", "Access Token has been revoked"):
        app.idp.global_sign_out(AccessToken=laptop["AccessToken"])
    app.verify(app.sign_in("alice"))  # a new sign-in works
    assert app.backend.events.count("token.revoked", username="alice") == 2


def test_revoke_token_only_revokes_that_device(app: App, alice: str) -> None:
    laptop = app.sign_in("alice")
    phone = app.sign_in("alice")
    app.idp.revoke_token(Token=laptop["RefreshToken"], ClientId=app.client_id)
    with raises("NotAuthorizedException", "Refresh Token has been revoked"):
        refresh(app, laptop["RefreshToken"])
    with raises("NotAuthorizedException", "Access Token has been revoked"):
        app.idp.get_user(AccessToken=laptop["AccessToken"])
    app.idp.get_user(AccessToken=phone["AccessToken"])
    app.verify(refresh(app, phone["RefreshToken"])["AuthenticationResult"])
    app.idp.revoke_token(Token=laptop["RefreshToken"], ClientId=app.client_id)  # idempotent
    from harness.control import Control  # the control plane answers "is this token revoked?"

    control = Control(app.backend)
    assert control.token_status(laptop["AccessToken"])["revoked"] is True
    assert control.token_status(laptop["RefreshToken"])["revoked"] is True
    assert control.token_status(phone["AccessToken"])["revoked"] is False


def test_revoke_token_errors(emulator, idp) -> None:
    app = make_app(emulator, idp, secret=True)
    emulator.backend.clock.freeze()
    app.confirmed_user("bob", email="bob@example.com")
    tokens = app.sign_in("bob")
    with raises("UnsupportedTokenTypeException"):
        idp.revoke_token(Token=tokens["AccessToken"], ClientId=app.client_id, ClientSecret=app.client_secret)
    with raises("UnauthorizedException"):
        idp.revoke_token(Token=tokens["RefreshToken"], ClientId=app.client_id)
    with raises("UnauthorizedException"):
        idp.revoke_token(Token=tokens["RefreshToken"], ClientId=app.client_id, ClientSecret="x" * 51)
    public = add_client(app)
    with raises("UnauthorizedException", "Invalid client for this refresh token."):
        idp.revoke_token(Token=tokens["RefreshToken"], ClientId=public.client_id)
    no_revocation = add_client(app, EnableTokenRevocation=False)
    with raises("UnsupportedOperationException", "Token revocation is not enabled for this client."):
        idp.revoke_token(Token=tokens["RefreshToken"], ClientId=no_revocation.client_id)
    idp.revoke_token(Token=tokens["RefreshToken"], ClientId=app.client_id, ClientSecret=app.client_secret)
    with raises("NotAuthorizedException", "Refresh Token has been revoked"):
        idp.get_tokens_from_refresh_token(RefreshToken=tokens["RefreshToken"], ClientId=app.client_id, ClientSecret=app.client_secret)


# --- rotation -------------------------------------------------------------------------------------


def test_rotation_grace_period_and_reuse(app: App, alice: str) -> None:
    rotating = add_client(app, RefreshTokenRotation={"Feature": "ENABLED", "RetryGracePeriodSeconds": 10})
    first = rotating.sign_in("alice")
    origin = rotating.verify(first)["access"]["origin_jti"]
    with raises("NotAuthorizedException"):
        refresh(rotating, first["RefreshToken"])  # REFRESH_TOKEN_AUTH is incompatible with rotation
    app.clock.advance(60)
    second = app.idp.get_tokens_from_refresh_token(RefreshToken=first["RefreshToken"], ClientId=rotating.client_id)["AuthenticationResult"]
    assert second["RefreshToken"] != first["RefreshToken"]
    assert rotating.verify(second)["access"]["origin_jti"] == origin
    app.clock.advance(9)  # still inside the grace period: a retry succeeds
    retry = app.idp.get_tokens_from_refresh_token(RefreshToken=first["RefreshToken"], ClientId=rotating.client_id)
    rotating.verify(retry["AuthenticationResult"])
    latest = retry["AuthenticationResult"]["RefreshToken"]
    app.clock.advance(2)
    with raises("RefreshTokenReuseException"):
        app.idp.get_tokens_from_refresh_token(RefreshToken=first["RefreshToken"], ClientId=rotating.client_id)
    third = app.idp.get_tokens_from_refresh_token(RefreshToken=latest, ClientId=rotating.client_id)["AuthenticationResult"]
    rotating.verify(third)
    # rotated tokens keep the original expiry (30 days from the first sign-in)
    app.clock.advance(30 * 86400 - 71)  # 60 + 9 + 2 seconds already passed
    with raises("NotAuthorizedException", "Refresh Token has expired"):
        app.idp.get_tokens_from_refresh_token(RefreshToken=third["RefreshToken"], ClientId=rotating.client_id)


def test_rotation_without_grace_invalidates_at_once(app: App, alice: str) -> None:
    rotating = add_client(app, RefreshTokenRotation={"Feature": "ENABLED", "RetryGracePeriodSeconds": 0})
    first = rotating.sign_in("alice")
    app.idp.get_tokens_from_refresh_token(RefreshToken=first["RefreshToken"], ClientId=rotating.client_id)
    with raises("RefreshTokenReuseException"):
        app.idp.get_tokens_from_refresh_token(RefreshToken=first["RefreshToken"], ClientId=rotating.client_id)


def test_get_tokens_from_refresh_token_without_rotation(app: App, alice: str) -> None:
    first = app.sign_in("alice")
    result = app.idp.get_tokens_from_refresh_token(RefreshToken=first["RefreshToken"], ClientId=app.client_id)["AuthenticationResult"]
    assert "RefreshToken" not in result
    app.verify(result)
    with raises("ResourceNotFoundException"):
        app.idp.get_tokens_from_refresh_token(RefreshToken=first["RefreshToken"], ClientId="nosuchclient")


# --- disabled and deleted users ---------------------------------------------------------------------


def test_disabled_user_loses_every_token(app: App, alice: str) -> None:
    tokens = app.sign_in("alice")
    app.idp.admin_disable_user(UserPoolId=app.pool_id, Username="alice")
    with raises("NotAuthorizedException", "Refresh Token has been revoked"):
        refresh(app, tokens["RefreshToken"])
    with raises("NotAuthorizedException", "Access Token has been revoked"):
        app.idp.get_user(AccessToken=tokens["AccessToken"])
    app.idp.admin_enable_user(UserPoolId=app.pool_id, Username="alice")
    with raises("NotAuthorizedException", "Refresh Token has been revoked"):  # re-enabling revives nothing
        refresh(app, tokens["RefreshToken"])
    app.verify(app.sign_in("alice"))


def test_deleted_user_tokens_are_dead(app: App, alice: str) -> None:
    laptop = app.sign_in("alice")
    phone = app.sign_in("alice")
    app.idp.delete_user(AccessToken=laptop["AccessToken"])
    with raises("NotAuthorizedException", "Refresh Token has been revoked"):
        refresh(app, phone["RefreshToken"])
    with raises("NotAuthorizedException", "Access Token has been revoked"):
        app.idp.get_user(AccessToken=phone["AccessToken"])
    with raises("UserNotFoundException", "User does not exist."):
        app.password_auth("alice")
    app.verify(phone)  # still verifiable offline until it expires


def test_admin_deleted_user(app: App, alice: str) -> None:
    tokens = app.sign_in("alice")
    app.idp.admin_delete_user(UserPoolId=app.pool_id, Username="alice")
    with raises("NotAuthorizedException", "Access Token has been revoked"):
        app.idp.global_sign_out(AccessToken=tokens["AccessToken"])
    with raises("NotAuthorizedException", "Refresh Token has been revoked"):
        app.idp.get_tokens_from_refresh_token(RefreshToken=tokens["RefreshToken"], ClientId=app.client_id)


def test_admin_refresh_flow(app: App, alice: str) -> None:
    tokens = app.sign_in("alice")
    answer = app.idp.admin_initiate_auth(
        UserPoolId=app.pool_id, ClientId=app.client_id, AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": tokens["RefreshToken"]},
    )
    result = answer["AuthenticationResult"]
    assert "RefreshToken" not in result
    assert app.verify(result)["access"]["origin_jti"] == app.verify(tokens)["access"]["origin_jti"]
    app.idp.admin_user_global_sign_out(UserPoolId=app.pool_id, Username="alice")
    with raises("NotAuthorizedException", "Refresh Token has been revoked"):
        app.idp.admin_initiate_auth(
            UserPoolId=app.pool_id, ClientId=app.client_id, AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": tokens["RefreshToken"]},
        )


def test_acceptance_chain(emulator, idp) -> None:
    """Issue 2's chain in one pass: sign-up to sign-out, each token checked against the JWKS."""
    app = make_app(emulator, idp)
    emulator.backend.clock.freeze()
    sub = app.sign_up("zoe", email="zoe@example.com")["UserSub"]
    code = emulator.backend.mailbox.latest_code(to="zoe@example.com", purpose="SIGN_UP")
    app.idp.confirm_sign_up(ClientId=app.client_id, Username="zoe", ConfirmationCode=code)
    laptop = app.sign_in("zoe")
    phone = app.srp_sign_in("zoe")["AuthenticationResult"]
    assert app.verify(phone)["access"]["sub"] == sub
    app.clock.advance(1800)
    refreshed = refresh(app, laptop["RefreshToken"])["AuthenticationResult"]
    app.verify(refreshed)
    assert app.idp.get_user(AccessToken=refreshed["AccessToken"])["Username"] == "zoe"
    app.idp.revoke_token(Token=phone["RefreshToken"], ClientId=app.client_id)
    with raises("NotAuthorizedException", "Refresh Token has been revoked"):
        refresh(app, phone["RefreshToken"])
    app.verify(refresh(app, laptop["RefreshToken"])["AuthenticationResult"])  # the other device lives on
    tablet = app.sign_in("zoe")
    app.idp.global_sign_out(AccessToken=refreshed["AccessToken"])
    for device in (laptop, tablet):
        with raises("NotAuthorizedException", "Refresh Token has been revoked"):
            refresh(app, device["RefreshToken"])
    app.verify(app.sign_in("zoe"))
