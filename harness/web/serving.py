"""The HTTP server under every face: a router served over h11, one thread per connection, with limits.

Why this design (figures from ``bench/http_servers.py``, same run, same
engine, only the HTTP layer swapped; see the table in that file): the old
``http.server`` layer was fast but unsafe (no timeouts, no connection cap,
~6.4 MB of headers per request, ``Transfer-Encoding: chunked`` ignored so the
chunk bytes ran as a second request, the first of two Content-Lengths taken).
waitress gets the protocol right but hands every request from its select
loop to a worker thread and back: on this 2-core machine that doubled the
server CPU of a cheap call and cut sign-in throughput below the old server's.
cheroot was slower per call too and takes ~0.5 s to stop (every test
fixture stops one). So the parsing and framing are h11's (python-hyper's
HTTP/1.1 state machine: strict request lines and headers, chunked bodies
decoded, conflicting Content-Lengths refused, header buffer capped), and the
socket handling is the old server's shape, which the figures favour: one
thread owns a keep-alive connection, reads a request, calls the router and
writes the answer in one ``sendall`` with TCP_NODELAY.

The limits (:class:`ServerLimits`) are what the old server lacked: an idle
timeout between requests, a deadline for a request's head (slow-header
clients), a stall timeout while a body arrives, a cap on connections (and so
on threads: past it, new connections wait in the kernel's backlog), a cap on
head and body size. Protocol errors answer JSON in the cognito-idp error
shape with a 4xx and close the connection; a request carrying both
Content-Length and Transfer-Encoding, or Transfer-Encoding on HTTP/1.0, is
refused (RFC 9112 section 6.1).

A service may speak TLS (the AWS endpoint mode's front, :class:`TLSTermination`):
each handshake runs in the connection's own thread, under the handshake
timeout and inside the connection cap, so a client that never finishes its
ClientHello holds one slot for a few seconds and no more; the server name the
client asked for (SNI) reaches the router as ``Request.server_name``.
"""

from __future__ import annotations

import selectors
import socket
import ssl
import sys
import threading
import traceback
from dataclasses import dataclass
from typing import Callable

from harness.web.connection import Connection, Dispatcher, Handover, ServerLimits

__all__ = ["HTTPService", "ServerLimits", "Dispatcher", "Handover", "TLSTermination"]


def _no_server_name(sock: ssl.SSLSocket) -> str:
    return ""


@dataclass(frozen=True)
class TLSTermination:
    """How a service speaks TLS: each connection is wrapped with ``context`` (whose ``sni_callback``
    may refuse a name, failing the handshake, or switch to another context); after the handshake,
    ``server_name`` tells which name the client asked for."""

    context: ssl.SSLContext
    server_name: Callable[[ssl.SSLSocket], str] = _no_server_name


class HTTPService:
    """A router served on a loopback port, in a background thread or the caller's.

    The port is bound and listening when constructed (so ``url`` is known
    before :meth:`start`); :meth:`stop` closes every connection, waits for
    their threads and releases the port, whether or not the service started.
    """

    def __init__(self, router: Dispatcher, host: str = "127.0.0.1", port: int = 0,
                 limits: ServerLimits | None = None, tls: TLSTermination | None = None) -> None:
        self.router = router
        self.limits = limits or ServerLimits()
        self.tls = tls
        self._listener = socket.create_server((host, port), backlog=self.limits.backlog)
        self._address: tuple[str, int] = self._listener.getsockname()[:2]
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._slots = threading.BoundedSemaphore(self.limits.connections)
        self._closing = threading.Event()
        self._lock = threading.Lock()
        self._open: dict[socket.socket, threading.Thread] = {}
        self._thread: threading.Thread | None = None  # the daemon thread start() made
        self._loop_thread: threading.Thread | None = None  # whichever thread runs the accept loop
        self._loop_done = threading.Event()
        self._release_on_exit = False
        self._stopped = False

    @property
    def host(self) -> str:
        return str(self._address[0])

    @property
    def port(self) -> int:
        return int(self._address[1])

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def open_connections(self) -> int:
        """Connections being served right now (each holds one thread)."""
        with self._lock:
            return len(self._open)

    def start(self) -> HTTPService:
        """Serve in a daemon thread; returns at once (the socket already listens)."""
        self._thread = threading.Thread(target=self._accept_loop, name=f"harness-http-{self.port}", daemon=True)
        self._loop_thread = self._thread
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until :meth:`stop` (from another thread, or a signal handler)."""
        self._loop_thread = threading.current_thread()
        self._accept_loop()

    def _accept_loop(self) -> None:
        selector = selectors.DefaultSelector()
        selector.register(self._listener, selectors.EVENT_READ)
        selector.register(self._wake_reader, selectors.EVENT_READ)
        try:
            while not self._closing.is_set():
                if not self._slots.acquire(timeout=0.25):
                    continue  # at the connection cap: new connections wait in the backlog
                selector.select()
                if self._closing.is_set():
                    self._slots.release()
                    break
                try:
                    sock, address = self._listener.accept()
                except OSError:  # the peer gave up before we accepted
                    self._slots.release()
                    continue
                self._spawn(sock, str(address[0]))
        finally:
            selector.close()
            self._loop_done.set()
            if self._release_on_exit:  # stop() ran in this thread (a signal handler): finish its work
                self._release()

    def _spawn(self, sock: socket.socket, client: str) -> None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # the answer leaves at once
        thread = threading.Thread(target=self._serve_connection, args=(sock, client), daemon=True,
                                  name=f"harness-http-conn-{client}")
        with self._lock:
            self._open[sock] = thread
        thread.start()

    def _serve_connection(self, sock: socket.socket, client: str) -> None:
        try:
            server_name = ""
            if self.tls is not None:
                sock.settimeout(self.limits.handshake_timeout)  # kept by the TLS socket
                secured = self.tls.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
                sock = self._track_instead(sock, secured)
                if self._closing.is_set():  # stop() may have looked before the swap: end here
                    return
                secured.do_handshake()
                server_name = self.tls.server_name(secured)
            Connection(sock, client, self.router, self.limits, server_name).serve()
        except OSError:  # reset by the peer, timed out while answering, or shut down by stop()
            pass
        except Exception:  # a bug in the server: this connection ends, the others carry on
            traceback.print_exc(file=sys.stderr)
        finally:
            with self._lock:
                self._open.pop(sock, None)
            sock.close()
            self._slots.release()

    def _track_instead(self, raw: socket.socket, secured: socket.socket) -> socket.socket:
        """The TLS socket takes the raw one's place (wrapping detached it): stop() shuts it down."""
        with self._lock:
            self._open[secured] = self._open.pop(raw)
        return secured

    def stop(self) -> None:
        """Stop serving (if it ever started), close all connections and release the port."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        self._closing.set()
        self._wake_writer.send(b"x")
        if self._loop_thread is threading.current_thread():
            self._release_on_exit = True  # the loop is below us on this stack: it releases as it leaves
            return
        if self._loop_thread is not None:
            self._loop_done.wait(timeout=5)
        self._release()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _release(self) -> None:
        """Close the port, then every open connection, and wait for their threads."""
        self._listener.close()
        with self._lock:
            connections = list(self._open.items())
        for sock, _ in connections:
            try:
                # wakes the thread blocked in recv; the base method, as an SSLSocket's own would drop
                # its TLS state from under the thread still using it
                socket.socket.shutdown(sock, socket.SHUT_RDWR)
            except OSError:
                pass
        for _, thread in connections:
            thread.join(timeout=5)
        self._wake_reader.close()
        self._wake_writer.close()
