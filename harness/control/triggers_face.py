"""Control plane for Lambda trigger bindings: where each LambdaConfig function runs.

Same error shape as the rest of ``/_harness`` (400/404 ``{"error", "field", "message"}``).
A ``handler`` is a binding string (harness.engine.functions.bindings):
``lambda:http://127.0.0.1:3001`` (a Lambda Invoke API), ``python:module:function``,
``node:path/index.handler`` (relative to the server's working directory) or a
loopback ``http(s)://`` URL.

======  ===================================  ============================================================
POST    /_harness/pools/{pool_id}/triggers   ``{"trigger", "handler"?|"url"?, "arn"?, "version"?}``: set the
                                             pool's LambdaConfig[trigger] to ``arn`` (default: a harness ARN)
                                             bound to the handler; neither handler nor url removes it
POST    /_harness/triggers                   ``{"arn", "handler": str|null}``: bind (or unbind) an ARN the
                                             pool's LambdaConfig already names
POST    /_harness/lambda-endpoint            ``{"url": str|null, "pool_id"?}``: the Lambda Invoke API for
                                             ARNs bound to nothing (the emulator's, or one pool's)
GET     /_harness/triggers                   ``{"bindings": {arn: binding}, "lambda_endpoint",
                                             "pool_endpoints", "timeout", "attempts", "isolate_python"}``
======  ===================================  ============================================================
"""

from __future__ import annotations

from typing import Any

from harness.control.checks import ControlError
from harness.control.face import json_body, json_routes
from harness.engine.store import Backend
from harness.engine.triggers import set_trigger
from harness.errors import CognitoError
from harness.web.http import Request, Response, Router


def _text(data: dict[str, Any], name: str, what: str) -> str | None:
    value = data.get(name)
    if value is not None and not isinstance(value, str):
        raise ControlError(name, f"expected {what}")
    return value


def install(router: Router, backend: Backend) -> None:
    def expected_error(exc: Exception) -> Response | None:
        if isinstance(exc, CognitoError):  # ResourceNotFoundException: no such pool
            status = 404 if exc.type == "ResourceNotFoundException" else 400
            return Response.json({"error": "not_found" if status == 404 else "bad_request", "field": "pool_id",
                                  "message": exc.message}, status)
        if isinstance(exc, (ValueError, TypeError)):
            return Response.json({"error": "bad_request", "field": "handler", "message": str(exc)}, 400)
        return None

    route = json_routes(router, expected_error)

    @route("POST", "/pools/{pool_id}/triggers")
    def bind(request: Request) -> Any:
        data = json_body(request, ("trigger", "url", "handler", "arn", "version"), ("trigger",))
        trigger = _text(data, "trigger", "a trigger name (PreSignUp...)")
        url = _text(data, "url", "a loopback URL or null")
        handler = _text(data, "handler", "a binding string or null")
        if url is not None and handler is not None:
            raise ControlError("handler", "give either handler or url (url is a handler too), not both")
        arn = set_trigger(backend, request.params["pool_id"], str(trigger), handler or url,
                          arn=_text(data, "arn", "a Lambda ARN"), version=_text(data, "version", "V1_0/V2_0/V3_0"))
        return {"trigger": trigger, "arn": arn, "url": url, "handler": handler or url}

    @route("POST", "/triggers")
    def bind_arn(request: Request) -> Any:
        data = json_body(request, ("arn", "handler"), ("arn",))
        arn = str(_text(data, "arn", "a Lambda ARN"))
        handler = _text(data, "handler", "a binding string or null")
        if handler is None:
            return {"arn": arn, "unbound": backend.triggers.unbind(arn)}
        return {"arn": arn, "handler": str(backend.triggers.bind(arn, handler))}

    @route("POST", "/lambda-endpoint")
    def endpoint(request: Request) -> Any:
        data = json_body(request, ("url", "pool_id"))
        url = _text(data, "url", "a loopback http(s) URL or null")
        pool_id = _text(data, "pool_id", "a pool id")
        if pool_id is not None:
            backend.pool(pool_id)  # 404 for an unknown pool
        try:
            backend.triggers.set_endpoint(url, pool_id)
        except ValueError as exc:
            raise ControlError("url", str(exc)) from None
        return backend.triggers.describe()

    @route("GET", "/triggers")
    def bindings(request: Request) -> Any:
        return backend.triggers.describe()
