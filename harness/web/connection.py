"""One client connection: requests parsed by h11, answers written here, limits enforced on both.

h11 (python-hyper's HTTP/1.1 state machine) reads every request: strict
request line and headers, a Host required, chunked bodies decoded, conflicting
Content-Lengths and unknown transfer-codings refused, the head buffer capped.
On top of it this module refuses what h11 lets through but a proxy in front
could frame differently (Content-Length together with Transfer-Encoding, and
Transfer-Encoding on HTTP/1.0: RFC 9112 section 6.1), and applies the
:class:`ServerLimits` (head deadline, idle and stall timeouts, head and body
size).

Answers are written here rather than through h11: h11's writer re-validates
every header and walks its state machine three times per answer, which
measured at about as much CPU as the parsing (see ``bench/http_servers.py``);
the values are already made safe by :func:`safe_header_value`. Head and body
leave in one ``sendall`` (TCP_NODELAY is on), so a small answer is one segment.

A router may answer :class:`Handover` (the AWS endpoint mode's proxy, for a
granted CONNECT): after its head the socket is the router's, with whatever
the client sent past the request.
"""

from __future__ import annotations

import json
import socket
import sys
import time
import traceback
from dataclasses import dataclass
from email.utils import formatdate
from http import HTTPStatus
from typing import Callable, Protocol
from urllib.parse import parse_qs, urlsplit

import h11

from harness.web.http import (
    MAX_BODY_BYTES,
    MAX_ECHOED_HEADER_CHARS,
    MAX_ECHOED_MESSAGE_CHARS,
    Request,
    Response,
    safe_header_value,
    truncate,
)

SERVER_HEADER = b"Server: cognito-harness\r\n"
ERROR_CONTENT_TYPE = "application/x-amz-json-1.1"
RECV_BYTES = 64 * 1024
STREAM_FLUSH_BYTES = 64 * 1024
LINGER_SECONDS = 1.0
LINGER_BYTES = 1024 * 1024
"""After refusing a request, read (and drop) what the client is still sending for this long, at
most this much: closing with unread data resets the connection, and the client may then never
see the refusal."""
FRAMING_HEADERS = frozenset({"content-length", "transfer-encoding", "connection", "server", "date"})
"""Set by the server from the answer itself; a face's own value for them is dropped."""


class Dispatcher(Protocol):
    """What the server needs from a router: one answer per request."""

    def dispatch(self, request: Request) -> Response: ...


@dataclass(frozen=True)
class ServerLimits:
    """How much one client may hold. Defaults suit a long-running CI service; tests shrink them."""

    connections: int = 128
    """Open client connections, each served by one thread. Past this the server stops accepting
    and new connections wait in the kernel's backlog until one closes (they are not refused)."""
    idle_timeout: float = 60.0
    """Seconds a keep-alive connection may wait for its next request; also the most a request's
    body may take to arrive, and an answer to be taken by a client that does not read."""
    header_timeout: float = 15.0
    """Seconds from a request's first byte to the end of its head (slow-header clients)."""
    header_bytes: int = 64 * 1024
    """Request line plus headers; more is answered 431 and the connection closed."""
    body_bytes: int = MAX_BODY_BYTES
    """Request body (after chunked decoding); more is answered 400 and the connection closed."""
    backlog: int = 128
    """Connections the kernel queues while the server is at ``connections``."""
    handshake_timeout: float = 10.0
    """Seconds a client has to finish the TLS handshake, where the service speaks TLS."""


@dataclass
class Handover(Response):
    """An answer after which the connection stops speaking HTTP (a proxy's CONNECT tunnel).

    Its head goes out without framing, then ``take`` gets the socket and the bytes the client
    already sent past the request (read ahead with the head, so they must not be lost); the
    connection closes when ``take`` returns.
    """

    take: Callable[[socket.socket, bytes], None] | None = None


class ProtocolError(Exception):
    """A request this server will not process: answered as JSON with a 4xx, then the connection closes."""

    def __init__(self, status: int, error_type: str, message: str) -> None:
        message = truncate(message, MAX_ECHOED_MESSAGE_CHARS)  # h11's complaints quote the request
        super().__init__(message)
        self.status, self.error_type, self.message = status, error_type, message


def _malformed(detail: str) -> ProtocolError:
    return ProtocolError(400, "SerializationException", f"Malformed HTTP request: {detail}")


def _headers_too_large() -> ProtocolError:
    return ProtocolError(431, "RequestHeaderFieldsTooLargeException", "Request headers exceed the size limit")


def _refusal(exc: h11.RemoteProtocolError) -> ProtocolError:
    """h11's complaint as the answer a client gets: 4xx only (an unknown transfer-coding too)."""
    return _headers_too_large() if exc.error_status_hint == 431 else _malformed(str(exc))


class _Timeout(Exception):
    """The peer went quiet in the middle of a request."""


# --- writing answers ----------------------------------------------------------------------------------


_status_lines: dict[int, bytes] = {}
_date_line: tuple[int, bytes] = (0, b"")


def _status_line(status: int) -> bytes:
    line = _status_lines.get(status)
    if line is None:
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = ""
        line = _status_lines[status] = f"HTTP/1.1 {status} {phrase}\r\n".encode()
    return line


def _date_header() -> bytes:
    global _date_line
    now = int(time.time())
    if _date_line[0] != now:  # formatted once a second, not once a request
        _date_line = (now, f"Date: {formatdate(now, usegmt=True)}\r\n".encode())
    return _date_line[1]


def _head(status: int, headers: dict[str, str], framing: bytes, keep_alive: bool) -> bytes:
    parts = [_status_line(status), SERVER_HEADER, _date_header()]
    for name, value in headers.items():
        if name.lower() not in FRAMING_HEADERS:
            parts.append(f"{name}: {safe_header_value(str(value))}\r\n".encode("latin-1"))
    parts.append(framing)
    if not keep_alive:
        parts.append(b"Connection: close\r\n")
    parts.append(b"\r\n")
    return b"".join(parts)


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def error_bytes(error: ProtocolError) -> bytes:
    """The whole JSON answer to a refused request (the connection closes after it)."""
    body = json.dumps({"__type": error.error_type, "message": error.message}).encode()
    headers = {"Content-Type": ERROR_CONTENT_TYPE, "x-amzn-ErrorType": f"{error.error_type}:",
               "x-amzn-ErrorMessage": safe_header_value(error.message, MAX_ECHOED_HEADER_CHARS)}
    return _head(error.status, headers, b"Content-Length: %d\r\n" % len(body), keep_alive=False) + body


# --- the connection -------------------------------------------------------------------------------------


class Connection:
    """Requests in, answers out, on one socket until either side closes or a limit is hit."""

    def __init__(self, sock: socket.socket, client: str, router: Dispatcher, limits: ServerLimits,
                 server_name: str = "") -> None:
        self.sock, self.client, self.router, self.limits = sock, client, router, limits
        self.server_name = server_name  # the TLS name (SNI) the client asked for; "" on plain HTTP
        self.pending = b""  # bytes received past the last request (a pipelined next one)
        self.peer_speaks_1_1 = True  # HTTP/1.0 peers get no chunked answers

    def serve(self) -> None:
        keep_alive = True
        while keep_alive:
            try:
                received = self._read_request()
            except ProtocolError as error:
                self._refuse(error)
                return
            except _Timeout:
                self._refuse(ProtocolError(408, "RequestTimeoutException", "Request not received in time"))
                return
            if received is None:  # the client closed, or stayed idle past the timeout, between requests
                return
            request, keep_alive = received
            response = self._answer(request)
            if isinstance(response, Handover):
                self._hand_over(response)
                return
            self._send(request, response, keep_alive)

    def _refuse(self, error: ProtocolError) -> None:
        """Send the refusal, stop sending, then drain the client's bytes for a moment before closing."""
        self.sock.settimeout(LINGER_SECONDS)
        self.sock.sendall(error_bytes(error))
        self.sock.shutdown(socket.SHUT_WR)
        deadline, drained, scratch = time.monotonic() + LINGER_SECONDS, 0, bytearray(16 * 1024)
        while drained < LINGER_BYTES and (left := deadline - time.monotonic()) > 0:
            self.sock.settimeout(left)
            try:
                received = self.sock.recv_into(scratch)  # into one small buffer: draining allocates nothing
            except (TimeoutError, ConnectionError):
                return
            if not received:
                return
            drained += received

    # --- reading ---

    def _receive(self, parser: h11.Connection, timeout: float) -> None:
        if timeout <= 0:
            raise _Timeout()
        self.sock.settimeout(timeout)
        try:
            parser.receive_data(self.sock.recv(RECV_BYTES))
        except TimeoutError:
            raise _Timeout() from None

    def _next_event(self, parser: h11.Connection, deadline: float) -> h11.Event:
        """The next h11 event, receiving as needed until ``deadline``."""
        while True:
            try:
                event = parser.next_event()
            except h11.RemoteProtocolError as exc:
                raise _refusal(exc) from None
            if event is not h11.NEED_DATA:
                return event
            self._receive(parser, deadline - time.monotonic())

    def _read_request(self) -> tuple[Request, bool] | None:
        """The next request and whether the connection stays open after its answer; None when the
        client closed or stayed idle between requests."""
        parser = h11.Connection(h11.SERVER, max_incomplete_event_size=self.limits.header_bytes)
        if self.pending:
            parser.receive_data(self.pending)
        else:  # the idle timeout runs until the first byte, then the head's deadline
            try:
                self._receive(parser, self.limits.idle_timeout)
            except _Timeout:
                return None
        head = self._next_event(parser, deadline=time.monotonic() + self.limits.header_timeout)
        if not isinstance(head, h11.Request):  # ConnectionClosed before a request line
            return None
        if len(head.method) + len(head.target) + sum(len(k) + len(v) + 4 for k, v in head.headers) > \
                self.limits.header_bytes:
            raise _headers_too_large()
        headers: dict[str, str] = {}
        for name, value in head.headers:
            key, text = name.decode("latin-1"), value.decode("latin-1")
            headers[key] = f"{headers[key]}, {text}" if key in headers else text
        self._check_framing(head, headers)
        self.peer_speaks_1_1 = head.http_version == b"1.1"
        body = self._read_body(parser)
        self.pending, closed = parser.trailing_data
        target = head.target.decode("latin-1")
        split = urlsplit(target)
        request = Request(method=head.method.decode("latin-1"), path=split.path or "/",
                          query=parse_qs(split.query, keep_blank_values=True), headers=headers, body=body,
                          client=self.client, target=target, server_name=self.server_name)
        tokens = {token.strip().lower() for token in headers.get("connection", "").split(",")}
        return request, self.peer_speaks_1_1 and "close" not in tokens and not closed

    def _check_framing(self, head: h11.Request, headers: dict[str, str]) -> None:
        if "transfer-encoding" in headers:
            if "content-length" in headers:  # a proxy might frame it by the other header: never guess
                raise _malformed("both Content-Length and Transfer-Encoding")
            if head.http_version != b"1.1":
                raise _malformed("Transfer-Encoding in an HTTP/1.0 request")
        if int(headers.get("content-length") or 0) > self.limits.body_bytes:  # h11 checked it is digits
            raise self._body_too_large()

    def _body_too_large(self) -> ProtocolError:
        return ProtocolError(400, "InvalidParameterException",
                             f"Request body exceeds the {self.limits.body_bytes}-byte limit")

    def _read_body(self, parser: h11.Connection) -> bytes:
        body = bytearray()
        continued = False
        deadline = time.monotonic() + self.limits.idle_timeout  # slow-body clients: a total, not per read
        while True:
            if parser.client_is_waiting_for_100_continue and not continued:
                self.sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
                continued = True
            event = self._next_event(parser, deadline)
            if isinstance(event, h11.Data):
                body += event.data
                if len(body) > self.limits.body_bytes:
                    raise self._body_too_large()
            elif isinstance(event, h11.EndOfMessage):
                return bytes(body)
            else:  # ConnectionClosed mid-body
                raise _malformed("request body ended early")

    # --- answering ---

    def _answer(self, request: Request) -> Response:
        try:
            return self.router.dispatch(request)
        except Exception:  # a bug in the emulator: report it, never a bare stack trace to the client
            traceback.print_exc(file=sys.stderr)
            return Response.json({"__type": "InternalErrorException", "message": "Internal server error."}, 500)

    def _send(self, request: Request, response: Response, keep_alive: bool) -> None:
        self.sock.settimeout(self.limits.idle_timeout)  # a client that never reads cannot hold us forever
        bodiless = request.method == "HEAD" or response.status in (204, 304) or response.status < 200
        if response.chunks is None:  # head and body in one write: one segment for a small answer
            head = _head(response.status, response.headers, b"Content-Length: %d\r\n" % len(response.body),
                         keep_alive)
            self.sock.sendall(head if bodiless else head + response.body)
        elif bodiless:
            self.sock.sendall(_head(response.status, response.headers, b"", keep_alive))
        else:
            self._send_stream(response, keep_alive)

    def _hand_over(self, response: Handover) -> None:
        """The head (no framing: nothing HTTP follows it), then the socket goes to ``response.take``."""
        self.sock.settimeout(self.limits.idle_timeout)
        self.sock.sendall(_head(response.status, response.headers, b"", keep_alive=True))
        pending, self.pending = self.pending, b""
        if response.take is not None:
            response.take(self.sock, pending)

    def _send_stream(self, response: Response, keep_alive: bool) -> None:
        """A streamed body flushed every STREAM_FLUSH_BYTES: chunked, or ended by closing for HTTP/1.0."""
        chunked = self.peer_speaks_1_1
        framing = b"Transfer-Encoding: chunked\r\n" if chunked else b""
        buffer = bytearray(_head(response.status, response.headers, framing, keep_alive and chunked))
        try:
            for chunk in response.body_chunks():
                buffer += _chunk(chunk) if chunked else chunk
                if len(buffer) >= STREAM_FLUSH_BYTES:
                    self.sock.sendall(buffer)
                    buffer.clear()
        except Exception:  # the head is out: the only way left to say so is to cut the answer short
            traceback.print_exc(file=sys.stderr)
            self.sock.sendall(buffer)
            raise ConnectionAbortedError("streamed response failed") from None
        self.sock.sendall(buffer + b"0\r\n\r\n" if chunked else buffer)
