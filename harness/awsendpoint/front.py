"""The TLS front: the real AWS host names, served over TLS on loopback, answered by the emulator.

Each connection's TLS handshake picks the certificate by SNI (a name the front
does not serve is refused during the handshake); each HTTP request is then
forwarded to the emulator's plain-HTTP face for that host. The OpenID
discovery document is rewritten so its ``jwks_uri`` points at the AWS host
too: an app that follows discovery stays on the AWS names.

The front is served by the same HTTP layer as the emulator
(:class:`harness.web.serving.HTTPService`, h11 with limits): chunked bodies
are decoded and re-sent upstream with a Content-Length, ambiguous framing
(two Content-Lengths, Content-Length with Transfer-Encoding) is refused before
anything is forwarded, and the head size cap, the handshake, head and idle
timeouts and the connection cap hold over TLS as they do on the plain port.
"""

from __future__ import annotations

import socket
import ssl
from urllib.parse import urlsplit

from harness.awsendpoint.ca import RunCA
from harness.awsendpoint.hitlog import HitLog
from harness.awsendpoint.upstream import UPSTREAM_FAILURES, Upstream
from harness.web.http import Request, Response
from harness.web.serving import HTTPService, ServerLimits, TLSTermination


def split_target(target: str) -> tuple[str, str]:
    """(authority, origin-form path and query) of a request-target; authority "" unless absolute-form."""
    if "://" not in target:  # origin form, or "*"
        return "", target
    split = urlsplit(target)
    return split.netloc, (split.path or "/") + (f"?{split.query}" if split.query else "")


class TLSFront:
    """Serves ``upstreams`` (AWS host name -> emulator URL) over TLS on ``address``.

    ``address`` must be a loopback address (127.0.0.0/8); port 0 picks a free port.
    ``limits``: the HTTP layer's (defaults suit a long run; tests shrink them).
    """

    def __init__(self, ca: RunCA, upstreams: list[Upstream], address: tuple[str, int] = ("127.0.0.1", 0),
                 limits: ServerLimits | None = None) -> None:
        if not upstreams:
            raise ValueError("the TLS front needs at least one host to serve")
        if not address[0].startswith("127."):
            raise ValueError(f"the TLS front binds loopback only, not {address[0]!r}")
        self.upstreams = {u.host: u for u in upstreams}
        self.default_host = upstreams[0].host
        self.log = HitLog()  # TLS names refused at the handshake; requests served per host
        self._contexts = {u.host: self._context_for(ca, u.host) for u in upstreams}
        self._hosts = {ctx: host for host, ctx in self._contexts.items()}
        self.context = self._contexts[self.default_host]
        for ctx in self._contexts.values():
            ctx.sni_callback = self._pick_certificate
        self._service = HTTPService(self, address[0], address[1], limits,
                                    tls=TLSTermination(self.context, self._server_name))

    @staticmethod
    def _context_for(ca: RunCA, host: str) -> ssl.SSLContext:
        leaf = ca.issue([host])
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(leaf.chain_path, leaf.key_path)
        ctx.set_alpn_protocols(["http/1.1"])
        return ctx

    def _pick_certificate(self, sock: ssl.SSLObject | ssl.SSLSocket, server_name: str | None,
                          _ctx: ssl.SSLContext) -> int | None:
        """SNI routing: the served name's certificate; any other name is refused in the handshake."""
        name = (server_name or self.default_host).lower()
        ctx = self._contexts.get(name)
        if ctx is None:
            self.log.refuse(name)
            return ssl.ALERT_DESCRIPTION_UNRECOGNIZED_NAME
        sock.context = ctx
        return None

    def _server_name(self, sock: ssl.SSLSocket) -> str:
        """The served name this connection's handshake chose (its context is that name's)."""
        return self._hosts.get(sock.context, self.default_host)

    def dispatch(self, request: Request) -> Response:
        """Forward to the upstream of the connection's TLS name; 421 when the request names another host."""
        sni = request.server_name or self.default_host
        authority, path = split_target(request.target or request.path)
        host = (authority or request.header("host") or sni).rsplit(":", 1)[0].lower()
        upstream = self.upstreams.get(host)
        if upstream is None or host != sni:
            return Response.text(f"cognito-harness AWS endpoint front: {host!r} is not served on this connection "
                                 f"(TLS name {sni!r})\n", 421)
        try:
            answer = upstream.forward(request.method, path, request.headers, request.body)
        except UPSTREAM_FAILURES as exc:
            return Response.text(f"cognito-harness AWS endpoint front: the emulator did not answer ({exc})\n", 502)
        self.log.admit(host)
        return answer

    @property
    def address(self) -> tuple[str, int]:
        return self._service.host, self._service.port

    @property
    def limits(self) -> ServerLimits:
        return self._service.limits

    @property
    def open_connections(self) -> int:
        """Client connections being served right now (each holds one thread)."""
        return self._service.open_connections

    def start(self) -> TLSFront:
        self._service.start()
        return self

    def stop(self) -> None:
        self._service.stop()
        for upstream in self.upstreams.values():
            upstream.close()


def bind_probe(address: tuple[str, int]) -> OSError | None:
    """None when ``address`` can be bound now (port 443 on a loopback alias needs root or the capability)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(address)
        except OSError as exc:
            return exc
    return None


__all__ = ["TLSFront", "Upstream", "bind_probe"]
