"""MFA through the app's own login: the second factor holds, codes are single-use, enrolment works, admins use it.

Cognito answers the password of a user with MFA with a challenge
(SOFTWARE_TOKEN_MFA, SMS_MFA, EMAIL_OTP; SELECT_MFA_TYPE when several factors
are on and none is preferred; MFA_SETUP when the pool requires MFA and the user
has no factor yet). The app passes it on (the spec says where: ``challenge`` and
``challenge_session`` on [requests.login]) and answers it with the code the user
gives ([requests.login_mfa]). Before that answer the app must hand out nothing
that works; a wrong or replayed code must be refused with a 4xx, never a 5xx and
never with tokens. Test users get their factors as people do (an authenticator
app enrolled with AssociateSoftwareToken / VerifySoftwareToken, email or SMS
turned on); TOTP codes are computed on the pool's clock, SMS and email codes are
read from the mailbox. No check changes the pool's MFA configuration: a factor
the pool does not offer SKIPs its checks, naming it.
"""

from __future__ import annotations

from harness.scenario import ScenarioContext, TestUser, scenario
from scenarios._mfa import (EMAIL, MFA_REFS, SETUP, SMS, TOTP, LoginStep, answer, mfa_sign_in, nothing_before_the_code,
                            password_step, refused, signed_in)
from scenarios._sessions import device

FAMILY = "mfa"
MFA_CODES = "MFA codes (TOTP steps on the virtual clock, SMS and email codes from the mailbox)"
COGNITO_CHALLENGES = "Cognito API: RespondToAuthChallenge (SOFTWARE_TOKEN_MFA, SMS_MFA, EMAIL_OTP, MFA_SETUP)"
TOTP_RFC = "RFC 6238 §5.2 (a one-time password is accepted once)"


def _totp_user(ctx: ScenarioContext) -> TestUser:
    ctx.mfa.require(TOTP)
    user = ctx.user()
    ctx.mfa.enroll_totp(user)
    return user


@scenario(
    id="MFA-TOTP-REQUIRED",
    family=FAMILY,
    title="A user with an authenticator app gets nothing usable from the password alone, and signs in with the code",
    severity="MUST",
    profile="baseline",
    requirements=[*MFA_REFS, COGNITO_CHALLENGES],
    remediation="On a ChallengeName in InitiateAuth's answer, return only the challenge (name and Session) to the "
                "client: no tokens, and no session of the app's own until RespondToAuthChallenge returns "
                "AuthenticationResult; answer SOFTWARE_TOKEN_MFA with SOFTWARE_TOKEN_MFA_CODE.",
    needs=["login", "login_mfa", "protected"],
    control_plane=MFA_CODES,
)
def totp_required(ctx: ScenarioContext) -> None:
    """MUST: a password-only path to the API turns MFA into decoration (the classic 'pending-MFA session' bug)."""
    user = _totp_user(ctx)
    step = password_step(ctx, user, TOTP)
    ctx.expect(step.challenge == TOTP, f"the app passed on {step.challenge}, not the user's TOTP challenge",
               expected=TOTP, actual=str(step.challenge))
    signed_in(ctx, answer(ctx, user, step, ctx.mfa.code(user), "the authenticator's code"),
              "the right TOTP code")
    with ctx.step("the pool saw the second factor proven"):
        ctx.expect(bool(ctx.events("mfa.passed", username=user.pool_username)),
                   "the pool recorded no MFA success for this sign-in", expected="an mfa.passed event",
                   actual="none")


def _delivered_factor(ctx: ScenarioContext, factor: str) -> None:
    ctx.mfa.require(factor)
    user = ctx.user()
    if factor == SMS:
        ctx.api("AdminUpdateUserAttributes", Username=user.username,
                UserAttributes=[{"Name": "phone_number", "Value": user.phone_number},
                                {"Name": "phone_number_verified", "Value": "true"}])
    ctx.mfa.enable(user, factor)
    step = password_step(ctx, user, factor)
    ctx.expect(step.challenge == factor, f"the app passed on {step.challenge}, not the user's {factor} challenge",
               expected=factor, actual=str(step.challenge))
    code = ctx.mfa.delivered_code(user, factor)
    signed_in(ctx, answer(ctx, user, step, code, f"the {factor} code from the mailbox"), f"the right {factor} code")


@scenario(
    id="MFA-EMAIL-OTP",
    family=FAMILY,
    title="Email MFA: nothing usable before the code, and the emailed code completes the sign-in",
    severity="MUST",
    profile="baseline",
    requirements=[*MFA_REFS, COGNITO_CHALLENGES, "Cognito docs: email MFA (EMAIL_OTP, EMAIL_OTP_CODE)"],
    remediation="Answer each challenge with its own key: EMAIL_OTP with EMAIL_OTP_CODE, SMS_MFA with SMS_MFA_CODE, "
                "SOFTWARE_TOKEN_MFA with SOFTWARE_TOKEN_MFA_CODE (pass ChallengeName through from the login); "
                "hand out nothing before the answer succeeds.",
    needs=["login", "login_mfa", "protected"],
    control_plane=MFA_CODES,
)
def email_otp(ctx: ScenarioContext) -> None:
    _delivered_factor(ctx, EMAIL)


@scenario(
    id="MFA-SMS",
    family=FAMILY,
    title="SMS MFA: nothing usable before the code, and the texted code completes the sign-in",
    severity="MUST",
    profile="baseline",
    requirements=[*MFA_REFS, COGNITO_CHALLENGES, "Cognito docs: SMS MFA (SMS_MFA, SMS_MFA_CODE)"],
    remediation="Answer SMS_MFA with SMS_MFA_CODE (pass ChallengeName through from the login); hand out nothing "
                "before the answer succeeds.",
    needs=["login", "login_mfa", "protected"],
    control_plane=MFA_CODES,
)
def sms(ctx: ScenarioContext) -> None:
    _delivered_factor(ctx, SMS)


@scenario(
    id="MFA-WRONG-CODE",
    family=FAMILY,
    title="A wrong MFA code is refused with a 4xx (never a 5xx), hands out nothing, and the right code still works",
    severity="MUST",
    profile="baseline",
    requirements=[*MFA_REFS, "Cognito API: RespondToAuthChallenge (CodeMismatchException)", "OWASP ASVS 5.0 V16.5.3"],
    remediation="Map CodeMismatchException / ExpiredCodeException to a 4xx (e.g. 400 code_mismatch) and "
                "NotAuthorizedException (session expired or used up) to 401; never let them escape as a 5xx.",
    needs=["login", "login_mfa", "protected"],
    control_plane=MFA_CODES,
)
def wrong_code(ctx: ScenarioContext) -> None:
    user = _totp_user(ctx)
    step = password_step(ctx, user, TOTP)
    wrong = answer(ctx, user, step, ctx.mfa.wrong_code(user), "a wrong code")
    refused(ctx, wrong, "a wrong MFA code must be refused")
    nothing_before_the_code(ctx, LoginStep(wrong.response, step.challenge, step.session, None), "after a wrong code")
    retry = answer(ctx, user, step, ctx.mfa.code(user), "the right code in the same challenge")
    if retry.response.allowed and retry.tokens is not None:
        signed_in(ctx, retry, "the right code after a wrong one")
        return
    ctx.note("the app (or the pool) ended the challenge after the wrong code; a new sign-in must work",
             status=retry.response.status)
    mfa_sign_in(ctx, user, TOTP)


@scenario(
    id="MFA-REPLAY",
    family=FAMILY,
    title="A TOTP code that already signed the user in is refused when replayed",
    severity="MUST",
    profile="baseline",
    requirements=[*MFA_REFS, TOTP_RFC, "OWASP ASVS 5.0 V6.5.1 (a lookup or time-based OTP is used once)"],
    remediation="Pass every code to the pool (RespondToAuthChallenge), which accepts a TOTP code once; never answer "
                "a code from a cache of earlier answers (double-submit protection must not replay tokens).",
    needs=["login", "login_mfa", "protected"],
    control_plane=MFA_CODES,
)
def replay(ctx: ScenarioContext) -> None:
    user = _totp_user(ctx)
    mfa_sign_in(ctx, user, TOTP)
    step = password_step(ctx, user, TOTP)
    refused(ctx, answer(ctx, user, step, ctx.mfa.used_code(user), "the same code again (a replay)"),
            "a replayed TOTP code must be refused")
    mfa_sign_in(ctx, user, TOTP)  # a fresh code still works: the refusal was the replay's


@scenario(
    id="MFA-ENROLL",
    family=FAMILY,
    title="A signed-in user turns TOTP MFA on through the app: a wrong first code is refused, the right one takes",
    severity="MUST",
    profile="baseline",
    requirements=[*MFA_REFS, "Cognito API: AssociateSoftwareToken, VerifySoftwareToken, SetUserMFAPreference"],
    remediation="Report MFA on only when VerifySoftwareToken answered SUCCESS and SetUserMFAPreference succeeded; "
                "pass EnableSoftwareTokenMFAException / CodeMismatchException to the user as a 4xx.",
    needs=["login", "login_mfa", "totp_enroll_begin", "totp_enroll_finish", "protected"],
    control_plane=MFA_CODES,
)
def enroll(ctx: ScenarioContext) -> None:
    """MUST: an app that says 'MFA is on' when it is not leaves the user believing they are protected."""
    ctx.mfa.require(TOTP)
    if ctx.mfa.mode() == "ON":
        ctx.skip("the pool requires MFA: a user without a factor enrols in the sign-in (MFA-SETUP), never signed in")
    user = ctx.user()
    token = ctx.presented_token(device(ctx, user, "the user (no MFA yet)"))
    begun = ctx.call("totp_enroll_begin", token=token, title="start enrolment: the authenticator's secret")
    ctx.expect_allowed(begun, "a signed-in user must be able to start TOTP enrolment")
    secret = begun.pointer(begun.spec.totp_secret or "")
    if not isinstance(secret, str) or not secret:
        ctx.fail("the app's enrolment handed out no secret", expected=f"a secret at {begun.spec.totp_secret}",
                 actual=begun.summary())
    ctx.mfa.adopt(user, str(secret))
    bad = ctx.call("totp_enroll_finish", token=token, code=ctx.mfa.wrong_code(user), title="a wrong first code")
    ctx.expect_denied(bad, "a wrong first code must not turn MFA on")
    ctx.expect_allowed(ctx.call("totp_enroll_finish", token=token, code=ctx.mfa.code(user), title="the right code"),
                       "the right first code must turn MFA on")
    step = password_step(ctx, user, TOTP)
    ctx.expect(step.challenge == TOTP, "after enrolment the next sign-in is not asked for the TOTP code",
               expected=TOTP, actual=str(step.challenge))
    signed_in(ctx, answer(ctx, user, step, ctx.mfa.code(user), "the authenticator's code"), "the enrolled TOTP code")


@scenario(
    id="MFA-SETUP",
    family=FAMILY,
    title="In a pool that requires MFA, a new user sets up TOTP in the sign-in (MFA_SETUP) end to end through the app",
    severity="MUST",
    profile="baseline",
    requirements=[*MFA_REFS, "Cognito API: MFA_SETUP (AssociateSoftwareToken and VerifySoftwareToken with Session)"],
    remediation="On MFA_SETUP call AssociateSoftwareToken with the challenge's Session, show the SecretCode, "
                "VerifySoftwareToken with the user's code and the new Session, then RespondToAuthChallenge "
                "MFA_SETUP with the Session it returns; map a wrong code (EnableSoftwareTokenMFAException, "
                "CodeMismatchException) to a 4xx.",
    needs=["login", "login_mfa_setup_begin", "login_mfa_setup_finish", "protected"],
    control_plane=MFA_CODES,
)
def setup(ctx: ScenarioContext) -> None:
    """MUST where the app offers it: a user who cannot finish MFA_SETUP can never sign in to a pool that requires
    MFA. SKIPs unless the pool's MFA is ON with TOTP (the bundled spec: reference_mfa_required.toml)."""
    ctx.mfa.require(TOTP)
    if ctx.mfa.mode() != "ON":
        ctx.skip(f"the pool's MFA is {ctx.mfa.mode()}, not ON: no sign-in is asked to set MFA up")
    user = ctx.user()
    for attempt, right in (("a wrong first code", False), ("the right first code", True)):
        step = password_step(ctx, user, SETUP)
        if step.challenge != SETUP:
            ctx.skip(f"the pool answers a user without MFA with {step.challenge}, not MFA_SETUP (a factor the user "
                     "can receive already, e.g. email)")
        begun = ctx.call("login_mfa_setup_begin", user=user, session=step.session, title=f"{attempt}: the secret")
        ctx.expect_allowed(begun, "MFA_SETUP must hand out an authenticator's secret")
        secret = begun.pointer(begun.spec.totp_secret or "")
        if not isinstance(secret, str) or not secret:
            ctx.fail("the app's MFA_SETUP handed out no secret", expected=f"a secret at {begun.spec.totp_secret}",
                     actual=begun.summary())
        ctx.mfa.adopt(user, str(secret))
        session = LoginStep.read(begun).session or step.session
        code = ctx.mfa.code(user) if right else ctx.mfa.wrong_code(user)
        finished = LoginStep.read(ctx.call("login_mfa_setup_finish", user=user, session=session, code=code,
                                           title=attempt))
        if not right:
            refused(ctx, finished, "a wrong first code must be refused")
            continue
        signed_in(ctx, finished, "the right first code completes MFA_SETUP")
    mfa_sign_in(ctx, user, TOTP)


@scenario(
    id="MFA-ADMIN-REQUIRED",
    family=FAMILY,
    title="Where the spec says admins must use MFA, an admin who signed in without it cannot act as admin",
    severity="MUST",
    profile="baseline",
    requirements=[*MFA_REFS, "OWASP ASVS 5.0 V6.3.3 (MFA for administrative interfaces)",
                  "AWS Cognito security best practices: require MFA for privileged users"],
    remediation="Before a tenant's admin action, check that the caller's sign-ins are protected by MFA: Cognito's "
                "tokens carry no amr, so ask the pool (AdminGetUser / GetUser: UserMFASettingList not empty) or "
                "record the sessions that passed an MFA challenge through the app.",
    needs=["tenant_admin"],
    control_plane=MFA_CODES,
)
def admin_required(ctx: ScenarioContext) -> None:
    if not ctx.spec.tenancy.admin_mfa_required:
        ctx.skip(f"target spec {ctx.spec.path.name} does not say admins must use MFA ([tenancy].admin_mfa_required)")
    ctx.mfa.require(TOTP)
    tenant = ctx.spec.tenancy.tenants[0]
    if not ctx.spec.tenancy.can_make_admin():
        ctx.skip("the spec's [tenancy] gives no way to make a tenant admin")
    groups, attributes = ctx.spec.tenancy.grants(tenant, admin=True)
    bare = ctx.user(groups=groups, attributes=attributes)
    token = ctx.presented_token(device(ctx, bare, f"an admin of {tenant} without MFA"))
    ctx.expect_denied(ctx.call("tenant_admin", token=token, tenant=tenant, title="admin without MFA: admin action"),
                      f"an admin of {tenant} who signed in without MFA must be denied the admin action")
    admin = ctx.tenant_user(tenant, admin=True)  # TOTP enrolled (the spec requires MFA for admins)
    if ctx.spec.has("login", "login_mfa"):
        tokens = mfa_sign_in(ctx, admin, TOTP)
    else:
        tokens = ctx.sign_in(admin)
    ctx.expect_allowed(ctx.call("tenant_admin", token=ctx.presented_token(tokens), tenant=tenant,
                                title="admin with MFA: admin action"),
                       f"an admin of {tenant} who signed in with MFA must be allowed the admin action")
