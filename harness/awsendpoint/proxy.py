"""An intercepting HTTPS proxy on loopback: AWS Cognito host names only, everything else refused.

The launched app gets ``HTTPS_PROXY`` pointing here. ``CONNECT`` to a served
host on port 443 is tunnelled to the TLS front (the app's TLS session ends at
the front, which presents a certificate from the run's CA); an absolute-form
``GET https://<served host>/...`` (some clients send that to an HTTP proxy) is
answered through the same upstream. Every other host, port or scheme gets a
403 that names what was refused, and is recorded for the run's evidence: no
connection ever leaves loopback.

Requests are read by the same HTTP layer as the emulator's
(:class:`harness.web.serving.HTTPService`: h11, head and body caps, timeouts,
a connection cap that tunnels count against); a granted ``CONNECT`` is a
:class:`~harness.web.serving.Handover`, after which the connection's bytes
are spliced to the front.
"""

from __future__ import annotations

import functools
import selectors
import socket
from urllib.parse import urlsplit

from harness.awsendpoint.front import split_target
from harness.awsendpoint.upstream import UPSTREAM_FAILURES, Upstream
from harness.awsendpoint.hitlog import HitLog
from harness.web.http import Request, Response
from harness.web.serving import Handover, HTTPService, ServerLimits

TUNNEL_IDLE_SECONDS = 120.0
FRONT_CONNECT_TIMEOUT = 10.0
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


def _tunnel(front: socket.socket, client: socket.socket, early: bytes) -> None:
    """The client's connection spliced to the front's; ``early``: what the client sent before our 200."""
    with front:
        front.settimeout(TUNNEL_IDLE_SECONDS)  # a peer that stops reading cannot hold a send forever
        client.settimeout(TUNNEL_IDLE_SECONDS)
        try:
            if early:
                front.sendall(early)
        except OSError:
            return
        _splice(client, front)


class InterceptingProxy:
    """An HTTP proxy on ``127.0.0.1`` that tunnels only to the TLS fronts it is given.

    ``fronts``: AWS host name -> the loopback (address, port) of the TLS front
    serving it; ``upstreams``: the same names -> where absolute-form requests go;
    ``limits``: the HTTP layer's (each open tunnel holds one of its connections).
    """

    def __init__(self, fronts: dict[str, tuple[str, int]], upstreams: dict[str, Upstream],
                 address: tuple[str, int] = ("127.0.0.1", 0), limits: ServerLimits | None = None) -> None:
        if not address[0].startswith("127."):
            raise ValueError(f"the proxy binds loopback only, not {address[0]!r}")
        for host, front in fronts.items():
            if not front[0].startswith("127."):
                raise ValueError(f"the proxy tunnels to loopback only; {host} -> {front[0]!r}")
        self.fronts = {h.lower(): f for h, f in fronts.items()}
        self.upstreams = {h.lower(): u for h, u in upstreams.items()}
        self.log = HitLog()  # hosts refused (host:port); tunnels opened per host
        self._service = HTTPService(self, address[0], address[1], limits)

    def dispatch(self, request: Request) -> Response:
        if request.method == "CONNECT":
            return self._connect(request.target)
        return self._absolute(request)

    def _connect(self, authority: str) -> Response:
        host, port = _split_authority(authority, HTTPS_PORT)
        front = self.fronts.get(host)
        if front is None or port != HTTPS_PORT:
            return self._refuse(403, f"CONNECT to {authority}", authority)
        try:
            upstream = socket.create_connection(front, timeout=FRONT_CONNECT_TIMEOUT)
        except OSError as exc:
            return self._refuse(502, f"the TLS front for {host} ({exc})", "")
        upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # a relayed TLS record leaves at once
        self.log.admit(host)
        return Handover(200, take=functools.partial(_tunnel, upstream))

    def _absolute(self, request: Request) -> Response:
        split = urlsplit(request.target)
        host, port = _split_authority(split.netloc, HTTPS_PORT if split.scheme == "https" else 80)
        upstream = self.upstreams.get(host)
        if split.scheme != "https" or upstream is None or port != HTTPS_PORT:
            return self._refuse(403, f"{request.method} {split.scheme}://{split.netloc}", split.netloc or request.target)
        try:
            answer = upstream.forward(request.method, split_target(request.target)[1], request.headers, request.body)
        except UPSTREAM_FAILURES as exc:
            return self._refuse(502, f"the emulator for {host} ({exc})", "")
        self.log.admit(host)
        return answer

    def _refuse(self, status: int, what: str, refused: str) -> Response:
        if refused:
            self.log.refuse(refused)
        if status == 403:
            text = (f"cognito-harness AWS endpoint mode refused {what}: this proxy only answers "
                    f"{', '.join(sorted(self.fronts))} on port 443 (served by the emulator on loopback); "
                    "nothing leaves this machine.\n")
        else:
            text = f"cognito-harness AWS endpoint mode: {what}\n"
        return Response.text(text, status)

    @property
    def url(self) -> str:
        return f"http://{self._service.host}:{self._service.port}"

    @property
    def open_connections(self) -> int:
        """Client connections being served right now, open tunnels included."""
        return self._service.open_connections

    def start(self) -> InterceptingProxy:
        self._service.start()
        return self

    def stop(self) -> None:
        """Stop serving: every open tunnel is cut (its client connection shut down, then the front's closed)."""
        self._service.stop()
        for upstream in self.upstreams.values():
            upstream.close()


__all__ = ["InterceptingProxy"]
