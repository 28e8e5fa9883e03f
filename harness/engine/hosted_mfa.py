"""The MFA step of the hosted UI's ``/login``: managed login asks for the second factor too.

After the password, a user whose pool and settings call for MFA is shown a code
page instead of being redirected with an authorization code: a TOTP code, or the
SMS / email code just sent (the mailbox has it). With several factors the
preferred one is asked for, else TOTP, else the first. A user who must enrol
(MFA ON, no factor) is shown a new authenticator's secret and enrols by typing
its first code. The pending step is an ordinary challenge session
(:class:`harness.engine.signin.SignIn`, flow ``HOSTED_UI``), so it expires,
takes three wrong codes, and logs the same ``mfa.*`` events as the API.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from harness.engine import mfa
from harness.engine.models import AppClient, AuthSession, User, UserPool
from harness.engine.signin import SignIn, find_session
from harness.errors import Err

if TYPE_CHECKING:  # pragma: no cover
    from harness.engine.store import Backend

FLOW = "HOSTED_UI"


@dataclass
class MfaPrompt:
    """What the code page shows: the factor, its pending session, and for enrolment the secret."""

    challenge: str
    session: str
    secret: str = ""
    destination: str = ""


def _factor(step: mfa.Step, user: User) -> mfa.Step:
    if step.challenge != mfa.SELECT:
        return step
    options = step.options
    chosen = user.mfa.preferred if user.mfa.preferred in options else (mfa.TOTP if mfa.TOTP in options else options[0])
    return mfa.Step(str(chosen))


def begin(backend: Backend, pool: UserPool, client: AppClient, user: User) -> MfaPrompt | None:
    """The code page this sign-in needs after the password (None: no MFA, go on)."""
    step = mfa.decide(pool, user)
    if step is None:
        return None
    step = _factor(step, user)
    if step.challenge == mfa.SETUP and mfa.TOTP not in step.options:
        raise Err.TOTP_NOT_ENABLED_IN_POOL.error()
    si = SignIn(backend, pool, client, FLOW)
    answer = si.mfa_challenge(user, step)
    prompt = MfaPrompt(challenge=step.challenge, session=answer["Session"],
                       destination=answer["ChallengeParameters"].get("CODE_DELIVERY_DESTINATION", ""))
    if step.challenge == mfa.SETUP:
        prompt.secret = mfa.associate(backend, pool, user)
    return prompt


def pending_secret(pool: UserPool, session: AuthSession) -> str:
    """The secret an enrolment page shows again after a wrong code ("" for other steps)."""
    user = pool.users.get(pool.user_key(session.username))
    if session.challenge != mfa.SETUP or user is None or user.mfa.pending is None:
        return ""
    return user.mfa.pending.secret


def answer(backend: Backend, pool: UserPool, client: AppClient, session_id: str, code: str) -> User:
    """Check the code typed on the page; the user who passed, or Cognito's error (wrong code,
    expired or spent session). Enrolment verifies the new authenticator and turns TOTP on."""
    pending = pool.auth_sessions.get(session_id)
    if pending is None or pending.flow != FLOW:  # an API sign-in's session is not the page's
        raise Err.INVALID_SESSION.error()
    session = find_session(backend, pool, client, session_id, pending.challenge)
    user = pool.users.get(pool.user_key(session.username))
    if user is None or user.sub != session.user_sub or not user.enabled:
        raise Err.INVALID_SESSION.error()
    si = SignIn.resume(backend, pool, client, session)
    if session.challenge == mfa.SETUP:
        mfa.verify(backend, pool, user, code, "managed login", enrolling=True)
        session.passed.append(mfa.TOTP)
        return si.prove_setup(session, user)
    return si.prove_code(session, user, code)


__all__ = ["FLOW", "MfaPrompt", "begin", "answer", "pending_secret"]
