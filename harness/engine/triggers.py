"""Lambda triggers: Cognito's event, its limits and its errors around whatever runs the function.

A pool's ``LambdaConfig`` names a Lambda ARN per trigger, as in Cognito. Where
that ARN runs is a binding in :class:`TriggerRegistry` (``backend.triggers``,
:mod:`harness.engine.functions.bindings`): the Lambda Invoke API at an endpoint
(SAM local, LocalStack), a Python or Node handler in the user's code, a
loopback URL or a Python callable. :func:`set_trigger` points a pool's trigger
at a binding in one step.

:func:`invoke` is the one door every trigger source uses. It builds Cognito's
event envelope, runs the function with the store lock set down (a trigger may
call back into the emulator: the usual PreSignUp auto-link calls
AdminLinkProviderForUser), and holds it to Cognito's limits: 5 seconds an
attempt, retried after a timeout or a throttle, three attempts in all
("If it doesn't and if the call can be retried, Amazon Cognito retries the
call. After three unsuccessful attempts, the function times out." -- Cognito
Developer Guide, Lambda triggers, things to know). Outcomes map to Cognito's three errors:

* the function failed -> UserLambdaValidationException "<Trigger> failed with error <message>.";
* it answered no JSON, or no ``response`` object -> InvalidLambdaResponseException;
* it could not be invoked, or timed out on every attempt -> UnexpectedLambdaException
  "<Trigger> invocation failed due to error <detail>." (a timeout's detail is "Socket timeout
  while invoking Lambda function", as users report it; an ARN nothing runs is AccessDeniedException,
  what Cognito says of a function it may not invoke, with how to bind one).

Armed trigger faults (``trigger_timeout``, ``trigger_error``, ``trigger_garbage``:
harness.engine.faults) stand in for an attempt. Every call is one event:
``trigger.invoked`` (event, response) or ``trigger.failed`` (event, error), both
with the binding kind, ``outcome``, ``duration_ms`` and each attempt's outcome;
``trigger.unbound`` for an ARN nothing runs.
"""

from __future__ import annotations

import copy
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.engine.events import FAULT_TRIGGERED, TRIGGER_FAILED, TRIGGER_INVOKED, TRIGGER_UNBOUND
from harness.engine.faults import Fault
from harness.engine.functions.bindings import Binding, Handler, TriggerRegistry, binding_kind
from harness.engine.functions.outcomes import (BadAnswer, FunctionFailed, FunctionThrottled, FunctionTimedOut,
                                               FunctionUnreachable, Invocation)
from harness.errors import CognitoError, Err

if TYPE_CHECKING:  # pragma: no cover
    from harness.engine.models import UserPool
    from harness.engine.store import Backend

TRIGGER_SOURCES = ("PreSignUp_SignUp", "PreSignUp_ExternalProvider", "PreSignUp_AdminCreateUser")
TRIGGER_NAMES = (
    "PreSignUp", "CustomMessage", "PostConfirmation", "PreAuthentication", "PostAuthentication",
    "DefineAuthChallenge", "CreateAuthChallenge", "VerifyAuthChallengeResponse", "PreTokenGeneration",
    "UserMigration", "CustomSMSSender", "CustomEmailSender",
)
"""The LambdaConfig members that name a function (``PreTokenGenerationConfig``, ``CustomSMSSender`` and
``CustomEmailSender`` hold it as ``LambdaArn``)."""
VERSIONED = {"PreTokenGeneration": ("PreTokenGenerationConfig", ("V1_0", "V2_0", "V3_0")),
             "CustomSMSSender": ("CustomSMSSender", ("V1_0",)),
             "CustomEmailSender": ("CustomEmailSender", ("V1_0",))}
"""Triggers whose LambdaConfig member is ``{LambdaArn, LambdaVersion}`` (PreTokenGeneration keeps its
plain ARN member too, as DescribeUserPool shows it)."""


@dataclass
class PreSignUpResponse:
    """What the trigger decided (Cognito's ``response`` object)."""

    auto_confirm_user: bool = False
    auto_verify_email: bool = False
    auto_verify_phone: bool = False
    invoked: bool = False  # False when the pool has no (bound) PreSignUp trigger


def trigger_arn(pool: UserPool, trigger: str) -> str:
    return f"arn:aws:lambda:{pool.region}:{pool.account_id}:function:harness-{pool.pool_id}-{trigger}"


def set_trigger(backend: Backend, pool_id: str, trigger: str, handler: Handler | str | Binding | None, *,
                arn: str | None = None, version: str | None = None, base: Path | None = None) -> str | None:
    """Point the pool's ``LambdaConfig[trigger]`` at a function and bind it; returns the ARN (None: removed).

    ``handler``: a binding (harness.engine.functions.bindings: ``lambda:URL``, ``python:module:function``,
    ``node:path/index.handler``, a loopback URL, a callable), or None to remove the trigger. ``arn``: the
    function's ARN (default: one the harness makes for this pool and trigger). ``version``: ``LambdaVersion``
    of PreTokenGeneration (V1_0, V2_0, V3_0) and the custom senders (V1_0). ValueError for a bad name.
    """
    if trigger not in TRIGGER_NAMES:
        raise ValueError(f"unsupported trigger {trigger!r}; expected one of {', '.join(TRIGGER_NAMES)}")
    if version is not None and version not in VERSIONED.get(trigger, ("", ()))[1]:
        allowed = VERSIONED.get(trigger, ("", ()))[1]
        raise ValueError(f"{trigger} has no LambdaVersion {version!r}"
                         + (f"; expected one of {', '.join(allowed)}" if allowed else " (it is not versioned)"))
    with backend.transaction():
        pool = backend.pool(pool_id)
        if handler is None:
            old = function_arn(pool, trigger)
            for member in {trigger, VERSIONED.get(trigger, (trigger,))[0]}:
                pool.lambda_config.pop(member, None)
            if old:
                backend.triggers.unbind(old)
            return None
        target = arn or trigger_arn(pool, trigger)
        backend.triggers.bind(target, handler, base)
        set_function_arn(pool, trigger, target, version)
        return target


def set_function_arn(pool: UserPool, trigger: str, arn: str, version: str | None = None) -> None:
    """Write ``arn`` into the pool's LambdaConfig the way Cognito holds that trigger."""
    member, versions = VERSIONED.get(trigger, (trigger, ()))
    if trigger == "PreTokenGeneration":
        pool.lambda_config["PreTokenGeneration"] = arn
    if versions:
        pool.lambda_config[member] = {"LambdaVersion": version or versions[0], "LambdaArn": arn}
    else:
        pool.lambda_config[trigger] = arn


def trigger_event(pool: UserPool, source: str, username: str, client_id: str | None,
                  request: dict[str, Any], response: dict[str, Any], version: str = "1") -> dict[str, Any]:
    """Cognito's event envelope around one source's ``request`` and default ``response``."""
    return {
        "version": version,
        "region": pool.region,
        "userPoolId": pool.pool_id,
        "userName": username,
        "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": client_id or "CLIENT_ID_NOT_APPLICABLE"},
        "triggerSource": source,
        "request": request,
        "response": response,
    }


def function_arn(pool: UserPool, trigger: str) -> str | None:
    """The ARN the pool's LambdaConfig names for ``trigger`` (None: no such trigger)."""
    value = pool.lambda_config.get(trigger)
    if trigger == "PreTokenGeneration" and not value:
        value = pool.lambda_config.get("PreTokenGenerationConfig")
    if isinstance(value, dict):
        value = value.get("LambdaArn")
    return str(value) if value else None


def _flag(response: dict[str, Any], name: str) -> bool:
    value = response.get(name, False)
    if isinstance(value, str):
        return value.lower() == "true"
    if value is None or isinstance(value, bool):
        return bool(value)
    raise Err.LAMBDA_BAD_RESPONSE.error()


@dataclass
class Attempt:
    """One attempt to run the function: what it came to and how long it took."""

    outcome: str  # ok | error | timeout | throttled | unreachable | garbage
    duration_ms: float
    answer: Any = None
    error: Exception | None = None
    fault_id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"outcome": self.outcome, "duration_ms": self.duration_ms}
        if self.fault_id is not None:
            out["fault_id"] = self.fault_id
        return out


RETRIED = ("timeout", "throttled")


def _faulted(backend: Backend, fault: Fault, trigger: str) -> Exception:
    """What an armed trigger fault makes of this attempt (the function is not run)."""
    backend.events.emit(FAULT_TRIGGERED, None, kind=fault.kind, trigger=trigger, fault_id=fault.id)
    if fault.kind == "trigger_timeout":
        return FunctionTimedOut()
    if fault.kind == "trigger_error":
        return FunctionFailed(fault.message or "cognito-harness injected trigger_error fault", "InjectedFault")
    return BadAnswer()


def _attempt(backend: Backend, binding: Binding, trigger: str, call: Invocation) -> Attempt:
    started = time.monotonic()
    fault = backend.faults.on_trigger(trigger)
    try:
        if fault is not None:
            raise _faulted(backend, fault, trigger)
        answer = backend.triggers.run(binding, call)
        outcome, error = "ok", None
    except FunctionFailed as exc:
        answer, outcome, error = None, "error", exc
    except CognitoError as exc:  # a harness callable may raise Cognito's own error: it passes through
        answer, outcome, error = None, "error", exc
    except FunctionTimedOut as exc:
        answer, outcome, error = None, "timeout", exc
    except FunctionThrottled as exc:
        answer, outcome, error = None, "throttled", exc
    except FunctionUnreachable as exc:
        answer, outcome, error = None, "unreachable", exc
    except BadAnswer as exc:
        answer, outcome, error = None, "garbage", exc
    duration = round((time.monotonic() - started) * 1000, 3)
    return Attempt(outcome, duration, answer, error, fault.id if fault is not None else None)


def _error_of(trigger: str, last: Attempt) -> CognitoError:
    """Cognito's error for the attempt the trigger ended on."""
    error = last.error
    if isinstance(error, CognitoError):
        return error
    if isinstance(error, FunctionFailed):
        return Err.LAMBDA_FAILED.error(trigger=trigger, message=error.message)
    if isinstance(error, FunctionTimedOut):
        return Err.LAMBDA_TIMED_OUT.error(trigger=trigger)
    if isinstance(error, (FunctionThrottled, FunctionUnreachable)):
        return Err.LAMBDA_UNEXPECTED.error(trigger=trigger, detail=error.detail)
    return Err.LAMBDA_BAD_RESPONSE.error()


def _as_json(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def invoke(backend: Backend, pool: UserPool, trigger: str, source: str, *, username: str, client_id: str | None,
           request: dict[str, Any], response: dict[str, Any], version: str = "1") -> dict[str, Any] | None:
    """Run the pool's ``trigger`` for ``source`` and return the ``response`` object it answered.

    None when the pool has no such trigger. The store lock is set down while the function runs; a
    timeout or a throttle is retried up to ``backend.triggers.attempts`` attempts in all. Raises
    Cognito's errors (module docstring); an ARN nothing runs is UnexpectedLambdaException with how to
    bind it (a ``trigger.unbound`` event). Every call is a ``trigger.invoked`` / ``trigger.failed`` event.
    """
    arn = function_arn(pool, trigger)
    if not arn:
        return None
    registry: TriggerRegistry = backend.triggers
    binding = registry.resolve(pool.pool_id, arn)
    if binding is None:
        backend.events.emit(TRIGGER_UNBOUND, pool.pool_id, trigger=trigger, arn=arn, source=source,
                            username=username, outcome="unbound")
        raise Err.LAMBDA_NOT_BOUND.error(trigger=trigger, arn=arn)
    event = trigger_event(pool, source, username, client_id, request, response, version)
    attempts: list[Attempt] = []
    with backend.lock_released():  # the trigger may call back into the emulator
        for _ in range(max(1, registry.attempts)):
            call = registry.invocation(pool.pool_id, arn, copy.deepcopy(event))
            attempts.append(_attempt(backend, binding, trigger, call))
            if attempts[-1].outcome not in RETRIED:
                break
    last = attempts[-1]
    answered = last.answer.get("response") if last.outcome == "ok" and isinstance(last.answer, dict) else None
    facts = {"trigger": trigger, "source": source, "username": username, "arn": arn,
             "binding": binding_kind(binding), "target": str(binding), "event": _as_json(event),
             "duration_ms": round(sum(a.duration_ms for a in attempts), 3),
             "attempts": [a.to_dict() for a in attempts]}
    if isinstance(answered, dict):
        backend.events.emit(TRIGGER_INVOKED, pool.pool_id, outcome="ok", response=_as_json(answered), **facts)
        return answered
    error = _error_of(trigger, last) if last.outcome != "ok" else Err.LAMBDA_BAD_RESPONSE.error()
    outcome = last.outcome if last.outcome != "ok" else "bad_response"
    backend.events.emit(TRIGGER_FAILED, pool.pool_id, outcome=outcome, error=error.type, message=error.message,
                        answer=_as_json(last.answer) if outcome == "bad_response" else None, **facts)
    raise error


def run_pre_signup(
    backend: Backend,
    pool: UserPool,
    trigger_source: str,
    user_attributes: dict[str, str],
    username: str,
    client_id: str | None,
    validation_data: dict[str, str] | None = None,
    client_metadata: dict[str, str] | None = None,
) -> PreSignUpResponse:
    """Run the pool's PreSignUp trigger, if any, and return its decision."""
    if trigger_source not in TRIGGER_SOURCES:
        raise ValueError(f"unknown PreSignUp trigger source {trigger_source!r}")
    request: dict[str, Any] = {"userAttributes": dict(user_attributes), "validationData": validation_data or None}
    if client_metadata:
        request["clientMetadata"] = dict(client_metadata)
    response = invoke(backend, pool, "PreSignUp", trigger_source, username=username, client_id=client_id,
                      request=request,
                      response={"autoConfirmUser": False, "autoVerifyEmail": False, "autoVerifyPhone": False})
    if response is None:
        return PreSignUpResponse()
    return PreSignUpResponse(
        auto_confirm_user=_flag(response, "autoConfirmUser"),
        auto_verify_email=_flag(response, "autoVerifyEmail"),
        auto_verify_phone=_flag(response, "autoVerifyPhone"),
        invoked=True,
    )


__all__ = ["PreSignUpResponse", "TriggerRegistry", "invoke", "trigger_event", "function_arn", "run_pre_signup",
           "set_function_arn", "set_trigger", "trigger_arn", "TRIGGER_NAMES"]
