"""Run reports: JUnit XML (CI), JSON (machines), one self-contained HTML file (people).

This module holds what the writers share: counts by family and verdict, and a
plain-text rendering of a check's failure and evidence (JUnit ``system-out``,
terminal output, the pytest mode's failure text).
"""

from __future__ import annotations

import json
import math
from typing import Any

from harness.results import CheckResult, Evidence, RunResult, StepRecord, Verdict

VERDICTS = tuple(v.value for v in Verdict)
TEXT_LIMIT = 2000  # characters of a body kept in text renderings
# C0 controls (but tab and newline), DEL: shown as \xNN so app output cannot drive a terminal
_CONTROL = {c: f"\\x{c:02x}" for c in [*range(0x00, 0x09), *range(0x0B, 0x20), 0x7F]}


def printable(text: str) -> str:
    """Untrusted text made safe for a terminal or a log: control characters become visible escapes."""
    return text.translate(_CONTROL)


def family_counts(result: RunResult) -> dict[str, dict[str, int]]:
    """{family: {PASS, FAIL, SKIP, ERROR, total}} in first-seen family order."""
    out: dict[str, dict[str, int]] = {}
    for check in result.results:
        row = out.setdefault(check.family, {**{v: 0 for v in VERDICTS}, "total": 0})
        row[check.verdict.value] += 1
        row["total"] += 1
    return out


def skip_groups(result: RunResult) -> dict[str, list[str]]:
    """{reason: [check id, ...]} of the SKIPs, in first-seen order: on a backend without the control plane
    the checks it cannot run share one reason per thing they need ("needs the control plane: virtual clock")."""
    out: dict[str, list[str]] = {}
    for check in result.results:
        if check.verdict is Verdict.SKIP:
            out.setdefault(check.reason, []).append(check.check_id)
    return out


def trim(text: str, limit: int = TEXT_LIMIT) -> str:
    """Keep the start of long text and say how much was cut."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... [{len(text) - limit} more characters]"


def strict_json(value: Any) -> Any:
    """Plain JSON data every parser reads: str keys, non-finite floats and unknown types as strings."""
    if isinstance(value, dict):
        return {str(k): strict_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict_json(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if value is None or isinstance(value, (str, int, float)):
        return value
    return str(value)


def to_json(value: Any, indent: int | None = None) -> str:
    """JSON for people: sorted keys where they can be sorted, anything unknown as its str()."""
    try:
        return json.dumps(value, indent=indent, sort_keys=True, ensure_ascii=False, default=str)
    except TypeError:  # keys of mixed types cannot be sorted
        return json.dumps(value, indent=indent, ensure_ascii=False, default=str)


def as_text(value: Any) -> str:
    """Strings as they are, anything else as indented JSON."""
    return value if isinstance(value, str) else to_json(value, indent=2)


def _evidence_lines(ev: Evidence) -> list[str]:
    data = ev.data or {}
    if ev.kind == "http" and ("request" in data or "response" in data):
        req = data.get("request") or {}
        resp = data.get("response") or {}
        target = " ".join(str(part) for part in (req.get("method"), req.get("url")) if part)
        lines = [f"http {ev.title}: {target} -> {resp.get('status', 'no response')}"]
        if req.get("body"):
            lines.append(f"  request body: {trim(as_text(req['body']), 500)}")
        if "body" in resp and resp["body"] not in ("", None):
            lines.append(f"  response body: {trim(as_text(resp['body']), 500)}")
        return lines
    if ev.kind == "token" and ("header" in data or "claims" in data):
        return [
            f"token {ev.title}:",
            f"  header: {to_json(data.get('header'))}",
            f"  claims: {trim(to_json(data.get('claims')), 1000)}",
        ]
    if ev.kind == "event" and isinstance(data.get("events"), list):
        lines = [f"events {ev.title}: {len(data['events'])}"]
        for event in data["events"][:20]:
            lines.append(f"  {trim(to_json(event), 300)}")
        return lines
    if set(data) == {"text"}:
        return [f"{ev.kind} {ev.title}:", *("  " + ln for ln in trim(str(data["text"])).splitlines())]
    if ev.kind == "log" and isinstance(data.get("lines"), list):
        text = trim("\n".join(str(line) for line in data["lines"]))
        return [f"log {ev.title}: {len(data['lines'])} lines", *("  | " + ln for ln in text.splitlines())]
    body = trim(to_json(data), 1000) if data else ""
    return [f"{ev.kind} {ev.title}: {body}".rstrip()]


def evidence_lines(ev: Evidence) -> list[str]:
    """A few readable lines for one piece of evidence (control characters escaped)."""
    return [printable(line) for line in _evidence_lines(ev)]


def step_lines(step: StepRecord) -> list[str]:
    head = f"#{step.index} {step.name}: {step.outcome}"
    if step.detail:
        head += f" - {step.detail}"
    return [printable(head), *("   " + ln for ev in step.evidence for ln in evidence_lines(ev))]


def failure_lines(check: CheckResult) -> list[str]:
    """What was expected, what happened, the requirement, the fix and how to reproduce."""
    lines = [f"{check.check_id} [{check.verdict.value}] {check.title}"]
    if check.reason:
        lines.append(f"reason:      {check.reason}")
    if check.expected:
        lines.append(f"expected:    {check.expected}")
    if check.actual:
        lines.append(f"actual:      {trim(check.actual, 1000)}")
    if check.requirements:
        lines.append(f"requirement: {', '.join(check.requirements)}")
    if check.remediation and check.verdict in (Verdict.FAIL, Verdict.ERROR):
        lines.append(f"remediation: {check.remediation}")
    if check.reproduction:
        lines.append(f"reproduce:   {check.reproduction}")
    if check.expected_failure:
        lines.append(f"accepted as expected failure: {check.expected_failure}")
    return [printable(line) for line in lines]


def evidence_summary(check: CheckResult) -> str:
    """The failure block, then the timeline of steps and evidence, as plain text."""
    lines = failure_lines(check)
    if check.steps:
        lines.append("steps:")
        for step in check.steps:
            lines.extend("  " + ln for ln in step_lines(step))
    if check.evidence:
        lines.append("evidence:")
        for ev in check.evidence:
            lines.extend("  " + ln for ln in evidence_lines(ev))
    return "\n".join(lines)


__all__ = [
    "VERDICTS",
    "as_text",
    "evidence_lines",
    "evidence_summary",
    "failure_lines",
    "family_counts",
    "skip_groups",
    "printable",
    "step_lines",
    "strict_json",
    "to_json",
    "trim",
]
