"""A small Lambda Invoke API on loopback, for tests: what ``sam local start-lambda`` or LocalStack serve.

``POST /2015-03-31/functions/{FunctionName}/invocations`` runs the Python handler
registered under the function's name (``FunctionName`` may be the name or an
ARN, URL-encoded, as the real API takes it) and answers as AWS Lambda does: 200
with the handler's JSON payload; a handler that raises is still a 200, with
``X-Amz-Function-Error: Unhandled`` and ``{"errorMessage", "errorType",
"stackTrace"}``; an unknown function is a 404 ``ResourceNotFoundException``;
:meth:`LambdaInvokeServer.throttle` makes the next calls 429
``TooManyRequestsException``. ``POST /url/{name}`` runs the same handler as a
plain URL trigger (the answer is the event). Every request is recorded.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import unquote

INVOKE_PREFIX = "/2015-03-31/functions/"
INVOKE_SUFFIX = "/invocations"


@dataclass
class Context:
    """The Lambda context handed to a registered handler."""

    function_name: str
    invoked_function_arn: str
    aws_request_id: str
    deadline: float

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


@dataclass
class Received:
    """One request the server answered."""

    path: str
    function_name: str
    headers: dict[str, str]
    event: Any


@dataclass
class LambdaInvokeServer:
    """``with LambdaInvokeServer() as server: server.register("pre", handler)``; ``server.url`` is the endpoint."""

    handlers: dict[str, Callable[[Any, Context], Any]] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    throttles: int = 0

    def __post_init__(self) -> None:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                owner.answer(self)

        self.release = threading.Event()  # handlers that block wait on it; set when the server stops
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def register(self, name: str, handler: Callable[[Any, Context], Any]) -> str:
        """Serve ``handler`` as function ``name``; returns its ARN (account 123456789012, us-east-1)."""
        self.handlers[name] = handler
        return f"arn:aws:lambda:us-east-1:123456789012:function:{name}"

    def throttle(self, times: int) -> None:
        self.throttles = times

    def invocations(self, name: str) -> list[Received]:
        return [r for r in self.received if r.function_name == name]

    def stop(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> LambdaInvokeServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- answering ------------------------------------------------------------------------------

    @staticmethod
    def function_name(raw: str) -> str:
        """The name in a FunctionName: ``name``, ``name:qualifier``, ``123:function:name`` or a full ARN."""
        parts = unquote(raw).split(":")
        if "function" in parts:
            return parts[parts.index("function") + 1]
        return parts[0]

    def answer(self, request: BaseHTTPRequestHandler) -> None:
        body = request.rfile.read(int(request.headers.get("Content-Length") or 0))
        path = request.path
        url_style = path.startswith("/url/")
        if url_style:
            name = unquote(path.removeprefix("/url/"))
        elif path.startswith(INVOKE_PREFIX) and path.endswith(INVOKE_SUFFIX):
            name = self.function_name(path[len(INVOKE_PREFIX):-len(INVOKE_SUFFIX)])
        else:
            return self.send(request, 404, {"message": f"no route {path}"}, {"x-amzn-ErrorType": "NotFound"})
        event = json.loads(body) if body else None
        self.received.append(Received(path, name, dict(request.headers), event))
        if self.throttles > 0:
            self.throttles -= 1
            return self.send(request, 429, {"Reason": "ReservedFunctionConcurrentInvocationLimitExceeded",
                                            "Type": "User", "message": "Rate Exceeded."},
                             {"x-amzn-ErrorType": "TooManyRequestsException"})
        handler = self.handlers.get(name)
        if handler is None:
            return self.send(request, 404, {"Type": "User", "Message": f"Function not found: {name}"},
                             {"x-amzn-ErrorType": "ResourceNotFoundException"})
        context = Context(name, f"arn:aws:lambda:us-east-1:123456789012:function:{name}",
                          request.headers.get("X-Amz-Request-Id", "local"), time.monotonic() + 5)
        try:
            result = handler(event, context)
        except Exception as exc:  # noqa: BLE001 - the function's error, in Lambda's shape
            error = {"errorMessage": str(exc), "errorType": type(exc).__name__, "stackTrace": []}
            if url_style:
                return self.send(request, 500, error, {})
            return self.send(request, 200, error, {"X-Amz-Function-Error": "Unhandled"})
        if isinstance(result, bytes):
            return self.send_raw(request, 200, result, {})
        return self.send(request, 200, result, {"X-Amz-Executed-Version": "$LATEST"})

    def send(self, request: BaseHTTPRequestHandler, status: int, body: Any, headers: dict[str, str]) -> None:
        self.send_raw(request, status, json.dumps(body).encode(), {"Content-Type": "application/json", **headers})

    @staticmethod
    def send_raw(request: BaseHTTPRequestHandler, status: int, body: bytes, headers: dict[str, str]) -> None:
        request.send_response(status)
        for name, value in headers.items():
            request.send_header(name, value)
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)


__all__ = ["Context", "LambdaInvokeServer", "Received"]
