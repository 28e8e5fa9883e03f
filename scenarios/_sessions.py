"""Helpers the session families share (logout, federation, email, tenancy, lockout).

Devices sign in through the app's own login endpoint when the spec has one
(that is how real devices get their tokens), else straight at the pool.
Refresh-token checks ask the pool directly: whether a refresh token still
works is a fact of the pool (and proves what the app did at its logout), and
it keeps these families independent of the app's refresh endpoint, which the
refresh family tests.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from harness.runner.context import ScenarioContext, TestUser, Tokens, claims_of
from harness.runner.target import HarnessError, TargetResponse


def device(ctx: ScenarioContext, user: TestUser, name: str, *, checked: str | None = None) -> Tokens:
    """One device's sign-in: through the app's login endpoint when it has one.

    A refusal is an ERROR (the setup is broken), or a FAIL with ``checked`` as
    the message when the sign-in working is what the scenario checks.
    """
    if not ctx.spec.has("login"):
        with ctx.step(f"{name} signs in at the pool"):
            return ctx.sign_in(user)
    response = ctx.call("login", user=user, title=f"{name} signs in through the app")
    if not response.allowed:
        if checked:
            ctx.fail(checked, expected="the app's login succeeds", actual=response.summary())
        raise HarnessError(f"{name}: the app's login refused a valid user ({response.summary()})")
    access, id_token, refresh = response.token("access_token"), response.token("id_token"), \
        response.token("refresh_token")
    if not access or not refresh:
        raise HarnessError(f"{name}: the app's login returned no access/refresh token "
                           "(check [requests.login] access_token/refresh_token pointers)")
    ctx.token_evidence(access, f"{name}: access token")
    return Tokens(access, id_token or "", refresh)


def pool_refresh(ctx: ScenarioContext, tokens: Tokens, label: str) -> Tokens | None:
    """Refresh at the pool; the new tokens, or None when the pool refuses (revoked, disabled...)."""
    params: dict[str, Any] = {"ClientId": ctx.pool.client_id, "RefreshToken": tokens.refresh_token}
    if ctx.pool.client_secret:
        params["ClientSecret"] = ctx.pool.client_secret
    with ctx.step(f"pool: refresh {label}"):
        try:
            result = ctx._idp("GetTokensFromRefreshToken", **params)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            ctx.note(f"refresh of {label} refused by the pool", code=error.get("Code"), message=error.get("Message"))
            return None
        auth = result["AuthenticationResult"]
        fresh = Tokens(auth["AccessToken"], auth["IdToken"], auth.get("RefreshToken") or tokens.refresh_token)
        ctx.token_evidence(fresh.access_token, f"refreshed access token of {label}")
        return fresh


def remaining(ctx: ScenarioContext, token: str) -> int:
    """Seconds the token stays valid by its exp (the exposure window if the app keeps accepting it)."""
    return max(0, int(claims_of(token).get("exp", 0) - ctx.now()))


def exposure(ctx: ScenarioContext, token: str, request: str, label: str, **values: Any) -> int:
    """0 when the app refuses the token now; else the token's remaining lifetime (recorded)."""
    response = ctx.call(request, token=token, title=f"{label}: is the token still accepted?", **values)
    if response.server_error:
        ctx.fail(f"{label}: the app crashed (5xx) instead of refusing", expected="401/403",
                 actual=response.summary())
    window = 0 if response.denied or not response.allowed else remaining(ctx, token)
    ctx.note(f"exposure window of {label}", accepted=response.allowed, window_seconds=window,
             status=response.status)
    return window


def error_code(response: TargetResponse) -> str:
    """The app's error identifier: JSON error/code/error_code member, else empty."""
    body = response.json if isinstance(response.json, dict) else {}
    for key in ("error", "code", "error_code", "type"):
        value = body.get(key)
        if isinstance(value, str):
            return value
    return ""


def clean_error(ctx: ScenarioContext, response: TargetResponse, because: str) -> None:
    """A refusal that reads well: not a 5xx other than 503, no stack trace in the body."""
    trace = "Traceback (most recent call last)" in response.text or "File \"/" in response.text
    if (response.server_error and response.status != 503) or trace:
        ctx.fail(f"{because}: the app answered with a server error" + (" and a stack trace" if trace else ""),
                 expected="a clear 4xx or 503 with a message", actual=response.summary())




def mailbox_code(ctx: ScenarioContext, email: str, purpose: str | None = None) -> str:
    """The newest code the pool delivered to ``email`` (an ERROR when there is none: the setup is broken)."""
    control = ctx.require_control_plane("reading the mailbox")
    with ctx.step(f"read the code sent to {email} from the mailbox"):
        code = control.latest_code(email, purpose)
        ctx.note("mailbox", to=email, purpose=purpose, found=code is not None)
        if not code:
            raise HarnessError(f"no {purpose or ''} code was delivered to {email}".replace("  ", " "))
        return code


def arm(ctx: ScenarioContext, kind: str, operation: str | None = None, count: int | None = None) -> None:
    control = ctx.require_control_plane("arming a fault")
    with ctx.step(f"arm fault {kind}" + (f" on {operation}" if operation else "") + (f" x{count}" if count else "")):
        ctx.note("fault armed", **control.arm_fault(kind, operation=operation, count=count))


def disarm(ctx: ScenarioContext) -> None:
    control = ctx.require_control_plane("clearing faults")
    with ctx.step("clear every fault"):
        ctx.note("faults cleared", count=control.clear_faults())


__all__ = ["arm", "clean_error", "device", "disarm", "error_code", "exposure", "mailbox_code", "pool_refresh",
           "remaining"]
