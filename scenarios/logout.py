"""Logout across devices: one device's logout ends that device only; sign-out everywhere ends all.

Several devices of one user sign in (through the app's login when it has one).
The emulator's ``token.revoked`` events prove what the app asked of the pool
(RevokeToken for one device, GlobalSignOut for all); the pool's refusal to
refresh proves the sessions are over, on any backend (a foreign one has no
events, and must implement Cognito's sign-out operations: the app calls them). Access tokens are self-contained JWTs:
a signed-out device's access token keeps verifying until it expires unless
the app remembers the sign-out (local deny-list by ``origin_jti``) or asks the
pool. Baseline measures that exposure window in real time (re-probing up to
``[limits] revocation_cache_seconds``) against the spec's
``[limits] max_revocation_window_seconds``; strict requires zero.

A pure resource server (no logout endpoint) is tested the same way: the pool
itself ends the session (GlobalSignOut from another device,
AdminUserGlobalSignOut, RevokeToken of the refresh token, AdminDisableUser,
AdminDeleteUser) and the checks measure how long the app keeps accepting the
access token, judged by ``[limits] max_pool_revocation_window_seconds``.
"""

from __future__ import annotations

from harness.scenario import ScenarioContext, TestUser, Tokens, claims_of, scenario
from scenarios._sessions import Probed, device, measured_window, pool_refresh, refused_at_once

FAMILY = "logout"
REVOKED = "token.revoked"


def _devices(ctx: ScenarioContext, count: int) -> tuple[TestUser, list[Tokens]]:
    user = ctx.user()
    tokens = [device(ctx, user, f"device {name}") for name in "ABC"[:count]]
    for name, t in zip("ABC", tokens):
        ctx.accepted_control(ctx.presented_token(t), f"positive control: device {name}'s token is accepted")
    return user, tokens


SIGN_OUT_OPERATIONS = ("RevokeToken", "GlobalSignOut")  # what the app's logouts call at the pool


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


def _only_a_revoked(ctx: ScenarioContext, a: Tokens, b: Tokens, mark: int) -> None:
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


def _all_revoked(ctx: ScenarioContext, devices: list[Tokens], mark: int) -> None:
    with ctx.step("the pool saw every session revoked"):
        revoked = {e["data"].get("origin_jti") for e in ctx.events(REVOKED, since=mark)}
        missing = [name for name, t in zip("ABC", devices) if _origin(t) not in revoked]
        ctx.expect(not missing, f"sign-out everywhere left device(s) {', '.join(missing)} signed in at the pool",
                   expected="token.revoked for the sessions of A, B and C (GlobalSignOut)",
                   actual=f"{len(revoked)} session(s) revoked")


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
    control_plane=False,
)
def device_logout(ctx: ScenarioContext) -> None:
    """Devices A and B; logout on A: a RevokeToken event for A's session (on the emulator), A cannot refresh, B
    can."""
    ctx.require_operations(*SIGN_OUT_OPERATIONS, "GetTokensFromRefreshToken")
    user, (a, b) = _devices(ctx, 2)
    mark = ctx.mark()
    _logout(ctx, user, a, "A")
    if ctx.control is not None:  # the emulator's events name what the app asked of the pool
        _only_a_revoked(ctx, a, b, mark)
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
    control_plane=False,
)
def logout_everywhere(ctx: ScenarioContext) -> None:
    """Devices A, B and C; sign-out everywhere from A: every session revoked (the emulator's events), no device
    can refresh."""
    ctx.require_operations(*SIGN_OUT_OPERATIONS, "GetTokensFromRefreshToken")
    user, devices = _devices(ctx, 3)
    mark = ctx.mark()
    _logout_all(ctx, user, devices[0], "A")
    if ctx.control is not None:  # the emulator's events name what the app asked of the pool
        _all_revoked(ctx, devices, mark)
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
    control_plane=False,
)
def access_window(ctx: ScenarioContext) -> None:
    """After logout (user 1, device A) and sign-out everywhere (user 2, devices B and C), how long do their
    access tokens still work? Measured by re-probing (an app may cache its revocation check for
    [limits] revocation_cache_seconds); a token still accepted at the bound counts until its exp."""
    ctx.require_operations(*SIGN_OUT_OPERATIONS)
    limit = ctx.spec.limits.max_revocation_window_seconds
    user, (a,) = _devices(ctx, 1)
    _logout(ctx, user, a, "A")
    other, (b, c) = _devices(ctx, 2)  # another user, so A's logout cannot have touched B and C
    _logout_all(ctx, other, b, "B")
    measured_window(ctx, "signed-out devices' access tokens", [
        Probed("device A after logout", ctx.presented_token(a)),
        Probed("device B after sign-out everywhere", ctx.presented_token(b)),
        Probed("device C after sign-out everywhere", ctx.presented_token(c)),
    ], limit, "max_revocation_window_seconds")


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
    control_plane=False,
)
def strict_immediate(ctx: ScenarioContext) -> None:
    """Logout on A through the app, then an administrator signs the user out everywhere (outside the app)."""
    ctx.require_operations(*SIGN_OUT_OPERATIONS, "AdminUserGlobalSignOut")
    user, (a, b, c) = _devices(ctx, 3)
    _logout(ctx, user, a, "A")
    ctx.expect_denied(ctx.call("protected", token=ctx.presented_token(a), title="device A after logout"),
                      "device A's access token must be refused as soon as it logged out")
    ctx.api("AdminUserGlobalSignOut", Username=user.username)
    for name, t in (("B", b), ("C", c)):
        ctx.expect_denied(ctx.call("protected", token=ctx.presented_token(t),
                                   title=f"device {name} after an admin global sign-out"),
                          f"device {name}'s access token must be refused at once after a global sign-out")


def _signed_out_at_pool(ctx: ScenarioContext) -> list[Probed]:
    """Five users, each signed in at the pool (accepted by the app), each session then ended by the pool itself."""
    ctx.require_operations(*SIGN_OUT_OPERATIONS, "AdminUserGlobalSignOut")
    ended: list[Probed] = []

    def signed_in(what: str) -> tuple[TestUser, Tokens]:
        user = ctx.user()
        tokens = ctx.sign_in(user)
        ctx.accepted_control(ctx.presented_token(tokens), f"positive control: {what}: the token is accepted")
        return user, tokens

    user, tokens = signed_in("GlobalSignOut")
    other_device = ctx.sign_in(user)
    ctx.api("GlobalSignOut", AccessToken=other_device.access_token)
    ended.append(Probed("after the user's GlobalSignOut from another device", ctx.presented_token(tokens)))
    user, tokens = signed_in("AdminUserGlobalSignOut")
    ctx.api("AdminUserGlobalSignOut", Username=user.username)
    ended.append(Probed("after AdminUserGlobalSignOut", ctx.presented_token(tokens)))
    _, tokens = signed_in("RevokeToken")
    params = {"Token": str(tokens.refresh_token), "ClientId": ctx.pool.client_id}
    if ctx.pool.client_secret:
        params["ClientSecret"] = ctx.pool.client_secret
    ctx.api("RevokeToken", **params)
    ended.append(Probed("after RevokeToken of its refresh token", ctx.presented_token(tokens)))
    for operation, what in (("AdminDisableUser", "disabled"), ("AdminDeleteUser", "deleted")):
        user, tokens = signed_in(operation)
        ctx.api(operation, Username=user.username)
        ended.append(Probed(f"of a {what} user", ctx.presented_token(tokens)))
    return ended


POOL_REVOCATION_REFS = ["OWASP ASVS 5.0 V7.4.1, V7.4.2", "RFC 9700 §4.14.2", "RFC 7009 §2",
                        "Cognito docs: GlobalSignOut, AdminUserGlobalSignOut, RevokeToken, AdminDisableUser, "
                        "AdminDeleteUser", "aws-jwt-verify #151 (local verification accepts revoked tokens)"]


@scenario(
    id="LOG-POOL-REVOKE-WINDOW",
    family=FAMILY,
    title="After the pool ends a session (sign-out, RevokeToken, disable, delete), the app stops accepting its "
          "access token within the declared window",
    severity="MUST",
    profile="baseline",
    requirements=POOL_REVOCATION_REFS,
    remediation="Keep access tokens no longer-lived than the window you declare, or check tokens with the pool "
                "(GetUser) and cache that answer for at most [limits] revocation_cache_seconds.",
    needs=["protected"],
    control_plane=False,
)
def pool_revocation_window(ctx: ScenarioContext) -> None:
    """MUST in baseline: a stolen token outliving a sign-out is what an attacker uses without any key, so the
    window is bounded; by what the spec declares ([limits] max_pool_revocation_window_seconds, default the
    logout window), which a resource server verifying locally meets by its access-token lifetime. Works on a
    pure resource server: only the protected request is needed."""
    measured_window(ctx, "access tokens of sessions ended at the pool", _signed_out_at_pool(ctx),
                    ctx.spec.limits.pool_revocation_window, "max_pool_revocation_window_seconds")


@scenario(
    id="LOG-POOL-REVOKE-STRICT",
    family=FAMILY,
    title="After the pool ends a session (sign-out, RevokeToken, disable, delete), its access token is refused "
          "at once",
    severity="SHOULD",
    profile="strict",
    requirements=[*POOL_REVOCATION_REFS, "rp-test-catalog §6.B (lifecycle)"],
    remediation="Check each access token with the pool (GetUser answers NotAuthorizedException for revoked "
                "tokens and disabled or deleted users) instead of trusting the signature alone.",
    needs=["protected"],
    control_plane=False,
)
def pool_revocation_strict(ctx: ScenarioContext) -> None:
    """SHOULD (strict): refusing at once needs a pool call per request, defence in depth beyond the bounded
    window that LOG-POOL-REVOKE-WINDOW demands; a locally verifying library cannot see it."""
    refused_at_once(ctx, _signed_out_at_pool(ctx), "the pool ended this session, the token must be refused at once")
