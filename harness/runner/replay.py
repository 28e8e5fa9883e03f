"""Replay a transcript: run the recorded selection again and say what changed.

The transcript is verified first (a broken chain is refused: replaying what may
have been edited proves nothing). The recorded check IDs run again with the
recorded seed, profile and backend against the recorded target spec, or another
one (``target=``: the same checks against a fixed or a flawed build), through
the runner's public ``engine.run``. Verdicts and step outcomes are compared per
check; ``ReplayDiff.render()`` is the text the CLI prints.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.reports import printable
from harness.runner import engine
from harness.results import CheckResult, RunResult, StepRecord
from harness.runner.scenario import load_catalogue
from harness.runner.spec import load_spec
from harness.runner.transcript import TranscriptError, read_transcript

ABSENT = "(absent)"
OVERRIDABLE = ("seed", "profile", "backend", "expected_failures", "command", "sinks")


class ReplayError(Exception):
    """The transcript cannot be replayed (broken chain, missing target spec, bad override)."""


@dataclass
class VerdictChange:
    check_id: str
    family: str
    before: str  # verdict value, or ABSENT when the check was not in that run
    after: str
    before_reason: str = ""
    after_reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class StepChange:
    check_id: str
    index: int
    name: str
    before: str  # step outcome, or ABSENT
    after: str
    before_detail: str = ""
    after_detail: str = ""
    before_name: str = ""  # set when the step at this index is a different step now

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class ReplayDiff:
    """What changed between a recorded run and its replay."""

    transcript: str
    target_spec_path: str
    original: RunResult
    replayed: RunResult
    verdict_changes: list[VerdictChange] = field(default_factory=list)
    step_changes: list[StepChange] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        return not self.verdict_changes and not self.step_changes

    def exit_code(self) -> int:
        """0 the replay matches the transcript, 1 verdicts or steps changed."""
        return 0 if self.identical else 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "transcript": self.transcript,
            "target_spec_path": self.target_spec_path,
            "identical": self.identical,
            "verdict_changes": [c.to_dict() for c in self.verdict_changes],
            "step_changes": [c.to_dict() for c in self.step_changes],
            "notes": list(self.notes),
            "replayed_counts": self.replayed.counts(),
        }

    def render(self) -> str:
        """A readable text diff: ``-`` what the transcript recorded, ``+`` what the replay did."""
        h = self.original.header
        lines = [
            f"replay of {self.transcript}",
            f"  seed {h.seed}, profile {h.profile}, backend {h.backend}, {len(h.selection)} checks",
            f"  target {self.target_spec_path}"
            + ("" if self.target_spec_path == h.target_spec_path else f" (recorded: {h.target_spec_path})"),
        ]
        lines += [f"  note: {n}" for n in self.notes]
        steps_compared = sum(len(c.steps) for c in self.replayed.results)
        if self.identical:
            lines.append(
                f"no differences: {len(self.replayed.results)} verdicts and {steps_compared} step outcomes "
                "match the transcript"
            )
            return printable("\n".join(lines))
        changed = sorted({c.check_id for c in self.verdict_changes} | {c.check_id for c in self.step_changes},
                         key=self._order)
        lines.append(
            f"differences: {_count(len(self.verdict_changes), 'verdict')} and "
            f"{_count(len(self.step_changes), 'step outcome')} changed, in {len(changed)} of "
            f"{_count(len(self._all_ids()), 'check')}"
        )
        for check_id in changed:
            family = next((c.family for c in self.verdict_changes if c.check_id == check_id), "") or self._family(
                check_id
            )
            lines.append("")
            lines.append(f"~ {check_id}" + (f" ({family})" if family else ""))
            for vc in (c for c in self.verdict_changes if c.check_id == check_id):
                lines.append(f"  - verdict {vc.before}" + (f": {vc.before_reason}" if vc.before_reason else ""))
                lines.append(f"  + verdict {vc.after}" + (f": {vc.after_reason}" if vc.after_reason else ""))
            for sc in (c for c in self.step_changes if c.check_id == check_id):
                if sc.before != ABSENT:  # a step only one side ran gets only its own line
                    lines.append(f"  - step #{sc.index} {sc.before_name or sc.name}: {sc.before}"
                                 + (f" ({sc.before_detail})" if sc.before_detail else ""))
                if sc.after != ABSENT:
                    lines.append(f"  + step #{sc.index} {sc.name}: {sc.after}"
                                 + (f" ({sc.after_detail})" if sc.after_detail else ""))
        return printable("\n".join(lines))

    def _all_ids(self) -> list[str]:
        ids = [r.check_id for r in self.original.results]
        return ids + [r.check_id for r in self.replayed.results if r.check_id not in ids]

    def _order(self, check_id: str) -> int:
        return self._all_ids().index(check_id)

    def _family(self, check_id: str) -> str:
        for r in (*self.original.results, *self.replayed.results):
            if r.check_id == check_id:
                return r.family
        return ""


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _step_changes(check_id: str, before: list[StepRecord], after: list[StepRecord]) -> list[StepChange]:
    out = []
    for i in range(max(len(before), len(after))):
        b = before[i] if i < len(before) else None
        a = after[i] if i < len(after) else None
        b_outcome = b.outcome if b else ABSENT
        a_outcome = a.outcome if a else ABSENT
        same_step = b is not None and a is not None and b.name == a.name
        if same_step and b_outcome == a_outcome:
            continue
        out.append(
            StepChange(
                check_id=check_id,
                index=i,
                name=(a or b).name,  # type: ignore[union-attr]
                before=b_outcome,
                after=a_outcome,
                before_detail=_short(b.detail) if b else "",
                after_detail=_short(a.detail) if a else "",
                before_name=b.name if (b is not None and a is not None and b.name != a.name) else "",
            )
        )
    return out


def compare(original: RunResult, replayed: RunResult) -> tuple[list[VerdictChange], list[StepChange]]:
    """Per check (by ID): verdict changes, then step outcome changes."""
    before = {r.check_id: r for r in original.results}
    after = {r.check_id: r for r in replayed.results}
    order = [r.check_id for r in original.results] + [i for i in after if i not in before]
    verdicts: list[VerdictChange] = []
    steps: list[StepChange] = []
    for check_id in order:
        b: CheckResult | None = before.get(check_id)
        a: CheckResult | None = after.get(check_id)
        b_verdict = b.verdict.value if b else ABSENT
        a_verdict = a.verdict.value if a else ABSENT
        if b_verdict != a_verdict:
            verdicts.append(
                VerdictChange(
                    check_id=check_id,
                    family=(a or b).family,  # type: ignore[union-attr]
                    before=b_verdict,
                    after=a_verdict,
                    before_reason=_short(b.reason) if b else "",
                    after_reason=_short(a.reason) if a else "",
                )
            )
        steps += _step_changes(check_id, b.steps if b else [], a.steps if a else [])
    return verdicts, steps


def _target_path(recorded: str, given: str | os.PathLike[str] | None) -> Path:
    if given is not None:
        return Path(given)
    if not recorded:
        raise ReplayError("the transcript records no target spec path; pass --target SPEC")
    path = Path(recorded)
    if not path.exists():
        raise ReplayError(f"the recorded target spec {recorded} does not exist here; pass --target SPEC")
    return path


def replay(path: str | os.PathLike[str], target: str | os.PathLike[str] | None = None,
           **overrides: Any) -> ReplayDiff:
    """Re-run a transcript's selection and compare; raises ReplayError when it cannot replay.

    ``overrides`` may set ``seed``, ``profile``, ``backend``, ``expected_failures``
    (check id -> comment), ``command`` (recorded in the new header) and ``sinks``
    (where the re-run's events go: harness/runner/sinks.py). Everything else comes from the transcript.
    """
    unknown = sorted(set(overrides) - set(OVERRIDABLE))
    if unknown:
        raise ReplayError(f"replay cannot override {unknown[0]!r} (only {', '.join(OVERRIDABLE)})")
    try:
        original = read_transcript(path)
    except TranscriptError as exc:
        raise ReplayError(f"refusing to replay {path}: the transcript is broken: {exc}") from None
    except OSError as exc:
        raise ReplayError(f"cannot read {path}: {exc.strerror or exc}") from None
    header = original.header
    spec_path = _target_path(header.target_spec_path, target)
    try:
        spec = load_spec(spec_path)
    except Exception as exc:  # noqa: BLE001 - SpecError and friends: report, do not crash
        raise ReplayError(f"cannot load the target spec for the replay: {exc}") from None

    notes = []
    if spec.sha256 != header.target_sha256:
        notes.append(
            f"the target spec differs from the recorded one (sha256 {header.target_sha256[:12]}... -> "
            f"{spec.sha256[:12]}...)"
        )
    catalogue = load_catalogue()
    missing = [i for i in header.selection if i not in catalogue]
    if missing:
        notes.append(f"no longer in the catalogue: {', '.join(missing)}")
    options = engine.RunOptions(
        profile=overrides.get("profile", header.profile),
        seed=int(overrides.get("seed", header.seed)),
        backend=overrides.get("backend", header.backend),
        ids=[i for i in header.selection if i in catalogue],
        # by default the FAILs the recorded run accepted stay accepted
        expected_failures=dict(overrides.get("expected_failures")
                               or {r.check_id: r.expected_failure for r in original.results
                                   if r.expected_failure and r.check_id in catalogue}),
        command=list(overrides.get("command") or ["cognito-harness", "replay", str(path)]
                     + (["--target", str(target)] if target is not None else [])),
    )
    for key in ("seed", "profile", "backend"):
        if key in overrides and overrides[key] != getattr(header, key):
            notes.append(f"{key} overridden: {getattr(header, key)} -> {overrides[key]}")
    replayed = engine.run(spec, options, overrides.get("sinks", ()))
    if replayed.header.pool_definition != header.pool_definition:
        notes.append("the pool definition differs from the recorded one")
    verdicts, steps = compare(original, replayed)
    return ReplayDiff(
        transcript=str(path),
        target_spec_path=str(spec.path),
        original=original,
        replayed=replayed,
        verdict_changes=verdicts,
        step_changes=steps,
        notes=notes,
    )


__all__ = ["ABSENT", "ReplayDiff", "ReplayError", "StepChange", "VerdictChange", "compare", "replay"]
