"""The one clock every time-based rule reads.

Token expiry, code expiry, lockout windows, refresh-token validity and key
retirement all ask this clock, so a test can freeze or fast-forward time for
the whole emulator at once instead of sleeping.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

EARLIEST = 0.0
"""The earliest instant the clock shows: the epoch (tokens carry ``iat`` as a non-negative NumericDate)."""
LATEST = 253402300799.0
"""The latest: 9999-12-31T23:59:59Z, the last second an ISO-8601 date (and Python's datetime) can show."""


class ClockRangeError(ValueError):
    """An instant the clock cannot represent (not finite, before the epoch, after year 9999)."""


def representable(instant: float) -> float:
    """``instant`` as a float, or ClockRangeError when no date can show it."""
    if not math.isfinite(instant) or not EARLIEST <= instant <= LATEST:
        raise ClockRangeError(f"{instant!r} is outside the instants the clock can show "
                              f"({EARLIEST:.0f} .. {LATEST:.0f}: 1970-01-01 .. 9999-12-31T23:59:59Z)")
    return float(instant)


@dataclass(frozen=True)
class ClockState:
    """A serialisable picture of the clock (for the control plane and snapshots)."""

    mode: str  # "real" | "frozen" | "offset"
    now: float
    offset: float


def check_state(state: ClockState) -> None:
    """ClockRangeError unless a clock could take ``state`` (:meth:`Clock.restore`)."""
    if state.mode not in ("real", "frozen", "offset"):
        raise ClockRangeError(f"unknown clock mode {state.mode!r}")
    representable(state.now)
    if not math.isfinite(state.offset):
        raise ClockRangeError(f"offset {state.offset!r} is not finite")
    if state.mode != "frozen":
        representable(time.time() + state.offset)


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
        """Stop time at ``at`` (default: now). Every change below refuses an instant it cannot
        represent (ClockRangeError) and then leaves the clock as it was."""
        with self._lock:
            self._frozen_at = representable(self.now() if at is None else float(at))
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
            if not math.isfinite(seconds):
                raise ClockRangeError(f"cannot advance by {seconds!r} seconds")
            representable(self.now() + seconds)
            if self._frozen_at is not None:
                self._frozen_at += seconds
            else:
                self._offset += seconds
            return self.now()

    def set(self, at: float) -> float:
        """Jump to an absolute instant, keeping the current mode."""
        with self._lock:
            at = representable(float(at))
            if self._frozen_at is not None:
                self._frozen_at = at
            else:
                self._offset = at - time.time()
            return self.now()

    def restore(self, state: ClockState) -> None:
        """Take the mode, instant and offset of a :meth:`state` (a snapshot's) in one step."""
        check_state(state)
        with self._lock:
            self._frozen_at = state.now if state.mode == "frozen" else None
            self._offset = 0.0 if state.mode == "frozen" else state.offset

    def reset(self) -> None:
        """Back to real time."""
        with self._lock:
            self._frozen_at = None
            self._offset = 0.0
