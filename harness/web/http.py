"""HTTP values and routing: Request, Response, Router, and the limits on what goes out.

The faces (cognito-idp API, well-known, control plane, OAuth2, fake IdPs) are
plain functions from :class:`Request` to :class:`Response` registered on a
:class:`Router`; none of them touches a socket. The server that carries them
is :class:`harness.web.serving.HTTPService`.

Two things here exist because request values are echoed back:

* :func:`safe_header_value` strips control characters (no header injection)
  and caps the length, so a 100 KB request value cannot become a 100 KB
  response header that breaks a client's header limit;
* :meth:`Request.json` turns every way a body can fail to decode (bad UTF-8,
  bad syntax, nesting deep enough to raise RecursionError, integer literals
  past Python's 4,300-digit limit) into one :class:`InvalidJSON`, so each
  face answers its own typed 400 instead of a 500.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import parse_qs

MAX_BODY_BYTES = 2 * 1024 * 1024
"""Request bodies above this are refused before they are read (a real pool's limit is far lower)."""

MAX_HEADER_VALUE_CHARS = 8 * 1024
"""Every response header value is cut here: room for a Location carrying three tokens, no more."""

MAX_ECHOED_HEADER_CHARS = 1024
"""Header values that echo request input (error messages) are cut shorter."""

MAX_ECHOED_MESSAGE_CHARS = 4 * 1024
"""Error messages in JSON bodies are cut here: they echo request values too."""

TRUNCATION_MARKER = "...[truncated]"


class InvalidJSON(ValueError):
    """A request body that is not one JSON document this server can decode."""


def _describe_json_failure(exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return "JSON nested too deeply"
    if isinstance(exc, UnicodeDecodeError):
        return f"body is not UTF-8 ({exc.reason} at byte {exc.start})"
    if isinstance(exc, json.JSONDecodeError):
        return str(exc)
    if "digits" in str(exc):  # int() refusing a literal past sys.get_int_max_str_digits()
        return "JSON number too long"
    return f"JSON could not be decoded ({type(exc).__name__})"


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    client: str = ""
    params: dict[str, str] = field(default_factory=dict)  # path parameters
    target: str = ""  # the request-target as sent (a proxy's CONNECT authority or absolute URL)
    server_name: str = ""  # the TLS server name (SNI) the connection was made for; "" on plain HTTP

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def json(self) -> Any:
        """The decoded body (None when empty), or :class:`InvalidJSON` whatever the reason."""
        if not self.body.strip():
            return None
        try:
            return json.loads(self.body.decode("utf-8"))
        except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            raise InvalidJSON(_describe_json_failure(exc)) from None

    def form(self) -> dict[str, str]:
        parsed = parse_qs(self.body.decode("utf-8", errors="replace"), keep_blank_values=True)
        return {k: v[0] for k, v in parsed.items()}


@dataclass
class Response:
    """An answer: ``body`` in one piece, or ``chunks`` streamed (see :meth:`stream`)."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    chunks: Iterable[bytes] | None = None

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

    @classmethod
    def stream(cls, chunks: Iterable[bytes], status: int = 200, content_type: str = "application/json",
               headers: dict[str, str] | None = None) -> Response:
        """A body produced piece by piece while it is sent (chunked on HTTP/1.1).

        ``chunks`` is consumed on a server thread after the handler returned,
        so a large answer is never held whole in memory. Build what needs a
        lock before returning (a consistent copy), and let the iterable only
        serialise it. The connection closes after a streamed answer.
        """
        h = {"Content-Type": content_type}
        h.update(headers or {})
        return cls(status, b"", h, chunks)

    def body_chunks(self) -> Iterator[bytes]:
        """What goes on the wire after the head: the chunks, or the body in one piece."""
        if self.chunks is None:
            if self.body:
                yield self.body
            return
        for chunk in self.chunks:
            if chunk:
                yield bytes(chunk)


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


def truncate(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, with a visible marker when cut."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - len(TRUNCATION_MARKER))] + TRUNCATION_MARKER


def safe_header_value(value: str, limit: int = MAX_HEADER_VALUE_CHARS) -> str:
    """A header value that cannot break the response: no CR/LF/control characters, latin-1 only,
    at most ``limit`` characters (cut with a visible marker).

    Error messages echo request values; without this a value with a CR LF
    would let a caller inject headers into the emulator's answer, and a long
    one would exceed the client's header limits.
    """
    value = truncate(value, limit)  # before escaping: a 100 KB value is not escaped whole
    value = _UNSAFE_HEADER_CHARS.sub(" ", value)
    return truncate(value.encode("latin-1", "backslashreplace").decode("latin-1"), limit)

