"""Helpers the session families share (logout, federation, email, tenancy, lockout).

Devices sign in through the app's own login endpoint when the spec has one
(that is how real devices get their tokens), else straight at the pool.
Refresh-token checks ask the pool directly: whether a refresh token still
works is a fact of the pool (and proves what the app did at its logout), and
it keeps these families independent of the app's refresh endpoint, which the
refresh family tests.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from harness.scenario import (
    HarnessError,
    Probe,
    ScenarioContext,
    TargetResponse,
    TestUser,
    Tokens,
    Window,
    claims_of,
)


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
            result = ctx.raw_api("GetTokensFromRefreshToken", **params)
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


@dataclass
class Probed:
    """One token whose exposure is measured: which request presents it, with which template values."""

    label: str
    token: str
    request: str = "protected"
    values: dict[str, Any] = field(default_factory=dict)


@dataclass
class Exposure:
    """How long a revoked token stayed usable at the app: what re-probing saw, and what its exp allows."""

    label: str
    window: Window
    remaining: int  # seconds its exp still allowed when the probing began

    @property
    def seconds(self) -> float:
        """The window to judge: when the app was seen refusing it; if it never was, until its exp (nothing
        seen says it would be refused earlier, so that is the only safe assumption)."""
        if self.window.at_once:
            return 0.0
        if self.window.closed:
            return round(self.window.seconds, 1)
        return float(max(self.remaining, round(self.window.seconds, 1)))

    def describe(self) -> str:
        if self.window.at_once:
            return "refused at once"
        if self.window.closed:
            return f"accepted, then refused after {self.window.seconds:.1f} s ({len(self.window.probes)} probes)"
        return f"{self.still_accepted()}; by its exp it stays valid {self.remaining} s"

    def still_accepted(self) -> str:
        if len(self.window.probes) <= 1:
            return "accepted at the one probe (the bound left no time to re-probe)"
        return f"still accepted after {self.window.seconds:.1f} s of probing ({len(self.window.probes)} probes)"


def measure_exposures(ctx: ScenarioContext, title: str, tokens: list[Probed], bound: float) -> list[Exposure]:
    """Re-probe every token (all in one round, with backoff) until the app refuses each, or ``bound`` s pass.

    A 5xx instead of a refusal FAILs at once. The windows are measured on the
    real clock: an app that caches its revocation check for a few seconds is
    seen closing the window; one still accepting at the bound is reported as
    such ("still accepted after N s"), never as "accepted until exp".
    """
    left = {t.label: t for t in tokens}
    seen: dict[str, list[Probe]] = {t.label: [] for t in tokens}
    lifetimes = {t.label: remaining(ctx, t.token) for t in tokens}
    started = time.monotonic()

    def probe() -> tuple[bool, str]:
        at = time.monotonic() - started
        for label, t in list(left.items()):
            response = ctx.call(t.request, token=t.token, title=f"{label}: still accepted? (+{at:.1f} s)",
                                **t.values)
            if response.server_error:
                ctx.fail(f"{label}: the app crashed (5xx) instead of refusing", expected="401/403",
                         actual=response.summary())
            seen[label].append(Probe(at=at, closed=not response.allowed, seen=f"HTTP {response.status}"))
            if not response.allowed:
                del left[label]
        return not left, f"{len(left)} of {len(tokens)} still accepted"

    overall = ctx.measure_window(title, probe, bound)
    out = []
    for t in tokens:
        probes = seen[t.label]
        closed = bool(probes) and probes[-1].closed
        window = Window(closed=closed, seconds=probes[-1].at if closed else overall.seconds, bound=bound,
                        probes=probes)
        exposure = Exposure(t.label, window, lifetimes[t.label])
        ctx.note(f"exposure window of {t.label}: {exposure.describe()}", window_seconds=exposure.seconds,
                 measured=window.to_dict(), token_lifetime_left=exposure.remaining)
        out.append(exposure)
    return out


def probe_bound(ctx: ScenarioContext, tokens: list[Probed], limit: int) -> float:
    """How long to re-probe: [limits] revocation_cache_seconds, never past the declared window (a longer
    window fails anyway), and not at all when the declared window covers every token's remaining life."""
    if all(remaining(ctx, t.token) <= limit for t in tokens):
        return 0.0
    return float(min(ctx.spec.limits.revocation_cache_seconds, limit))


def judge_exposures(ctx: ScenarioContext, exposures: list[Exposure], limit: int, key: str) -> None:
    """FAIL when a window is longer than the declared ``limit`` ([limits] ``key``), stating both numbers."""
    worst = max(exposures, key=lambda e: e.seconds)
    ctx.note("exposure windows (seconds)", windows={e.label: e.seconds for e in exposures}, limit=limit)
    if worst.seconds <= limit:
        return
    if worst.window.closed:
        message = (f"{worst.label}: the access token stayed usable for {worst.seconds:g} s, more than the "
                   f"declared maximum of {limit} s")
    else:
        message = (f"{worst.label}: the access token is {worst.still_accepted()}; the only safe assumption is "
                   f"until its exp, {worst.remaining} s, more than the declared maximum of {limit} s")
    ctx.fail(message, expected=f"every window <= [limits] {key} = {limit} s",
             actual="; ".join(f"{e.label}: {e.describe()}" for e in exposures))


def measured_window(ctx: ScenarioContext, title: str, tokens: list[Probed], limit: int, key: str) -> None:
    """Measure every token's exposure (bounded by probe_bound) and judge it against ``limit``."""
    judge_exposures(ctx, measure_exposures(ctx, title, tokens, probe_bound(ctx, tokens, limit)), limit, key)


def refused_at_once(ctx: ScenarioContext, tokens: list[Probed], because: str) -> None:
    """Strict: each token must be refused at the first request (no re-probing, no cache allowance)."""
    for t in tokens:
        ctx.expect_denied(ctx.call(t.request, token=t.token, title=f"{t.label}: refused at once?", **t.values),
                          f"{t.label}: {because}")


def accepted_now(ctx: ScenarioContext, token: str, request: str, label: str, **values: Any) -> bool:
    """One look, for evidence only (another check judges the window): is the token accepted right now?"""
    response = ctx.call(request, token=token, title=f"{label}: accepted right now?", **values)
    ctx.note(f"{label}: " + ("accepted at this one probe (not re-probed)" if response.allowed else "refused"),
             status=response.status, token_lifetime_left=remaining(ctx, token))
    return response.allowed


def change_tenancy(ctx: ScenarioContext, user: TestUser, change: tuple[list[str], dict[str, str]], *,
                   joining: bool) -> None:
    """Apply a [tenancy] change at the pool: join (or leave) these groups, set these attributes."""
    groups, attributes = change
    for group in groups:
        if joining:
            ctx.ensure_group(group)
        ctx.api("AdminAddUserToGroup" if joining else "AdminRemoveUserFromGroup", Username=user.username,
                GroupName=group)
    if attributes:
        ctx.api("AdminUpdateUserAttributes", Username=user.username,
                UserAttributes=[{"Name": k, "Value": v} for k, v in attributes.items()])


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


def mailbox_code(ctx: ScenarioContext, user: TestUser, purpose: str | None = None) -> str:
    """The newest code the pool delivered to ``user`` by email or SMS, whichever the pool's shape sends
    (an ERROR when there is none: the setup is broken)."""
    control = ctx.require_control_plane("mailbox")
    contacts = " or ".join(user.contacts())
    with ctx.step(f"read the code sent to {contacts} from the mailbox"):
        sent = [m for to in user.contacts() for m in control.messages(to=to, purpose=purpose) if m.get("code")]
        latest = max(sent, key=lambda m: m["id"]) if sent else None
        ctx.note("mailbox", to=latest["to"] if latest else contacts, channel=latest["channel"] if latest else None,
                 purpose=purpose, found=latest is not None)
        if latest is None:
            raise HarnessError(f"no {purpose or ''} code was delivered to {contacts}".replace("  ", " "))
        return str(latest["code"])


def arm(ctx: ScenarioContext, kind: str, operation: str | None = None, count: int | None = None) -> None:
    control = ctx.require_control_plane("fault injection")
    with ctx.step(f"arm fault {kind}" + (f" on {operation}" if operation else "") + (f" x{count}" if count else "")):
        ctx.note("fault armed", **control.arm_fault(kind, operation=operation, count=count))


def disarm(ctx: ScenarioContext) -> None:
    control = ctx.require_control_plane("fault injection")
    with ctx.step("clear every fault"):
        ctx.note("faults cleared", count=control.clear_faults())


__all__ = ["Exposure", "Probed", "accepted_now", "arm", "change_tenancy", "clean_error", "device", "disarm",
           "error_code", "judge_exposures", "mailbox_code", "measure_exposures", "measured_window", "pool_refresh",
           "probe_bound", "refused_at_once", "remaining"]
