"""Real-time windows are measured by re-probing with backoff up to a bound (fake clock: no sleeping)."""

from __future__ import annotations

from harness.runner.windows import measure_window


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.pauses: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self.now += seconds


def test_closed_at_once_is_a_zero_window() -> None:
    t = FakeTime()
    w = measure_window(lambda: (True, "401"), 30, clock=t.clock, sleep=t.sleep)
    assert w.closed and w.seconds == 0 and len(w.probes) == 1 and t.pauses == []
    assert w.describe() == "closed at the first probe"


def test_window_that_closes_is_measured_with_backoff() -> None:
    t = FakeTime()
    w = measure_window(lambda: (t.now >= 7, f"t={t.now}"), 30, clock=t.clock, sleep=t.sleep)
    assert w.closed and 7 <= w.seconds < 12
    assert t.pauses[:4] == [0.25, 0.5, 1.0, 2.0]  # grows, capped at 5 s
    assert all(p <= 5.0 for p in t.pauses)


def test_window_still_open_at_the_bound_says_so_and_never_more() -> None:
    t = FakeTime()
    w = measure_window(lambda: (False, "200"), 12, clock=t.clock, sleep=t.sleep)
    assert not w.closed and w.seconds == 12 and w.probes[-1].at == 12  # the last probe lands on the bound
    assert "still open after 12.0 s of probing (bound 12 s" in w.describe()
    assert w.to_dict()["probes"][0] == {"at": 0.0, "closed": False, "seen": "200"}


def test_zero_bound_probes_once() -> None:
    t = FakeTime()
    w = measure_window(lambda: (False, ""), 0, clock=t.clock, sleep=t.sleep)
    assert not w.closed and len(w.probes) == 1


def test_closed_at_the_first_probe_even_when_that_probe_took_time() -> None:
    t = FakeTime()

    def slow_refusal() -> tuple[bool, str]:
        t.now += 0.004  # the request itself takes a few milliseconds
        return True, "401"

    w = measure_window(slow_refusal, 30, clock=t.clock, sleep=t.sleep)
    assert w.at_once and w.seconds > 0
    assert w.describe(closed="refused") == "refused at the first probe"
