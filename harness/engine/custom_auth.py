"""CUSTOM_AUTH: the define / create / verify auth challenge triggers and the CUSTOM_CHALLENGE loop.

(docs: user-pool-lambda-challenge, -define-auth-challenge, -create-auth-challenge,
-verify-auth-challenge-response; amazon-cognito-user-pools-authentication-flow "Use SRP password
verification in custom authentication flow".)

* InitiateAuth / AdminInitiateAuth ``CUSTOM_AUTH`` with ``USERNAME`` runs DefineAuthChallenge with
  an empty ``session``; with ``CHALLENGE_NAME: SRP_A`` and ``SRP_A`` the session starts with
  ``{SRP_A, true}`` and Define may ask for ``PASSWORD_VERIFIER`` (Cognito's own SRP step, answered
  as in USER_SRP_AUTH; a wrong password counts towards the lockout) before custom challenges.
* ``CUSTOM_CHALLENGE``: CreateAuthChallenge's ``publicChallengeParameters`` go to the app as
  ChallengeParameters (with ``USERNAME``); ``privateChallengeParameters`` stay here for
  VerifyAuthChallengeResponse, which gets the app's ``ANSWER`` as ``challengeAnswer``. Each round
  adds one ``{challengeName, challengeResult, challengeMetadata}`` to ``session`` and Define runs
  again: ``issueTokens`` signs the user in (MFA after a password round, through SignIn),
  ``failAuthentication`` ends with "Incorrect username or password.", a challenge name goes on.
* Every answer gets a fresh Session (AuthSessionValidity minutes); an attempt has at most
  :data:`MAX_ROUNDS` rounds. ClientMetadata of RespondToAuthChallenge reaches the three triggers;
  InitiateAuth's does not (the model). With PreventUserExistenceErrors ENABLED an unknown user
  gets the same flow with ``userNotFound: true`` and can never be issued tokens.
* No lockout applies to custom challenges (docs: authentication, "lockout behavior ... doesn't
  apply to custom challenges unless they also perform password-based authentication").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from harness.engine import lockout, srp, triggers
from harness.engine.models import AppClient, AuthSession, ChallengeRound, User, UserPool
from harness.engine.attributes import event_attributes
from harness.engine.signin import SignIn, close_session, find_session, required
from harness.errors import CognitoError, Err

if TYPE_CHECKING:  # pragma: no cover
    from harness.engine.store import Backend

FLOW = "CUSTOM_AUTH"
CUSTOM_CHALLENGE = "CUSTOM_CHALLENGE"
PASSWORD_VERIFIER = "PASSWORD_VERIFIER"
SRP_A = "SRP_A"
DEFINE, CREATE, VERIFY = "DefineAuthChallenge", "CreateAuthChallenge", "VerifyAuthChallengeResponse"
MAX_ROUNDS = 8
"""Rounds (entries of ``session``) one attempt may reach before Cognito ends it. AWS documents no
number that this project could find; 8 is the emulator's choice (see docs/triggers.md)."""


def _flag(response: dict[str, Any], name: str) -> bool:
    value = response.get(name)
    if value is None or isinstance(value, bool):
        return bool(value)
    raise Err.LAMBDA_BAD_RESPONSE.error()


def _string_map(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise Err.LAMBDA_BAD_RESPONSE.error()
    return dict(value)


@dataclass
class Attempt:
    """One CUSTOM_AUTH attempt between two API calls: who, the rounds so far, the caller's metadata."""

    si: SignIn
    user: User | None
    username: str
    rounds: list[ChallengeRound]
    client_metadata: dict[str, str] | None = None
    srp_a: str | None = None  # only while InitiateAuth runs

    def request(self, **fields: Any) -> dict[str, Any]:
        """The request members every challenge trigger gets."""
        out: dict[str, Any] = {"userAttributes": event_attributes(self.si.pool, self.user) if self.user else {}}
        out.update(fields)
        if self.client_metadata:
            out["clientMetadata"] = dict(self.client_metadata)
        if self.si.hides_existence:
            out["userNotFound"] = self.user is None
        return out

    def session(self) -> list[dict[str, Any]]:
        return [{"challengeName": r.name, "challengeResult": r.result, "challengeMetadata": r.metadata}
                for r in self.rounds]

    def invoke(self, trigger: str, request: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
        si = self.si
        answered = triggers.invoke(si.backend, si.pool, trigger, f"{trigger}_Authentication",
                                   username=self.user.username if self.user else self.username,
                                   client_id=si.client.client_id, request=request, response=response)
        if answered is None:  # the pool names no function for this trigger
            raise Err.CUSTOM_AUTH_NOT_CONFIGURED.error()
        return answered

    def fail(self, reason: str, error: CognitoError | None = None) -> CognitoError:
        return self.si.fail(self.user.username if self.user else self.username, reason,
                            error or Err.INCORRECT_CREDENTIALS.error())


# --- the loop -------------------------------------------------------------------------------------


def start(si: SignIn, auth: dict[str, str]) -> dict[str, Any]:
    """InitiateAuth CUSTOM_AUTH: DefineAuthChallenge decides the first step."""
    if not triggers.function_arn(si.pool, DEFINE):
        raise Err.CUSTOM_AUTH_NOT_CONFIGURED.error()
    username = required(auth, "USERNAME")
    user = si.lookup(username, auth.get("SECRET_HASH"))
    if user is None and not si.hides_existence:
        raise si.unknown_user(username)
    if user is not None:
        si.precheck(user)
    si.pre_authentication(user, username)
    attempt = Attempt(si, user, user.username if user else username, [])
    if auth.get("CHALLENGE_NAME") == SRP_A or auth.get(SRP_A):
        attempt.srp_a = required(auth, SRP_A)
        srp.parse_a(attempt.srp_a)
        attempt.rounds.append(ChallengeRound(SRP_A, True))
    return define(attempt)


def define(attempt: Attempt) -> dict[str, Any]:
    """Run DefineAuthChallenge over the rounds so far and act on its decision."""
    response = attempt.invoke(DEFINE, attempt.request(session=attempt.session()),
                              {"challengeName": None, "issueTokens": None, "failAuthentication": None})
    challenge = response.get("challengeName")
    if challenge is not None and not isinstance(challenge, str):
        raise Err.LAMBDA_BAD_RESPONSE.error()
    if _flag(response, "failAuthentication"):
        raise attempt.fail("custom_auth_failed")
    if _flag(response, "issueTokens"):
        return _issue_tokens(attempt)
    if len(attempt.rounds) >= MAX_ROUNDS:
        raise attempt.fail("custom_auth_rounds_exceeded")
    if challenge == CUSTOM_CHALLENGE:
        return _create(attempt)
    if challenge == PASSWORD_VERIFIER and attempt.rounds and attempt.rounds[-1].name == SRP_A:
        return _password_verifier(attempt)
    raise Err.LAMBDA_BAD_RESPONSE.error()


def _issue_tokens(attempt: Attempt) -> dict[str, Any]:
    si, user = attempt.si, attempt.user
    if user is None:  # a simulated attempt for an unknown user never signs in
        raise attempt.fail("user_not_found")
    si.precheck(user)
    if user.status == "UNCONFIRMED":
        raise attempt.fail("user_not_confirmed", Err.USER_NOT_CONFIRMED.error())
    if any(r.name == PASSWORD_VERIFIER and r.result for r in attempt.rounds):
        return si.second_factor(user)  # "If MFA is enabled for a user, it is handled after the password"
    return si.signed_in(user)


def _open(attempt: Attempt, challenge: str) -> AuthSession:
    user = attempt.user
    session = attempt.si.open_session(user.username if user else attempt.username, challenge,
                                      user.sub if user else "")
    session.rounds = list(attempt.rounds)
    return session


def _create(attempt: Attempt) -> dict[str, Any]:
    response = attempt.invoke(CREATE, attempt.request(challengeName=CUSTOM_CHALLENGE, session=attempt.session()),
                              {"publicChallengeParameters": None, "privateChallengeParameters": None,
                               "challengeMetadata": None})
    public = _string_map(response.get("publicChallengeParameters"))
    private = _string_map(response.get("privateChallengeParameters"))
    metadata = response.get("challengeMetadata")
    if metadata is not None and not isinstance(metadata, str):
        raise Err.LAMBDA_BAD_RESPONSE.error()
    session = _open(attempt, CUSTOM_CHALLENGE)
    session.private_parameters = private
    session.pending_metadata = metadata
    return {"ChallengeName": CUSTOM_CHALLENGE, "Session": session.session,
            "ChallengeParameters": {**public, "USERNAME": session.username}}


def _password_verifier(attempt: Attempt) -> dict[str, Any]:
    """Cognito's own SRP step inside CUSTOM_AUTH, answered as in USER_SRP_AUTH (:func:`answer_password`)."""
    si = attempt.si
    session = _open(attempt, PASSWORD_VERIFIER)
    creds = _srp_credentials(si.backend, si.pool, attempt.user, attempt.username)
    params = srp.begin(si.backend, session, srp.parse_a(attempt.srp_a), creds)
    return {"ChallengeName": PASSWORD_VERIFIER, "Session": session.session, "ChallengeParameters": params}


# --- answers ---------------------------------------------------------------------------------------


def _resumed(backend: Backend, pool: UserPool, client: AppClient, session: AuthSession, responses: dict[str, str],
             client_metadata: dict[str, str] | None) -> Attempt:
    si = SignIn.resume(backend, pool, client, session, client_metadata)
    user = si.session_user(session, responses)
    close_session(pool, session)  # each answer is heard once; the next step has a new Session
    if session.user_sub and user is None:
        raise si.unknown_user(session.username)
    if user is not None and not user.enabled:
        raise si.fail(user.username, "user_disabled", Err.USER_DISABLED.error())
    return Attempt(si, user, session.username, list(session.rounds), client_metadata)


def answer_challenge(backend: Backend, pool: UserPool, client: AppClient, params: dict[str, Any],
                     responses: dict[str, str]) -> dict[str, Any]:
    """RespondToAuthChallenge CUSTOM_CHALLENGE: VerifyAuthChallengeResponse judges ANSWER, Define goes on."""
    session = find_session(backend, pool, client, params.get("Session"), CUSTOM_CHALLENGE)
    answer = required(responses, "ANSWER")
    attempt = _resumed(backend, pool, client, session, responses, params.get("ClientMetadata"))
    response = attempt.invoke(VERIFY, attempt.request(privateChallengeParameters=dict(session.private_parameters),
                                                      challengeAnswer=answer), {"answerCorrect": None})
    attempt.rounds.append(ChallengeRound(CUSTOM_CHALLENGE, _flag(response, "answerCorrect"), session.pending_metadata))
    return define(attempt)


def _srp_credentials(backend: Backend, pool: UserPool, user: User | None, username: str) -> srp.Credentials:
    """As USER_SRP_AUTH: the user's credentials, or stable unmatchable ones (no password / no user)."""
    if user is not None and user.srp_x and user.srp_salt:
        return srp.credentials_for(user)
    fake = srp.simulated_credentials(backend, pool, username)
    return fake if user is None else srp.Credentials(user.username, fake.salt_hex, fake.verifier)


def answer_password(backend: Backend, pool: UserPool, client: AppClient, session: AuthSession,
                    params: dict[str, Any], responses: dict[str, str]) -> dict[str, Any]:
    """PASSWORD_VERIFIER inside CUSTOM_AUTH: a right password is a round; a wrong one ends the attempt."""
    attempt = _resumed(backend, pool, client, session, responses, params.get("ClientMetadata"))
    si, user = attempt.si, attempt.user
    valid = srp.signature_valid(backend, pool, session, _srp_credentials(backend, pool, user, session.username),
                                responses)
    if user is None:
        raise attempt.fail("user_not_found")
    si.precheck(user)
    if not valid:
        raise lockout.record_failure(backend, pool, user, client_id=client.client_id, flow=si.flow,
                                     reason="wrong_password_srp")
    lockout.record_success(backend, user)
    attempt.rounds.append(ChallengeRound(PASSWORD_VERIFIER, True))
    return define(attempt)


__all__ = ["FLOW", "MAX_ROUNDS", "answer_challenge", "answer_password", "define", "start"]
