"""Where a Lambda ARN's function runs: the bindings and the registry that holds them.

A binding is one of (in order of reality):

==================================  ===============================================================
``lambda:http://127.0.0.1:3001``    the Lambda Invoke API at that endpoint (:mod:`.lambda_api`)
``python:app.triggers:pre_sign_up`` a Python handler (:mod:`.python_handlers`; a worker process
                                    when the registry isolates Python, as ``serve`` does)
``node:lambdas/pre/index.handler``  a Node.js handler (:mod:`.node_handlers`)
``http://127.0.0.1:8080/hook``      a loopback URL: the event is POSTed, the answer is the event
a Python callable                   ``fn(event)`` or ``fn(event, context)`` (pytest fixtures)
==================================  ===============================================================

An ARN with no binding of its own goes to its pool's Lambda endpoint, else to
the emulator's (``serve --lambda-endpoint``, ``AWS_ENDPOINT_URL_LAMBDA``); with
neither, nothing can run it and the trigger fails as Cognito does for a
function it may not invoke.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, ClassVar, Union

import requests

from harness.engine import outbound
from harness.engine.functions.lambda_api import LAMBDA_PREFIX, LambdaClients, LambdaEndpoint, check_endpoint
from harness.engine.functions.node_handlers import NODE_PREFIX, NodeHandler, run_node
from harness.engine.functions.outcomes import (BadAnswer, FunctionFailed, FunctionTimedOut, FunctionUnreachable,
                                               Invocation)
from harness.engine.functions.python_handlers import PYTHON_PREFIX, HandlerPath, run_in_process
from harness.engine.functions.python_workers import PythonWorkers

DEFAULT_TIMEOUT = 5.0
"""Cognito waits 5 seconds for a function; it cannot be changed on a real pool (tests may shorten it)."""
DEFAULT_ATTEMPTS = 3
"""Cognito retries a function that timed out or was throttled; after three attempts the trigger fails."""
REQUEST_IDS = uuid.UUID("6f1d0c4e-0c39-4c55-9a57-2b1f5f3a7e10")  # namespace of the aws_request_ids handed out

Handler = Callable[..., Any]


@dataclass(frozen=True)
class HttpUrl:
    """A loopback URL the event is POSTed to (the answer: the event, or Lambda's error shape with a 4xx/5xx)."""

    url: str
    kind: ClassVar[str] = "url"

    def __str__(self) -> str:
        return self.url


@dataclass(frozen=True)
class PythonCallable:
    fn: Handler
    kind: ClassVar[str] = "callable"

    def __str__(self) -> str:
        return f"callable:{getattr(self.fn, '__qualname__', repr(self.fn))}"


Binding = Union[LambdaEndpoint, HandlerPath, NodeHandler, HttpUrl, PythonCallable]

def binding_kind(binding: Binding) -> str:
    """lambda | python | node | url | callable (what the event log records)."""
    return binding.kind


def parse_binding(value: Handler | str | Binding, base: Path | None = None) -> Binding:
    """A binding from its text form (see the module docstring), a callable, or a binding already made.

    ``base``: the folder a relative Node handler path is resolved against (default: the working directory).
    ValueError names what was expected.
    """
    if isinstance(value, (LambdaEndpoint, HandlerPath, NodeHandler, HttpUrl, PythonCallable)):
        return value
    if not isinstance(value, str):
        if callable(value):
            return PythonCallable(value)
        raise TypeError("a trigger handler is a callable or a binding string")
    text = value.strip()
    if text.startswith(LAMBDA_PREFIX):
        return LambdaEndpoint(check_endpoint(text.removeprefix(LAMBDA_PREFIX)))
    if text.startswith(PYTHON_PREFIX):
        return HandlerPath.parse(text)
    if text.startswith(NODE_PREFIX):
        return NodeHandler.parse(text, base)
    if text.startswith(("http://", "https://")):
        if not outbound.is_loopback_url(text):
            raise ValueError(f"trigger URL must be http(s) on loopback (127.0.0.1/localhost), got {text!r}")
        return HttpUrl(text)
    raise ValueError(f"a trigger binding is 'lambda:<loopback endpoint>', 'python:module:function', "
                     f"'node:path/index.handler' or a loopback http(s) URL, got {value!r}")


def run_url(binding: HttpUrl, call: Invocation) -> Any:
    """POST the event; a 4xx/5xx is the function's error (``errorMessage`` or ``message`` of its JSON)."""
    try:
        answer = outbound.post(binding.url, call.timeout, json=call.event)
    except outbound.OutboundRefused as exc:
        raise FunctionUnreachable(str(exc)) from None
    except requests.Timeout:
        raise FunctionTimedOut() from None
    except requests.RequestException as exc:
        raise FunctionUnreachable(type(exc).__name__) from None
    if answer.status_code >= 400:
        try:
            body = answer.json()
            message = body.get("errorMessage") or body.get("message") or answer.text
        except (ValueError, AttributeError):
            message = answer.text
        raise FunctionFailed(str(message).strip() or f"HTTP {answer.status_code}")
    try:
        return answer.json()
    except ValueError:
        raise BadAnswer() from None


class TriggerRegistry:
    """Lambda ARN -> binding, the Lambda endpoints, and how functions are run (one per emulator).

    ``timeout`` and ``attempts`` are Cognito's (5 s, 3 attempts); tests may shorten the timeout so a
    timeout does not cost 15 s of real time. ``isolate_python``: run ``python:`` handlers in worker
    processes (``serve``) rather than in this process (pytest, Emulator).
    """

    def __init__(self, *, lambda_endpoint: str | None = None, isolate_python: bool = False) -> None:
        self._lock = threading.Lock()
        self._handlers: dict[str, Binding] = {}
        self._pool_endpoints: dict[str, str] = {}
        self.lambda_endpoint = check_endpoint(lambda_endpoint) if lambda_endpoint else None
        self.isolate_python = isolate_python
        self.timeout = DEFAULT_TIMEOUT
        self.attempts = DEFAULT_ATTEMPTS
        self.lambda_clients = LambdaClients()
        self.python_workers = PythonWorkers()
        self._invocations = 0

    # --- bindings ----------------------------------------------------------------------------

    def bind(self, arn: str, handler: Handler | str | Binding, base: Path | None = None) -> Binding:
        binding = parse_binding(handler, base)
        with self._lock:
            self._handlers[arn] = binding
        return binding

    def unbind(self, arn: str) -> bool:
        with self._lock:
            return self._handlers.pop(arn, None) is not None

    def get(self, arn: str) -> Binding | None:
        """The ARN's own binding (not the endpoint it would fall back to)."""
        with self._lock:
            return self._handlers.get(arn)

    def set_endpoint(self, url: str | None, pool_id: str | None = None) -> None:
        """The Lambda endpoint for ARNs bound to nothing: the emulator's (``pool_id`` None) or one pool's."""
        endpoint = check_endpoint(url) if url else None
        with self._lock:
            if pool_id is None:
                self.lambda_endpoint = endpoint
            elif endpoint is None:
                self._pool_endpoints.pop(pool_id, None)
            else:
                self._pool_endpoints[pool_id] = endpoint

    def resolve(self, pool_id: str, arn: str) -> Binding | None:
        """Where ``arn`` runs: its binding, else the pool's endpoint, else the emulator's (None: nowhere)."""
        with self._lock:
            binding = self._handlers.get(arn)
            if binding is not None:
                return binding
            endpoint = self._pool_endpoints.get(pool_id) or self.lambda_endpoint
        return LambdaEndpoint(endpoint) if endpoint else None

    def describe(self) -> dict[str, Any]:
        with self._lock:
            return {"bindings": {arn: str(b) for arn, b in self._handlers.items()},
                    "lambda_endpoint": self.lambda_endpoint, "pool_endpoints": dict(self._pool_endpoints),
                    "timeout": self.timeout, "attempts": self.attempts, "isolate_python": self.isolate_python}

    def clear(self) -> None:
        """Forget the bindings and the pools' endpoints (a reset); the emulator's own endpoint stays."""
        with self._lock:
            self._handlers.clear()
            self._pool_endpoints.clear()
            self._invocations = 0

    # --- running ----------------------------------------------------------------------------

    def invocation(self, pool_id: str, arn: str, event: dict[str, Any]) -> Invocation:
        """One call of ``arn`` with a deterministic ``aws_request_id`` (not drawn from the seeded ids)."""
        with self._lock:
            self._invocations += 1
            number = self._invocations
        return Invocation(arn=arn, event=event, timeout=self.timeout,
                          request_id=str(uuid.uuid5(REQUEST_IDS, f"{pool_id}/{number}")))

    def run(self, binding: Binding, call: Invocation) -> Any:
        """One attempt: the function's decoded JSON answer, or an outcome exception (.outcomes)."""
        if isinstance(binding, LambdaEndpoint):
            return self.lambda_clients.invoke(binding, call)
        if isinstance(binding, HandlerPath):
            if self.isolate_python or binding.isolated:
                return self.python_workers.run(binding, call)
            return run_in_process(binding, call)
        if isinstance(binding, NodeHandler):
            return run_node(binding, call)
        if isinstance(binding, HttpUrl):
            return run_url(binding, call)
        return run_in_process(binding.fn, call)

    def close(self) -> None:
        """Stop the Python workers and close the Lambda clients (the emulator stops)."""
        self.python_workers.close()
        self.lambda_clients.close()


__all__ = ["Binding", "DEFAULT_ATTEMPTS", "DEFAULT_TIMEOUT", "HttpUrl", "PythonCallable", "TriggerRegistry",
           "binding_kind", "parse_binding", "run_url"]
