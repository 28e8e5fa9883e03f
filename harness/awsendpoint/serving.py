"""Serving a socketserver in a daemon thread, and stopping it: what the TLS front and the proxy share."""

from __future__ import annotations

import socketserver
import threading


class BackgroundServing:
    """``serve_forever`` of ``server`` in a daemon thread; :meth:`stop` shuts it down and frees the port."""

    def __init__(self, server: socketserver.BaseServer, name: str) -> None:
        self.server = server
        self.name = name
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:  # shutdown() waits for serve_forever: only when it runs
            self.server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self.server.server_close()


__all__ = ["BackgroundServing"]
