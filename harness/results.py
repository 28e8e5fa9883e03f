"""The runner's data model: verdicts, steps, evidence, check results and a run.

Everything the reports, transcripts, replay and the pytest mode read comes from
these dataclasses, and ``RunResult.to_dict`` / ``from_dict`` round-trip them
through plain JSON so a transcript or a JSON report can be loaded back.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any


class Verdict(str, Enum):
    """The outcome of one check."""

    PASS = "PASS"
    FAIL = "FAIL"
    SKIP = "SKIP"
    ERROR = "ERROR"


EVIDENCE_KINDS = ("http", "token", "event", "note", "log")

# Exit codes of a run: a FAIL always wins over an ERROR, so "could not test" never hides a finding.
EXIT_OK, EXIT_FAIL, EXIT_ERROR = 0, 1, 2


def combine_exit_codes(*codes: int) -> int:
    """The exit code of several outcomes (the run, writing its reports...): 1 over 2 over 0."""
    if EXIT_FAIL in codes:
        return EXIT_FAIL
    return EXIT_ERROR if any(code != EXIT_OK for code in codes) else EXIT_OK
STEP_OUTCOMES = ("ok", "failed", "error", "skipped")


@dataclass
class Evidence:
    """One piece of evidence: a request/response, a decoded token, emulator events, a note, a log."""

    kind: str  # "http" | "token" | "event" | "note" | "log"
    title: str
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "title": self.title, "data": self.data}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Evidence:
        return cls(kind=d["kind"], title=d.get("title", ""), data=dict(d.get("data") or {}))


@dataclass
class StepRecord:
    """One step of a scenario, as it happened."""

    index: int
    name: str
    outcome: str  # "ok" | "failed" | "error" | "skipped"
    detail: str = ""
    evidence: list[Evidence] = field(default_factory=list)
    at: float = 0.0  # virtual clock (emulator time) when the step ended

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "name": self.name,
            "outcome": self.outcome,
            "detail": self.detail,
            "evidence": [e.to_dict() for e in self.evidence],
            "at": self.at,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> StepRecord:
        return cls(
            index=int(d["index"]),
            name=d["name"],
            outcome=d["outcome"],
            detail=d.get("detail", ""),
            evidence=[Evidence.from_dict(e) for e in d.get("evidence") or []],
            at=float(d.get("at") or 0.0),
        )


@dataclass
class CheckResult:
    """The verdict of one check (one scenario) with what was expected, what happened, and why."""

    check_id: str
    family: str
    title: str
    severity: str  # "MUST" | "SHOULD"
    profile: str  # "baseline" | "strict"
    requirements: list[str]
    remediation: str
    verdict: Verdict
    reason: str = ""
    expected: str = ""
    actual: str = ""
    reproduction: str = ""
    steps: list[StepRecord] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    duration_s: float = 0.0
    expected_failure: str = ""  # comment from the expected-failures file when the FAIL was accepted

    def to_dict(self) -> dict[str, Any]:
        return {
            "check_id": self.check_id,
            "family": self.family,
            "title": self.title,
            "severity": self.severity,
            "profile": self.profile,
            "requirements": list(self.requirements),
            "remediation": self.remediation,
            "verdict": self.verdict.value,
            "reason": self.reason,
            "expected": self.expected,
            "actual": self.actual,
            "reproduction": self.reproduction,
            "steps": [s.to_dict() for s in self.steps],
            "evidence": [e.to_dict() for e in self.evidence],
            "duration_s": self.duration_s,
            "expected_failure": self.expected_failure,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CheckResult:
        return cls(
            check_id=d["check_id"],
            family=d["family"],
            title=d.get("title", ""),
            severity=d.get("severity", "MUST"),
            profile=d.get("profile", "baseline"),
            requirements=list(d.get("requirements") or []),
            remediation=d.get("remediation", ""),
            verdict=Verdict(d["verdict"]),
            reason=d.get("reason", ""),
            expected=d.get("expected", ""),
            actual=d.get("actual", ""),
            reproduction=d.get("reproduction", ""),
            steps=[StepRecord.from_dict(s) for s in d.get("steps") or []],
            evidence=[Evidence.from_dict(e) for e in d.get("evidence") or []],
            duration_s=float(d.get("duration_s") or 0.0),
            expected_failure=d.get("expected_failure", ""),
        )


@dataclass
class RunHeader:
    """What was run, against what, how: enough to reproduce the run."""

    tool_version: str
    seed: int
    target: str  # the target name (spec [target].name) or its spec path
    target_sha256: str  # SHA-256 of the spec file bytes
    pool_definition: dict[str, Any]
    profile: str
    selection: list[str]  # check ids selected, in run order
    backend: str  # "emulator" or the backend URL
    started_at: str  # ISO-8601 UTC
    command: list[str]
    target_spec_path: str = ""
    keyword: str = ""  # -k expression, if any
    families: list[str] = field(default_factory=list)  # --family filters, if any

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunHeader:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in d.items() if k in known})


@dataclass
class RunResult:
    """A whole run: the header and one result per selected check."""

    header: RunHeader
    results: list[CheckResult] = field(default_factory=list)
    stale_expected_failures: list[str] = field(default_factory=list)  # allow-list entries that passed
    duration_s: float = 0.0
    target_logs: list[Evidence] = field(default_factory=list)  # the target's captured stdout/stderr

    def counts(self) -> dict[str, int]:
        counts = {v.value: 0 for v in Verdict}
        for r in self.results:
            counts[r.verdict.value] += 1
        counts["total"] = len(self.results)
        return counts

    def exit_code(self) -> int:
        """1 any unexpected FAIL or stale expected-failure entry, whatever else happened; else 2 any ERROR; else 0.

        A finding is never hidden by a check that could not run: a run that
        found an ``alg: none`` bypass exits 1 even if other checks ERRORed.
        A FAIL accepted by the expected-failures file (``expected_failure``
        set) keeps its verdict in every report but does not fail the run.
        """
        unexpected = [r for r in self.results if r.verdict is Verdict.FAIL and not r.expected_failure]
        if unexpected or self.stale_expected_failures:
            return EXIT_FAIL
        if any(r.verdict is Verdict.ERROR for r in self.results):
            return EXIT_ERROR
        return EXIT_OK

    def by_family(self) -> dict[str, list[CheckResult]]:
        out: dict[str, list[CheckResult]] = {}
        for r in self.results:
            out.setdefault(r.family, []).append(r)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "header": self.header.to_dict(),
            "results": [r.to_dict() for r in self.results],
            "counts": self.counts(),
            "exit_code": self.exit_code(),
            "stale_expected_failures": list(self.stale_expected_failures),
            "duration_s": self.duration_s,
            "target_logs": [e.to_dict() for e in self.target_logs],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunResult:
        return cls(
            header=RunHeader.from_dict(d["header"]),
            results=[CheckResult.from_dict(r) for r in d.get("results") or []],
            stale_expected_failures=list(d.get("stale_expected_failures") or []),
            duration_s=float(d.get("duration_s") or 0.0),
            target_logs=[Evidence.from_dict(e) for e in d.get("target_logs") or []],
        )


__all__ = ["EXIT_ERROR", "EXIT_FAIL", "EXIT_OK", "CheckResult", "Evidence", "RunHeader", "RunResult", "StepRecord",
           "Verdict", "combine_exit_codes"]
