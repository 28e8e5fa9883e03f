"""Refresh: the app's refresh endpoint yields current claims and refuses dead refresh tokens cleanly.

Tokens are self-contained, so a group change shows only in tokens issued
after it; a refresh must reflect it. A revoked, rotated-out (reused),
other-client, disabled-user or deleted-user refresh token must be refused by
the app's refresh endpoint with a spec'd denial (401), never a 5xx, and never
answered from a cache (the pool decides). Expired refresh tokens are the
expiry family's EXP-REFRESH-END. Every check runs on any backend (a foreign
one only where the pool itself refuses the token: scenarios/_app_refresh.py),
REF-REUSE with a retry grace period only on the emulator (its clock).
"""

from __future__ import annotations

from harness.scenario import ScenarioContext, TestUser, scenario
from scenarios._app_refresh import client_config, refreshed, refused, working_session
from scenarios._sessions import change_tenancy

FAMILY = "refresh"
REFUSE_REMEDIATION = ("Always refresh at the pool (GetTokensFromRefreshToken / REFRESH_TOKEN_AUTH), never from a "
                      "cache, and map every NotAuthorizedException / RefreshTokenReuseException / "
                      "UserNotFoundException to a 401 that sends the user to sign in; no 5xx.")


def _set_member(ctx: ScenarioContext, user: TestUser, tenant: str, member: bool) -> None:
    """Make ``user`` a member of ``tenant`` (or not) the way the spec's [tenancy] says."""
    t = ctx.spec.tenancy
    change_tenancy(ctx, user, t.grants(tenant) if member else t.membership_removal(tenant), joining=member)


@scenario(
    id="REF-CLAIMS-CURRENT",
    family=FAMILY,
    title="A refresh yields accepted tokens with current claims (tenant membership granted, then removed)",
    requirements=["OWASP ASVS 5.0 V8.3.2", "OIDF oidcc-client-test-refresh-token",
                  "Cognito docs: group changes show after refresh"],
    remediation="Return the pool's new tokens from the refresh endpoint and authorize from their claims; never "
                "cache tokens or roles per refresh token or user.",
    needs=["refresh", "tenant_member"],
    control_plane=False,
)
def claims_current(ctx: ScenarioContext) -> None:
    tenant = ctx.spec.tenancy.tenants[0]
    user = ctx.user()
    tokens = refreshed(ctx, user, ctx.sign_in(user), "first refresh, before any membership")
    _set_member(ctx, user, tenant, True)
    tokens = refreshed(ctx, user, tokens, f"after the user joined {tenant}")
    ctx.expect_allowed(ctx.call("tenant_member", token=ctx.presented_token(tokens), title="refreshed member token"),
                       f"the refreshed token must carry the new membership of {tenant}")
    _set_member(ctx, user, tenant, False)
    tokens = refreshed(ctx, user, tokens, f"after the user left {tenant}")
    ctx.expect_denied(ctx.call("tenant_member", token=ctx.presented_token(tokens), title="refreshed ex-member token"),
                      f"the token refreshed after the removal must not carry the membership of {tenant}")


@scenario(
    id="REF-REVOKED",
    family=FAMILY,
    title="A revoked refresh token is refused by the app's refresh endpoint with a clean 401",
    requirements=["RFC 7009 §2", "OWASP ASVS 5.0 V10.4.9", "Cognito docs: RevokeToken"],
    remediation=REFUSE_REMEDIATION,
    needs=["refresh"],
    control_plane=False,
)
def revoked(ctx: ScenarioContext) -> None:
    user = ctx.user()
    tokens = working_session(ctx, user, ctx.sign_in(user))
    params = {"Token": tokens.refresh_token, "ClientId": ctx.pool.client_id}
    if ctx.pool.client_secret:
        params["ClientSecret"] = ctx.pool.client_secret
    ctx.api("RevokeToken", **params)
    refused(ctx, user, str(tokens.refresh_token), tokens.access_token, "a refresh token revoked at the pool")


@scenario(
    id="REF-REUSE",
    family=FAMILY,
    title="With rotation on, a rotated-out refresh token is refused by the app's refresh endpoint with a clean 401",
    requirements=["RFC 9700 §4.14.2 (rotation, replay detection)", "OWASP ASVS 5.0 V10.4.5",
                  "Cognito docs: RefreshTokenRotation, RefreshTokenReuseException"],
    remediation="Refresh with GetTokensFromRefreshToken, store the new refresh token it returns, and map "
                "RefreshTokenReuseException to a 401.",
    needs=["refresh"],
    control_plane=False,
)
def rotated_out(ctx: ScenarioContext) -> None:
    """Runs only when the app's client rotates refresh tokens (as the pool describes it): turning rotation on
    behind the app's back would break an app that correctly refreshes the classic way (REFRESH_TOKEN_AUTH)."""
    rotation = client_config(ctx).get("RefreshTokenRotation") or {}
    if rotation.get("Feature") != "ENABLED":
        ctx.skip(f"the app's client {ctx.pool.client_id} does not rotate refresh tokens (RefreshTokenRotation is "
                 "not ENABLED in the pool definition), so there is no rotated-out token to reuse; enable it on the "
                 "client if the app refreshes with GetTokensFromRefreshToken")
    user = ctx.user()
    first = ctx.sign_in(user)
    second = working_session(ctx, user, first)
    if second.refresh_token == first.refresh_token:
        ctx.fail("with rotation on, the app's refresh did not hand back the new refresh token it received",
                 expected="a new refresh token in the refresh answer (check [requests.refresh] refresh_token "
                          "pointer)", actual="the same refresh token as before")
    grace = int(rotation.get("RetryGracePeriodSeconds") or 0)
    if grace:
        ctx.require_control_plane("virtual clock")
        ctx.advance(grace + 1)  # past the client's retry grace period, when the old token still works
    refused(ctx, user, str(first.refresh_token), second.access_token,
            "a refresh token already rotated out (reuse)")


@scenario(
    id="REF-OTHER-CLIENT",
    family=FAMILY,
    title="A refresh token of another app client is refused by the app's refresh endpoint with a clean 401",
    requirements=["RFC 6749 §6 (refresh token bound to the client)", "RFC 9700 §4.14.2", "OWASP ASVS 5.0 V10.4.5"],
    remediation=REFUSE_REMEDIATION,
    needs=["refresh"],
    control_plane=False,
)
def other_client(ctx: ScenarioContext) -> None:
    if not ctx.pool.other_client_id:
        ctx.skip("the pool has no second app client")
    user = ctx.user()
    other = ctx.sign_in(user, client_id=ctx.pool.other_client_id, client_secret=ctx.pool.other_client_secret)
    refused(ctx, user, str(other.refresh_token), None, f"a refresh token of client {ctx.pool.other_client_id}")


def _user_gone(ctx: ScenarioContext, operation: str, what: str) -> None:
    user = ctx.user()
    tokens = working_session(ctx, user, ctx.sign_in(user))
    ctx.api(operation, Username=user.username)
    refused(ctx, user, str(tokens.refresh_token), tokens.access_token, f"the refresh token of a {what} user")


@scenario(
    id="REF-USER-DISABLED",
    family=FAMILY,
    title="A disabled user cannot refresh through the app (clean 401)",
    requirements=["OWASP ASVS 5.0 V7.4.2", "Cognito docs: AdminDisableUser revokes tokens"],
    remediation=REFUSE_REMEDIATION,
    needs=["refresh"],
    control_plane=False,
)
def user_disabled(ctx: ScenarioContext) -> None:
    _user_gone(ctx, "AdminDisableUser", "disabled")


@scenario(
    id="REF-USER-DELETED",
    family=FAMILY,
    title="A deleted user cannot refresh through the app (clean 401)",
    requirements=["OWASP ASVS 5.0 V7.4.2", "Cognito docs: AdminDeleteUser"],
    remediation=REFUSE_REMEDIATION,
    needs=["refresh"],
    control_plane=False,
)
def user_deleted(ctx: ScenarioContext) -> None:
    _user_gone(ctx, "AdminDeleteUser", "deleted")
