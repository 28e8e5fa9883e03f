"""Helpers of the triggers family: which triggers the pool runs, faults on them, the app's roles and challenges.

Whether a pool has a trigger is read from its LambdaConfig (DescribeUserPool),
so the checks that need no fault run on any backend whose pool calls the
app's functions; the invocations themselves (what each function saw and
answered) are evidence wherever the emulator's control plane is there.
"""

from __future__ import annotations

import re
from typing import Any

from botocore.exceptions import ClientError

from harness.scenario import HarnessError, ScenarioContext, TargetResponse, TestUser, Tokens, claims_of

JWT_RE = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*")
LAMBDA_CONFIG_KEYS = {"PreTokenGeneration": ("PreTokenGeneration", "PreTokenGenerationConfig")}


def require_trigger(ctx: ScenarioContext, trigger: str, why: str) -> None:
    """SKIP unless the pool's LambdaConfig names a function for ``trigger`` (the check tests what it does)."""
    config = ctx.raw_api("DescribeUserPool", UserPoolId=ctx.pool.pool_id)["UserPool"].get("LambdaConfig") or {}
    keys = LAMBDA_CONFIG_KEYS.get(trigger, (trigger,))
    found = {k: config[k] for k in keys if config.get(k)}
    ctx.note(f"the pool's LambdaConfig for {trigger}", found=found or None)
    if not found:
        ctx.skip(f"the pool runs no {trigger} trigger ({why}); bind the app's function with [triggers.{trigger}] "
                 "in the target spec")


def arm_trigger_fault(ctx: ScenarioContext, kind: str, trigger: str, *, message: str | None = None,
                      count: int | None = None) -> None:
    """Make the pool's ``trigger`` fail on cue (trigger_error / trigger_timeout / trigger_garbage)."""
    control = ctx.require_control_plane("fault injection")
    extra: dict[str, Any] = {"trigger": trigger, **({"message": message} if message else {})}
    with ctx.step(f"arm fault {kind} on the {trigger} trigger" + (f" x{count}" if count else "")):
        try:
            fault = control.arm_fault(kind, count=count, **extra)
        except TypeError:  # a control plane without trigger faults
            ctx.skip(f"this emulator cannot make a trigger fail on cue (fault {kind})")
        ctx.note("fault armed", **fault)


def carried_tokens(response: TargetResponse) -> list[str]:
    """Where an answer carries a token: the spec's token pointers (or cookies), or any JWT in its body."""
    found = [kind for kind in ("access_token", "id_token", "refresh_token") if response.token(kind)]
    if JWT_RE.search(response.text or ""):
        found.append("a JWT in the body")
    return found


def pool_user_exists(ctx: ScenarioContext, username: str) -> bool:
    """Whether the pool holds ``username`` (AdminGetUser), noted as evidence."""
    try:
        user = ctx.raw_api("AdminGetUser", UserPoolId=ctx.pool.pool_id, Username=username)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "UserNotFoundException":
            ctx.note(f"the pool has no user {username}")
            return False
        raise
    ctx.note(f"the pool holds {username}", status=user.get("UserStatus"), enabled=user.get("Enabled"))
    return True


def grant_role(ctx: ScenarioContext, user: TestUser, tenant: str, role: str) -> None:
    """Write ``user``'s role in ``tenant`` into the app's own store (its back office), where its pre token
    generation trigger reads it; a refusal is an ERROR (the setup is broken)."""
    response = ctx.call("tenant_role_grant", user=user, tenant=tenant, role=role,
                        title=f"app's store: {user.username} is {role} of {tenant}")
    if not response.allowed:
        raise HarnessError(f"the app's tenant_role_grant refused to make {user.username} {role} of {tenant} "
                           f"({response.summary()})")


def token_claims_note(ctx: ScenarioContext, tokens: Tokens, label: str, *names: str) -> None:
    """The tenancy claims each token carries (what the trigger put there), as evidence."""
    seen = {kind: {n: claims_of(t).get(n) for n in names} for kind, t in (("access", tokens.access_token),
                                                                          ("id", tokens.id_token)) if t}
    ctx.note(f"tenancy claims of {label}", **seen)


def challenge_of(response: TargetResponse) -> tuple[str | None, str | None]:
    """(challenge name, session) an answer of the app's custom login carries, at the spec's pointers."""
    spec = response.spec
    name = response.pointer(spec.challenge) if spec.challenge else None
    session = response.pointer(spec.challenge_session) if spec.challenge_session else None
    return (name if isinstance(name, str) and name else None), (session if isinstance(session, str) else None)


__all__ = ["arm_trigger_fault", "carried_tokens", "challenge_of", "grant_role", "pool_user_exists",
           "require_trigger", "token_claims_note"]
