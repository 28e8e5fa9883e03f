"""Measuring time windows in real time: re-probe with backoff until a condition holds or a bound passes.

The app's clock is the real one, so windows that live in the app (a JWKS
refetch cooldown, a revocation cache) cannot be skipped with the pool's
virtual clock. A check that meets such a window re-probes: first at once,
then after growing pauses, until the probe says the window has closed or the
bound is reached. The result says what was seen, never more: "still accepted
after 12.4 s of probing" is not "accepted until exp".
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

FIRST_PAUSE = 0.25
GROWTH = 2.0
LONGEST_PAUSE = 5.0


@dataclass
class Probe:
    """One look: when (seconds since the first), whether the window had closed, what was seen."""

    at: float
    closed: bool
    seen: str = ""


@dataclass
class Window:
    """What re-probing found: whether and when the window closed, within which bound."""

    closed: bool
    seconds: float  # when it closed (first closed probe), else how long it stayed open (the last probe)
    bound: float
    probes: list[Probe] = field(default_factory=list)

    @property
    def at_once(self) -> bool:
        """Closed at the first probe: there was no window (its elapsed time is never exactly 0)."""
        return self.closed and len(self.probes) == 1

    def describe(self, opened: str = "open", closed: str = "closed") -> str:
        if self.at_once:
            return f"{closed} at the first probe"
        if self.closed:
            return f"{closed} after {self.seconds:.1f} s ({len(self.probes)} probes)"
        return f"still {opened} after {self.seconds:.1f} s of probing (bound {self.bound:g} s, {len(self.probes)} probes)"

    def to_dict(self) -> dict[str, Any]:
        return {"closed": self.closed, "seconds": round(self.seconds, 3), "bound": self.bound,
                "probes": [{"at": round(p.at, 3), "closed": p.closed, "seen": p.seen} for p in self.probes]}


def measure_window(
    probe: Callable[[], tuple[bool, str]],
    bound: float,
    *,
    first_pause: float = FIRST_PAUSE,
    growth: float = GROWTH,
    longest_pause: float = LONGEST_PAUSE,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Window:
    """Call ``probe`` (-> (closed, what was seen)) at once, then with backoff, until closed or ``bound`` s.

    The last probe lands on the bound itself, so an app whose window is just
    under the bound is seen closing. A bound of 0 probes once.
    """
    started = clock()
    probes: list[Probe] = []
    pause = first_pause
    while True:
        closed, seen = probe()
        elapsed = clock() - started
        probes.append(Probe(at=elapsed, closed=closed, seen=seen))
        if closed:
            return Window(closed=True, seconds=elapsed, bound=bound, probes=probes)
        left = bound - elapsed
        if left <= 0:
            return Window(closed=False, seconds=elapsed, bound=bound, probes=probes)
        sleep(min(pause, left))
        pause = min(pause * growth, longest_pause)


__all__ = ["Probe", "Window", "measure_window"]
