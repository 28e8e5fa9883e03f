"""AWS credentials the app obtains from its identity pool: the right role, for the right person, only while valid.

Where the spec has ``[requests.aws_credentials]`` (and ``aws_credentials_guest``)
and the pool definition an ``[identity_pool]``, these checks drive the app's
credentials endpoint and judge what it hands out by the AccessKeyId, through
the emulator's control plane: the identity the credentials were issued to
and their role. What a user's credentials should carry is what the identity
pool gives that user's login when the harness asks it directly (its role
mappings: a tenant admin's rule, the authenticated role, the guest role).
Credentials are AWS's to end (an hour): what the app controls is that it asks
for them with the caller's own, current login every time, so a role taken away
or a user disabled or signed out shows in the next credentials.
"""

from __future__ import annotations

from harness.scenario import HarnessError, IssuedCredentials, ScenarioContext, TestUser, Tokens, scenario
from scenarios._identity import (GUEST_REQUEST, IDP_REFS, USER_REQUEST, AppCredentials, ask, granted, refused,
                                 same_role)
from scenarios._sessions import change_tenancy, pool_refresh

FAMILY = "identity"
RULES_DOC = "Cognito docs: identity pools, role-based access control (rules: first match, cognito:groups)"


def _tenant(ctx: ScenarioContext) -> str:
    if not ctx.spec.tenancy.tenants:
        ctx.skip("the spec's [tenancy].tenants names no tenant")
    return ctx.spec.tenancy.tenants[0]


def _signed_in(ctx: ScenarioContext, tenant: str, *, admin: bool) -> tuple[TestUser, Tokens]:
    user = ctx.tenant_user(tenant, admin=admin)
    return user, ctx.sign_in(user)


def _admitted_person(ctx: ScenarioContext) -> tuple[TestUser, Tokens] | None:
    """A signed-in user the identity pool gives credentials: a plain user, else a tenant admin (mappings that give
    plain users none); None when it gives neither any."""
    tenancy = ctx.spec.tenancy
    people = [ctx.user]
    if tenancy.tenants and tenancy.can_make_admin():
        people.append(lambda: ctx.tenant_user(tenancy.tenants[0], admin=True))
    for make in people:
        user = make()
        tokens = ctx.sign_in(user)
        if ctx.identity.pool_credentials(tokens, user.username) is not None:
            return user, tokens
    return None


@scenario(
    id="IDP-ROLE-MAPPED",
    family=FAMILY,
    title="A tenant admin's AWS credentials carry the admin role the pool's mappings give; a member's do not",
    severity="MUST",
    profile="baseline",
    requirements=[*IDP_REFS, RULES_DOC, "OWASP API Security Top 10 2023 API5 (broken function level authorization)"],
    remediation="Get each caller's credentials with their own, verified ID token as the login (GetId, then "
                "GetCredentialsForIdentity with the same Logins), after checking it belongs to the authenticated "
                "caller; never share, reuse or accept from the request another person's login or credentials.",
    needs=[USER_REQUEST],
    control_plane="identity-pool credentials (the role behind an AccessKeyId)",
)
def role_mapped(ctx: ScenarioContext) -> None:
    tenant = _tenant(ctx)
    ctx.identity.configuration()
    admin, admin_tokens = _signed_in(ctx, tenant, admin=True)
    member, member_tokens = _signed_in(ctx, tenant, admin=False)
    expected_admin = _admitted(ctx, admin_tokens, f"admin {admin.username}")
    expected_member = ctx.identity.pool_credentials(member_tokens, f"member {member.username}")
    admin_role = expected_admin.role_arn
    if expected_member is not None and admin_role == expected_member.role_arn:
        ctx.skip(f"the identity pool's role mappings give an admin of {tenant} and a plain member the same role "
                 f"({admin_role}): there is no admin role to tell apart")
    got = granted(ctx, ask(ctx, f"admin {admin.username}", admin_tokens),
                  f"an admin of {tenant} must get AWS credentials")
    same_role(ctx, got, expected_admin, f"the admin of {tenant}")
    _judge(ctx, ask(ctx, f"member {member.username}", member_tokens), expected_member,
           f"the plain member of {tenant}", not_role=admin_role)
    if "id_token" in ctx.spec.request(USER_REQUEST).placeholders():
        # the request carries the login: the app must take only the caller's own
        theft = ask(ctx, f"member {member.username} sends the admin's ID token", member_tokens,
                    id_token=admin_tokens.id_token)
        if theft.response.allowed and theft.issued is not None and \
                theft.issued.identity_id != (expected_member.identity_id if expected_member else None):
            ctx.fail(f"a plain member of {tenant} who sent an admin's ID token got the admin's credentials",
                     expected="a refusal, or the member's own credentials",
                     actual=theft.summary())
        ctx.note("the member's request with the admin's ID token: " +
                 ("refused" if not theft.response.allowed else "answered with the member's own credentials"),
                 status=theft.response.status)


@scenario(
    id="IDP-ROLE-REMOVED",
    family=FAMILY,
    title="After removal from the admin group, the next AWS credentials (refresh or sign-in) lack the admin role",
    severity="MUST",
    profile="baseline",
    requirements=[*IDP_REFS, RULES_DOC, "OWASP ASVS 5.0 V8.3.2"],
    remediation="Ask the identity pool for credentials with the user's current ID token on every request for "
                "them (or cache them per ID token, never per user or tenant): the role follows the groups in the "
                "token, so a fresh sign-in or refresh must give the new role.",
    needs=[USER_REQUEST],
    control_plane="identity-pool credentials (the role behind an AccessKeyId)",
)
def role_removed(ctx: ScenarioContext) -> None:
    tenant = _tenant(ctx)
    admin, before = _signed_in(ctx, tenant, admin=True)
    expected_before = _admitted(ctx, before, f"admin {admin.username}")
    got = granted(ctx, ask(ctx, f"admin {admin.username}", before), f"an admin of {tenant} must get AWS credentials")
    same_role(ctx, got, expected_before, f"the admin of {tenant}")
    change_tenancy(ctx, admin, ctx.spec.tenancy.admin_removal(tenant), joining=False)
    refreshed = pool_refresh(ctx, before, f"{admin.username} after the removal")
    if refreshed is None:
        raise HarnessError(f"the pool refused to refresh the session of {admin.username}")
    _judge_after_removal(ctx, admin, got, expected_before, refreshed, "refreshed tokens")
    _judge_after_removal(ctx, admin, got, expected_before, ctx.sign_in(admin), "a fresh sign-in")


def _judge_after_removal(ctx: ScenarioContext, admin: TestUser, got: IssuedCredentials,
                         expected_before: IssuedCredentials, tokens: Tokens, how: str) -> None:
    """The app's credentials for ``tokens`` (issued after the removal) carry the role the pool now gives."""
    expected_after = ctx.identity.pool_credentials(tokens, f"{admin.username} after the removal ({how})")
    if expected_after is not None and expected_after.role_arn == expected_before.role_arn:
        ctx.skip(f"the identity pool's role mappings give {admin.username} the same role "
                 f"({expected_before.role_arn}) before and after the removal from the admin group: nothing "
                 "to tell apart")
    now = _judge(ctx, ask(ctx, f"{admin.username} after the removal ({how})", tokens), expected_after,
                 f"{admin.username} after the removal from the admin group ({how})", not_role=expected_before.role_arn)
    if now is not None:
        ctx.note(f"the app's credentials before the removal and after it ({how})", before=got.access_key_id,
                 after=now.access_key_id, reused=got.access_key_id == now.access_key_id)


def _admitted(ctx: ScenarioContext, tokens: Tokens, who: str) -> IssuedCredentials:
    """What the identity pool gives ``who``; SKIP when it gives them nothing (no role to judge)."""
    expected = ctx.identity.pool_credentials(tokens, who)
    if expected is None:
        ctx.skip(f"the identity pool gives {who} no credentials (its role mappings deny them): nothing to judge")
    assert expected is not None
    return expected


def _judge(ctx: ScenarioContext, got: AppCredentials, expected: IssuedCredentials | None, who: str, *,
           not_role: str) -> IssuedCredentials | None:
    """``who``'s credentials through the app: those the pool gives them, or a refusal when it gives none."""
    if expected is None:
        refused(ctx, got, f"the identity pool's mappings give {who} no credentials: the app must refuse too")
        return None
    issued = granted(ctx, got, f"{who} must get AWS credentials")
    same_role(ctx, issued, expected, who, not_role=not_role)
    return issued


@scenario(
    id="IDP-REVOKED-USER",
    family=FAMILY,
    title="A disabled or globally signed-out user cannot get AWS credentials through the app",
    severity="MUST",
    profile="baseline",
    requirements=[*IDP_REFS, "Cognito docs: identity pools, ServerSideTokenCheck; AdminDisableUser, "
                  "AdminUserGlobalSignOut", "OWASP ASVS 5.0 V7.4.2"],
    remediation="Ask the identity pool on every request for credentials (never serve them from a cache keyed by "
                "the user's token or session), with ServerSideTokenCheck on, so the pool refuses the login of a "
                "disabled or signed-out user; answer that refusal with a 401.",
    needs=[USER_REQUEST],
    control_plane="identity-pool credentials (the role behind an AccessKeyId)",
)
def revoked_user(ctx: ScenarioContext) -> None:
    providers = ctx.identity.configuration().get("CognitoIdentityProviders") or []
    ctx.note("the identity pool's user-pool logins (ServerSideTokenCheck: the pool asks the user pool whether the "
             "user is still signed in and enabled)", providers=providers)
    for action, operation in (("disabled", "AdminDisableUser"), ("signed out everywhere", "AdminUserGlobalSignOut")):
        person = _admitted_person(ctx)
        if person is None:
            ctx.skip("the identity pool's role mappings give no signed-in test user credentials: nothing to revoke")
        assert person is not None
        user, tokens = person
        before = granted(ctx, ask(ctx, f"{user.username} before", tokens),
                         "a signed-in user must get AWS credentials (positive control)")
        ctx.api(operation, Username=user.username)
        got = ask(ctx, f"{user.username}, {action}", tokens)
        if got.access_key_id is not None:
            ctx.note(f"the {action} user's answer: " + ("the same credentials as before (served from a cache)"
                                                        if got.access_key_id == before.access_key_id else
                                                        "other credentials"),
                     before=before.access_key_id, after=got.access_key_id)
        refused(ctx, got, f"a user {action} at the pool must get no AWS credentials through the app")


@scenario(
    id="IDP-GUEST-UNAUTH",
    family=FAMILY,
    title="A visitor who is not signed in gets only the unauthenticated role",
    severity="MUST",
    profile="baseline",
    requirements=[*IDP_REFS, "Cognito docs: identity pools, guest (unauthenticated) access"],
    remediation="Get a visitor's credentials from the identity pool with no login (GetId and "
                "GetCredentialsForIdentity without Logins), per request; never hand a visitor credentials "
                "obtained for a signed-in user (a process-wide credentials provider in a server is shared by "
                "every request).",
    needs=[GUEST_REQUEST],
    control_plane="identity-pool credentials (the role behind an AccessKeyId)",
)
def guest_unauthenticated(ctx: ScenarioContext) -> None:
    ctx.identity.configuration()
    first = _admitted_person(ctx) if ctx.spec.has(USER_REQUEST) else None
    if first is not None:  # someone signed in used the app first: nothing of theirs may reach the visitor
        granted(ctx, ask(ctx, f"{first[0].username} (signed in, before the visitor)", first[1]),
                "a signed-in user must get AWS credentials (positive control)")
    got = ask(ctx, "a visitor (not signed in)")
    if not ctx.identity.allows_guests():
        refused(ctx, got, "the identity pool allows no unauthenticated identities: a visitor gets no credentials")
        return
    issued = granted(ctx, got, "a visitor must get the identity pool's guest credentials")
    guest_role = ctx.identity.default_role("unauthenticated")
    if issued.authenticated or issued.providers:
        ctx.fail("the visitor's credentials were issued for an authenticated login",
                 expected=f"unauthenticated credentials for {guest_role}",
                 actual=f"{issued.access_key_id}: authenticated with {', '.join(issued.providers) or 'a login'} "
                        f"(identity {issued.identity_id}) for {issued.role_arn}")
    if issued.role_arn != guest_role:
        ctx.fail("the visitor's credentials carry another role than the unauthenticated one",
                 expected=str(guest_role), actual=f"{issued.access_key_id} for {issued.role_arn}")
    ctx.note("the visitor got the unauthenticated role only", role_arn=issued.role_arn,
             identity_id=issued.identity_id)
