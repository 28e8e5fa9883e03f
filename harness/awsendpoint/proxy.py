"""An intercepting HTTPS proxy on loopback: AWS Cognito host names only, everything else refused.

The launched app gets ``HTTPS_PROXY`` pointing here. ``CONNECT`` to a served
host on port 443 is tunnelled to the TLS front (the app's TLS session ends at
the front, which presents a certificate from the run's CA); an absolute-form
``GET https://<served host>/...`` (some clients send that to an HTTP proxy) is
answered through the same upstream. Every other host, port or scheme gets a
403 that names what was refused, and is recorded for the run's evidence: no
connection ever leaves loopback.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import socketserver
import threading
from typing import Iterator
from urllib.parse import urlsplit

from harness.awsendpoint.front import MAX_BODY_BYTES, Upstream
from harness.awsendpoint.hitlog import HitLog
from harness.awsendpoint.serving import BackgroundServing

MAX_HEADER_LINE = 8192
MAX_HEADER_LINES = 100
TUNNEL_IDLE_SECONDS = 120.0
HTTPS_PORT = 443


def _split_authority(authority: str, default_port: int) -> tuple[str, int | None]:
    """(host, port) from ``host:port`` / ``[v6]:port``; port None when it is not a number."""
    host, port = authority, str(default_port)
    if authority.startswith("["):
        host, _, rest = authority[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else port
    elif ":" in authority:
        host, _, port = authority.rpartition(":")
    return host.lower().rstrip("."), int(port) if port.isdigit() else None


def _splice(a: socket.socket, b: socket.socket) -> None:
    """Copy bytes both ways until either side closes or the tunnel idles out."""
    sel = selectors.DefaultSelector()
    sel.register(a, selectors.EVENT_READ, b)
    sel.register(b, selectors.EVENT_READ, a)
    try:
        while True:
            ready = sel.select(timeout=TUNNEL_IDLE_SECONDS)
            if not ready:
                return
            for key, _ in ready:
                data = key.fileobj.recv(65536)  # type: ignore[union-attr]
                if not data:
                    return
                key.data.sendall(data)
    except OSError:
        return
    finally:
        sel.close()


def _handler(proxy: InterceptingProxy) -> type[socketserver.StreamRequestHandler]:
    class ProxyHandler(socketserver.StreamRequestHandler):
        timeout = 30
        rbufsize = 0  # unbuffered: nothing the client sends after CONNECT is held back from the tunnel

        def handle(self) -> None:
            line = self.rfile.readline(MAX_HEADER_LINE + 1)
            parts = line.decode("latin-1").split()
            if len(parts) != 3 or not parts[2].startswith("HTTP/"):
                return self._refuse(400, "a malformed proxy request line", "")
            headers = self._headers()
            if headers is None:
                return self._refuse(400, "too many or too long header lines", "")
            method, target = parts[0].upper(), parts[1]
            if method == "CONNECT":
                return self._connect(target)
            return self._absolute(method, target, headers)

        def _headers(self) -> dict[str, str] | None:
            headers: dict[str, str] = {}
            for _ in range(MAX_HEADER_LINES):
                raw = self.rfile.readline(MAX_HEADER_LINE + 1)
                if len(raw) > MAX_HEADER_LINE:
                    return None
                if raw in (b"\r\n", b"\n", b""):
                    return headers
                name, _, value = raw.decode("latin-1").partition(":")
                headers[name.strip()] = value.strip()
            return None

        def _connect(self, authority: str) -> None:
            host, port = _split_authority(authority, HTTPS_PORT)
            front = proxy.fronts.get(host)
            if front is None or port != HTTPS_PORT:
                return self._refuse(403, f"CONNECT to {authority}", authority)
            try:
                upstream = socket.create_connection(front, timeout=10)
            except OSError as exc:
                return self._refuse(502, f"the TLS front for {host} ({exc})", "")
            proxy.log.admit(host)
            with proxy.track(upstream):
                self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
                self.wfile.flush()
                upstream.settimeout(None)
                self.connection.settimeout(None)
                _splice(self.connection, upstream)

        def _absolute(self, method: str, target: str, headers: dict[str, str]) -> None:
            split = urlsplit(target)
            host, port = _split_authority(split.netloc, HTTPS_PORT if split.scheme == "https" else 80)
            upstream = proxy.upstreams.get(host)
            if split.scheme != "https" or upstream is None or port != HTTPS_PORT:
                return self._refuse(403, f"{method} {split.scheme}://{split.netloc}", split.netloc or target)
            try:
                length = int(headers.get("Content-Length") or headers.get("content-length") or 0)
            except ValueError:
                length = -1
            if length < 0 or length > MAX_BODY_BYTES:
                return self._refuse(400, "a bad or oversized Content-Length", "")
            body = self._read_exact(length)
            path = split.path or "/"
            if split.query:
                path += "?" + split.query
            try:
                status, out_headers, data = upstream.forward(method, path, headers, body)
            except OSError as exc:
                return self._refuse(502, f"the emulator for {host} ({exc})", "")
            proxy.log.admit(host)
            head = [f"HTTP/1.1 {status} -"] + [f"{k}: {v}" for k, v in out_headers]
            head += [f"Content-Length: {len(data)}", "Connection: close", "", ""]
            self.wfile.write("\r\n".join(head).encode("latin-1") + (b"" if method == "HEAD" else data))

        def _read_exact(self, length: int) -> bytes:
            chunks, left = [], length
            while left > 0:
                chunk = self.rfile.read(left)
                if not chunk:
                    break
                chunks.append(chunk)
                left -= len(chunk)
            return b"".join(chunks)

        def _refuse(self, status: int, what: str, refused: str) -> None:
            if refused:
                proxy.log.refuse(refused)
            reason = {400: "Bad Request", 403: "Forbidden", 502: "Bad Gateway"}[status]
            if status == 403:
                text = (f"cognito-harness AWS endpoint mode refused {what}: this proxy only answers "
                        f"{', '.join(sorted(proxy.fronts))} on port 443 (served by the emulator on loopback); "
                        "nothing leaves this machine.\n")
            else:
                text = f"cognito-harness AWS endpoint mode: {what}\n"
            body = text.encode()
            self.wfile.write(f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\n"
                             f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body)

    return ProxyHandler


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64


class InterceptingProxy:
    """An HTTP proxy on ``127.0.0.1`` that tunnels only to the TLS fronts it is given.

    ``fronts``: AWS host name -> the loopback (address, port) of the TLS front
    serving it; ``upstreams``: the same names -> where absolute-form requests go.
    """

    def __init__(self, fronts: dict[str, tuple[str, int]], upstreams: dict[str, Upstream],
                 address: tuple[str, int] = ("127.0.0.1", 0)) -> None:
        if not address[0].startswith("127."):
            raise ValueError(f"the proxy binds loopback only, not {address[0]!r}")
        for host, front in fronts.items():
            if not front[0].startswith("127."):
                raise ValueError(f"the proxy tunnels to loopback only; {host} -> {front[0]!r}")
        self.fronts = {h.lower(): f for h, f in fronts.items()}
        self.upstreams = {h.lower(): u for h, u in upstreams.items()}
        self.log = HitLog()  # hosts refused (host:port); tunnels opened per host
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        self._server = _Server(address, _handler(self))
        self._serving = BackgroundServing(self._server, "aws-proxy")

    @contextlib.contextmanager
    def track(self, sock: socket.socket) -> Iterator[socket.socket]:
        """``sock`` is closed at the end of its tunnel, or when the proxy stops."""
        with self._open_lock:
            self._open.add(sock)
        try:
            yield sock
        finally:
            with self._open_lock:
                self._open.discard(sock)
            sock.close()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> InterceptingProxy:
        self._serving.start()
        return self

    def stop(self) -> None:
        self._serving.stop()
        with self._open_lock:
            for sock in list(self._open):
                try:
                    sock.close()
                except OSError:
                    pass
            self._open.clear()


__all__ = ["InterceptingProxy"]
