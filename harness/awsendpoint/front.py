"""The TLS front: the real AWS host names, served over TLS on loopback, answered by the emulator.

Each connection's TLS handshake picks the certificate by SNI (a name the front
does not serve is refused during the handshake); each HTTP request is then
forwarded to the emulator's plain-HTTP face for that host. The OpenID
discovery document is rewritten so its ``jwks_uri`` points at the AWS host
too: an app that follows discovery stays on the AWS names.
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from harness.awsendpoint.ca import RunCA
from harness.awsendpoint.hitlog import HitLog
from harness.awsendpoint.serving import BackgroundServing

HANDSHAKE_TIMEOUT = 10.0
UPSTREAM_TIMEOUT = 30.0
MAX_BODY_BYTES = 4 * 1024 * 1024
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
              "transfer-encoding", "upgrade", "content-length", "host"}
DISCOVERY_SUFFIX = "/.well-known/openid-configuration"


@dataclass
class Upstream:
    """Where requests for one AWS host name are answered: a plain-HTTP loopback base URL."""

    host: str  # the AWS host name, e.g. cognito-idp.us-east-1.amazonaws.com
    base_url: str  # e.g. http://127.0.0.1:40123

    def forward(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        """Send one request upstream; (status, headers, body) with the AWS-form discovery document."""
        split = urlsplit(self.base_url)
        conn = http.client.HTTPConnection(split.hostname or "127.0.0.1", split.port or 80, timeout=UPSTREAM_TIMEOUT)
        try:
            sent = {k: v for k, v in headers.items() if k.lower() not in HOP_BY_HOP}
            sent["Host"] = split.netloc
            conn.request(method, path, body=body if body or method not in ("GET", "HEAD") else None, headers=sent)
            response = conn.getresponse()
            data = response.read()
            out_headers = [(k, v) for k, v in response.getheaders() if k.lower() not in HOP_BY_HOP]
            status = response.status
        finally:
            conn.close()
        if status == 200 and urlsplit(path).path.endswith(DISCOVERY_SUFFIX):
            data = self._aws_discovery(urlsplit(path).path, data)
        return status, out_headers, data

    def _aws_discovery(self, path: str, data: bytes) -> bytes:
        try:
            doc = json.loads(data)
        except ValueError:
            return data
        if isinstance(doc, dict):
            doc["jwks_uri"] = f"https://{self.host}{path.removesuffix(DISCOVERY_SUFFIX)}/.well-known/jwks.json"
        return json.dumps(doc, separators=(",", ":")).encode()


def _handler(front: TLSFront) -> type[BaseHTTPRequestHandler]:
    class FrontHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "cognito-harness-aws-front"
        sys_version = ""
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
            return None

        def _serve(self) -> None:
            sni = getattr(self.connection, "sni_host", None) or front.default_host
            host = (self.headers.get("Host") or sni).rsplit(":", 1)[0].lower()
            upstream = front.upstreams.get(host)
            if upstream is None or host != sni:
                self._reply(421, [("Content-Type", "text/plain")],
                            f"cognito-harness AWS endpoint front: {host!r} is not served on this connection "
                            f"(TLS name {sni!r})\n".encode())
                return
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                length = -1
            if length < 0 or length > MAX_BODY_BYTES:
                self._reply(400, [("Content-Type", "text/plain")], b"bad or oversized Content-Length\n", close=True)
                return
            body = self.rfile.read(length) if length else b""
            try:
                status, headers, data = upstream.forward(self.command, self.path, dict(self.headers.items()), body)
            except OSError as exc:
                self._reply(502, [("Content-Type", "text/plain")],
                            f"cognito-harness AWS endpoint front: the emulator did not answer ({exc})\n".encode())
                return
            front.log.admit(host)
            self._reply(status, headers, b"" if self.command == "HEAD" else data, length=len(data))

        def _reply(self, status: int, headers: list[tuple[str, str]], body: bytes, close: bool = False,
                   length: int | None = None) -> None:
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body) if length is None else length))
            if close:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            if body:
                self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _serve

    return FrontHandler


class _TLSServer(ThreadingHTTPServer):
    """Accepts on the main thread; the TLS handshake happens in the connection's own thread."""

    daemon_threads = True
    allow_reuse_address = True
    front: TLSFront

    def finish_request(self, request: Any, client_address: Any) -> None:
        request.settimeout(HANDSHAKE_TIMEOUT)
        try:
            tls = self.front.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return  # refused by SNI (recorded by the callback) or a client that gave up
        try:
            tls.settimeout(UPSTREAM_TIMEOUT + 5)
            self.RequestHandlerClass(tls, client_address, self)
        finally:
            try:
                tls.close()
            except OSError:
                pass


class TLSFront:
    """Serves ``upstreams`` (AWS host name -> emulator URL) over TLS on ``address``.

    ``address`` must be a loopback address (127.0.0.0/8); port 0 picks a free port.
    """

    def __init__(self, ca: RunCA, upstreams: list[Upstream], address: tuple[str, int] = ("127.0.0.1", 0)) -> None:
        if not upstreams:
            raise ValueError("the TLS front needs at least one host to serve")
        if not address[0].startswith("127."):
            raise ValueError(f"the TLS front binds loopback only, not {address[0]!r}")
        self.upstreams = {u.host: u for u in upstreams}
        self.default_host = upstreams[0].host
        self.log = HitLog()  # TLS names refused at the handshake; requests served per host
        self._contexts = {u.host: self._context_for(ca, u.host) for u in upstreams}
        self.context = self._contexts[self.default_host]
        for ctx in self._contexts.values():
            ctx.sni_callback = self._pick_certificate
        self._server = _TLSServer(address, _handler(self))
        self._server.front = self
        self._serving = BackgroundServing(self._server, f"aws-front-{self.address[1]}")

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
        sock.sni_host = name  # type: ignore[union-attr] - read by the handler
        return None

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    def start(self) -> TLSFront:
        self._serving.start()
        return self

    def stop(self) -> None:
        self._serving.stop()


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
