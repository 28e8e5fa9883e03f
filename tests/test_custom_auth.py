"""CUSTOM_AUTH with the define / create / verify auth challenge triggers, over HTTP with real boto3."""

from __future__ import annotations

import json
from typing import Any

import pytest

from harness.engine.custom_auth import MAX_ROUNDS
from harness.engine.triggers import set_trigger
from srp_client import SRPClient
from tests.auth_support import PASSWORD, App, make_app, raises

SECRET = "42"


@pytest.fixture()
def app(emulator, idp) -> App:  # noqa: ANN001
    app = make_app(emulator, idp, client={"ExplicitAuthFlows": ["ALLOW_CUSTOM_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]})
    app.confirmed_user("alice", email="alice@example.com")
    return app


class Triggers:
    """Define / create / verify as a passwordless sign-in that allows ``tries`` wrong answers."""

    def __init__(self, app: App, tries: int = 3, password_first: bool = False) -> None:
        self.events: list[dict[str, Any]] = []
        self.tries = tries
        self.password_first = password_first
        for name in ("DefineAuthChallenge", "CreateAuthChallenge", "VerifyAuthChallengeResponse"):
            set_trigger(app.backend, app.pool_id, name, getattr(self, name.lower()))

    def _seen(self, event: dict[str, Any]) -> None:
        self.events.append(json.loads(json.dumps(event)))

    def defineauthchallenge(self, event: dict[str, Any]) -> dict[str, Any]:
        self._seen(event)
        session = event["request"]["session"]
        custom = [s for s in session if s["challengeName"] == "CUSTOM_CHALLENGE"]
        if self.password_first and len(session) == 1:
            event["response"].update(challengeName="PASSWORD_VERIFIER", issueTokens=False, failAuthentication=False)
        elif custom and custom[-1]["challengeResult"]:
            event["response"].update(issueTokens=True, failAuthentication=False)
        elif len(custom) >= self.tries:
            event["response"].update(issueTokens=False, failAuthentication=True)
        else:
            event["response"].update(challengeName="CUSTOM_CHALLENGE", issueTokens=False, failAuthentication=False)
        return event

    def createauthchallenge(self, event: dict[str, Any]) -> dict[str, Any]:
        self._seen(event)
        round_no = len(event["request"]["session"]) + 1
        event["response"].update(publicChallengeParameters={"question": "six times seven?"},
                                 privateChallengeParameters={"answer": SECRET}, challengeMetadata=f"ROUND-{round_no}")
        return event

    def verifyauthchallengeresponse(self, event: dict[str, Any]) -> dict[str, Any]:
        self._seen(event)
        request = event["request"]
        event["response"]["answerCorrect"] = request["challengeAnswer"] == request["privateChallengeParameters"]["answer"]
        return event

    def of(self, source: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["triggerSource"] == source]


def _start(app: App, **extra: Any) -> dict[str, Any]:
    return app.idp.initiate_auth(ClientId=app.client_id, AuthFlow="CUSTOM_AUTH",
                                 AuthParameters={"USERNAME": "alice", **extra})


def _answer(app: App, session: str, answer: str, **extra: Any) -> dict[str, Any]:
    return app.idp.respond_to_auth_challenge(ClientId=app.client_id, ChallengeName="CUSTOM_CHALLENGE", Session=session,
                                             ChallengeResponses={"USERNAME": "alice", "ANSWER": answer}, **extra)


def _envelope(app: App, event: dict[str, Any], source: str) -> None:
    assert set(event) == {"version", "region", "userPoolId", "userName", "callerContext", "triggerSource",
                          "request", "response"}
    assert (event["version"], event["region"], event["userPoolId"], event["userName"]) == (
        "1", "us-east-1", app.pool_id, "alice")
    assert event["callerContext"]["clientId"] == app.client_id and event["triggerSource"] == source


def test_passwordless_rounds_with_a_wrong_answer_then_tokens(app: App) -> None:
    hooks = Triggers(app)
    first = _start(app)
    assert first["ChallengeName"] == "CUSTOM_CHALLENGE"
    assert first["ChallengeParameters"] == {"question": "six times seven?", "USERNAME": "alice"}
    assert "AuthenticationResult" not in first
    wrong = _answer(app, first["Session"], "41", ClientMetadata={"app": "web"})
    assert wrong["ChallengeName"] == "CUSTOM_CHALLENGE" and wrong["Session"] != first["Session"]
    with raises("NotAuthorizedException", "Invalid session for the user."):
        _answer(app, first["Session"], SECRET)  # each Session answers once
    done = _answer(app, wrong["Session"], SECRET)
    app.verify(done["AuthenticationResult"])
    assert done["ChallengeParameters"] == {}

    attributes = {**{a["Name"]: a["Value"] for a in app.idp.admin_get_user(
        UserPoolId=app.pool_id, Username="alice")["UserAttributes"]}, "cognito:user_status": "CONFIRMED"}
    defines = hooks.of("DefineAuthChallenge_Authentication")
    assert len(defines) == 3
    for event in defines:
        _envelope(app, event, "DefineAuthChallenge_Authentication")
        assert event["response"] == {"challengeName": None, "issueTokens": None, "failAuthentication": None}
    assert defines[0]["request"] == {"userAttributes": attributes, "session": []}
    assert defines[1]["request"] == {"userAttributes": attributes, "clientMetadata": {"app": "web"}, "session": [
        {"challengeName": "CUSTOM_CHALLENGE", "challengeResult": False, "challengeMetadata": "ROUND-1"}]}
    assert defines[2]["request"]["session"][-1] == {"challengeName": "CUSTOM_CHALLENGE", "challengeResult": True,
                                                    "challengeMetadata": "ROUND-2"}
    creates = hooks.of("CreateAuthChallenge_Authentication")
    _envelope(app, creates[0], "CreateAuthChallenge_Authentication")
    assert creates[0]["request"] == {"userAttributes": attributes, "challengeName": "CUSTOM_CHALLENGE", "session": []}
    assert creates[0]["response"] == {"publicChallengeParameters": None, "privateChallengeParameters": None,
                                      "challengeMetadata": None}
    verifies = hooks.of("VerifyAuthChallengeResponse_Authentication")
    _envelope(app, verifies[0], "VerifyAuthChallengeResponse_Authentication")
    assert verifies[0]["request"] == {"userAttributes": attributes, "privateChallengeParameters": {"answer": SECRET},
                                      "challengeAnswer": "41", "clientMetadata": {"app": "web"}}
    assert verifies[0]["response"] == {"answerCorrect": None}


def test_fail_authentication_and_the_round_limit(app: App) -> None:
    Triggers(app, tries=1)
    first = _start(app)
    with raises("NotAuthorizedException", "Incorrect username or password."):
        _answer(app, first["Session"], "wrong")
    Triggers(app, tries=100)  # a function that never gives up still meets Cognito's limit
    session = _start(app)["Session"]
    with raises("NotAuthorizedException", "Incorrect username or password."):
        for _ in range(MAX_ROUNDS + 1):
            session = _answer(app, session, "wrong")["Session"]
    assert app.backend.events.count("token.issued") == 0


def test_session_expires_with_the_client_setting(app: App) -> None:
    Triggers(app)
    first = _start(app)
    app.clock.advance(3 * 60 + 1)  # AuthSessionValidity defaults to 3 minutes
    with raises("NotAuthorizedException", "Invalid session for the user, session is expired."):
        _answer(app, first["Session"], SECRET)


def test_srp_password_verifier_before_the_custom_challenge(app: App) -> None:
    hooks = Triggers(app, password_first=True)
    client = SRPClient(app.pool_id, "alice", PASSWORD)
    step = _start(app, CHALLENGE_NAME="SRP_A", SRP_A=client.srp_a)
    assert step["ChallengeName"] == "PASSWORD_VERIFIER" and step["Session"]
    assert hooks.of("DefineAuthChallenge_Authentication")[0]["request"]["session"] == [
        {"challengeName": "SRP_A", "challengeResult": True, "challengeMetadata": None}]
    responses = client.claim(step["ChallengeParameters"], app.now())
    custom = app.idp.respond_to_auth_challenge(ClientId=app.client_id, ChallengeName="PASSWORD_VERIFIER",
                                               Session=step["Session"], ChallengeResponses=responses)
    assert custom["ChallengeName"] == "CUSTOM_CHALLENGE"
    assert hooks.of("DefineAuthChallenge_Authentication")[1]["request"]["session"][-1] == {
        "challengeName": "PASSWORD_VERIFIER", "challengeResult": True, "challengeMetadata": None}
    app.verify(_answer(app, custom["Session"], SECRET)["AuthenticationResult"])
    # a wrong password ends the attempt as a password failure
    bad = SRPClient(app.pool_id, "alice", "Wr0ng-pass!")
    step = _start(app, CHALLENGE_NAME="SRP_A", SRP_A=bad.srp_a)
    with raises("NotAuthorizedException", "Incorrect username or password."):
        app.idp.respond_to_auth_challenge(ClientId=app.client_id, ChallengeName="PASSWORD_VERIFIER",
                                          Session=step["Session"],
                                          ChallengeResponses=bad.claim(step["ChallengeParameters"], app.now()))


def test_errors_of_a_badly_set_up_flow(app: App) -> None:
    with raises("InvalidParameterException", "Custom auth lambda trigger is not configured for the user pool."):
        _start(app)

    def broken(event: dict[str, Any]) -> dict[str, Any]:
        event["response"]["issueTokens"] = "maybe"
        return event

    set_trigger(app.backend, app.pool_id, "DefineAuthChallenge", broken)
    with raises("InvalidLambdaResponseException"):
        _start(app)
    hooks = Triggers(app)
    first = _start(app)
    with raises("InvalidParameterException", "Missing required parameter ANSWER"):
        app.idp.respond_to_auth_challenge(ClientId=app.client_id, ChallengeName="CUSTOM_CHALLENGE",
                                          Session=first["Session"], ChallengeResponses={"USERNAME": "alice"})
    assert len(hooks.of("VerifyAuthChallengeResponse_Authentication")) == 0


def test_custom_email_sender_is_refused_by_name(app: App) -> None:
    """Custom senders (the code encrypted under a KMS key) are not emulated: the first message says so."""
    set_trigger(app.backend, app.pool_id, "CustomEmailSender", lambda event: event, version="V1_0")
    with raises("UnexpectedLambdaException") as info:
        app.sign_up("carol", email="carol@example.com")
    message = info.value.response["Error"]["Message"]
    assert message.startswith("CustomEmailSender invocation failed due to error NotEmulated: ")
    assert "LambdaConfig.CustomEmailSender" in message and "KMSKeyID" in message
    assert app.backend.mailbox.list(to="carol@example.com", include_failed=True) == []
