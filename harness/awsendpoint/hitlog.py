"""What a loopback server of the AWS endpoint mode let through and what it refused (run evidence)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass
class HitLog:
    """Refusals in order (a host, a ``host:port``, a TLS name), admissions counted per host; thread-safe."""

    refused: list[str] = field(default_factory=list)
    admitted: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def refuse(self, what: str) -> None:
        with self.lock:
            self.refused.append(what)

    def admit(self, host: str) -> None:
        with self.lock:
            self.admitted[host] = self.admitted.get(host, 0) + 1


__all__ = ["HitLog"]
