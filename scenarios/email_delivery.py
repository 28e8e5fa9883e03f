"""Email delivery failure: the app's sign-up and password-reset endpoints when mail does not go out.

Cognito creates the user (UNCONFIRMED) and then fails SignUp with
CodeDeliveryFailureException, or LimitExceededException when the pool's daily
email quota is spent. The app must say so clearly (a 4xx or 503, never a 5xx
with a trace, never a 2xx that leaves the user waiting for a mail), keep the
user recoverable (resend once mail works, confirm with the mailed code, sign
in) and keep no half-made account of its own. Forgot-password answers the same
for known and unknown users, also when the code cannot be sent.
Faults are armed through the control plane (``Control.arm_fault``).
"""

from __future__ import annotations

import json

from harness.scenario import ScenarioContext, TargetResponse, TestUser, scenario
from scenarios._sessions import arm, clean_error, device, disarm, mailbox_code

FAMILY = "email"
SIGNUP_NEEDS = ["signup", "resend", "confirm", "login", "protected"]
DELIVERY_REFS = ["Cognito API: SignUp (CodeDeliveryFailureException, LimitExceededException)",
                 "Cognito docs: email settings (daily email limit of the default sender)",
                 "OWASP ASVS 5.0 V16.5.1 (generic error messages, no stack traces)"]
ENUM_REFS = ["OWASP ASVS 5.0 V6.3.8", "OWASP WSTG-IDNT-04 (account enumeration)",
             "Cognito docs: PreventUserExistenceErrors"]


def _new_person(ctx: ScenarioContext) -> TestUser:
    """A person who does not exist yet (the app's sign-up creates them)."""
    person = ctx.users.make()
    ctx.note("new person (not in the pool yet)", username=person.username, email=person.email)
    return person


def _needs_signup_code(ctx: ScenarioContext, *, by_email: bool = False) -> None:
    """SKIP when the pool's SignUp sends no code (no AutoVerifiedAttributes), or, for the email quota, sends
    it by SMS (a phone_number auto-verified pool): the fault these checks arm could not happen there."""
    attribute = ctx.pool_shape.signup_code_attribute
    if attribute is None:
        ctx.skip("the pool sends no sign-up code (no AutoVerifiedAttributes), so no delivery can fail")
    if by_email and attribute != "email":
        ctx.skip(f"the pool sends sign-up codes by SMS ({attribute} is auto-verified), so the daily email limit "
                 "cannot stop a sign-up")


def _signup_refused(ctx: ScenarioContext, person: TestUser, why: str) -> TargetResponse:
    response = ctx.call("signup", user=person, title=f"sign-up while {why}")
    with ctx.step(f"expect a clear refusal of the sign-up ({why})"):
        clean_error(ctx, response, f"sign-up while {why}")
        if response.status < 400:
            ctx.fail(f"sign-up while {why}: the app reported success although no code was sent",
                     expected="a 4xx or 503 that says the code could not be sent", actual=response.summary())
    return response


def _recover(ctx: ScenarioContext, person: TestUser) -> None:
    """Resend -> code from the mailbox -> confirm -> sign in through the app -> token accepted."""
    ctx.expect_allowed(ctx.call("resend", user=person, title="resend the code once mail works"),
                       "resending the confirmation code must work once delivery is back")
    code = mailbox_code(ctx, person)
    ctx.expect_allowed(ctx.call("confirm", user=person, code=code, title="confirm with the mailed code"),
                       "confirming with the code from the mailbox must work")
    tokens = device(ctx, person, "the recovered user",
                    checked="the user who confirmed the mailed code cannot sign in through the app")
    ctx.expect_allowed(ctx.call("protected", token=ctx.presented_token(tokens), title="the recovered user's token"),
                       "the recovered user's token must be accepted")


@scenario(
    id="MAIL-SIGNUP-FAIL-CLEAN",
    family=FAMILY,
    title="Sign-up while email delivery fails answers with a clear 4xx/503, not a 5xx or a false success",
    severity="MUST",
    profile="baseline",
    requirements=DELIVERY_REFS,
    remediation="Catch CodeDeliveryFailureException (and LimitExceededException) from SignUp and answer 503 (or "
                "a 4xx) with a message such as 'we could not send the code, try again later'.",
    needs=["signup"],
    control_plane="fault injection",
)
def signup_delivery_failure(ctx: ScenarioContext) -> None:
    _needs_signup_code(ctx)
    arm(ctx, "delivery_failure", "SignUp", count=1)
    _signup_refused(ctx, _new_person(ctx), "email delivery fails")


@scenario(
    id="MAIL-SIGNUP-RECOVER",
    family=FAMILY,
    title="After a failed sign-up email the user can resend, confirm and sign in (no half-made account)",
    severity="MUST",
    profile="baseline",
    requirements=[*DELIVERY_REFS[:1], "Cognito API: ResendConfirmationCode, ConfirmSignUp"],
    remediation="Keep no local 'failed registration' state: the pool holds the UNCONFIRMED user, so offer "
                "'resend code' and let the normal confirm and login complete the account.",
    needs=SIGNUP_NEEDS,
    control_plane="fault injection",
)
def signup_recoverable(ctx: ScenarioContext) -> None:
    _needs_signup_code(ctx)
    person = _new_person(ctx)
    arm(ctx, "delivery_failure", "SignUp", count=1)
    ctx.call("signup", user=person, title="sign-up while email delivery fails (its answer: MAIL-SIGNUP-FAIL-CLEAN)")
    disarm(ctx)
    _recover(ctx, person)


@scenario(
    id="MAIL-DAILY-LIMIT",
    family=FAMILY,
    title="Sign-up when the daily email limit is spent is refused cleanly and stays recoverable",
    severity="MUST",
    profile="baseline",
    requirements=DELIVERY_REFS,
    remediation="Handle LimitExceededException from SignUp like a delivery failure (429/503 with a clear "
                "message) and let the user resend the code later.",
    needs=SIGNUP_NEEDS,
    control_plane="fault injection",
)
def daily_limit(ctx: ScenarioContext) -> None:
    _needs_signup_code(ctx, by_email=True)
    person = _new_person(ctx)
    arm(ctx, "daily_email_limit", "SignUp", count=1)
    _signup_refused(ctx, person, "the daily email limit is spent")
    disarm(ctx)
    _recover(ctx, person)


def _answer(response: TargetResponse) -> tuple[int, str]:
    body = json.dumps(response.json, sort_keys=True) if response.json is not None else response.text.strip()
    return response.status, body


def _same_answer(ctx: ScenarioContext, known: TargetResponse, unknown: TargetResponse, when: str) -> None:
    with ctx.step(f"compare the answers for a known and an unknown user ({when})"):
        for r in (known, unknown):
            clean_error(ctx, r, f"forgot-password ({when})")
        ctx.expect(_answer(known) == _answer(unknown),
                   f"forgot-password tells a known user from an unknown one ({when})",
                   expected="the same status and body for both",
                   actual=f"known: {known.summary()} | unknown: {unknown.summary()}")


@scenario(
    id="MAIL-FORGOT-NO-ENUM",
    family=FAMILY,
    title="Forgot-password answers the same for known and unknown users",
    severity="MUST",
    profile="baseline",
    requirements=ENUM_REFS,
    remediation="Answer every forgot-password request with one generic 202 ('if the account exists, a code was "
                "sent'); map UserNotFoundException to it and enable PreventUserExistenceErrors on the client.",
    needs=["forgot_password"],
    control_plane=False,
)
def forgot_no_enumeration(ctx: ScenarioContext) -> None:
    known = ctx.user()
    stranger = _new_person(ctx)
    a = ctx.call("forgot_password", user=known, title="forgot-password for a known user")
    b = ctx.call("forgot_password", user=stranger, title="forgot-password for an unknown user")
    _same_answer(ctx, a, b, "mail works")


@scenario(
    id="MAIL-FORGOT-FAULT-NO-ENUM",
    family=FAMILY,
    title="Forgot-password answers the same for known and unknown users while email delivery fails",
    severity="MUST",
    profile="baseline",
    requirements=[*ENUM_REFS, "Cognito API: ForgotPassword (CodeDeliveryFailureException)"],
    remediation="Do not surface CodeDeliveryFailureException from ForgotPassword to the caller (only a known "
                "user can trigger it); log it and give the generic answer.",
    needs=["forgot_password"],
    control_plane="fault injection",
)
def forgot_fault_no_enumeration(ctx: ScenarioContext) -> None:
    known = ctx.user()
    stranger = _new_person(ctx)
    arm(ctx, "delivery_failure", "ForgotPassword")
    a = ctx.call("forgot_password", user=known, title="forgot-password for a known user (mail failing)")
    b = ctx.call("forgot_password", user=stranger, title="forgot-password for an unknown user (mail failing)")
    disarm(ctx)
    _same_answer(ctx, a, b, "email delivery fails")
