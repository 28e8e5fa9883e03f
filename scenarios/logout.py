"""Logout across devices: one device's logout ends that device only; sign-out everywhere ends all.

Several devices of one user sign in (through the app's login when it has one).
The emulator's ``token.revoked`` events prove what the app asked of the pool
(RevokeToken for one device, GlobalSignOut for all); the pool's refusal to
refresh proves the sessions are over. Access tokens are self-contained JWTs:
a signed-out device's access token keeps verifying until it expires unless
the app remembers the sign-out (local deny-list by ``origin_jti``) or asks the
pool. Baseline measures that exposure window against the spec's
``[limits] max_revocation_window_seconds``; strict requires zero.
"""

from __future__ import annotations

from harness.runner.context import ScenarioContext, TestUser, Tokens, claims_of
from harness.runner.scenario import scenario
from scenarios._sessions import device, exposure, pool_refresh

FAMILY = "logout"
REVOKED = "token.revoked"


def _devices(ctx: ScenarioContext, count: int) -> tuple[TestUser, list[Tokens]]:
    user = ctx.user()
    tokens = [device(ctx, user, f"device {name}") for name in "ABC"[:count]]
    for name, t in zip("ABC", tokens):
        ctx.accepted_control(ctx.presented_token(t), f"positive control: device {name}'s token is accepted")
    return user, tokens


def _logout(ctx: ScenarioContext, user: TestUser, tokens: Tokens, name: str) -> None:
    response = ctx.call("logout", user=user, token=ctx.presented_token(tokens), refresh_token=tokens.refresh_token,
                        access_token=tokens.access_token, title=f"logout on device {name}")
    ctx.expect_allowed(response, f"the app's logout on device {name} must succeed")


def _logout_all(ctx: ScenarioContext, user: TestUser, tokens: Tokens, name: str) -> None:
    response = ctx.call("logout_all", user=user, token=ctx.presented_token(tokens),
                        refresh_token=tokens.refresh_token, access_token=tokens.access_token,
                        title=f"sign out everywhere from device {name}")
    ctx.expect_allowed(response, "the app's sign-out-everywhere must succeed")


def _origin(tokens: Tokens) -> str:
    return str(claims_of(tokens.access_token).get("origin_jti", ""))


@scenario(
    id="LOG-DEVICE-REVOKE",
    family=FAMILY,
    title="Logout on one device revokes that device's refresh token and leaves the other device working",
    severity="MUST",
    profile="baseline",
    requirements=["OWASP ASVS 4.0.3 V3.3.1", "OWASP ASVS 5.0 V7.4.1, V10.4.9", "RFC 7009 §2", "RFC 9700 §4.14.2",
                  "Cognito docs: RevokeToken (revoking refresh tokens)"],
    remediation="In the logout handler call RevokeToken with the device's refresh token (and the client secret "
                "for a confidential client); do not call GlobalSignOut for a single-device logout.",
    needs=["logout", "protected"],
)
def device_logout(ctx: ScenarioContext) -> None:
    """Devices A and B; logout on A: a RevokeToken event for A's session, A cannot refresh, B can."""
    user, (a, b) = _devices(ctx, 2)
    mark = ctx.mark()
    _logout(ctx, user, a, "A")
    with ctx.step("the pool saw device A's session, and only it, revoked"):
        revoked = ctx.events(REVOKED, since=mark)
        mine = [e for e in revoked if e["data"].get("origin_jti") == _origin(a)]
        ctx.expect(bool(mine), "the app's logout did not revoke device A's refresh token at the pool",
                   expected=f"a {REVOKED} event for A's session (RevokeToken)",
                   actual=f"{len(revoked)} revocation event(s)" + (": " + ", ".join(
                       str(e['data'].get('reason')) for e in revoked) if revoked else ""))
        others = [e for e in revoked if e["data"].get("origin_jti") == _origin(b)]
        ctx.expect(not others, "the app's logout on device A also ended device B's session "
                               f"({others[0]['data'].get('reason') if others else ''})",
                   expected="only A's session revoked (RevokeToken with A's refresh token)",
                   actual=f"B's session revoked by {others[0]['data'].get('reason')}" if others else "")
    ctx.expect(pool_refresh(ctx, a, "device A after logout") is None,
               "device A's refresh token still works after the app's logout",
               expected="the pool refuses A's refresh token", actual="the pool issued new tokens")
    fresh = pool_refresh(ctx, b, "device B")
    ctx.expect(fresh is not None, "device B lost its session when device A logged out",
               expected="device B refreshes normally", actual="the pool refused B's refresh token")
    ctx.expect_allowed(ctx.call("protected", token=ctx.presented_token(b), title="device B keeps working"),
                       "device B's token must still be accepted after A's logout")


@scenario(
    id="LOG-EVERYWHERE",
    family=FAMILY,
    title="Sign-out everywhere ends every device's refresh",
    severity="MUST",
    profile="baseline",
    requirements=["OWASP ASVS 4.0.3 V3.3.3, V3.3.4", "OWASP ASVS 5.0 V7.4.5, V7.5.2", "RFC 9700 §4.14.2",
                  "Cognito docs: GlobalSignOut"],
    remediation="Implement sign-out everywhere with GlobalSignOut (the user's access token) or "
                "AdminUserGlobalSignOut, which revokes every refresh token of the user.",
    needs=["logout_all", "protected"],
)
def logout_everywhere(ctx: ScenarioContext) -> None:
    """Devices A, B and C; sign-out everywhere from A: every session revoked, no device can refresh."""
    user, devices = _devices(ctx, 3)
    mark = ctx.mark()
    _logout_all(ctx, user, devices[0], "A")
    with ctx.step("the pool saw every session revoked"):
        revoked = {e["data"].get("origin_jti") for e in ctx.events(REVOKED, since=mark)}
        missing = [name for name, t in zip("ABC", devices) if _origin(t) not in revoked]
        ctx.expect(not missing, f"sign-out everywhere left device(s) {', '.join(missing)} signed in at the pool",
                   expected="token.revoked for the sessions of A, B and C (GlobalSignOut)",
                   actual=f"{len(revoked)} session(s) revoked")
    for name, t in zip("ABC", devices):
        ctx.expect(pool_refresh(ctx, t, f"device {name} after sign-out everywhere") is None,
                   f"device {name} can still refresh after sign-out everywhere",
                   expected="the pool refuses every device's refresh token", actual="new tokens were issued")


@scenario(
    id="LOG-ACCESS-WINDOW",
    family=FAMILY,
    title="Signed-out devices' access tokens stop working within the declared revocation window",
    severity="MUST",
    profile="baseline",
    requirements=["OWASP ASVS 4.0.3 V3.3.1", "OWASP ASVS 5.0 V7.4.1", "RFC 9700 §4.14.2",
                  "aws-jwt-verify #151 (local verification accepts revoked tokens)",
                  "rp-test-catalog §6.B (lifecycle)"],
    remediation="Remember sign-outs the app performs (deny-list the session's origin_jti until its tokens "
                "expire), or check tokens with the pool (GetUser), or shorten the access-token validity below "
                "the declared maximum.",
    needs=["logout", "logout_all", "protected"],
)
def access_window(ctx: ScenarioContext) -> None:
    """After logout (user 1, device A) and sign-out everywhere (user 2, devices B and C), how long do their
    access tokens still work?"""
    limit = ctx.spec.limits.max_revocation_window_seconds
    user, (a,) = _devices(ctx, 1)
    _logout(ctx, user, a, "A")
    windows = {"A (logout)": exposure(ctx, ctx.presented_token(a), "protected", "device A after logout")}
    other, (b, c) = _devices(ctx, 2)  # another user, so A's logout cannot have touched B and C
    _logout_all(ctx, other, b, "B")
    for name, t in (("B", b), ("C", c)):
        windows[f"{name} (sign-out everywhere)"] = exposure(ctx, ctx.presented_token(t), "protected",
                                                           f"device {name} after sign-out everywhere")
    worst = max(windows.values())
    ctx.note("exposure windows (seconds)", windows=windows, limit=limit)
    ctx.expect(worst <= limit, f"a signed-out device's access token stays usable for {worst}s, more than the "
                               f"declared maximum of {limit}s",
               expected=f"every window <= max_revocation_window_seconds = {limit}",
               actual=", ".join(f"{k}: {v}s" for k, v in windows.items()))


@scenario(
    id="LOG-STRICT-IMMEDIATE",
    family=FAMILY,
    title="Signed-out devices' access tokens are refused at once (app logout and admin global sign-out)",
    severity="MUST",
    profile="strict",
    requirements=["OWASP ASVS 4.0.3 V3.3.1", "OWASP ASVS 5.0 V7.4.1", "RFC 9700 §4.14.2",
                  "Cognito docs: AdminUserGlobalSignOut, GetUser (revoked access tokens)"],
    remediation="Check each access token with the pool (GetUser returns NotAuthorized for revoked tokens) or keep "
                "a shared deny-list fed by the pool's sign-out events; local JWT verification alone cannot see a "
                "sign-out made elsewhere.",
    needs=["logout", "protected"],
)
def strict_immediate(ctx: ScenarioContext) -> None:
    """Logout on A through the app, then an administrator signs the user out everywhere (outside the app)."""
    user, (a, b, c) = _devices(ctx, 3)
    _logout(ctx, user, a, "A")
    ctx.expect_denied(ctx.call("protected", token=ctx.presented_token(a), title="device A after logout"),
                      "device A's access token must be refused as soon as it logged out")
    ctx.api("AdminUserGlobalSignOut", Username=user.username)
    for name, t in (("B", b), ("C", c)):
        ctx.expect_denied(ctx.call("protected", token=ctx.presented_token(t),
                                   title=f"device {name} after an admin global sign-out"),
                          f"device {name}'s access token must be refused at once after a global sign-out")
