"""The one clock every time-based rule reads.

Token expiry, code expiry, lockout windows, refresh-token validity and key
retirement all ask this clock, so a test can freeze or fast-forward time for
the whole emulator at once instead of sleeping.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class ClockState:
    """A serialisable picture of the clock (for the control plane and snapshots)."""

    mode: str  # "real" | "frozen" | "offset"
    now: float
    offset: float


class Clock:
    """Real, frozen or offset time.

    * real: wall-clock time.
    * offset: wall-clock time plus a fixed offset (``advance`` on a running clock).
    * frozen: a fixed instant that only moves when told to.
    """

    def __init__(self, frozen_at: float | None = None, offset: float = 0.0) -> None:
        self._lock = threading.Lock()
        self._frozen_at = frozen_at
        self._offset = offset

    def now(self) -> float:
        """Seconds since the epoch, as the emulator sees it."""
        frozen = self._frozen_at
        if frozen is not None:
            return frozen
        return time.time() + self._offset

    def now_int(self) -> int:
        return int(self.now())

    def now_ms(self) -> int:
        return int(self.now() * 1000)

    @property
    def mode(self) -> str:
        if self._frozen_at is not None:
            return "frozen"
        return "offset" if self._offset else "real"

    def state(self) -> ClockState:
        return ClockState(mode=self.mode, now=self.now(), offset=self._offset)

    def freeze(self, at: float | None = None) -> float:
        """Stop time at ``at`` (default: now)."""
        with self._lock:
            self._frozen_at = self.now() if at is None else float(at)
            return self._frozen_at

    def unfreeze(self) -> None:
        """Let time run again from where it stands (kept as an offset)."""
        with self._lock:
            if self._frozen_at is not None:
                self._offset = self._frozen_at - time.time()
                self._frozen_at = None

    def advance(self, seconds: float) -> float:
        """Move time forward (or back, with a negative value) by ``seconds``."""
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at += seconds
            else:
                self._offset += seconds
            return self.now()

    def set(self, at: float) -> float:
        """Jump to an absolute instant, keeping the current mode."""
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at = float(at)
            else:
                self._offset = float(at) - time.time()
            return self.now()

    def reset(self) -> None:
        """Back to real time."""
        with self._lock:
            self._frozen_at = None
            self._offset = 0.0
