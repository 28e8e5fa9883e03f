"""Keeping the target answering between checks, and saying what became of it when it stopped.

Two rules make one check's verdict independent of the checks before it:

* every restart happens at the start of a check, after the pool is back in
  that check's state (a cold start, a restart a check asked for, a target a
  check took down): an app that loads pool state at start-up, such as the
  JWKS, loads the state of the check it serves;
* a check starts only with a target seen answering (the run's readiness
  probe, or a restart that waited for it). A target that then stops
  answering did so because of what this check sent: that is a FAIL of the
  check (a one-request denial of service), not an ERROR. A target that cannot
  be brought up for a check is that check's ERROR.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.runner.launcher import ContainerTarget, LaunchError, ProcessTarget
from harness.results import Evidence, Verdict
from harness.runner.scenario import Scenario
from harness.runner.target import TargetClient, TargetStoppedAnswering

PROBE_TIMEOUT = 5.0  # longest readiness look at a check's start (shorter when requests time out sooner)
OUTPUT_LINES = 20  # lines of the target's output kept in a stopped-answering FAIL


@dataclass
class Outage:
    """What a request that got no answer means for its check."""

    verdict: Verdict  # FAIL: the app went down; ERROR: it dropped one connection and is still up
    reason: str
    actual: str
    evidence: list[Evidence]


class TargetKeeper:
    """Owns the running target and the client that talks to it for the whole run."""

    def __init__(self, target: Any, client: TargetClient) -> None:
        self.target = target
        self.client = client
        self._restart_owed: str | None = None
        self._down_during: str | None = None  # the check during which it stopped answering
        self._waited_for_external = False

    @property
    def restartable(self) -> bool:
        """Only a target the harness launched can be restarted (a base_url app is someone else's)."""
        return isinstance(self.target, (ProcessTarget, ContainerTarget))

    @property
    def probe_timeout(self) -> float:
        return min(PROBE_TIMEOUT, self.client.timeout)

    def restart(self) -> None:
        self.target.restart()
        self.client.reconnect()

    def restart_during_check(self) -> None:
        """A restart a check makes for itself: the fresh app loads that check's pool, so it is
        restarted again before the next check."""
        self.restart()
        self._restart_owed = self._restart_owed or "the previous check restarted it under its own pool state"

    def owe_restart(self, reason: str) -> None:
        """Restart the target before the next check (see :meth:`before_check`)."""
        self._restart_owed = reason

    def before_check(self, s: Scenario) -> str | None:
        """Make the target ready for ``s`` once the pool is in its state; a note of what was done, if anything.

        Raises :class:`LaunchError` when the target cannot be brought up: the
        check ERRORs with the address and the reason.
        """
        reasons = [r for r in ("the check wants a cold start" if s.cold_app else None, self._restart_owed,
                               f"it stopped answering during {self._down_during}" if self._down_during else None)
                   if r]
        self._restart_owed = None
        note = self._restart_for(reasons) if self.restartable else self._wait_for_external()
        self._down_during = None
        self.client.begin_check(s.id, ready=True)
        return note

    def _restart_for(self, reasons: list[str]) -> str | None:
        if not reasons:
            problem = self.target.probe(self.probe_timeout)
            if problem is None:
                return None
            reasons = [problem]
        try:
            self.restart()
        except LaunchError as exc:
            raise LaunchError(f"the target could not be restarted before this check ({'; '.join(reasons)}): {exc}",
                              address=exc.address, output=exc.output) from None
        return f"target restarted before this check: {'; '.join(reasons)}"

    def _wait_for_external(self) -> str | None:
        """A base_url target cannot be restarted: wait once (per outage) for its supervisor to bring it back."""
        problem = self.target.probe(self.probe_timeout)
        if problem is None:
            self._waited_for_external = False
            return None
        cause = f"; it stopped answering during {self._down_during}" if self._down_during else ""
        message = (f"target not answering at {self.target.address} at the start of the check ({problem}){cause}; "
                   "the harness cannot restart a target it did not launch (base_url)")
        if self._waited_for_external:
            raise LaunchError(message, address=self.target.address)
        self._waited_for_external = True
        try:
            self.target.start()  # waits up to [target].ready_timeout for it to answer again
        except LaunchError as exc:
            raise LaunchError(f"{message}: {exc}", address=self.target.address) from None
        self._waited_for_external = False
        return f"target at {self.target.address} answered again after an outage ({problem})"

    def unreachable(self, check_id: str) -> None:
        """A check could not reach the target: bring it up afresh before the next one."""
        self._down_during = check_id

    def stopped_answering(self, check_id: str, exc: TargetStoppedAnswering) -> Outage:
        """The verdict, reason, actual and evidence when a request of ``check_id`` got no answer.

        FAIL when the app crashed, hung or is no longer answering: one request
        took it down. A connection dropped without an answer by an app that
        is still up and answering took nothing down, but left the request
        unjudged: ERROR, never a false FAIL.
        """
        fate = self.target.fate(0.2 if exc.hung else 1.0)  # a hung app has had its chance to exit already
        survived = not exc.hung and self.target.probe(self.probe_timeout) is None
        if not survived:
            self._down_during = check_id
        tail = self.target.output_tail(OUTPUT_LINES).splitlines() if isinstance(self.target, ProcessTarget) else []
        request = exc.evidence.data["request"]
        after = ("the harness restarts it before the next check" if self.restartable
                 else "the harness cannot restart it")
        if survived:
            reason = (f"the target dropped the connection of the request {exc.label!r} without an HTTP answer "
                      f"({exc.reason}) but is still up and answering: the harness cannot judge that request")
        else:
            last_words = f"; its last output: {tail[-1]}" if tail else ""
            reason = (f"the target stopped answering: the request {exc.label!r} got no answer ({exc.reason}); "
                      f"{fate}{last_words}. One request took the app down (denial of service); {after}")
        evidence = [Evidence("note", "the target stopped answering" if not survived
                             else "the target dropped a connection without an answer", {
                                 "request": f"{request['method']} {request['url']}",
                                 "request_title": exc.label,
                                 "answer": exc.reason,
                                 "hung": exc.hung,
                                 "target": fate,
                                 "still_answering": survived,
                                 "exit_status": self._exit_status(),
                                 "address": self.target.address,
                                 "next": after,
                                 "last_output": tail,
                             })]
        if tail:
            evidence.append(Evidence("log", "last output of the target before it stopped answering",
                                     {"lines": tail}))
        return Outage(Verdict.ERROR if survived else Verdict.FAIL, reason, f"{exc.actual}; {fate}", evidence)

    def _exit_status(self) -> int | None:
        proc = getattr(self.target, "proc", None)
        return proc.returncode if proc is not None else None


__all__ = ["Outage", "TargetKeeper"]
