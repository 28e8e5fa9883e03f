"""A small HTTP layer: request/response values, a router and a threaded server.

The standard library's server with HTTP/1.1 keep-alive is enough for a
loopback emulator and starts in milliseconds; the faces (cognito-idp API,
well-known, control plane, OAuth2) are plain functions from Request to
Response registered on a :class:`Router`.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
import traceback
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

log = logging.getLogger("harness.http")

MAX_BODY_BYTES = 2 * 1024 * 1024


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    client: str = ""
    params: dict[str, str] = field(default_factory=dict)  # path parameters

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8")) if self.body else None

    def form(self) -> dict[str, str]:
        parsed = parse_qs(self.body.decode("utf-8", errors="replace"), keep_blank_values=True)
        return {k: v[0] for k, v in parsed.items()}


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, data: Any, status: int = 200, headers: dict[str, str] | None = None,
             content_type: str = "application/json") -> Response:
        h = {"Content-Type": content_type}
        h.update(headers or {})
        return cls(status, json.dumps(data, separators=(",", ":")).encode(), h)

    @classmethod
    def text(cls, text: str, status: int = 200, content_type: str = "text/plain; charset=utf-8",
             headers: dict[str, str] | None = None) -> Response:
        h = {"Content-Type": content_type}
        h.update(headers or {})
        return cls(status, text.encode(), h)

    @classmethod
    def redirect(cls, location: str, status: int = 302, headers: dict[str, str] | None = None) -> Response:
        h = {"Location": location}
        h.update(headers or {})
        return cls(status, b"", h)


Handler = Callable[[Request], Response]


class Router:
    """Routes by method and path; ``{name}`` segments become ``request.params``."""

    def __init__(self) -> None:
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self.fallback: Handler | None = None

    def add(self, method: str, pattern: str, handler: Handler) -> None:
        regex = "^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern) + "$"
        self._routes.append((method.upper(), re.compile(regex), handler))

    def route(self, method: str, pattern: str) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            for m in method.split("|"):
                self.add(m, pattern, fn)
            return fn

        return register

    def dispatch(self, request: Request) -> Response:
        allowed = False
        for method, regex, handler in self._routes:
            match = regex.match(request.path)
            if not match:
                continue
            if method != request.method and not (method == "GET" and request.method == "HEAD"):
                allowed = True
                continue
            request.params = match.groupdict()
            return handler(request)
        if self.fallback is not None:
            return self.fallback(request)
        if allowed:
            return Response.json({"error": "method_not_allowed", "path": request.path}, 405)
        return Response.json({"error": "not_found", "path": request.path}, 404)


_UNSAFE_HEADER_CHARS = re.compile(r"[\x00-\x1f\x7f]")


def safe_header_value(value: str) -> str:
    """A header value that cannot break the response: no CR/LF/control characters, latin-1 only.

    Error messages echo request values; without this a value with a CR LF
    would let a caller inject headers into the emulator's answer.
    """
    value = _UNSAFE_HEADER_CHARS.sub(" ", value)
    return value.encode("latin-1", "backslashreplace").decode("latin-1")


def _make_handler(router: Router) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "cognito-harness"
        # Headers and body leave in separate writes; with Nagle on, the body waits for the
        # client's delayed ACK (~40 ms per keep-alive call). TCP_NODELAY sends it at once.
        disable_nagle_algorithm = True
        sys_version = ""

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
            if log.isEnabledFor(logging.DEBUG):  # called for every request: format only when wanted
                log.debug("%s %s", self.address_string(), format % args)

        def _serve(self) -> None:
            length_header = self.headers.get("Content-Length")
            try:
                length = int(length_header) if length_header else 0
            except ValueError:
                length = -1
            if length < 0:
                self._send(Response.json({"__type": "SerializationException",
                                          "message": "Invalid Content-Length header"}, 400), close=True)
                return
            if length > MAX_BODY_BYTES:
                # drain what we can so the client sees the answer, then close
                self._send(Response.json({"__type": "InvalidParameterException",
                                          "message": f"Request body of {length} bytes exceeds the "
                                                     f"{MAX_BODY_BYTES}-byte limit"}, 400), close=True)
                return
            body = self.rfile.read(length) if length else b""
            split = urlsplit(self.path)
            request = Request(
                method=self.command,
                path=split.path or "/",
                query=parse_qs(split.query, keep_blank_values=True),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
                client=self.client_address[0],
            )
            try:
                response = router.dispatch(request)
            except Exception:  # a bug in the emulator: report it, never a bare stack trace to the client
                traceback.print_exc(file=sys.stderr)
                response = Response.json({"__type": "InternalErrorException",
                                          "message": "Internal server error."}, 500)
            if self.command == "HEAD":
                response = Response(response.status, b"", response.headers)
            self._send(response)

        def _send(self, response: Response, close: bool = False) -> None:
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, safe_header_value(str(value)))
            self.send_header("Content-Length", str(len(response.body)))
            if close:
                self.send_header("Connection", "close")
                self.close_connection = True
            buffered = getattr(self, "_headers_buffer", None)
            if buffered is not None and self.request_version != "HTTP/0.9":
                # head and body in one write: one syscall and one TCP segment per small answer
                buffered.append(b"\r\n")
                if response.body:
                    buffered.append(response.body)
                self.flush_headers()
                return
            self.end_headers()
            if response.body:
                self.wfile.write(response.body)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _serve

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


class HTTPService:
    """A router served on a loopback port in a background thread."""

    def __init__(self, router: Router, host: str = "127.0.0.1", port: int = 0) -> None:
        self.router = router
        self._server = _Server((host, port), _make_handler(router))
        self._thread: threading.Thread | None = None
        self._serving = False

    @property
    def host(self) -> str:
        return str(self._server.server_address[0])

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> HTTPService:
        self._thread = threading.Thread(target=self._server.serve_forever, name=f"harness-http-{self.port}",
                                        daemon=True, kwargs={"poll_interval": 0.1})
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._serving = True
        self._server.serve_forever(poll_interval=0.2)

    def stop(self) -> None:
        """Stop serving (if it ever started) and release the port."""
        if self._serving or self._thread is not None:
            self._server.shutdown()  # waits for serve_forever to return: only when it ran
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
