"""Apps that depend on their pool's Lambda triggers: roles from pre token generation, sign-up when a trigger
fails, user migration, custom auth challenges.

The app's functions run as the pool's triggers (the spec's ``[triggers.*]``
binds them for the run; any pool whose LambdaConfig names them will do), and
every check SKIPs when the pool has no such trigger. What each function saw
and answered is in the check's evidence (``ctx.trigger_calls``).

* Pre token generation: the tenant and role come from the app's own store
  (written through ``tenant_role_grant``), so a role taken away there must be
  gone from the next token the pool issues (a refresh), not only at the next
  sign-in; and a claim the user can set (a writable custom attribute) must
  never become a role.
* PreSignUp: when the trigger rejects, times out or answers garbage, the
  app's sign-up answers clearly (a 4xx; 503 for a function that failed to
  answer), never a 500 or a false success, and keeps no half-made account.
* User migration: a legacy user (``[legacy]``) signs in and resets a password
  through the app; a wrong legacy password is refused.
* Custom auth (``[custom_auth]``): no token before the last challenge is
  answered; a wrong answer is refused, and after the attempt limit even the
  right answers are.
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from harness.scenario import ScenarioContext, TargetResponse, TestUser, Tokens, scenario
from scenarios._sessions import clean_error, device, disarm, mailbox_code, pool_refresh
from scenarios._triggers import (arm_trigger_fault, carried_tokens, challenge_of, grant_role, pool_user_exists,
                                 require_trigger, token_claims_note)

FAMILY = "triggers"
TRIGGER_DOCS = "Cognito docs: Customizing user pool workflows with Lambda triggers"
PRE_TOKEN_DOCS = "Cognito docs: Pre token generation Lambda trigger (V2_0: access token customization)"
MIGRATION_DOCS = "Cognito docs: Migrate user Lambda trigger (UserMigration_Authentication, _ForgotPassword)"
CUSTOM_AUTH_DOCS = "Cognito docs: Custom authentication challenge Lambda triggers (define, create, verify)"
ASVS_ACCESS = "OWASP ASVS 5.0 V8.2.1, V8.3.2"
TENANT_CLAIM, ROLE_CLAIM = "custom:tenant", "custom:role"
TENANCY_NEEDS = ["tenant_role_grant", "tenant_admin", "tenant_member"]


# --- roles from pre token generation ---------------------------------------------------------------


def _signed_in_admin(ctx: ScenarioContext, tenant: str) -> tuple[TestUser, Tokens]:
    """A user the app's store makes admin of ``tenant``, signed in; the app must allow the admin action."""
    require_trigger(ctx, "PreTokenGeneration", "roles reach tokens through it")
    admin = ctx.user()
    grant_role(ctx, admin, tenant, "admin")
    tokens = ctx.sign_in(admin)
    ctx.trigger_calls("the sign-in", "PreTokenGeneration")
    token_claims_note(ctx, tokens, "the admin's sign-in", TENANT_CLAIM, ROLE_CLAIM)
    ctx.expect_allowed(ctx.call("tenant_admin", token=ctx.presented_token(tokens), tenant=tenant,
                                title=f"admin of {tenant} (app's store): admin action"),
                       f"a user the app's store makes admin of {tenant} must be allowed its admin action (the pre "
                       "token generation trigger puts the role into the token)")
    return admin, tokens


@scenario(
    id="TRIG-TOKEN-ROLE-REFRESH",
    family=FAMILY,
    title="A tenant admin removed in the app's store loses admin at the next refresh (pre token generation)",
    severity="MUST",
    profile="baseline",
    requirements=[ASVS_ACCESS, PRE_TOKEN_DOCS, "Cognito docs: TokenGeneration_RefreshTokens trigger source"],
    remediation="Read the tenant and role from the app's store on every invocation of the pre token generation "
                "trigger, refreshes (TokenGeneration_RefreshTokens) included; never cache them in the function's "
                "container or copy them from an earlier token.",
    needs=TENANCY_NEEDS,
    control_plane=False,
)
def role_removed_at_refresh(ctx: ScenarioContext) -> None:
    tenant = ctx.spec.tenancy.tenants[0]
    admin, tokens = _signed_in_admin(ctx, tenant)
    grant_role(ctx, admin, tenant, "member")
    mark = ctx.mark()
    fresh = pool_refresh(ctx, tokens, f"{admin.username} after the removal")
    if fresh is None:
        ctx.fail("the pool refused to refresh the session of a user who is still a member",
                 expected="fresh tokens", actual="refused")
    ctx.trigger_calls("the refresh after the removal", "PreTokenGeneration", since=mark)
    token_claims_note(ctx, fresh, "the refreshed tokens", TENANT_CLAIM, ROLE_CLAIM)
    token = ctx.presented_token(fresh)
    ctx.expect_denied(ctx.call("tenant_admin", token=token, tenant=tenant, title="refreshed token: admin action"),
                      f"a token refreshed after the app's store took admin of {tenant} away must be denied the "
                      "admin action")
    ctx.expect_allowed(ctx.call("tenant_member", token=token, tenant=tenant, title="refreshed token: member action"),
                       f"the user is still a member of {tenant} in the app's store")


@scenario(
    id="TRIG-TOKEN-USER-CLAIMS",
    family=FAMILY,
    title="A claim the user can set (a writable custom attribute) never becomes a role in their tokens",
    severity="MUST",
    profile="baseline",
    requirements=[ASVS_ACCESS, PRE_TOKEN_DOCS, "Cognito docs: attribute read and write permissions of app clients",
                  "OWASP ASVS 5.0 V8.2.3 (no authorization from user-controlled data)"],
    remediation="Take roles only from the app's store in the pre token generation trigger; never from "
                "userAttributes a user can write (UpdateUserAttributes). Override or suppress such claims, and "
                "leave role attributes out of the app client's WriteAttributes.",
    needs=TENANCY_NEEDS,
    control_plane=False,
)
def user_claims_not_roles(ctx: ScenarioContext) -> None:
    tenant = ctx.spec.tenancy.tenants[0]
    require_trigger(ctx, "PreTokenGeneration", "roles reach tokens through it")
    member = ctx.user()
    grant_role(ctx, member, tenant, "member")
    tokens = ctx.sign_in(member)
    with ctx.step(f"{member.username} writes custom:role = admin on themselves (UpdateUserAttributes)"):
        try:
            ctx.raw_api("UpdateUserAttributes", AccessToken=tokens.access_token,
                        UserAttributes=[{"Name": ROLE_CLAIM, "Value": "admin"}])
            ctx.note("the pool took the user's own custom:role = admin")
        except ClientError as exc:
            error = exc.response.get("Error", {})
            ctx.note("the pool refused the write (the attribute is not writable by the user)",
                     code=error.get("Code"), message=error.get("Message"))
    mark = ctx.mark()
    fresh = pool_refresh(ctx, tokens, f"{member.username} after writing custom:role")
    again = ctx.sign_in(member)
    ctx.trigger_calls("the refresh and the new sign-in", "PreTokenGeneration", since=mark)
    for label, issued in (("refreshed", fresh), ("new sign-in", again)):
        if issued is None:
            continue
        token_claims_note(ctx, issued, f"the {label} tokens", TENANT_CLAIM, ROLE_CLAIM)
        ctx.expect_denied(ctx.call("tenant_admin", token=ctx.presented_token(issued), tenant=tenant,
                                   title=f"{label} token of a member who wrote custom:role: admin action"),
                          f"a member who set their own custom:role attribute to admin must still be denied "
                          f"{tenant}'s admin action ({label} token)")


# --- sign-up when the PreSignUp trigger fails --------------------------------------------------------


def _signup_survives(ctx: ScenarioContext, kind: str, why: str, *, strict_4xx: bool, message: str | None = None
                     ) -> None:
    """Sign-up while the trigger fails: a clean refusal and no account; then, with the trigger working, the
    same person signs up, confirms and signs in."""
    require_trigger(ctx, "PreSignUp", "the check makes it fail")
    if ctx.pool_shape.signup_code_attribute is None:
        ctx.skip("the pool sends no sign-up code (no AutoVerifiedAttributes): the recovery cannot be confirmed")
    person = ctx.users.make()
    ctx.note("new person (not in the pool yet)", username=person.username, email=person.email)
    arm_trigger_fault(ctx, kind, "PreSignUp", message=message)
    response = ctx.call("signup", user=person, title=f"sign-up while the PreSignUp trigger {why}")
    ctx.trigger_calls(f"sign-up while the trigger {why}", "PreSignUp")
    with ctx.step(f"expect a clear refusal of the sign-up (the trigger {why})"):
        clean_error(ctx, response, f"sign-up while the PreSignUp trigger {why}")
        if response.status < 400:
            ctx.fail(f"sign-up while the PreSignUp trigger {why}: the app reported success although the pool "
                     "created no account", expected="a 4xx that says why", actual=response.summary())
        if strict_4xx and response.status >= 500:
            ctx.fail("the trigger refused this sign-up, and the app answered as if the service were down: the "
                     "person is told to retry what will be refused again",
                     expected="a 4xx with the reason", actual=response.summary())
    if pool_user_exists(ctx, person.username):
        ctx.fail("the pool holds the person although their sign-up failed (a half-created account)",
                 expected="no user", actual="the user exists")
    disarm(ctx)
    ctx.expect_allowed(ctx.call("signup", user=person, title="the same sign-up once the trigger works"),
                       f"after a sign-up the trigger {why} failed, the same person must be able to sign up "
                       "(no half-created account in the app)")
    code = mailbox_code(ctx, person)
    ctx.expect_allowed(ctx.call("confirm", user=person, code=code, title="confirm with the mailed code"),
                       "confirming with the code from the mailbox must work")
    tokens = device(ctx, person, "the new user", checked="the user who signed up again cannot sign in")
    ctx.expect_allowed(ctx.call("protected", token=ctx.presented_token(tokens), title="the new user's token"),
                       "the new user's token must be accepted")


SIGNUP_REFS = [TRIGGER_DOCS, "Cognito API: SignUp (UserLambdaValidationException, UnexpectedLambdaException, "
               "InvalidLambdaResponseException)", "OWASP ASVS 5.0 V16.5.1 (generic errors, no stack traces)"]
SIGNUP_NEEDS = ["signup", "confirm", "login", "protected"]


@scenario(
    id="TRIG-SIGNUP-REJECTED",
    family=FAMILY,
    title="Sign-up its PreSignUp trigger rejects gets a clear 4xx, no 500 or false success, and no half-made account",
    severity="MUST",
    profile="baseline",
    requirements=SIGNUP_REFS,
    remediation="Map UserLambdaValidationException from SignUp to a 400 with the trigger's reason (the text after "
                "'PreSignUp failed with error'); write the app's own account row only after SignUp succeeds, or "
                "remove it when SignUp fails.",
    needs=SIGNUP_NEEDS,
    control_plane="fault injection",
)
def signup_rejected(ctx: ScenarioContext) -> None:
    _signup_survives(ctx, "trigger_error", "rejects it", strict_4xx=True,
                     message="Sign-ups from this e-mail domain are not allowed")


@scenario(
    id="TRIG-SIGNUP-TIMEOUT",
    family=FAMILY,
    title="Sign-up while its PreSignUp trigger times out gets a clear 4xx/503 and leaves no half-made account",
    severity="MUST",
    profile="baseline",
    requirements=[*SIGNUP_REFS, "Cognito docs: Lambda triggers time out after 5 seconds (retried up to 3 times)"],
    remediation="Catch UnexpectedLambdaException from SignUp and answer 503 ('try again later'); keep no local "
                "account for a sign-up the pool did not take.",
    needs=SIGNUP_NEEDS,
    control_plane="fault injection",
)
def signup_timeout(ctx: ScenarioContext) -> None:
    _signup_survives(ctx, "trigger_timeout", "times out", strict_4xx=False)


@scenario(
    id="TRIG-SIGNUP-BAD-RESPONSE",
    family=FAMILY,
    title="Sign-up while its PreSignUp trigger answers garbage gets a clear 4xx/503 and leaves no half-made account",
    severity="MUST",
    profile="baseline",
    requirements=SIGNUP_REFS,
    remediation="Catch InvalidLambdaResponseException from SignUp and answer 503; keep no local account for a "
                "sign-up the pool did not take.",
    needs=SIGNUP_NEEDS,
    control_plane="fault injection",
)
def signup_bad_response(ctx: ScenarioContext) -> None:
    _signup_survives(ctx, "trigger_garbage", "answers garbage", strict_4xx=False)


# --- user migration ----------------------------------------------------------------------------------


def _legacy(ctx: ScenarioContext, index: int) -> TestUser:
    require_trigger(ctx, "UserMigration", "legacy users come in through it")
    users = ctx.spec.triggers.legacy_users
    if len(users) <= index:
        ctx.skip(f"target spec {ctx.spec.path.name} names {len(users)} [legacy] user(s); this check needs "
                 f"{index + 1}")
    legacy = users[index]
    person = TestUser(username=legacy.username, email=legacy.email, password=legacy.password)
    ctx.note("legacy user (in the app's legacy store, not in the pool)", username=person.username, email=person.email)
    return person


MIGRATION_REFS = [MIGRATION_DOCS, "OWASP ASVS 5.0 V6.2.1"]


@scenario(
    id="TRIG-MIGRATE-SIGNIN",
    family=FAMILY,
    title="A legacy user signs in through the app: migrated by the trigger, tokens work, the next sign-in too",
    severity="MUST",
    profile="baseline",
    requirements=MIGRATION_REFS,
    remediation="Send unknown usernames to the pool's sign-in (USER_PASSWORD_AUTH, which runs the user migration "
                "trigger); do not refuse users the pool does not hold yet before asking it.",
    needs=["login", "protected"],
    control_plane=False,
)
def migrate_signin(ctx: ScenarioContext) -> None:
    person = _legacy(ctx, 0)
    tokens = device(ctx, person, "the legacy user", checked="a legacy user with their legacy password cannot sign in "
                    "through the app")
    ctx.trigger_calls("the first sign-in", "UserMigration")
    ctx.expect_allowed(ctx.call("protected", token=ctx.presented_token(tokens), title="the migrated user's token"),
                       "the migrated user's token must be accepted")
    if not pool_user_exists(ctx, person.username):
        ctx.fail("the pool does not hold the legacy user after their sign-in", expected="migrated", actual="absent")
    device(ctx, person, "the migrated user, again", checked="the migrated user cannot sign in a second time")


@scenario(
    id="TRIG-MIGRATE-WRONG-PASSWORD",
    family=FAMILY,
    title="A legacy user with a wrong password is refused and not migrated",
    severity="MUST",
    profile="baseline",
    requirements=[*MIGRATION_REFS, "OWASP ASVS 5.0 V6.3.1"],
    remediation="In the user migration trigger, verify the legacy password (UserMigration_Authentication's "
                "request.password) against the legacy store and raise when it does not match.",
    needs=["login"],
    control_plane=False,
)
def migrate_wrong_password(ctx: ScenarioContext) -> None:
    person = _legacy(ctx, 0)
    impostor = TestUser(username=person.username, email=person.email, password=person.password + "-wrong")
    response = ctx.call("login", user=impostor, title="the legacy user's name with a wrong password")
    ctx.trigger_calls("the sign-in with a wrong password", "UserMigration")
    ctx.expect_denied(response, "a wrong legacy password must be refused")
    if carried_tokens(response):
        ctx.fail("the app handed out tokens for a wrong legacy password", expected="no token",
                 actual=", ".join(carried_tokens(response)))
    if pool_user_exists(ctx, person.username):
        ctx.fail("the pool took the legacy user in with a wrong password", expected="not migrated",
                 actual="the user exists")


@scenario(
    id="TRIG-MIGRATE-RESET",
    family=FAMILY,
    title="A legacy user who forgot their password resets it through the app and signs in with the new one",
    severity="MUST",
    profile="baseline",
    requirements=[*MIGRATION_REFS, "Cognito API: ForgotPassword, ConfirmForgotPassword"],
    remediation="Handle UserMigration_ForgotPassword in the user migration trigger: return the user's attributes "
                "(a verified email) without a password, so the pool can send the reset code.",
    needs=["forgot_password", "reset_password", "login", "protected"],
    control_plane="mailbox",
)
def migrate_reset(ctx: ScenarioContext) -> None:
    person = _legacy(ctx, 1 if len(ctx.spec.triggers.legacy_users) > 1 else 0)
    ctx.expect_allowed(ctx.call("forgot_password", user=person, title="the legacy user forgot their password"),
                       "forgot-password must be accepted")
    ctx.trigger_calls("forgot-password", "UserMigration")
    sent = [m for to in person.contacts() for m in ctx.control.messages(to=to) if m.get("code")]
    if not sent:
        ctx.fail("the legacy user got no reset code: the pool did not take them in at forgot-password",
                 expected="a reset code in the mailbox", actual="none")
    code = mailbox_code(ctx, person)
    new_password = ctx.users.make().password
    ctx.expect_allowed(ctx.call("reset_password", user=person, code=code, new_password=new_password,
                                title="reset with the mailed code"),
                       "the reset with the mailed code must work")
    renewed = TestUser(username=person.username, email=person.email, password=new_password)
    tokens = device(ctx, renewed, "the legacy user with the new password",
                    checked="the legacy user cannot sign in with the password they just set")
    ctx.expect_allowed(ctx.call("protected", token=ctx.presented_token(tokens), title="the reset user's token"),
                       "the reset user's token must be accepted")


# --- custom auth -------------------------------------------------------------------------------------


def _custom_user(ctx: ScenarioContext) -> tuple[TestUser, list[str]]:
    """A user whose custom challenges the harness can answer: one attribute per round (the spec's)."""
    require_trigger(ctx, "DefineAuthChallenge", "the app's custom sign-in runs on it")
    custom = ctx.spec.triggers.custom_auth
    if custom is None:
        ctx.skip(f"target spec {ctx.spec.path.name} has no [custom_auth] (how the app's challenges are answered)")
    answers = [f"{ctx.seed % 10**6 + 104729 * i:06d}" if i == 0 else f"answer-{ctx.seed % 9973}-{i}"
               for i in range(custom.rounds)]
    user = ctx.user(attributes=dict(zip(custom.answer_attributes, answers)))
    return user, answers


def _step(ctx: ScenarioContext, response: TargetResponse, what: str,
          wrong: str = "the app returned tokens before the last challenge was answered") -> str | None:
    """A custom-login answer that must carry no token: the next challenge's session (None when refused)."""
    if response.server_error:
        ctx.fail(f"{what}: the app crashed (5xx)", expected="a challenge or a refusal", actual=response.summary())
    tokens = carried_tokens(response)
    if tokens:
        ctx.fail(f"{what}: {wrong}",
                 expected="the next challenge, no token", actual=f"{', '.join(tokens)}: {response.summary()}")
    name, session = challenge_of(response)
    return session if response.allowed and name else None


def _start(ctx: ScenarioContext, user: TestUser) -> str:
    response = ctx.call("custom_login", user=user, title="start the custom sign-in")
    session = _step(ctx, response, "the custom sign-in's start")
    if session is None:
        ctx.fail("the custom sign-in did not start with a challenge", expected="a challenge and its session",
                 actual=response.summary())
    return str(session)


def _answer(ctx: ScenarioContext, user: TestUser, session: str, answer: str, title: str) -> TargetResponse:
    return ctx.call("custom_login_answer", user=user, session=session, answer=answer, title=title)


CUSTOM_REFS = [CUSTOM_AUTH_DOCS, "Cognito API: InitiateAuth CUSTOM_AUTH, RespondToAuthChallenge CUSTOM_CHALLENGE"]


@scenario(
    id="TRIG-CUSTOM-NO-EARLY-TOKENS",
    family=FAMILY,
    title="The app's custom sign-in returns no token before the last challenge is answered",
    severity="MUST",
    profile="baseline",
    requirements=[*CUSTOM_REFS, "OWASP ASVS 5.0 V6.6.1"],
    remediation="In DefineAuthChallenge, set issueTokens only when the session holds a correct answer for every "
                "round; the app hands out tokens only from an AuthenticationResult.",
    needs=["custom_login", "custom_login_answer", "protected"],
    control_plane=False,
)
def custom_no_early_tokens(ctx: ScenarioContext) -> None:
    user, answers = _custom_user(ctx)
    session = _start(ctx, user)
    for i, answer in enumerate(answers[:-1], start=1):
        response = _answer(ctx, user, session, answer, f"right answer to round {i} of {len(answers)}")
        next_session = _step(ctx, response, f"after round {i} of {len(answers)}")
        if next_session is None:
            ctx.fail(f"the right answer to round {i} did not lead to the next challenge", expected="a challenge",
                     actual=response.summary())
        session = str(next_session)
    last = _answer(ctx, user, session, answers[-1], f"right answer to the last round ({len(answers)})")
    ctx.trigger_calls("the custom sign-in", None)
    ctx.expect_allowed(last, "the right answer to the last challenge must complete the sign-in")
    token = last.token(ctx.spec.auth.token + "_token")
    if not token:
        ctx.fail("the last right answer returned no token", expected="tokens", actual=last.summary())
    ctx.expect_allowed(ctx.call("protected", token=token, title="the custom sign-in's token"),
                       "the token of a completed custom sign-in must be accepted")


@scenario(
    id="TRIG-CUSTOM-WRONG-ANSWER",
    family=FAMILY,
    title="A wrong custom-challenge answer is refused, and after the attempt limit even the right answers are",
    severity="MUST",
    profile="baseline",
    requirements=[*CUSTOM_REFS, "OWASP ASVS 5.0 V6.3.1 (attempt limits)"],
    remediation="In VerifyAuthChallengeResponse compare the answer with privateChallengeParameters exactly; in "
                "DefineAuthChallenge set failAuthentication once the session holds the allowed number of wrong "
                "answers.",
    needs=["custom_login", "custom_login_answer"],
    control_plane=False,
)
def custom_wrong_answer(ctx: ScenarioContext) -> None:
    user, answers = _custom_user(ctx)
    limit = ctx.spec.triggers.custom_auth.max_attempts if ctx.spec.triggers.custom_auth else 3
    session: str | None = _start(ctx, user)
    for attempt in range(1, limit + 1):
        response = _answer(ctx, user, str(session), f"wrong-{attempt}-{answers[0][::-1]}",
                           f"wrong answer {attempt} of {limit}")
        session = _step(ctx, response, f"a wrong answer ({attempt} of {limit})",
                        "the app returned tokens although every answer given was wrong") or session
        if not response.allowed and not response.denied:
            ctx.fail("a wrong answer got an answer that is neither a challenge nor a refusal",
                     expected="the next challenge or a refusal", actual=response.summary())
    ctx.note(f"{limit} wrong answers given: the sign-in must be over")
    for i, answer in enumerate(answers, start=1):
        response = _answer(ctx, user, str(session), answer, f"the right answer to round {i} after the limit")
        ctx.trigger_calls(f"round {i} after the limit", "DefineAuthChallenge")
        if response.server_error:
            ctx.fail("the app crashed (5xx) on an answer after the attempt limit", expected="a refusal",
                     actual=response.summary())
        if carried_tokens(response):
            ctx.fail(f"after {limit} wrong answers the right answers still completed the sign-in: the attempt "
                     "limit is not enforced", expected="refused", actual=response.summary())
        next_name, next_session = challenge_of(response)
        if not response.allowed or not next_name or not next_session:
            return
        session = next_session
