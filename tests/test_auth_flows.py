"""Sign-in flows over HTTP: password, SRP (own client and pycognito), user states,
PreventUserExistenceErrors, lockout, challenge sessions, temporary passwords."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from auth_support import PASSWORD, App, add_client, alice, app, make_app, raises  # noqa: F401 - fixtures
from srp_client import PRIME, SRPClient, cognito_timestamp


# --- password and SRP sign-in ------------------------------------------------------------


def test_password_sign_in_issues_cognito_tokens(app: App, alice: str) -> None:
    result = app.sign_in("alice")
    claims = app.verify(result)
    assert claims["access"]["sub"] == alice and claims["access"]["username"] == "alice"
    assert claims["id"]["email"] == "alice@example.com" and claims["id"]["email_verified"] is True
    assert claims["access"]["auth_time"] == int(app.clock.now())
    events = app.backend.events.list("auth.success", username="alice")
    assert events and events[-1].data["flow"] == "USER_PASSWORD_AUTH"


def test_srp_sign_in_with_independent_client(app: App, alice: str) -> None:
    client, answer = app.srp_start("alice")
    assert answer["ChallengeName"] == "PASSWORD_VERIFIER"
    params = answer["ChallengeParameters"]
    assert set(params) == {"SALT", "SRP_B", "SECRET_BLOCK", "USER_ID_FOR_SRP", "USERNAME"}
    assert params["USER_ID_FOR_SRP"] == "alice"
    int(params["SALT"], 16), int(params["SRP_B"], 16)
    responses = client.claim(params, app.now())
    result = app.idp.respond_to_auth_challenge(
        ClientId=app.client_id, ChallengeName="PASSWORD_VERIFIER", ChallengeResponses=responses
    )
    assert result["ChallengeParameters"] == {}
    claims = app.verify(result["AuthenticationResult"])
    assert claims["access"]["sub"] == alice


def test_srp_sign_in_with_pycognito(app: App, alice: str) -> None:
    aws_srp = pytest.importorskip("pycognito.aws_srp")
    app.clock.unfreeze()  # pycognito stamps TIMESTAMP with the wall clock
    srp = aws_srp.AWSSRP(username="alice", password=PASSWORD, pool_id=app.pool_id, client_id=app.client_id, client=app.idp)
    result = srp.authenticate_user()
    assert app.verify(result["AuthenticationResult"])["access"]["sub"] == alice


def test_srp_with_client_secret_and_pycognito(emulator, idp) -> None:
    aws_srp = pytest.importorskip("pycognito.aws_srp")
    app = make_app(emulator, idp, secret=True)
    app.confirmed_user("bob", email="bob@example.com")
    srp = aws_srp.AWSSRP(
        username="bob", password=PASSWORD, pool_id=app.pool_id, client_id=app.client_id,
        client=app.idp, client_secret=app.client_secret,
    )
    app.verify(srp.authenticate_user()["AuthenticationResult"])


def test_srp_wrong_password_and_replayed_session(app: App, alice: str) -> None:
    client, answer = app.srp_start("alice", "Wrong-passw0rd")
    responses = client.claim(answer["ChallengeParameters"], app.now())
    with raises("NotAuthorizedException", "Incorrect username or password."):
        app.idp.respond_to_auth_challenge(ClientId=app.client_id, ChallengeName="PASSWORD_VERIFIER", ChallengeResponses=responses)
    with raises("NotAuthorizedException", "Invalid session for the user."):
        app.idp.respond_to_auth_challenge(ClientId=app.client_id, ChallengeName="PASSWORD_VERIFIER", ChallengeResponses=responses)
    failure = app.backend.events.list("auth.failure", username="alice")[-1]
    assert failure.data["reason"] == "wrong_password_srp"


def test_srp_timestamp_rules(app: App, alice: str) -> None:
    client, answer = app.srp_start("alice")
    padded_day = "Mon Jan 01 00:00:00 UTC 2024"  # Cognito wants "Mon Jan 1 ..."
    with raises("InvalidParameterException", "TIMESTAMP format should be EEE MMM d HH:mm:ss z yyyy in english."):
        app.idp.respond_to_auth_challenge(
            ClientId=app.client_id, ChallengeName="PASSWORD_VERIFIER",
            ChallengeResponses=client.claim(answer["ChallengeParameters"], app.now(), padded_day),
        )
    client, answer = app.srp_start("alice")
    stale = cognito_timestamp(app.now() - timedelta(minutes=10))
    with raises("NotAuthorizedException", "Incorrect username or password."):
        app.idp.respond_to_auth_challenge(
            ClientId=app.client_id, ChallengeName="PASSWORD_VERIFIER",
            ChallengeResponses=client.claim(answer["ChallengeParameters"], app.now(), stale),
        )
    assert app.backend.pools[app.pool_id].users["alice"].lockout.failures == 0  # clock skew is no wrong password


def test_srp_rejects_a_zero_mod_n(app: App, alice: str) -> None:
    for bad in ("0", format(PRIME, "x"), format(PRIME * 2, "x"), "not-hex"):
        with raises("InvalidParameterException", "SRP_A value is invalid."):
            app.idp.initiate_auth(ClientId=app.client_id, AuthFlow="USER_SRP_AUTH", AuthParameters={"USERNAME": "alice", "SRP_A": bad})
    with raises("InvalidParameterException", "Missing required parameter SRP_A"):
        app.idp.initiate_auth(ClientId=app.client_id, AuthFlow="USER_SRP_AUTH", AuthParameters={"USERNAME": "alice"})


def test_email_username_pool_signs_in_by_email_with_uuid_srp_id(emulator, idp) -> None:
    app = make_app(emulator, idp, pool={"UsernameAttributes": ["email"]})
    emulator.backend.clock.freeze()
    sub = app.confirmed_user("carol@example.com", email="carol@example.com")
    claims = app.verify(app.sign_in("carol@example.com"))
    assert claims["access"]["username"] == sub == claims["id"]["cognito:username"]
    client, answer = app.srp_start("carol@example.com")
    assert answer["ChallengeParameters"]["USER_ID_FOR_SRP"] == sub
    final = app.idp.respond_to_auth_challenge(
        ClientId=app.client_id, ChallengeName="PASSWORD_VERIFIER",
        ChallengeResponses=client.claim(answer["ChallengeParameters"], app.now()),
    )
    app.verify(final["AuthenticationResult"])


# --- flows enabled per client ---------------------------------------------------------------


def test_flow_not_enabled_messages(app: App, alice: str) -> None:
    srp_only = add_client(app, ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])
    with raises("InvalidParameterException", "USER_PASSWORD_AUTH flow not enabled for this client"):
        srp_only.password_auth("alice")
    with raises("InvalidParameterException", "Auth flow not enabled for this client"):
        app.idp.admin_initiate_auth(
            UserPoolId=app.pool_id, ClientId=srp_only.client_id, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": "alice", "PASSWORD": PASSWORD},
        )
    with raises("InvalidParameterException", "Initiate Auth method not supported."):
        app.idp.initiate_auth(
            ClientId=app.client_id, AuthFlow="ADMIN_USER_PASSWORD_AUTH", AuthParameters={"USERNAME": "alice", "PASSWORD": PASSWORD}
        )
    default = add_client(app, ExplicitAuthFlows=[])  # default: SRP, refresh, custom
    with raises("InvalidParameterException", "Custom auth lambda trigger is not configured for the user pool."):
        app.idp.initiate_auth(ClientId=default.client_id, AuthFlow="CUSTOM_AUTH", AuthParameters={"USERNAME": "alice"})
    default.verify(default.srp_sign_in("alice")["AuthenticationResult"])
    with raises("InvalidParameterException", "Missing required parameter PASSWORD"):
        app.idp.initiate_auth(ClientId=app.client_id, AuthFlow="USER_PASSWORD_AUTH", AuthParameters={"USERNAME": "alice"})
    with raises("ResourceNotFoundException"):
        app.idp.initiate_auth(ClientId="nosuchclient", AuthFlow="USER_PASSWORD_AUTH", AuthParameters={"USERNAME": "a", "PASSWORD": "b"})


def test_admin_password_flow(app: App, alice: str) -> None:
    result = app.idp.admin_initiate_auth(
        UserPoolId=app.pool_id, ClientId=app.client_id, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "alice", "PASSWORD": PASSWORD},
    )
    assert result["ChallengeParameters"] == {}
    app.verify(result["AuthenticationResult"])
    with raises("NotAuthorizedException", "Incorrect username or password."):
        app.idp.admin_initiate_auth(
            UserPoolId=app.pool_id, ClientId=app.client_id, AuthFlow="ADMIN_NO_SRP_AUTH",
            AuthParameters={"USERNAME": "alice", "PASSWORD": "Nope-1234"},
        )


def test_secret_hash_required_for_confidential_client(emulator, idp) -> None:
    app = make_app(emulator, idp, secret=True)
    app.confirmed_user("dave", email="dave@example.com")
    app.verify(app.sign_in("dave"))
    with raises("NotAuthorizedException", f"Client {app.client_id} is configured for secret but secret was not received"):
        idp.initiate_auth(ClientId=app.client_id, AuthFlow="USER_PASSWORD_AUTH", AuthParameters={"USERNAME": "dave", "PASSWORD": PASSWORD})
    with raises("NotAuthorizedException", f"Unable to verify secret hash for client {app.client_id}"):
        idp.initiate_auth(
            ClientId=app.client_id, AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": "dave", "PASSWORD": PASSWORD, "SECRET_HASH": "d3Jvbmc="},
        )


# --- user states and existence errors ----------------------------------------------------------


def test_unconfirmed_user_only_learns_state_with_the_right_password(app: App) -> None:
    app.sign_up("erin", email="erin@example.com")
    with raises("NotAuthorizedException", "Incorrect username or password."):
        app.password_auth("erin", "Wrong-pass1")
    with raises("UserNotConfirmedException", "User is not confirmed."):
        app.password_auth("erin")


def test_unknown_user_legacy_vs_enabled(app: App) -> None:
    with raises("UserNotFoundException", "User does not exist."):
        app.password_auth("ghost")
    with raises("UserNotFoundException", "User does not exist."):
        app.srp_start("ghost")
    hidden = add_client(app, PreventUserExistenceErrors="ENABLED")
    with raises("NotAuthorizedException", "Incorrect username or password."):
        hidden.password_auth("ghost")
    first = hidden.srp_start("ghost")[1]["ChallengeParameters"]
    client, second = hidden.srp_start("ghost")
    params = second["ChallengeParameters"]
    assert set(params) == {"SALT", "SRP_B", "SECRET_BLOCK", "USER_ID_FOR_SRP", "USERNAME"}
    assert params["SALT"] == first["SALT"] and params["USER_ID_FOR_SRP"] == first["USER_ID_FOR_SRP"]
    assert len(params["USER_ID_FOR_SRP"]) == 36 and params["USER_ID_FOR_SRP"].count("-") == 4
    with raises("NotAuthorizedException", "Incorrect username or password."):
        app.idp.respond_to_auth_challenge(
            ClientId=hidden.client_id, ChallengeName="PASSWORD_VERIFIER", ChallengeResponses=client.claim(params, app.now())
        )
    reasons = {e.data["reason"] for e in app.backend.events.list("auth.failure", username="ghost")}
    assert reasons == {"user_not_found"}


def test_disabled_user_cannot_sign_in(app: App, alice: str) -> None:
    app.idp.admin_disable_user(UserPoolId=app.pool_id, Username="alice")
    with raises("NotAuthorizedException", "User is disabled."):
        app.password_auth("alice")
    with raises("NotAuthorizedException", "User is disabled."):
        app.srp_start("alice")
    app.idp.admin_enable_user(UserPoolId=app.pool_id, Username="alice")
    app.verify(app.sign_in("alice"))


def test_reset_required_user(app: App, alice: str) -> None:
    app.idp.admin_reset_user_password(UserPoolId=app.pool_id, Username="alice")
    with raises("PasswordResetRequiredException", "Password reset required for the user"):
        app.password_auth("alice")


# --- lockout -------------------------------------------------------------------------------


def test_lockout_escalates_and_resets_on_the_virtual_clock(app: App, alice: str) -> None:
    wrong = "Wrong-passw0rd"
    for _ in range(5):
        with raises("NotAuthorizedException", "Incorrect username or password."):
            app.password_auth("alice", wrong)
    # 5 failures: locked for 2^0 = 1 s; even the right password is refused and does not count
    with raises("NotAuthorizedException", "Password attempts exceeded"):
        app.password_auth("alice")
    with raises("NotAuthorizedException", "Password attempts exceeded"):
        app.srp_start("alice")
    for n, lock in ((6, 2), (7, 4), (8, 8)):
        app.clock.advance(lock / 2)  # previous lock (lock/2 s) over
        with raises("NotAuthorizedException", "Incorrect username or password."):
            app.password_auth("alice", wrong)
        app.clock.advance(lock - 0.5)
        with raises("NotAuthorizedException", "Password attempts exceeded"):
            app.password_auth("alice")
        assert app.backend.pools[app.pool_id].users["alice"].lockout.failures == n
    app.clock.advance(1)  # the 8 s lock has just ended
    app.verify(app.sign_in("alice"))  # success resets the counter
    with raises("NotAuthorizedException", "Incorrect username or password."):
        app.password_auth("alice", wrong)
    reasons = [e.data["reason"] for e in app.backend.events.list("auth.failure", username="alice")]
    assert reasons.count("locked_out") == 5 and reasons.count("wrong_password") == 9


def test_lockout_caps_at_fifteen_minutes_and_quiet_period_resets(app: App, alice: str) -> None:
    user = app.backend.pools[app.pool_id].users["alice"]
    wrong = "Wrong-passw0rd"
    for n in range(1, 16):
        if n > 5:
            app.clock.advance(2 ** (n - 6))  # exactly when the previous lock ends
        with raises("NotAuthorizedException", "Incorrect username or password."):
            app.password_auth("alice", wrong)
    assert user.lockout.failures == 15
    assert user.lockout.locked_until - app.clock.now() == 900  # 2^10 s capped at ~15 minutes
    app.clock.advance(899)
    with raises("NotAuthorizedException", "Password attempts exceeded"):
        app.password_auth("alice")
    app.clock.advance(900)  # 15 quiet minutes after a lockout: back to the initial state
    with raises("NotAuthorizedException", "Incorrect username or password."):
        app.password_auth("alice", wrong)
    assert user.lockout.failures == 1
    app.verify(app.sign_in("alice"))


# --- temporary passwords and NEW_PASSWORD_REQUIRED ----------------------------------------------


def _invite(app: App, username: str, **attributes: str) -> str:
    app.idp.admin_create_user(
        UserPoolId=app.pool_id, Username=username, TemporaryPassword="Temp-Passw0rd",
        UserAttributes=[{"Name": k, "Value": v} for k, v in attributes.items()], MessageAction="SUPPRESS",
    )
    return "Temp-Passw0rd"


def test_new_password_required_via_password_flow(app: App) -> None:
    temp = _invite(app, "frank", email="frank@example.com", email_verified="true")
    answer = app.password_auth("frank", temp)
    assert answer["ChallengeName"] == "NEW_PASSWORD_REQUIRED" and 20 <= len(answer["Session"]) <= 2048
    params = answer["ChallengeParameters"]
    assert params["USER_ID_FOR_SRP"] == "frank"
    assert json.loads(params["requiredAttributes"]) == []
    assert json.loads(params["userAttributes"]) == {"email": "frank@example.com", "email_verified": "true"}
    with raises("InvalidPasswordException", "Password does not conform to policy: Password must have numeric characters"):
        app.idp.respond_to_auth_challenge(
            ClientId=app.client_id, ChallengeName="NEW_PASSWORD_REQUIRED", Session=answer["Session"],
            ChallengeResponses={"USERNAME": "frank", "NEW_PASSWORD": "No-numbers-here"},
        )
    done = app.idp.respond_to_auth_challenge(
        ClientId=app.client_id, ChallengeName="NEW_PASSWORD_REQUIRED", Session=answer["Session"],
        ChallengeResponses={"USERNAME": "frank", "NEW_PASSWORD": "Brand-new-1"},
    )
    assert done["ChallengeParameters"] == {}
    app.verify(done["AuthenticationResult"])
    assert app.idp.admin_get_user(UserPoolId=app.pool_id, Username="frank")["UserStatus"] == "CONFIRMED"
    app.verify(app.sign_in("frank", "Brand-new-1"))
    with raises("NotAuthorizedException", "Invalid session for the user."):
        app.idp.respond_to_auth_challenge(
            ClientId=app.client_id, ChallengeName="NEW_PASSWORD_REQUIRED", Session=answer["Session"],
            ChallengeResponses={"USERNAME": "frank", "NEW_PASSWORD": "Brand-new-2"},
        )


def test_new_password_required_with_required_attributes_admin_flow(emulator, idp) -> None:
    required = [{"Name": n, "AttributeDataType": "String", "Required": True} for n in ("name", "email")]
    app = make_app(emulator, idp, pool={"Schema": required})
    emulator.backend.clock.freeze()
    temp = _invite(app, "gina", email="gina@example.com")
    answer = idp.admin_initiate_auth(
        UserPoolId=app.pool_id, ClientId=app.client_id, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "gina", "PASSWORD": temp},
    )
    assert json.loads(answer["ChallengeParameters"]["requiredAttributes"]) == ["userAttributes.name"]
    respond = dict(UserPoolId=app.pool_id, ClientId=app.client_id, ChallengeName="NEW_PASSWORD_REQUIRED", Session=answer["Session"])
    with raises("InvalidParameterException", "Invalid attributes given, name is missing"):
        idp.admin_respond_to_auth_challenge(**respond, ChallengeResponses={"USERNAME": "gina", "NEW_PASSWORD": "Brand-new-1"})
    with raises("NotAuthorizedException", "Cannot modify an already provided email"):
        idp.admin_respond_to_auth_challenge(
            **respond, ChallengeResponses={
                "USERNAME": "gina", "NEW_PASSWORD": "Brand-new-1", "userAttributes.name": "Gina", "userAttributes.email": "x@example.com",
            },
        )
    done = idp.admin_respond_to_auth_challenge(
        **respond, ChallengeResponses={"USERNAME": "gina", "NEW_PASSWORD": "Brand-new-1", "userAttributes.name": "Gina"}
    )
    claims = app.verify(done["AuthenticationResult"])
    assert claims["id"]["name"] == "Gina"


def test_new_password_required_after_srp_with_pycognito(app: App) -> None:
    aws_srp = pytest.importorskip("pycognito.aws_srp")
    app.clock.unfreeze()
    temp = _invite(app, "hank", email="hank@example.com")
    srp = aws_srp.AWSSRP(username="hank", password=temp, pool_id=app.pool_id, client_id=app.client_id, client=app.idp)
    result = srp.set_new_password_challenge("Brand-new-1")
    app.verify(result["AuthenticationResult"])
    srp = aws_srp.AWSSRP(username="hank", password="Brand-new-1", pool_id=app.pool_id, client_id=app.client_id, client=app.idp)
    app.verify(srp.authenticate_user()["AuthenticationResult"])


def test_challenge_session_expires_per_auth_session_validity(app: App) -> None:
    temp = _invite(app, "ivan", email="ivan@example.com")
    slow = add_client(app, AuthSessionValidity=10)
    for client, minutes in ((app, 3), (slow, 10)):
        answer = client.password_auth("ivan", temp)
        app.clock.advance(minutes * 60 - 1)
        live = client.password_auth("ivan", temp)["Session"]
        app.clock.advance(1)
        with raises("NotAuthorizedException", "Invalid session for the user, session is expired."):
            app.idp.respond_to_auth_challenge(
                ClientId=client.client_id, ChallengeName="NEW_PASSWORD_REQUIRED", Session=answer["Session"],
                ChallengeResponses={"USERNAME": "ivan", "NEW_PASSWORD": "Brand-new-1"},
            )
        assert live != answer["Session"]
    with raises("NotAuthorizedException", "Invalid session for the user."):
        app.idp.respond_to_auth_challenge(
            ClientId=app.client_id, ChallengeName="NEW_PASSWORD_REQUIRED", Session="x" * 40,
            ChallengeResponses={"USERNAME": "ivan", "NEW_PASSWORD": "Brand-new-1"},
        )


def test_temporary_password_expires(app: App) -> None:
    temp = _invite(app, "judy", email="judy@example.com")
    app.clock.advance(7 * 86400 + 1)
    with raises("NotAuthorizedException", "Temporary password has expired and must be reset by an administrator."):
        app.password_auth("judy", temp)
    with raises("NotAuthorizedException", "Incorrect username or password."):
        app.password_auth("judy", "Not-the-temp-1")


def test_srp_client_timestamp_format() -> None:
    """The test client stamps the documented format (day of month not zero-padded)."""
    assert cognito_timestamp(datetime(2024, 9, 3, 7, 5, 9, tzinfo=timezone.utc)) == "Tue Sep 3 07:05:09 UTC 2024"


# --- USER_AUTH (choice-based) ----------------------------------------------------------------


@pytest.fixture()
def choice(app: App) -> App:
    return add_client(app, ExplicitAuthFlows=["ALLOW_USER_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])


def test_user_auth_select_challenge(choice: App, alice: str) -> None:
    with raises("InvalidParameterException", "USER_PASSWORD_AUTH flow not enabled for this client"):
        choice.password_auth("alice")
    answer = choice.idp.initiate_auth(ClientId=choice.client_id, AuthFlow="USER_AUTH", AuthParameters={"USERNAME": "alice"})
    assert answer["ChallengeName"] == "SELECT_CHALLENGE"
    assert answer["AvailableChallenges"] == ["PASSWORD", "PASSWORD_SRP"]
    respond = dict(ClientId=choice.client_id, ChallengeName="SELECT_CHALLENGE", Session=answer["Session"])
    with raises("InvalidParameterException", "Challenge EMAIL_OTP is not supported."):
        choice.idp.respond_to_auth_challenge(**respond, ChallengeResponses={"USERNAME": "alice", "ANSWER": "EMAIL_OTP"})
    done = choice.idp.respond_to_auth_challenge(
        **respond, ChallengeResponses={"USERNAME": "alice", "ANSWER": "PASSWORD", "PASSWORD": PASSWORD}
    )
    choice.verify(done["AuthenticationResult"])
    # the same with SRP as the chosen factor
    answer = choice.idp.initiate_auth(ClientId=choice.client_id, AuthFlow="USER_AUTH", AuthParameters={"USERNAME": "alice"})
    srp = SRPClient(choice.pool_id, "alice", PASSWORD)
    verifier = choice.idp.respond_to_auth_challenge(
        ClientId=choice.client_id, ChallengeName="SELECT_CHALLENGE", Session=answer["Session"],
        ChallengeResponses={"USERNAME": "alice", "ANSWER": "PASSWORD_SRP", "SRP_A": srp.srp_a},
    )
    assert verifier["ChallengeName"] == "PASSWORD_VERIFIER"
    done = choice.idp.respond_to_auth_challenge(
        ClientId=choice.client_id, ChallengeName="PASSWORD_VERIFIER",
        ChallengeResponses=srp.claim(verifier["ChallengeParameters"], choice.now()),
    )
    choice.verify(done["AuthenticationResult"])
    assert choice.backend.events.list("auth.success", username="alice")[-1].data["flow"] == "USER_AUTH"


def test_user_auth_preferred_challenge(choice: App, alice: str) -> None:
    direct = choice.idp.initiate_auth(
        ClientId=choice.client_id, AuthFlow="USER_AUTH",
        AuthParameters={"USERNAME": "alice", "PREFERRED_CHALLENGE": "PASSWORD", "PASSWORD": PASSWORD},
    )
    choice.verify(direct["AuthenticationResult"])
    with raises("NotAuthorizedException", "Incorrect username or password."):
        choice.idp.initiate_auth(
            ClientId=choice.client_id, AuthFlow="USER_AUTH",
            AuthParameters={"USERNAME": "alice", "PREFERRED_CHALLENGE": "PASSWORD", "PASSWORD": "Wrong-pass1"},
        )
    asked = choice.idp.initiate_auth(
        ClientId=choice.client_id, AuthFlow="USER_AUTH", AuthParameters={"USERNAME": "alice", "PREFERRED_CHALLENGE": "PASSWORD"}
    )
    assert asked["ChallengeName"] == "PASSWORD"
    done = choice.idp.respond_to_auth_challenge(
        ClientId=choice.client_id, ChallengeName="PASSWORD", Session=asked["Session"],
        ChallengeResponses={"USERNAME": "alice", "PASSWORD": PASSWORD},
    )
    choice.verify(done["AuthenticationResult"])
    srp = SRPClient(choice.pool_id, "alice", PASSWORD)
    verifier = choice.idp.initiate_auth(
        ClientId=choice.client_id, AuthFlow="USER_AUTH",
        AuthParameters={"USERNAME": "alice", "PREFERRED_CHALLENGE": "PASSWORD_SRP", "SRP_A": srp.srp_a},
    )
    done = choice.idp.respond_to_auth_challenge(
        ClientId=choice.client_id, ChallengeName="PASSWORD_VERIFIER",
        ChallengeResponses=srp.claim(verifier["ChallengeParameters"], choice.now()),
    )
    choice.verify(done["AuthenticationResult"])


def test_sign_in_straight_after_confirm_sign_up(choice: App) -> None:
    signed_up = choice.sign_up("kate", email="kate@example.com")
    assert 20 <= len(signed_up["Session"]) <= 2048
    code = choice.backend.mailbox.latest_code(to="kate@example.com")
    confirmed = choice.idp.confirm_sign_up(
        ClientId=choice.client_id, Username="kate", ConfirmationCode=code, Session=signed_up["Session"]
    )
    start = dict(ClientId=choice.client_id, AuthFlow="USER_AUTH", AuthParameters={"USERNAME": "kate"})
    with raises("NotAuthorizedException", "Invalid session for the user."):
        choice.idp.initiate_auth(**start, Session=signed_up["Session"])  # the sign-up session is not a sign-in
    result = choice.idp.initiate_auth(**start, Session=confirmed["Session"])
    assert result["ChallengeParameters"] == {}
    claims = choice.verify(result["AuthenticationResult"])
    assert claims["access"]["sub"] == signed_up["UserSub"]
    with raises("NotAuthorizedException", "Invalid session for the user."):
        choice.idp.initiate_auth(**start, Session=confirmed["Session"])  # one use only


def test_confirm_sign_up_session_expires(choice: App) -> None:
    choice.sign_up("liam", email="liam@example.com")
    code = choice.backend.mailbox.latest_code(to="liam@example.com")
    confirmed = choice.idp.confirm_sign_up(ClientId=choice.client_id, Username="liam", ConfirmationCode=code)
    choice.clock.advance(180)
    with raises("NotAuthorizedException", "Invalid session for the user, session is expired."):
        choice.idp.initiate_auth(
            ClientId=choice.client_id, AuthFlow="USER_AUTH", AuthParameters={"USERNAME": "liam"}, Session=confirmed["Session"]
        )


def test_user_auth_hides_unknown_users_when_enabled(choice: App) -> None:
    with raises("UserNotFoundException", "User does not exist."):
        choice.idp.initiate_auth(ClientId=choice.client_id, AuthFlow="USER_AUTH", AuthParameters={"USERNAME": "ghost"})
    hidden = add_client(choice, ExplicitAuthFlows=["ALLOW_USER_AUTH"], PreventUserExistenceErrors="ENABLED")
    answer = hidden.idp.initiate_auth(ClientId=hidden.client_id, AuthFlow="USER_AUTH", AuthParameters={"USERNAME": "ghost"})
    assert answer["ChallengeName"] == "SELECT_CHALLENGE"
    with raises("NotAuthorizedException", "Incorrect username or password."):
        hidden.idp.respond_to_auth_challenge(
            ClientId=hidden.client_id, ChallengeName="SELECT_CHALLENGE", Session=answer["Session"],
            ChallengeResponses={"USERNAME": "ghost", "ANSWER": "PASSWORD", "PASSWORD": PASSWORD},
        )
