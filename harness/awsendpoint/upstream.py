"""Where the TLS front and the proxy send a request for an AWS host name: the emulator's plain-HTTP port.

Connections to the emulator are kept alive and reused (a small idle pool per
upstream): opening one per request cost about as much CPU as the request
itself. A pooled connection the emulator has since closed (its idle timeout)
fails before the request is read, so that one failure is retried once on a
fresh connection; nothing is retried after an answer began.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from harness.web.http import Response

UPSTREAM_TIMEOUT = 30.0
IDLE_SECONDS = 20.0
"""A pooled connection idle longer than this is closed, not reused (the emulator's own idle timeout is longer)."""
MAX_IDLE = 16
HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection",
                        "te", "trailer", "transfer-encoding", "upgrade", "content-length", "host", "expect"})
"""Headers about one hop (the client's connection to the front, or the front's to the emulator)."""
DISCOVERY_SUFFIX = "/.well-known/openid-configuration"
STALE = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError, ConnectionAbortedError)
"""How a pooled connection the emulator already closed fails: before any answer."""
UPSTREAM_FAILURES = (OSError, http.client.HTTPException)
"""What :meth:`Upstream.forward` raises when the emulator cannot be reached or answers garbage (a 502)."""


def merged_headers(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """Response headers as one value per name (a repeated one joined with ', '), hop-by-hop ones dropped."""
    merged: dict[str, str] = {}
    for name, value in pairs:
        if name.lower() not in HOP_BY_HOP:
            merged[name] = f"{merged[name]}, {value}" if name in merged else value
    return merged


@dataclass
class Upstream:
    """Where requests for one AWS host name are answered: a plain-HTTP loopback base URL."""

    host: str  # the AWS host name, e.g. cognito-idp.us-east-1.amazonaws.com
    base_url: str  # e.g. http://127.0.0.1:40123
    _idle: list[tuple[http.client.HTTPConnection, float]] = field(default_factory=list, init=False, repr=False,
                                                                   compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False)

    def forward(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Response:
        """Send one request upstream (``path`` in origin form); its answer, with the AWS-form discovery document."""
        sent = {k: v for k, v in headers.items() if k.lower() not in HOP_BY_HOP}
        sent["Host"] = urlsplit(self.base_url).netloc
        payload = body if body or method not in ("GET", "HEAD") else None
        conn, reused = self._take()
        try:
            try:
                answer, keep = self._exchange(conn, method, path, sent, payload)
            except STALE:
                if not reused:
                    raise
                conn.close()  # closed by the emulator while idle: once more, on a fresh connection
                conn, reused = self._connect(), False
                answer, keep = self._exchange(conn, method, path, sent, payload)
        except BaseException:
            conn.close()
            raise
        if keep:
            self._give_back(conn)
        else:
            conn.close()
        if answer.status == 200 and urlsplit(path).path.endswith(DISCOVERY_SUFFIX):
            answer.body = self._aws_discovery(urlsplit(path).path, answer.body)
        return answer

    @staticmethod
    def _exchange(conn: http.client.HTTPConnection, method: str, path: str, headers: dict[str, str],
                  payload: bytes | None) -> tuple[Response, bool]:
        conn.request(method, path, body=payload, headers=headers)
        response = conn.getresponse()
        data = response.read()
        return Response(response.status, data, merged_headers(response.getheaders())), not response.will_close

    def _connect(self) -> http.client.HTTPConnection:
        split = urlsplit(self.base_url)
        return http.client.HTTPConnection(split.hostname or "127.0.0.1", split.port or 80, timeout=UPSTREAM_TIMEOUT)

    def _take(self) -> tuple[http.client.HTTPConnection, bool]:
        """A pooled connection (reused: True) or a new one."""
        now = time.monotonic()
        with self._lock:
            while self._idle:
                conn, since = self._idle.pop()
                if now - since <= IDLE_SECONDS:
                    return conn, True
                conn.close()
        return self._connect(), False

    def _give_back(self, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            if len(self._idle) < MAX_IDLE:
                self._idle.append((conn, time.monotonic()))
                return
        conn.close()

    def close(self) -> None:
        """Close the idle connections (a request in flight closes or returns its own)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for conn, _ in idle:
            conn.close()

    def _aws_discovery(self, path: str, data: bytes) -> bytes:
        try:
            doc = json.loads(data)
        except ValueError:
            return data
        if isinstance(doc, dict):
            doc["jwks_uri"] = f"https://{self.host}{path.removesuffix(DISCOVERY_SUFFIX)}/.well-known/jwks.json"
        return json.dumps(doc, separators=(",", ":")).encode()


__all__ = ["UPSTREAM_FAILURES", "Upstream", "merged_headers"]
