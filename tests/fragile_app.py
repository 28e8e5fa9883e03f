"""A tiny target app that one request can take down (tests/test_runner_verdicts.py).

GET /health answers 200. GET /api/protected reads the bearer token: ``good``
-> 200, ``crash`` -> prints its last words and exits with status 3, ``hang``
-> never answers, ``drop`` -> closes the connection without an answer (and
keeps serving), anything else -> 401. With FRAGILE_START_ONCE=<file> it
refuses to start a second time (exit 1), as an app whose restart fails.
"""

from __future__ import annotations

import os
import socket
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt: str, *args: Any) -> None:
        sys.stderr.write("fragile-app: " + (fmt % args) + "\n")

    def _answer(self, status: int, body: bytes = b"{}") -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        if self.path == "/health":
            return self._answer(200)
        token = self.headers.get("Authorization", "").partition(" ")[2]
        if token == "crash":
            print("fragile-app: fatal: cannot parse this token, giving up", flush=True)
            os._exit(3)
        if token == "hang":
            time.sleep(3600)
        if token == "drop":  # close this connection without an answer, and carry on serving
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return None
        return self._answer(200 if token == "good" else 401)


def main() -> None:
    once = os.environ.get("FRAGILE_START_ONCE")
    if once:
        marker = Path(once)
        if marker.exists():
            print("fragile-app: refusing to start again", flush=True)
            sys.exit(1)
        marker.write_text("started")
    server = ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler)
    server.daemon_threads = True
    print(f"fragile-app on port {server.server_address[1]}", flush=True)
    server.serve_forever(poll_interval=0.1)


if __name__ == "__main__":
    main()
