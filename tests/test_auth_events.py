"""Threat protection's user event history over HTTP with real boto3: AdminListUserAuthEvents built from
the emulator's event log (sign-ins, MFA challenges, sign-up, password changes, forgotten passwords,
code resends), paging, deterministic EventIds, feedback (AdminUpdateAuthEventFeedback and
UpdateAuthEventFeedback with the event's FeedbackToken), and the UserPoolAddOnNotEnabledException a
pool without threat protection answers."""

from __future__ import annotations

from typing import Any

import pyotp
import pytest
import requests

from auth_support import PASSWORD, App, make_app, raises
from harness.control.client import RemoteControl
from harness.engine import auth_events
from harness.server import Emulator

NOT_ENABLED = "UserPoolAddOnNotEnabledException"
NO_RISK = {"RiskDecision": "NoRisk", "RiskLevel": "Low", "CompromisedCredentialsDetected": False}
PLUS_AUDIT = {"UserPoolTier": "PLUS", "UserPoolAddOns": {"AdvancedSecurityMode": "AUDIT"}}


@pytest.fixture()
def plus(emulator: Any, idp: Any) -> App:
    emulator.backend.clock.freeze()
    return make_app(emulator, idp, pool=PLUS_AUDIT)


def listed(app: App, username: str, **kwargs: Any) -> list[dict[str, Any]]:
    return app.idp.admin_list_user_auth_events(UserPoolId=app.pool_id, Username=username, **kwargs)["AuthEvents"]


def summary(events: list[dict[str, Any]]) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """(EventType, EventResponse, [(ChallengeName, ChallengeResponse)]) newest first."""
    return [(e["EventType"], e["EventResponse"],
             [(c["ChallengeName"], c["ChallengeResponse"]) for c in e["ChallengeResponses"]]) for e in events]


def wrong_password(app: App, username: str) -> None:
    with raises("NotAuthorizedException"):
        app.password_auth(username, "Wrong-passw0rd!")


def test_operations_need_threat_protection(emulator: Any, idp: Any) -> None:
    app = make_app(emulator, idp)  # ESSENTIALS, no add-on
    app.confirmed_user("alice", email="alice@example.com")
    with raises(NOT_ENABLED):
        listed(app, "alice")
    with raises(NOT_ENABLED):
        idp.admin_update_auth_event_feedback(UserPoolId=app.pool_id, Username="alice", EventId="e1",
                                             FeedbackValue="Valid")
    with raises(NOT_ENABLED):
        idp.update_auth_event_feedback(UserPoolId=app.pool_id, Username="alice", EventId="e1",
                                       FeedbackToken="t", FeedbackValue="Invalid")
    plus_off = make_app(emulator, idp, pool={"UserPoolTier": "PLUS", "UserPoolAddOns": {"AdvancedSecurityMode": "OFF"}})
    with raises(NOT_ENABLED):  # the plan alone is not the add-on
        listed(plus_off, "nobody")


def test_sign_ins_are_listed_newest_first_with_their_outcome(plus: App) -> None:
    app = plus
    app.confirmed_user("alice", email="alice@example.com")
    wrong_password(app, "alice")
    app.clock.advance(5)
    app.sign_in("alice")
    events = listed(app, "alice")
    assert summary(events) == [
        ("SignIn", "Pass", [("Password", "Success")]),
        ("SignIn", "Fail", [("Password", "Failure")]),
        ("SignUp", "Pass", []),
    ]
    for event in events:
        assert event["EventRisk"] == NO_RISK and "EventFeedback" not in event
    assert events[0]["CreationDate"].timestamp() == pytest.approx(app.clock.now())
    assert events[1]["CreationDate"].timestamp() == pytest.approx(app.clock.now() - 5)
    assert len({e["EventId"] for e in events}) == 3
    assert listed(app, "alice") == events  # stable between calls
    with raises("UserNotFoundException"):
        listed(app, "nobody")


def test_event_ids_follow_the_seed() -> None:
    def run() -> list[str]:
        with Emulator.start(seed=77) as emu:
            emu.backend.clock.freeze(1_700_000_000)
            app = make_app(emu, emu.boto3_client(), pool=PLUS_AUDIT)
            app.confirmed_user("alice", email="alice@example.com")
            app.sign_in("alice")
            return [e["EventId"] for e in listed(app, "alice")]

    first, second = run(), run()
    assert first == second and len(first) == 2


def test_paging_with_max_results_and_next_token(plus: App) -> None:
    app = plus
    app.confirmed_user("alice", email="alice@example.com")
    for _ in range(4):
        app.sign_in("alice")
    everything = listed(app, "alice")
    assert len(everything) == 5
    seen: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        page = app.idp.admin_list_user_auth_events(UserPoolId=app.pool_id, Username="alice", MaxResults=2,
                                                    **({"NextToken": token} if token else {}))
        assert len(page["AuthEvents"]) <= 2
        seen += page["AuthEvents"]
        token = page.get("NextToken")
        if not token:
            break
    assert seen == everything
    paginator = app.idp.get_paginator("admin_list_user_auth_events")
    pages = paginator.paginate(UserPoolId=app.pool_id, Username="alice", PaginationConfig={"PageSize": 3})
    assert [e for p in pages for e in p["AuthEvents"]] == everything
    with raises("InvalidParameterException", "Pagination token is invalid."):
        app.idp.admin_list_user_auth_events(UserPoolId=app.pool_id, Username="alice", NextToken="bm9wZQ")


def test_only_events_while_threat_protection_was_on(emulator: Any, idp: Any) -> None:
    emulator.backend.clock.freeze()
    app = make_app(emulator, idp, pool={"UserPoolTier": "PLUS"})
    app.confirmed_user("alice", email="alice@example.com")
    app.sign_in("alice")  # before threat protection: not an auth event
    idp.update_user_pool(UserPoolId=app.pool_id, AutoVerifiedAttributes=["email"], **PLUS_AUDIT)
    wrong_password(app, "alice")
    assert summary(listed(app, "alice")) == [("SignIn", "Fail", [("Password", "Failure")])]
    idp.update_user_pool(UserPoolId=app.pool_id, AutoVerifiedAttributes=["email"], UserPoolTier="PLUS")  # off
    app.sign_in("alice")
    with raises(NOT_ENABLED):
        listed(app, "alice")
    idp.update_user_pool(UserPoolId=app.pool_id, AutoVerifiedAttributes=["email"], **PLUS_AUDIT)  # on again
    app.sign_in("alice")
    assert summary(listed(app, "alice")) == [  # the stretch when it was off left no events
        ("SignIn", "Pass", [("Password", "Success")]),
        ("SignIn", "Fail", [("Password", "Failure")]),
    ]


def test_sign_up_password_change_forgot_password_and_resend(plus: App) -> None:
    app = plus
    app.sign_up("bob", email="bob@example.com")
    app.idp.resend_confirmation_code(ClientId=app.client_id, Username="bob")
    code = app.backend.mailbox.latest_code(to="bob@example.com")
    app.idp.confirm_sign_up(ClientId=app.client_id, Username="bob", ConfirmationCode=code)
    access = app.sign_in("bob")["AccessToken"]
    with raises("NotAuthorizedException"):
        app.idp.change_password(AccessToken=access, PreviousPassword="Not-it-1!", ProposedPassword="N3w-passw0rd!")
    app.idp.change_password(AccessToken=access, PreviousPassword=PASSWORD, ProposedPassword="N3w-passw0rd!")
    app.idp.forgot_password(ClientId=app.client_id, Username="bob")
    assert summary(listed(app, "bob")) == [
        ("ForgotPassword", "Pass", []),
        ("PasswordChange", "Pass", [("Password", "Success")]),
        ("PasswordChange", "Fail", [("Password", "Failure")]),
        ("SignIn", "Pass", [("Password", "Success")]),
        ("ResendCode", "Pass", []),
        ("SignUp", "Pass", []),
    ]


def test_a_deleted_namesake_leaves_no_events_to_a_new_user(plus: App) -> None:
    app = plus
    app.confirmed_user("alice", email="alice@example.com")
    wrong_password(app, "alice")
    app.idp.admin_delete_user(UserPoolId=app.pool_id, Username="alice")
    app.idp.admin_create_user(UserPoolId=app.pool_id, Username="alice", MessageAction="SUPPRESS")
    assert listed(app, "alice") == []  # an admin-created user: no SignUp event, nothing inherited


def test_mfa_sign_in_is_in_progress_until_the_code_is_answered(plus: App) -> None:
    app = plus
    app.idp.set_user_pool_mfa_config(UserPoolId=app.pool_id, MfaConfiguration="OPTIONAL",
                                     SoftwareTokenMfaConfiguration={"Enabled": True})
    app.confirmed_user("alice", email="alice@example.com")
    access = app.sign_in("alice")["AccessToken"]
    secret = app.idp.associate_software_token(AccessToken=access)["SecretCode"]
    app.idp.verify_software_token(AccessToken=access, UserCode=pyotp.TOTP(secret).at(app.clock.now()))
    app.idp.set_user_mfa_preference(AccessToken=access, SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True})
    app.clock.advance(30)

    challenge = app.password_auth("alice")
    assert challenge["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
    assert summary(listed(app, "alice"))[0] == ("SignIn", "InProgress", [("Password", "Success")])
    right = pyotp.TOTP(secret).at(app.clock.now())
    with raises("CodeMismatchException"):
        app.idp.respond_to_auth_challenge(
            ClientId=app.client_id, ChallengeName="SOFTWARE_TOKEN_MFA", Session=challenge["Session"],
            ChallengeResponses={"USERNAME": "alice", "SOFTWARE_TOKEN_MFA_CODE": "000000" if right != "000000" else "111111"})
    assert summary(listed(app, "alice"))[0] == ("SignIn", "InProgress", [("Password", "Success"), ("Mfa", "Failure")])
    app.idp.respond_to_auth_challenge(
        ClientId=app.client_id, ChallengeName="SOFTWARE_TOKEN_MFA", Session=challenge["Session"],
        ChallengeResponses={"USERNAME": "alice", "SOFTWARE_TOKEN_MFA_CODE": right})
    events = listed(app, "alice")
    assert summary(events)[:2] == [
        ("SignIn", "Pass", [("Password", "Success"), ("Mfa", "Success")]),
        ("SignIn", "Pass", [("Password", "Success")]),  # the sign-in before TOTP was enrolled
    ]
    assert len(events) == 3  # and SignUp


def test_admin_feedback_shows_in_the_event(plus: App) -> None:
    app = plus
    app.confirmed_user("alice", email="alice@example.com")
    wrong_password(app, "alice")
    target = listed(app, "alice")[0]
    app.clock.advance(60)
    app.idp.admin_update_auth_event_feedback(UserPoolId=app.pool_id, Username="alice", EventId=target["EventId"],
                                             FeedbackValue="Invalid")
    event = next(e for e in listed(app, "alice") if e["EventId"] == target["EventId"])
    assert event["EventFeedback"]["FeedbackValue"] == "Invalid"
    assert event["EventFeedback"]["Provider"] == "Admin"
    assert event["EventFeedback"]["FeedbackDate"].timestamp() == pytest.approx(app.clock.now())
    app.idp.admin_update_auth_event_feedback(UserPoolId=app.pool_id, Username="alice", EventId=target["EventId"],
                                             FeedbackValue="Valid")  # the latest word counts
    assert listed(app, "alice")[0]["EventFeedback"]["FeedbackValue"] == "Valid"
    with raises("ResourceNotFoundException"):
        app.idp.admin_update_auth_event_feedback(UserPoolId=app.pool_id, Username="alice", EventId="no-such-event",
                                                 FeedbackValue="Valid")
    app.confirmed_user("bob", email="bob@example.com")
    with raises("ResourceNotFoundException"):  # another user's event
        app.idp.admin_update_auth_event_feedback(UserPoolId=app.pool_id, Username="bob", EventId=target["EventId"],
                                                 FeedbackValue="Valid")


def test_user_feedback_needs_the_events_feedback_token(plus: App) -> None:
    app = plus
    app.confirmed_user("alice", email="alice@example.com")
    app.confirmed_user("bob", email="bob@example.com")
    wrong_password(app, "alice")
    first, second = listed(app, "alice")[:2]
    backend = app.backend
    with backend.transaction():
        pool = backend.pool(app.pool_id)
        alice = pool.users["alice"]
        token = auth_events.feedback_token(backend, pool, alice, first["EventId"])
        other_event_token = auth_events.feedback_token(backend, pool, alice, second["EventId"])
        bobs_token = auth_events.feedback_token(backend, pool, pool.users["bob"], first["EventId"])
    for wrong in (other_event_token, bobs_token, "forged"):
        with raises("NotAuthorizedException"):
            app.idp.update_auth_event_feedback(UserPoolId=app.pool_id, Username="alice", EventId=first["EventId"],
                                               FeedbackToken=wrong, FeedbackValue="Invalid")
    assert "EventFeedback" not in listed(app, "alice")[0]
    app.idp.update_auth_event_feedback(UserPoolId=app.pool_id, Username="alice", EventId=first["EventId"],
                                       FeedbackToken=token, FeedbackValue="Invalid")
    feedback = listed(app, "alice")[0]["EventFeedback"]
    assert feedback["FeedbackValue"] == "Invalid" and feedback["Provider"] == "User"


def test_feedback_token_from_the_control_plane_over_http(plus: App) -> None:
    """What the risk email's one-click link would carry, handed out by the control plane (RemoteControl)."""
    app = plus
    app.confirmed_user("alice", email="alice@example.com")
    wrong_password(app, "alice")
    event_id = listed(app, "alice")[0]["EventId"]
    remote = RemoteControl(app.emulator.url)
    token = remote.feedback_token(app.pool_id, "alice", event_id)
    app.idp.update_auth_event_feedback(UserPoolId=app.pool_id, Username="alice", EventId=event_id,
                                       FeedbackToken=token, FeedbackValue="Valid")
    assert listed(app, "alice")[0]["EventFeedback"]["FeedbackValue"] == "Valid"
    for params, field in (({"username": "nobody", "event_id": event_id}, "username"),
                          ({"username": "alice", "event_id": "no-such-event"}, "event_id"),
                          ({"username": "alice"}, "event_id")):
        answer = requests.get(f"{app.emulator.url}/_harness/pools/{app.pool_id}/feedback-token", params=params, timeout=5)
        assert answer.status_code in (400, 404) and answer.json()["field"] == field, answer.text
