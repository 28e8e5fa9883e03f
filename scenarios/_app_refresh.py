"""Helpers the expiry and refresh families share: the app's own refresh endpoint, the pool's clock.

A refresh goes through the app's [requests.refresh] (that is what a client
does), carrying the caller's current access token the way a browser would
(an expired one when that is the point). A refusal must be one of the spec's
denied codes (401 for the reference app), never a 5xx.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from harness.scenario import HarnessError, ScenarioContext, TargetResponse, TestUser, Tokens

DAY = 86400
UNIT_SECONDS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": DAY}


def credential(ctx: ScenarioContext, token: str) -> str:
    """The [auth] credential value for ``token`` (scheme included for a header)."""
    auth = ctx.spec.auth
    return f"{auth.scheme} {token}".strip() if auth.location == "header" else token


def app_refresh(ctx: ScenarioContext, user: TestUser, refresh_token: str, access_token: str | None,
                title: str) -> TargetResponse:
    """POST the spec's refresh request with ``refresh_token`` (and the access token alongside)."""
    authorization = credential(ctx, access_token) if access_token else None
    return ctx.call("refresh", user=user, refresh_token=refresh_token, authorization=authorization, title=title)


def tokens_from(ctx: ScenarioContext, response: TargetResponse, previous: Tokens) -> Tokens:
    """The tokens a successful app refresh returned (refresh token kept when none is returned)."""
    access = response.token("access_token")
    if not access:
        raise HarnessError("the app's refresh answered without an access token (check [requests.refresh] "
                           f"access_token pointer): {response.summary()}")
    fresh = Tokens(access, response.token("id_token") or "", response.token("refresh_token") or previous.refresh_token)
    ctx.token_evidence(fresh.access_token, "access token from the app's refresh")
    return fresh


def refreshed(ctx: ScenarioContext, user: TestUser, tokens: Tokens, because: str) -> Tokens:
    """A refresh through the app that must work; returns the new tokens."""
    response = app_refresh(ctx, user, str(tokens.refresh_token), tokens.access_token, f"app refresh: {because}")
    ctx.expect_allowed(response, f"the app's refresh must work: {because}")
    return tokens_from(ctx, response, tokens)


def working_session(ctx: ScenarioContext, user: TestUser, tokens: Tokens) -> Tokens:
    """Precondition of the refusal checks: the app's refresh works before the pool ends the session.

    A refusal here is an ERROR (the check cannot say anything; REF-CLAIMS-CURRENT
    and EXP-REFRESH-AFTER test refresh itself).
    """
    response = app_refresh(ctx, user, str(tokens.refresh_token), tokens.access_token,
                           "precondition: the app's refresh works while the session is good")
    if not response.allowed:
        raise HarnessError(f"the app's refresh refused a good refresh token ({response.summary()}); "
                           "see REF-CLAIMS-CURRENT / EXP-REFRESH-AFTER")
    return tokens_from(ctx, response, tokens)


def pool_refuses(ctx: ScenarioContext, refresh_token: str, what: str) -> None:
    """On a backend without the control plane, SKIP unless the pool itself refuses ``refresh_token`` for the
    app's client (InitiateAuth REFRESH_TOKEN_AUTH): an app that refreshes at the pool cannot be judged on a
    refusal the pool does not make (moto refreshes another client's token, and a disabled user's). The
    emulator refuses as Cognito does (its own tests hold it to that), so it is not asked."""
    if ctx.control is not None:
        return
    with ctx.step(f"precondition: the pool itself refuses {what}"):
        try:
            ctx.raw_api("InitiateAuth", ClientId=ctx.pool.client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                        AuthParameters={"REFRESH_TOKEN": refresh_token})
        except ClientError as exc:
            ctx.note("the pool refuses it", code=exc.response.get("Error", {}).get("Code"))
            return
        ctx.skip(f"backend {ctx.backend.name} still refreshes {what} itself (Cognito refuses it), so the app's "
                 "refusal cannot be judged there")


def refused(ctx: ScenarioContext, user: TestUser, refresh_token: str, access_token: str | None, what: str) -> None:
    """The app's refresh with ``refresh_token`` must be refused with a spec'd denial code (401), not a 5xx
    (on a foreign backend: where the pool itself refuses it, see :func:`pool_refuses`)."""
    pool_refuses(ctx, refresh_token, what)
    response = app_refresh(ctx, user, refresh_token, access_token, f"app refresh with {what}")
    ctx.expect_denied(response, f"the app's refresh must refuse {what} with a clean 401")


def client_config(ctx: ScenarioContext) -> dict[str, Any]:
    """The app client's configuration at the pool (DescribeUserPoolClient)."""
    return ctx.api("DescribeUserPoolClient", ClientId=ctx.pool.client_id)["UserPoolClient"]


def refresh_validity_seconds(ctx: ScenarioContext) -> int:
    """The app client's RefreshTokenValidity in seconds (default 30 days)."""
    client = client_config(ctx)
    unit = (client.get("TokenValidityUnits") or {}).get("RefreshToken", "days")
    return int(client.get("RefreshTokenValidity") or 30) * UNIT_SECONDS[unit]


def signed_in_at(ctx: ScenarioContext, user: TestUser, seconds_ago: float) -> Tokens:
    """Tokens the pool issued ``seconds_ago`` (its virtual clock goes back, then forward again)."""
    ctx.advance(-seconds_ago)
    try:
        return ctx.sign_in(user)
    finally:
        ctx.advance(seconds_ago)


__all__ = ["DAY", "UNIT_SECONDS", "app_refresh", "client_config", "credential", "pool_refuses",
           "refresh_validity_seconds", "refreshed", "refused",
           "signed_in_at", "tokens_from", "working_session"]
