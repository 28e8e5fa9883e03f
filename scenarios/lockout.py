"""Lockout and recovery through the app's own login and password-reset endpoints.

Cognito locks a user out after five failed sign-ins (1 s, doubling per further
failure, up to about 15 minutes) and then answers even the right password with
``NotAuthorizedException: Password attempts exceeded``. The app must let that
lockout hold (refuse the right password while it lasts) and answer it without
a 5xx (baseline); telling it apart from wrong credentials (another status or
error code: the person who typed the right password should not be told it is
wrong) is a SHOULD of the strict profile. Once
the window has passed (the pool's virtual clock moves, nobody sleeps) the right
password works again; and a password reset works end to end through the
mailbox. The emulator's ``auth.failure`` events prove each refusal's reason.
"""

from __future__ import annotations

from harness.scenario import HarnessError, ScenarioContext, TargetResponse, TestUser, scenario
from scenarios._sessions import clean_error, device, error_code, mailbox_code

FAMILY = "lockout"
MAX_ATTEMPTS = 12
LOCKOUT_REFS = ["Cognito docs: user sign-in lockout (5 failed attempts, exponential, ~15 min max)",
                "OWASP ASVS 5.0 V6.3.1", "OWASP ASVS 4.0.3 V2.2.1"]


def _wrong(user: TestUser) -> str:
    return "Wrong-" + user.password


def _lock_out(ctx: ScenarioContext, user: TestUser) -> tuple[TargetResponse, float]:
    """Wrong passwords through the app until the pool locks the user out.

    Returns the app's answer to the first wrong password and the lockout's
    length in seconds (from the pool's auth.failure events).
    """
    first: TargetResponse | None = None
    mark = ctx.mark()
    for attempt in range(1, MAX_ATTEMPTS + 1):
        response = ctx.call("login", user=user, password=_wrong(user), title=f"wrong password, attempt {attempt}")
        clean_error(ctx, response, f"a wrong password (attempt {attempt})")
        ctx.expect(not response.allowed, "the app let a wrong password in", expected="a refusal",
                   actual=response.summary())
        first = first or response
        failures = ctx.events("auth.failure", since=mark, record=False, username=user.pool_username)
        locked = [e for e in failures if e["data"].get("locked_for")]
        if locked:
            ctx.events("auth.failure", since=mark, username=user.pool_username)  # as evidence
            return first, float(locked[-1]["data"]["locked_for"])
    ctx.fail(f"{MAX_ATTEMPTS} wrong passwords through the app did not reach the pool's lockout",
             expected="the app passes each attempt to the pool (USER_PASSWORD_AUTH / SRP)",
             actual="no lockout recorded by the pool")
    raise AssertionError("unreachable")


def _locked_answer(ctx: ScenarioContext, user: TestUser) -> TargetResponse:
    """The app's answer to the right password during the lockout, with the pool's proof that it was locked."""
    mark = ctx.mark()
    locked = ctx.call("login", user=user, title="the right password while locked out")
    with ctx.step("the pool refused the right password because of the lockout"):
        reasons = [e["data"].get("reason")
                   for e in ctx.events("auth.failure", since=mark, username=user.pool_username)]
        if "locked_out" not in reasons:
            raise HarnessError("the pool did not report a lockout for the right password (setup problem): "
                               + (", ".join(map(str, reasons)) or "no auth.failure event"))
    return locked


@scenario(
    id="LOCK-HOLDS",
    family=FAMILY,
    title="The pool's lockout holds through the app: the right password is refused while locked, without a 5xx",
    severity="MUST",
    profile="baseline",
    requirements=[*LOCKOUT_REFS, "Cognito API: InitiateAuth (NotAuthorizedException 'Password attempts exceeded')"],
    remediation="Pass every sign-in to the pool and map its NotAuthorizedException (including 'Password attempts "
                "exceeded') to a 4xx such as 401 or 429; never let it escape as a 5xx.",
    needs=["login"],
    control_plane="the event log",
)
def lockout_holds(ctx: ScenarioContext) -> None:
    """MUST: a lockout the app lets through, or answers with a crash, breaks the brute-force defence and real
    users alike."""
    user = ctx.user()
    _lock_out(ctx, user)
    locked = _locked_answer(ctx, user)
    with ctx.step("the app refuses the locked-out user cleanly"):
        clean_error(ctx, locked, "the lockout")
        ctx.expect(not locked.allowed, "the app let a locked-out user in", expected="a refusal",
                   actual=locked.summary())


@scenario(
    id="LOCK-DISTINCT",
    family=FAMILY,
    title="A locked-out user is told so, distinctly from wrong credentials",
    severity="SHOULD",
    profile="strict",
    requirements=[*LOCKOUT_REFS, "Cognito API: InitiateAuth (NotAuthorizedException 'Password attempts exceeded')"],
    remediation="Map NotAuthorizedException with message 'Password attempts exceeded' to its own answer (e.g. "
                "429 locked_out, 'try again later') instead of the wrong-credentials answer.",
    needs=["login"],
    control_plane="the event log",
)
def lockout_distinct(ctx: ScenarioContext) -> None:
    """SHOULD (strict): telling the person who typed the right password that it is wrong confuses them (a
    usability and support issue), but gives an attacker nothing; LOCK-HOLDS is the MUST."""
    user = ctx.user()
    wrong, _ = _lock_out(ctx, user)
    locked = _locked_answer(ctx, user)
    if locked.allowed or (locked.server_error and locked.status != 503):
        ctx.skip(f"the app does not refuse the locked-out user cleanly ({locked.summary()}); LOCK-HOLDS judges that")
    with ctx.step("the app's lockout answer differs from its wrong-password answer"):
        same = (locked.status, error_code(locked)) == (wrong.status, error_code(wrong))
        ctx.expect(not same, "the app reports the lockout exactly like a wrong password",
                   expected=f"a status or error code other than the wrong-password answer "
                            f"(HTTP {wrong.status} {error_code(wrong) or '(no code)'})",
                   actual=locked.summary())


@scenario(
    id="LOCK-RECOVERY",
    family=FAMILY,
    title="After the lockout window the right password works again through the app",
    severity="MUST",
    profile="baseline",
    requirements=LOCKOUT_REFS,
    remediation="Leave lockout timing to the pool; if the app keeps its own lock, expire it with the pool's "
                "window (and clear it on a successful sign-in or reset).",
    needs=["login", "protected"],
    control_plane="the event log and virtual clock",
)
def lockout_recovery(ctx: ScenarioContext) -> None:
    user = ctx.user()
    _, seconds = _lock_out(ctx, user)
    locked = ctx.call("login", user=user, title="the right password while locked out")
    ctx.expect(not locked.allowed, "the app let the user in during the lockout", expected="a refusal",
               actual=locked.summary())
    ctx.advance(seconds + 1)
    tokens = device(ctx, user, "the user after the lockout window",
                    checked="the right password is still refused after the pool's lockout window ended")
    ctx.expect_allowed(ctx.call("protected", token=ctx.presented_token(tokens), title="token after the lockout"),
                       "the token from the sign-in after the lockout must be accepted")


@scenario(
    id="LOCK-RESET",
    family=FAMILY,
    title="Password reset works end to end through the mailbox, and a wrong code is refused",
    severity="MUST",
    profile="baseline",
    requirements=["OWASP ASVS 4.0.3 V2.5.6", "OWASP Forgot Password Cheat Sheet",
                  "Cognito API: ForgotPassword, ConfirmForgotPassword (CodeMismatchException)"],
    remediation="Pass ConfirmForgotPassword's errors (CodeMismatchException, ExpiredCodeException, "
                "InvalidPasswordException) to the caller as a 4xx; report success only when the pool accepted it.",
    needs=["forgot_password", "reset_password", "login", "protected"],
    control_plane="mailbox",
)
def password_reset(ctx: ScenarioContext) -> None:
    user = ctx.user()
    old = user.password
    ctx.expect_allowed(ctx.call("forgot_password", user=user, title="forgot-password"),
                       "forgot-password must be accepted")
    code = mailbox_code(ctx, user, "FORGOT_PASSWORD")
    new_password = "N3w-" + old[::-1]
    wrong_code = "000000" if code != "000000" else "111111"
    bad = ctx.call("reset_password", user=user, code=wrong_code, new_password=new_password,
                   title="reset with a wrong code")
    clean_error(ctx, bad, "a reset with a wrong code")
    ctx.expect_denied(bad, "a reset with a wrong code must be refused")
    ctx.expect_allowed(ctx.call("reset_password", user=user, code=code, new_password=new_password,
                                title="reset with the mailed code"),
                       "a reset with the code from the mailbox must succeed")
    stale = ctx.call("login", user=user, password=old, title="sign in with the old password")
    ctx.expect(not stale.allowed, "the old password still signs in after the reset", expected="a refusal",
               actual=stale.summary())
    user.password = new_password
    tokens = device(ctx, user, "the user with the new password",
                    checked="the new password does not sign in after the reset")
    ctx.expect_allowed(ctx.call("protected", token=ctx.presented_token(tokens), title="token after the reset"),
                       "the token from the sign-in with the new password must be accepted")
