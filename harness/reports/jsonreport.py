"""The JSON report: the whole run for machines, loadable back with ``RunResult.from_dict``.

Schema ``cognito-harness-report/1`` (UTF-8, one JSON object)::

    {
      "schema": "cognito-harness-report/1",
      "header": {                       # RunHeader: what ran, against what, how
        "tool_version": str, "seed": int, "target": str, "target_spec_path": str,
        "target_sha256": str, "pool_definition": {...}, "profile": "baseline"|"strict",
        "selection": [check id, ...], "backend": "emulator"|URL, "started_at": ISO-8601,
        "command": [argv...], "keyword": str, "families": [str, ...]
      },
      "results": [                      # one per check, in run order (CheckResult)
        {"check_id", "family", "title", "severity": "MUST"|"SHOULD", "profile",
         "requirements": [str], "remediation", "verdict": "PASS"|"FAIL"|"SKIP"|"ERROR",
         "reason", "expected", "actual", "reproduction", "expected_failure", "duration_s",
         "steps": [{"index", "name", "outcome": "ok"|"failed"|"error"|"skipped",
                    "detail", "at", "evidence": [...]}],
         "evidence": [{"kind": "http"|"token"|"event"|"note"|"log", "title", "data": {...}}]}
      ],
      "counts": {"PASS": n, "FAIL": n, "SKIP": n, "ERROR": n, "total": n},
      "exit_code": 0|1|2,
      "stale_expected_failures": [check id, ...],
      "duration_s": float,
      "target_logs": [{"kind": "log", "title", "data": {"stream", "lines": [str], ...}}],
      "summary": {
        "by_verdict": {"PASS": n, "FAIL": n, "SKIP": n, "ERROR": n, "total": n},
        "by_family": {family: {"PASS": n, "FAIL": n, "SKIP": n, "ERROR": n, "total": n}},
        "by_severity": {"MUST": {...same counts...}, "SHOULD": {...}},
        "failed": [check id, ...],            # FAIL not accepted by expected-failures
        "accepted_failures": {check id: comment},
        "errors": [check id, ...],
        "skipped": {check id: reason},
        "skipped_by_reason": {reason: [check id, ...]}   # e.g. what a backend without the control plane lacks
      }
    }

Strict JSON: map keys are strings, and values JSON cannot carry (NaN, bytes, sets)
are written as their string form. Keys beyond these may be added in later minor
versions; consumers ignore unknown keys.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from harness.reports import VERDICTS, family_counts, skip_groups, strict_json
from harness.results import RunResult, Verdict

SCHEMA = "cognito-harness-report/1"


def _zero() -> dict[str, int]:
    return {**{v: 0 for v in VERDICTS}, "total": 0}


def summary(result: RunResult) -> dict[str, Any]:
    """Counts by verdict, family and severity, and the IDs a reader looks for first."""
    by_severity: dict[str, dict[str, int]] = {}
    for check in result.results:
        row = by_severity.setdefault(check.severity, _zero())
        row[check.verdict.value] += 1
        row["total"] += 1
    return {
        "by_verdict": result.counts(),
        "by_family": family_counts(result),
        "by_severity": by_severity,
        "failed": [c.check_id for c in result.results if c.verdict is Verdict.FAIL and not c.expected_failure],
        "accepted_failures": {
            c.check_id: c.expected_failure for c in result.results if c.verdict is Verdict.FAIL and c.expected_failure
        },
        "errors": [c.check_id for c in result.results if c.verdict is Verdict.ERROR],
        "skipped": {c.check_id: c.reason for c in result.results if c.verdict is Verdict.SKIP},
        "skipped_by_reason": skip_groups(result),
    }


def build_json(result: RunResult) -> dict[str, Any]:
    """The report document (see the module docstring for its schema)."""
    return {"schema": SCHEMA, **result.to_dict(), "summary": summary(result)}


def write_json(result: RunResult, path: str | os.PathLike[str]) -> Path:
    """Write the JSON report; returns the path."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(strict_json(build_json(result)), indent=2, ensure_ascii=False, allow_nan=False)
    # lone surrogates (undecodable app bytes) become \udcXX escapes: still valid JSON
    out.write_bytes((text + "\n").encode("utf-8", "backslashreplace"))
    return out


__all__ = ["SCHEMA", "build_json", "summary", "write_json"]
