"""Expiry: access tokens stop working when they expire, refresh carries a session past that, and
the refresh token's own validity ends the session.

The app judges exp by its own (real) clock, so tokens the app must judge are
issued by the pool with its virtual clock moved back: their exp lands just
before or after the real now. The pool's own rules (refresh-token validity)
are exercised by moving its virtual clock forward. No check sleeps.
"""

from __future__ import annotations

from harness.scenario import ScenarioContext, claims_of, scenario
from scenarios._app_refresh import (
    UNIT_SECONDS,
    client_config,
    refresh_validity_seconds,
    refreshed,
    refused,
    signed_in_at,
    working_session,
)

FAMILY = "expiry"


def _access_lifetime(ctx: ScenarioContext) -> int:
    """The app client's access-token lifetime in seconds (AccessTokenValidity, default 60 minutes)."""
    client = client_config(ctx)
    unit = (client.get("TokenValidityUnits") or {}).get("AccessToken", "minutes")
    return int(client.get("AccessTokenValidity") or 60) * UNIT_SECONDS[unit]


def _expired_by(ctx: ScenarioContext, token: str) -> int:
    return int(ctx.now() - claims_of(token)["exp"])


@scenario(
    id="EXP-ISSUED-PAST",
    family=FAMILY,
    title="Tokens the pool issued long ago (exp passed beyond the skew) are refused",
    requirements=["RFC 7519 §4.1.4", "OWASP ASVS 5.0 V9.2.1", "OWASP WSTG-SESS-10 (expired tokens)",
                  "FAPI1 client test invalid-expired-exp"],
    remediation="Check exp on every request (PyJWT does unless verify_exp is off) with a leeway of seconds; "
                "an hour-old Cognito access token is dead.",
    needs=["protected"],
    control_plane="virtual clock",
)
def issued_in_the_past(ctx: ScenarioContext) -> None:
    """The pool's clock goes back past the token lifetime: a real sign-in yields an already expired token."""
    user = ctx.user()
    ctx.accepted_control(ctx.presented_token(ctx.sign_in(user)))
    lifetime = _access_lifetime(ctx)
    old = signed_in_at(ctx, user, lifetime + ctx.spec.limits.clock_skew_seconds + 600)
    token = ctx.presented_token(old)
    response = ctx.call("protected", token=token, title=f"token that expired {_expired_by(ctx, token)}s ago")
    ctx.expect_denied(response, f"a token that expired {_expired_by(ctx, token)}s ago must be refused")


@scenario(
    id="EXP-BOUNDARY",
    family=FAMILY,
    title="A token with seconds left is accepted; the same user's token past exp plus the skew is refused",
    requirements=["RFC 7519 §4.1.4", "OWASP ASVS 5.0 V9.2.1", "jwt_tool playbook (wait for expiry, retry)"],
    remediation="Compare exp with the server's clock on every request with a small leeway (at most [limits] "
                "clock_skew_seconds); do not cache 'valid' verdicts beyond the token's exp.",
    needs=["protected"],
    control_plane="virtual clock",
)
def about_to_expire(ctx: ScenarioContext) -> None:
    user = ctx.user()
    lifetime = _access_lifetime(ctx)
    skew = ctx.spec.limits.clock_skew_seconds
    closing = ctx.presented_token(signed_in_at(ctx, user, lifetime - 20))
    ctx.expect_allowed(ctx.call("protected", token=closing, title="token with 20 s left"),
                       "a token that expires in 20 s is still valid")
    lapsed = ctx.presented_token(signed_in_at(ctx, user, lifetime + skew + 5))
    ctx.expect_denied(ctx.call("protected", token=lapsed, title=f"token expired {skew + 5}s ago"),
                      f"a token whose exp passed {skew + 5}s ago (allowed skew {skew}s) must be refused")


@scenario(
    id="EXP-REFRESH-AFTER",
    family=FAMILY,
    title="After the access token expires, the app's refresh yields a token the app accepts",
    requirements=["RFC 6749 §6", "OIDF oidcc-client-test-refresh-token", "Cognito docs: refresh token"],
    remediation="Let the refresh endpoint work with only the refresh token (an expired access token alongside "
                "must not block it) and hand back the new access token.",
    needs=["protected", "refresh"],
    control_plane="virtual clock",
)
def refresh_after_expiry(ctx: ScenarioContext) -> None:
    user = ctx.user()
    stale = signed_in_at(ctx, user, _access_lifetime(ctx) + ctx.spec.limits.clock_skew_seconds + 60)
    gone = ctx.call("protected", token=stale.access_token, title="the expired access token (EXP-ISSUED-PAST judges it)")
    ctx.note("the expired access token", status=gone.status, refused=gone.denied)
    fresh = refreshed(ctx, user, stale, "the access token expired, the refresh token is good")
    ctx.expect_allowed(ctx.call("protected", token=ctx.presented_token(fresh), title="the refreshed access token"),
                       "the token from the refresh must be accepted")


@scenario(
    id="EXP-REFRESH-END",
    family=FAMILY,
    title="When the refresh token's validity ends, the app's refresh refuses it with a clean 401",
    requirements=["OWASP ASVS 5.0 V10.4.8 (absolute refresh-token expiry)", "RFC 9700 §4.14.2",
                  "Cognito docs: RefreshTokenValidity"],
    remediation="Always ask the pool to refresh (never serve cached tokens for a refresh token) and map "
                "NotAuthorizedException 'Refresh Token has expired' to a 401 that sends the user to sign in.",
    needs=["refresh"],
    control_plane="virtual clock",
)
def refresh_token_end(ctx: ScenarioContext) -> None:
    user = ctx.user()
    tokens = working_session(ctx, user, ctx.sign_in(user))
    validity = refresh_validity_seconds(ctx)
    ctx.advance(validity + 60)
    refused(ctx, user, str(tokens.refresh_token), tokens.access_token,
            f"a refresh token past its validity ({validity // 86400 or validity} "
            f"{'days' if validity >= 86400 else 's'} + 60 s)")
