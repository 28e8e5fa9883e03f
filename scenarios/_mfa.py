"""Helpers of the MFA family: driving the app's login through its MFA step, and judging what it hands out.

A login step of the app answers with tokens (at the spec's token pointers) or a
challenge (its name at ``challenge``, its session handle at
``challenge_session``). Before the challenge is answered the app must hand out
nothing that works: no token at any token pointer, and neither the challenge
session nor anything the app set (cookies) may reach the API.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.scenario import HarnessError, ScenarioContext, TargetResponse, TestUser, Tokens
from scenarios._sessions import clean_error

TOTP = "SOFTWARE_TOKEN_MFA"
SMS = "SMS_MFA"
EMAIL = "EMAIL_OTP"
SELECT = "SELECT_MFA_TYPE"
SETUP = "MFA_SETUP"
TOKEN_KINDS = ("access_token", "id_token", "refresh_token")
MFA_REFS = ["OWASP ASVS 5.0 V6.3.3, V6.5 (multi-factor authentication)", "NIST SP 800-63B §5.1.4, §5.2.8",
            "Cognito docs: adding MFA to a user pool; API: InitiateAuth / RespondToAuthChallenge challenges"]


@dataclass
class LoginStep:
    """What one login request of the app answered: a challenge to answer, or tokens."""

    response: TargetResponse
    challenge: str | None
    session: str | None
    tokens: Tokens | None

    @classmethod
    def read(cls, response: TargetResponse) -> LoginStep:
        spec = response.spec
        challenge = response.pointer(spec.challenge) if spec.challenge else None
        session = response.pointer(spec.challenge_session) if spec.challenge_session else None
        access, id_token, refresh = (response.token(kind) for kind in TOKEN_KINDS)
        tokens = Tokens(access or "", id_token or "", refresh) if access or id_token else None
        return cls(response, challenge if isinstance(challenge, str) and challenge else None,
                   session if isinstance(session, str) and session else None, tokens)

    def handed_out(self) -> list[str]:
        """The token kinds this answer carries."""
        return [kind for kind in TOKEN_KINDS if self.response.token(kind)]


def password_step(ctx: ScenarioContext, user: TestUser, factor: str) -> LoginStep:
    """The app's login with the right password for a user whose sign-in needs ``factor``: a challenge, and
    nothing usable yet (FAIL otherwise). A SELECT_MFA_TYPE challenge is answered with ``factor`` through
    [requests.login_mfa_select] (SKIP when the spec has none)."""
    step = LoginStep.read(ctx.call("login", user=user, title=f"{user.username}: the password step"))
    nothing_before_the_code(ctx, step, f"the password step of a user with {factor}")
    if not step.response.allowed:
        ctx.fail(f"the app refused the right password of a user with {factor}", expected="a challenge to answer",
                 actual=step.response.summary())
    if step.challenge == SELECT and factor != SELECT:
        ctx.need("login_mfa_select")
        step = LoginStep.read(ctx.call("login_mfa_select", user=user, session=step.session, factor=factor,
                                       title=f"choose {factor} in SELECT_MFA_TYPE"))
        nothing_before_the_code(ctx, step, f"the choice of {factor}")
    if step.challenge is None:
        raise HarnessError(f"the app's login answered no challenge for a user with {factor} "
                           f"({step.response.summary()}); check [requests.login].challenge")
    ctx.note(f"the app passed the {step.challenge} challenge on", challenge=step.challenge,
             session_returned=step.session is not None)
    return step


def nothing_before_the_code(ctx: ScenarioContext, step: LoginStep, when: str) -> None:
    """FAIL when an unanswered step hands out tokens, or when its session (or what the app set) reaches the API."""
    clean_error(ctx, step.response, when)
    handed = step.handed_out()
    if handed:
        ctx.fail(f"{when}: the app handed out {', '.join(handed)} before the MFA challenge was answered",
                 expected="a challenge, no token", actual=step.response.summary())
    if not ctx.spec.has("protected"):
        return
    probes = [("no token, only what the app set (cookies)", None)]
    if step.session:
        probes.append(("the challenge's session handle presented as a token", step.session))
    for label, credential in probes:
        response = ctx.call("protected", token=credential, title=f"{when}: {label}")
        if response.allowed:
            ctx.fail(f"{when}: the API accepted {label} before the MFA challenge was answered",
                     expected="refused until the second factor is proven", actual=response.summary())
        if response.server_error:  # a crash on a non-JWT credential is TV-MALFORMED's to judge
            ctx.note(f"{label}: the app answered with a server error (not judged here; see TV-MALFORMED)",
                     status=response.status)


def answer(ctx: ScenarioContext, user: TestUser, step: LoginStep, code: str, title: str) -> LoginStep:
    """Send ``code`` for ``step``'s challenge through [requests.login_mfa]."""
    return LoginStep.read(ctx.call("login_mfa", user=user, session=step.session, challenge=step.challenge, code=code,
                                   title=title))


def signed_in(ctx: ScenarioContext, step: LoginStep, because: str) -> Tokens:
    """The answer completes the sign-in: allowed, with tokens the API accepts (FAIL otherwise)."""
    if not step.response.allowed or step.tokens is None:
        ctx.fail(f"{because}: the sign-in did not complete", expected="tokens (at the spec's token pointers)",
                 actual=step.response.summary())
    assert step.tokens is not None
    ctx.token_evidence(step.tokens.access_token or step.tokens.id_token, "token after the MFA step")
    ctx.expect_allowed(ctx.call("protected", token=ctx.presented_token(step.tokens), title="the new token at the API"),
                       f"{because}: the token must be accepted")
    return step.tokens


def refused(ctx: ScenarioContext, step: LoginStep, because: str) -> None:
    """A refused answer: a 4xx the spec lists as denied (never a 5xx), and no token."""
    clean_error(ctx, step.response, because)
    handed = step.handed_out()
    if handed:
        ctx.fail(f"{because}: the app handed out {', '.join(handed)}", expected="a refusal without tokens",
                 actual=step.response.summary())
    ctx.expect_denied(step.response, because)


def mfa_sign_in(ctx: ScenarioContext, user: TestUser, factor: str) -> Tokens:
    """A full sign-in through the app: the password, then ``factor``'s code."""
    step = password_step(ctx, user, factor)
    code = ctx.mfa.answer(user, step.challenge or factor)
    return signed_in(ctx, answer(ctx, user, step, code, f"answer {step.challenge}"),
                     f"the right {factor} code")


__all__ = ["EMAIL", "LoginStep", "MFA_REFS", "SELECT", "SETUP", "SMS", "TOTP", "answer", "mfa_sign_in",
           "nothing_before_the_code", "password_step", "refused", "signed_in"]
