"""Tenant-admin removal and tenant isolation: the app authorizes per tenant, from current roles.

Tenancy follows the spec's ``[tenancy]``: the tenant from per-tenant groups
and/or a custom attribute, the admin role from a per-tenant group, a
tenant-independent role group (``admin``) or an attribute. Roles reach the app in the token (``cognito:groups``),
so a removal shows in the next token the pool issues (after a refresh); a
token issued before the removal still carries the old role until it expires.
Baseline requires the refreshed token to lose the admin action and reports
the stale token's window; strict requires the stale token, and the token of a
disabled or deleted admin, to be refused at once.
"""

from __future__ import annotations

from harness.scenario import ScenarioContext, TestUser, Tokens, scenario
from scenarios._sessions import accepted_now, change_tenancy, pool_refresh, remaining

FAMILY = "tenancy"
ASVS_ACCESS = "OWASP ASVS 5.0 V8.2.1, V8.2.2"
COGNITO_GROUPS = "Cognito docs: user pool groups (cognito:groups claim)"


def _tenants(ctx: ScenarioContext) -> tuple[str, str]:
    tenants = ctx.spec.tenancy.tenants
    if len(tenants) < 2:
        ctx.skip("the spec's [tenancy].tenants names fewer than two tenants")
    return tenants[0], tenants[1]


def _admin(ctx: ScenarioContext, tenant: str) -> tuple[TestUser, Tokens, str]:
    """An admin of ``tenant``, signed in, whose admin action the app allows (positive control)."""
    admin = ctx.tenant_user(tenant, admin=True)
    tokens = ctx.sign_in(admin)
    token = ctx.presented_token(tokens)
    ctx.expect_allowed(ctx.call("tenant_admin", token=token, tenant=tenant, title=f"admin of {tenant}: admin action"),
                       f"an admin of {tenant} must be allowed {tenant}'s admin action")
    return admin, tokens, token


def _remove_admin_role(ctx: ScenarioContext, user: TestUser, tenant: str) -> None:
    """Take the admin role of ``tenant`` away the way the spec's tenancy model grants it (membership stays)."""
    change_tenancy(ctx, user, ctx.spec.tenancy.admin_removal(tenant), joining=False)


@scenario(
    id="TEN-ADMIN-OWN",
    family=FAMILY,
    title="An admin of a tenant can do its admin actions; a plain member cannot",
    severity="MUST",
    profile="baseline",
    requirements=[ASVS_ACCESS, "OWASP ASVS 4.0.3 V4.1.3", COGNITO_GROUPS],
    remediation="Grant a tenant's admin actions only for that tenant's admin role (tenant-{tenant}-admin, or "
                "the admin role group together with the tenant attribute), checked exactly; membership is not "
                "enough.",
    needs=["tenant_admin", "tenant_member"],
    control_plane=False,
)
def admin_own_tenant(ctx: ScenarioContext) -> None:
    tenant, _ = _tenants(ctx)
    _, _, token = _admin(ctx, tenant)
    ctx.expect_allowed(ctx.call("tenant_member", token=token, tenant=tenant, title=f"admin of {tenant}: member action"),
                       f"an admin of {tenant} must be allowed {tenant}'s member action")
    member = ctx.tenant_user(tenant)
    mtoken = ctx.presented_token(ctx.sign_in(member))
    ctx.expect_allowed(ctx.call("tenant_member", token=mtoken, tenant=tenant,
                                title=f"member of {tenant}: member action"),
                       f"a member of {tenant} must be allowed {tenant}'s member action")
    ctx.expect_denied(ctx.call("tenant_admin", token=mtoken, tenant=tenant, title=f"member of {tenant}: admin action"),
                      f"a plain member of {tenant} must be denied {tenant}'s admin action")


@scenario(
    id="TEN-ROLE-REMOVED",
    family=FAMILY,
    title="After removal from a tenant's admin role, a refreshed token is denied the admin action",
    severity="MUST",
    profile="baseline",
    requirements=[ASVS_ACCESS, "OWASP ASVS 5.0 V8.3.2", COGNITO_GROUPS],
    remediation="Authorize every request from the roles in the token presented (or the pool's current state), "
                "never from roles remembered from an earlier token.",
    needs=["tenant_admin", "tenant_member"],
    control_plane=False,
)
def role_removed(ctx: ScenarioContext) -> None:
    """Whether the stale token is still accepted is noted as evidence (TEN-STALE-STRICT judges it)."""
    tenant, _ = _tenants(ctx)
    admin, tokens, stale = _admin(ctx, tenant)
    _remove_admin_role(ctx, admin, tenant)
    fresh = pool_refresh(ctx, tokens, f"{admin.username} after the removal")
    if fresh is None:
        ctx.fail("the pool refused to refresh the user's session", expected="fresh tokens", actual="refused")
    token = ctx.presented_token(fresh)
    ctx.expect_denied(ctx.call("tenant_admin", token=token, tenant=tenant, title="refreshed token: admin action"),
                      f"a token issued after the removal must be denied {tenant}'s admin action")
    ctx.expect_allowed(ctx.call("tenant_member", token=token, tenant=tenant, title="refreshed token: member action"),
                       f"the user is still a member of {tenant}")
    accepted_now(ctx, stale, "tenant_admin", "stale admin token issued before the removal", tenant=tenant)


@scenario(
    id="TEN-CROSS-TENANT",
    family=FAMILY,
    title="An admin of one tenant is denied admin and member actions in another tenant",
    severity="MUST",
    profile="baseline",
    requirements=[ASVS_ACCESS, "OWASP ASVS 4.0.3 V4.2.1", "OWASP API Security Top 10 2023 API1 (BOLA)",
                  COGNITO_GROUPS],
    remediation="Check the tenant in the request against the tenant of the role: admin of T1 means nothing in T2 "
                "(compare the exact group tenant-{tenant}-admin, not 'any admin group'; with a role group such as "
                "'admin', compare the user's tenant attribute with the tenant in the request).",
    needs=["tenant_admin", "tenant_member"],
    control_plane=False,
)
def cross_tenant(ctx: ScenarioContext) -> None:
    home, other = _tenants(ctx)
    _, _, token = _admin(ctx, home)
    ctx.expect_denied(ctx.call("tenant_admin", token=token, tenant=other,
                               title=f"admin of {home}: {other}'s admin action"),
                      f"an admin of {home} must be denied {other}'s admin action")
    ctx.expect_denied(ctx.call("tenant_member", token=token, tenant=other,
                               title=f"admin of {home}: {other}'s member action"),
                      f"an admin of {home} must be denied {other}'s member action")


@scenario(
    id="TEN-STALE-STRICT",
    family=FAMILY,
    title="A token issued before removal from the admin role is denied the admin action at once",
    severity="MUST",
    profile="strict",
    requirements=[ASVS_ACCESS, "OWASP ASVS 5.0 V8.3.2 (L3)", "rp-test-catalog §6.B"],
    remediation="For admin actions, check the user's current groups at the pool (AdminListGroupsForUser) or keep "
                "access tokens short-lived enough for the risk; a JWT keeps its groups until it expires.",
    needs=["tenant_admin"],
    control_plane=False,
)
def stale_strict(ctx: ScenarioContext) -> None:
    tenant, _ = _tenants(ctx)
    admin, _, stale = _admin(ctx, tenant)
    _remove_admin_role(ctx, admin, tenant)
    ctx.expect_denied(ctx.call("tenant_admin", token=stale, tenant=tenant, title="stale token after the removal"),
                      "the admin token issued before the removal must be refused at once")


@scenario(
    id="TEN-DISABLED-STRICT",
    family=FAMILY,
    title="A disabled or deleted admin loses access at once",
    severity="MUST",
    profile="strict",
    requirements=["OWASP ASVS 5.0 V7.4.2, V8.3.2", "Cognito docs: AdminDisableUser, AdminDeleteUser",
                  "rp-test-catalog §6.B"],
    remediation="Check the user's state at the pool on sensitive requests (GetUser / AdminGetUser refuse disabled "
                "and deleted users); otherwise access ends only when the access token expires.",
    needs=["tenant_admin"],
    control_plane=False,
)
def disabled_strict(ctx: ScenarioContext) -> None:
    """In baseline, access ends at the latest when the token expires (the pool refuses the refresh of a
    disabled or deleted user: see REF-USER-DISABLED/-DELETED); the remaining lifetime is noted here."""
    tenant, _ = _tenants(ctx)
    for action, operation in (("disabled", "AdminDisableUser"), ("deleted", "AdminDeleteUser")):
        admin, _, token = _admin(ctx, tenant)
        ctx.api(operation, Username=admin.username)
        ctx.note(f"the {action} admin's token: lifetime left by its exp (how long a token trusted until "
                 "it expires stays usable)", token_lifetime_left=remaining(ctx, token))
        ctx.expect_denied(ctx.call("tenant_admin", token=token, tenant=tenant, title=f"{action} admin: admin action"),
                          f"the {action} admin's token must be refused at once")
