"""Lambda triggers: how a pool's LambdaConfig functions are reached and invoked.

A pool's ``LambdaConfig.PreSignUp`` holds a Lambda ARN, as in Cognito. The
harness binds an ARN to a handler in :class:`TriggerRegistry`
(``backend.triggers``): a Python callable (it receives Cognito's event dict
and returns it, or mutates it in place) or a loopback HTTP URL (the event is
POSTed as JSON; the answer is the event with ``response`` filled in; a
redirect answer is a failed invocation, never followed: see
:mod:`harness.engine.outbound`).
:func:`set_trigger` does both at once. An ARN with no bound handler is
skipped (recorded as a ``trigger.unbound`` event), so pools copied from real
configurations still work.

The pool lock is released while the handler runs: a real Lambda runs outside
Cognito, and the usual PreSignUp auto-link calls AdminLinkProviderForUser back
over HTTP, which would otherwise deadlock.
"""

from __future__ import annotations

import copy
import json
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

import requests

from harness.engine import outbound
from harness.engine.events import TRIGGER_FAILED, TRIGGER_INVOKED, TRIGGER_UNBOUND
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
HTTP_TIMEOUT = 10.0

Handler = Callable[[dict[str, Any]], Any]


@dataclass
class PreSignUpResponse:
    """What the trigger decided (Cognito's ``response`` object)."""

    auto_confirm_user: bool = False
    auto_verify_email: bool = False
    auto_verify_phone: bool = False
    invoked: bool = False  # False when the pool has no (bound) PreSignUp trigger


class TriggerRegistry:
    """Lambda ARN -> Python callable or loopback URL, for one emulator."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._handlers: dict[str, Handler | str] = {}

    def bind(self, arn: str, handler: Handler | str) -> None:
        if isinstance(handler, str):
            check_loopback_url(handler)
        elif not callable(handler):
            raise TypeError("a trigger handler is a callable or a loopback http(s) URL")
        with self._lock:
            self._handlers[arn] = handler

    def unbind(self, arn: str) -> bool:
        with self._lock:
            return self._handlers.pop(arn, None) is not None

    def get(self, arn: str) -> Handler | str | None:
        with self._lock:
            return self._handlers.get(arn)

    def describe(self) -> dict[str, str]:
        with self._lock:
            return {arn: h if isinstance(h, str) else f"python:{getattr(h, '__qualname__', repr(h))}"
                    for arn, h in self._handlers.items()}

    def clear(self) -> None:
        with self._lock:
            self._handlers.clear()


def check_loopback_url(url: str) -> None:
    if not outbound.is_loopback_url(url):
        raise ValueError(f"trigger URL must be http(s) on loopback (127.0.0.1/localhost), got {url!r}")


def trigger_arn(pool: UserPool, trigger: str) -> str:
    return f"arn:aws:lambda:{pool.region}:{pool.account_id}:function:harness-{pool.pool_id}-{trigger}"


def set_trigger(backend: Backend, pool_id: str, trigger: str, handler: Handler | str | None) -> str | None:
    """Point the pool's ``LambdaConfig[trigger]`` at a handler (None removes it); returns the ARN."""
    if trigger not in TRIGGER_NAMES:
        raise ValueError(f"unsupported trigger {trigger!r}; expected one of {', '.join(TRIGGER_NAMES)}")
    with backend.transaction():
        pool = backend.pool(pool_id)
        if handler is None:
            arn = pool.lambda_config.pop(trigger, None)
            if arn:
                backend.triggers.unbind(arn)
            return None
        arn = trigger_arn(pool, trigger)
        backend.triggers.bind(arn, handler)
        pool.lambda_config[trigger] = arn
        return arn


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


def _invoke_http(url: str, event: dict[str, Any], trigger: str) -> dict[str, Any]:
    try:
        answer = outbound.post(url, HTTP_TIMEOUT, json=event)
    except outbound.OutboundRefused as exc:
        raise Err.LAMBDA_UNEXPECTED.error(trigger=trigger, detail=str(exc)) from None
    except requests.RequestException as exc:
        raise Err.LAMBDA_UNEXPECTED.error(trigger=trigger, detail=type(exc).__name__) from None
    if answer.status_code >= 400:
        try:
            body = answer.json()
            message = body.get("errorMessage") or body.get("message") or answer.text
        except ValueError:
            message = answer.text
        raise _TriggerRaised(str(message).strip() or f"HTTP {answer.status_code}")
    try:
        result = answer.json()
    except ValueError:
        raise Err.LAMBDA_BAD_RESPONSE.error() from None
    if not isinstance(result, dict):
        raise Err.LAMBDA_BAD_RESPONSE.error()
    return result


class _TriggerRaised(Exception):
    """The trigger reported an error (Lambda's errorMessage)."""


def _invoke(handler: Handler | str, event: dict[str, Any], trigger: str) -> dict[str, Any]:
    if isinstance(handler, str):
        return _invoke_http(handler, event, trigger)
    try:
        result = handler(event)
    except CognitoError:
        raise
    except Exception as exc:  # the trigger's own error, as a Lambda error message
        raise _TriggerRaised(str(exc) or type(exc).__name__) from None
    if result is None:
        return event
    if not isinstance(result, dict):
        raise Err.LAMBDA_BAD_RESPONSE.error()
    return result


def _flag(response: dict[str, Any], name: str) -> bool:
    value = response.get(name, False)
    if isinstance(value, str):
        return value.lower() == "true"
    if value is None or isinstance(value, bool):
        return bool(value)
    raise Err.LAMBDA_BAD_RESPONSE.error()


def invoke(backend: Backend, pool: UserPool, trigger: str, source: str, *, username: str, client_id: str | None,
           request: dict[str, Any], response: dict[str, Any], version: str = "1") -> dict[str, Any] | None:
    """Run the pool's ``trigger`` for ``source`` and return the ``response`` object it answered.

    None when the pool has no such trigger, or its ARN is bound to nothing (a
    ``trigger.unbound`` event). The store lock is set down while the function
    runs. Raises Cognito's errors: UserLambdaValidationException "<Trigger>
    failed with error <message>." when the function fails, InvalidLambdaResponseException
    for an answer without a ``response`` object, UnexpectedLambdaException when it
    cannot be reached. Every invocation is a ``trigger.invoked`` / ``trigger.failed`` event.
    """
    arn = function_arn(pool, trigger)
    if not arn:
        return None
    handler = backend.triggers.get(arn)
    if handler is None:
        backend.events.emit(TRIGGER_UNBOUND, pool.pool_id, trigger=trigger, arn=arn, source=source)
        return None
    event = trigger_event(pool, source, username, client_id, request, response, version)
    try:
        with backend.lock_released():  # the trigger may call back into the emulator
            result = _invoke(handler, copy.deepcopy(event), trigger)
    except _TriggerRaised as exc:
        backend.events.emit(TRIGGER_FAILED, pool.pool_id, trigger=trigger, source=source,
                            username=username, error=str(exc))
        raise Err.LAMBDA_FAILED.error(trigger=trigger, message=str(exc)) from None
    answered = result.get("response")
    if not isinstance(answered, dict):
        raise Err.LAMBDA_BAD_RESPONSE.error()
    backend.events.emit(TRIGGER_INVOKED, pool.pool_id, trigger=trigger, source=source, username=username,
                        event=json.loads(json.dumps(event, default=str)),
                        response=json.loads(json.dumps(answered, default=str)))
    return answered


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
           "set_trigger", "trigger_arn", "TRIGGER_NAMES"]
