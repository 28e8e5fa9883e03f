"""Sign-in operations: InitiateAuth, AdminInitiateAuth, RespondToAuthChallenge,
AdminRespondToAuthChallenge.

Flows: USER_PASSWORD_AUTH, ADMIN_USER_PASSWORD_AUTH / ADMIN_NO_SRP_AUTH,
USER_SRP_AUTH (real SRP-6a), REFRESH_TOKEN_AUTH / REFRESH_TOKEN, CUSTOM_AUTH
(:mod:`harness.engine.custom_auth`; not part of USER_AUTH) and choice-based USER_AUTH with its password factors (PASSWORD, PASSWORD_SRP) and
the sign-in straight after ConfirmSignUp (its ``Session``). Challenges:
PASSWORD_VERIFIER, NEW_PASSWORD_REQUIRED, SELECT_CHALLENGE, PASSWORD,
PASSWORD_SRP, CUSTOM_CHALLENGE. The rules themselves live in :mod:`harness.engine.signin`;
this module picks the flow, checks it is enabled on the client and routes
challenge answers to the attempt they continue.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from harness.engine import custom_auth, devices, mfa, sessions, tiers, tokens
from harness.engine.ops import devices as device_ops
from harness.engine.srp import session_id_from_block
from harness.engine.common import check_secret_hash, find_client, pool_client
from harness.engine.models import AppClient, User, UserPool
from harness.engine.registry import operation
from harness.engine.signin import SIGN_UP_CONFIRMED, SignIn, close_session, find_session, required, secret_alternates
from harness.errors import CognitoError, Err

if TYPE_CHECKING:  # pragma: no cover
    from harness.engine.store import Backend

ADMIN_PASSWORD_FLOWS = ("ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH")
REFRESH_FLOWS = ("REFRESH_TOKEN_AUTH", "REFRESH_TOKEN")


# --- USER_AUTH (choice-based) ------------------------------------------------------------------


def available_challenges(pool: UserPool, user: User | None = None) -> list[str]:
    """First factors USER_AUTH offers: those the pool's SignInPolicy allows that the user can use.

    PASSWORD brings PASSWORD and PASSWORD_SRP; EMAIL_OTP needs a verified email and
    SMS_OTP a verified phone number (an unknown user is offered every allowed factor,
    so the list does not tell who exists). WEB_AUTHN is not emulated, so not offered.
    """
    allowed = tiers.first_factors(pool)
    offered = ["PASSWORD", "PASSWORD_SRP"] if "PASSWORD" in allowed else []
    for factor, attribute in ((mfa.EMAIL, "email"), (mfa.SMS_OTP, "phone_number")):
        if factor in allowed and (user is None or user.attributes.get(f"{attribute}_verified") == "true"):
            offered.append(factor)
    return offered


def _factor(
    si: SignIn, user: User | None, username: str, choice: str, given: dict[str, str], *, ask: bool = False
) -> dict[str, Any]:
    """Authenticate with a chosen first factor.

    A one-time code (EMAIL_OTP, SMS_OTP) is sent and becomes the challenge. With
    ``ask`` (InitiateAuth's PREFERRED_CHALLENGE without the secret) a password
    factor becomes its own challenge; challenge answers must carry it.
    """
    if choice in (mfa.EMAIL, mfa.SMS_OTP):
        if user is None and not si.hides_existence:
            raise si.unknown_user(username)
        if user is not None:
            si.precheck(user)
        return si.one_time_code(user, username, choice)
    member = "PASSWORD" if choice == "PASSWORD" else "SRP_A"
    if not given.get(member):
        if not ask:
            raise Err.MISSING_AUTH_PARAMETER.error(name=member)
        if user is None and not si.hides_existence:
            raise si.unknown_user(username)
        session = si.open_session(user.username if user else username, choice, user.sub if user else "")
        return {"ChallengeName": choice, "Session": session.session, "ChallengeParameters": {}}
    if choice == "PASSWORD":
        return si.password(user, username, given["PASSWORD"])
    return si.srp_begin(user, username, given["SRP_A"])


def user_auth(si: SignIn, auth: dict[str, str], session_id: str | None) -> dict[str, Any]:
    username = required(auth, "USERNAME")
    user = si.lookup(username, auth.get("SECRET_HASH"))
    if session_id:  # "sign in directly from the sign-up process"
        session = find_session(
            si.backend, si.pool, si.client, session_id, SIGN_UP_CONFIRMED, mismatch=Err.INVALID_SESSION
        )
        if user is None or user.sub != session.user_sub:
            raise Err.INVALID_SESSION.error()
        close_session(si.pool, session)
        si.precheck(user)
        return si.second_factor(user)
    available = available_challenges(si.pool, user)
    preferred = auth.get("PREFERRED_CHALLENGE")
    if preferred in available:
        return _factor(si, user, username, preferred, auth, ask=True)
    if user is None:
        if not si.hides_existence:
            raise si.unknown_user(username)
        session = si.open_session(username, "SELECT_CHALLENGE")
    else:
        si.precheck(user)
        session = si.open_session(user.username, "SELECT_CHALLENGE", user.sub)
    return {
        "ChallengeName": "SELECT_CHALLENGE",
        "Session": session.session,
        "ChallengeParameters": {},
        "AvailableChallenges": available,
    }


# --- refresh ------------------------------------------------------------------------------------


def refresh_flow(si: SignIn, auth: dict[str, str]) -> dict[str, Any]:
    """REFRESH_TOKEN_AUTH: new ID and access tokens, no new refresh token.

    Refused when the client rotates refresh tokens (GetTokensFromRefreshToken only).
    """
    token = required(auth, "REFRESH_TOKEN")
    pool, client = si.pool, si.client
    if client.refresh_rotation_enabled:
        raise Err.REFRESH_ROTATION_REQUIRED.error()
    session = sessions.find_refresh(si.backend, pool, token)
    if session is not None:
        devices.check_refresh(pool, session, auth.get("DEVICE_KEY"))
    if client.secret is not None:
        given = auth.get("SECRET_HASH")
        if not given:
            raise Err.SECRET_MISSING.error(client_id=client.client_id)
        if session is not None:
            user = pool.users.get(pool.user_key(session.username))
            names = (session.username, session.sub, *secret_alternates(user))
            check_secret_hash(client, auth.get("USERNAME") or session.username, given, *names)
    try:
        result = tokens.refresh(si.backend, pool, client, token, rotate=False, flow=si.flow)
    except CognitoError as error:
        who = session.username if session is not None else auth.get("USERNAME", "")
        raise si.fail(who, "refresh_refused", error) from None
    return {"AuthenticationResult": result, "ChallengeParameters": {}}


# --- InitiateAuth / AdminInitiateAuth ------------------------------------------------------------


def _initiate(backend: Backend, pool: UserPool, client: AppClient, params: dict[str, Any], *, admin: bool) -> dict[str, Any]:
    flow = params["AuthFlow"]
    auth = dict(params.get("AuthParameters") or {})
    si = SignIn(backend, pool, client, flow, admin, device_key=str(auth.get("DEVICE_KEY") or ""),
                validation_data=dict(params.get("ClientMetadata") or {}) or None)

    def require(setting: str) -> None:
        if not client.flow_enabled(setting):
            raise (Err.AUTH_FLOW_NOT_ENABLED.error() if admin else Err.FLOW_NOT_ENABLED.error(flow=flow))

    if flow in ADMIN_PASSWORD_FLOWS or flow == "USER_PASSWORD_AUTH":
        if (flow == "USER_PASSWORD_AUTH") == admin:  # each API has its own password flow
            raise Err.AUTH_FLOW_NOT_SUPPORTED.error()
        require("ALLOW_ADMIN_USER_PASSWORD_AUTH" if admin else "ALLOW_USER_PASSWORD_AUTH")
        username = required(auth, "USERNAME")
        password = required(auth, "PASSWORD")
        return si.password(si.lookup(username, auth.get("SECRET_HASH")), username, password)
    if flow == "USER_SRP_AUTH":
        require("ALLOW_USER_SRP_AUTH")
        username = required(auth, "USERNAME")
        srp_a = required(auth, "SRP_A")
        return si.srp_begin(si.lookup(username, auth.get("SECRET_HASH")), username, srp_a)
    if flow in REFRESH_FLOWS:
        require("ALLOW_REFRESH_TOKEN_AUTH")
        return refresh_flow(si, auth)
    if flow == "USER_AUTH":
        require("ALLOW_USER_AUTH")
        return user_auth(si, auth, params.get("Session"))
    if flow == custom_auth.FLOW:
        require("ALLOW_CUSTOM_AUTH")
        return custom_auth.start(si, auth)
    raise Err.FLOW_NOT_EMULATED.error(flow=flow)


@operation("InitiateAuth")
def initiate_auth(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool, client = find_client(backend, params["ClientId"])
    return _initiate(backend, pool, client, params, admin=False)


@operation("AdminInitiateAuth")
def admin_initiate_auth(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool, client = pool_client(backend, params["UserPoolId"], params["ClientId"])
    return _initiate(backend, pool, client, params, admin=True)


# --- challenges ------------------------------------------------------------------------------------

Answer = Callable[["Backend", UserPool, AppClient, dict[str, Any], dict[str, str]], dict[str, Any]]


def password_verifier(backend: Backend, pool: UserPool, client: AppClient, params: dict[str, Any], responses: dict[str, str]) -> dict[str, Any]:
    """SRP step 2; the session is found through the SECRET_BLOCK (or ``Session``)."""
    session_id = session_id_from_block(responses.get("PASSWORD_CLAIM_SECRET_BLOCK")) or params.get("Session")
    session = find_session(backend, pool, client, session_id, "PASSWORD_VERIFIER")
    if session.flow == custom_auth.FLOW:  # Cognito's SRP step inside a custom auth attempt
        return custom_auth.answer_password(backend, pool, client, session, params, responses)
    si = SignIn.resume(backend, pool, client, session, params.get("ClientMetadata"))
    si.device_key = str(responses.get("DEVICE_KEY") or si.device_key)
    return si.srp_verify(session, responses)


def new_password_required(backend: Backend, pool: UserPool, client: AppClient, params: dict[str, Any], responses: dict[str, str]) -> dict[str, Any]:
    session = find_session(backend, pool, client, params.get("Session"), "NEW_PASSWORD_REQUIRED")
    si = SignIn.resume(backend, pool, client, session, params.get("ClientMetadata"))
    return si.complete_new_password(session, responses)


def _choice(challenge: str) -> Answer:
    """SELECT_CHALLENGE, PASSWORD and PASSWORD_SRP answers of a USER_AUTH attempt."""

    def answer(backend: Backend, pool: UserPool, client: AppClient, params: dict[str, Any], responses: dict[str, str]) -> dict[str, Any]:
        session = find_session(backend, pool, client, params.get("Session"), challenge)
        si = SignIn.resume(backend, pool, client, session, params.get("ClientMetadata"))
        user = si.session_user(session, responses)
        choice = required(responses, "ANSWER") if challenge == "SELECT_CHALLENGE" else challenge
        if choice not in available_challenges(pool, user):
            raise Err.CHALLENGE_NOT_SUPPORTED.error(name=choice)
        close_session(pool, session)
        if session.user_sub and user is None:
            raise si.unknown_user(session.username)
        return _factor(si, user, session.username, choice, responses)

    return answer


def _second_factor(challenge: str) -> Answer:
    """Answers of an MFA step: a code (SOFTWARE_TOKEN_MFA, SMS_MFA, EMAIL_OTP), a choice
    (SELECT_MFA_TYPE) or the end of an enrolment (MFA_SETUP)."""

    def answer(backend: Backend, pool: UserPool, client: AppClient, params: dict[str, Any], responses: dict[str, str]) -> dict[str, Any]:
        session = find_session(backend, pool, client, params.get("Session"), challenge)
        si = SignIn.resume(backend, pool, client, session, params.get("ClientMetadata"))
        if challenge == mfa.SELECT:
            return si.select_mfa(session, responses)
        if challenge == mfa.SETUP:
            return si.complete_mfa_setup(session, responses)
        return si.answer_code(session, responses)

    return answer


CHALLENGES: dict[str, Answer] = {
    "PASSWORD_VERIFIER": password_verifier,
    "NEW_PASSWORD_REQUIRED": new_password_required,
    "SELECT_CHALLENGE": _choice("SELECT_CHALLENGE"),
    "PASSWORD": _choice("PASSWORD"),
    "PASSWORD_SRP": _choice("PASSWORD_SRP"),
    custom_auth.CUSTOM_CHALLENGE: custom_auth.answer_challenge,
    **{name: _second_factor(name) for name in (*mfa.CHALLENGES, mfa.SMS_OTP)},
    **device_ops.CHALLENGES,
}


def _respond(backend: Backend, pool: UserPool, client: AppClient, params: dict[str, Any]) -> dict[str, Any]:
    name = params["ChallengeName"]
    handler = CHALLENGES.get(name)
    if handler is None:
        raise Err.CHALLENGE_NOT_SUPPORTED.error(name=name)
    return handler(backend, pool, client, params, dict(params.get("ChallengeResponses") or {}))


@operation("RespondToAuthChallenge")
def respond_to_auth_challenge(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool, client = find_client(backend, params["ClientId"])
    return _respond(backend, pool, client, params)


@operation("AdminRespondToAuthChallenge")
def admin_respond_to_auth_challenge(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool, client = pool_client(backend, params["UserPoolId"], params["ClientId"])
    return _respond(backend, pool, client, params)
