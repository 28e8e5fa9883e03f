"""JUnit XML for CI: one ``testcase`` per check, ``classname`` = family.

Layout (the Jenkins/GitLab/GitHub/Azure flavour that common parsers read)::

    <testsuites name="cognito-harness" tests= failures= errors= skipped= time=>
      <testsuite name="<family>" tests= failures= errors= skipped= time= timestamp=>
        <properties> seed, profile, target, target_sha256, backend, tool_version, command </properties>
        <testcase classname="<family>" name="<check id>" time=>
          <failure message="..." type="FAIL">expected/actual/requirement/remediation</failure>
          | <error message="..." type="ERROR">...</error>
          | <skipped message="<reason>"/>
          <system-out>the evidence summary (steps, requests, tokens, events)</system-out>
        </testcase>

A FAIL accepted by the expected-failures file is written as ``skipped`` with
``type="expected-failure"`` (as pytest writes xfail), its failure text kept in
``system-out``; stale expected-failure entries (checks that no longer fail) get
a failing testcase in the ``expected-failures`` class so the CI view shows why
the run failed. Characters XML 1.0 cannot carry (NUL, escape sequences) are
written as ``\\xNN`` so the file always parses.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from harness.reports import evidence_summary, family_counts, failure_lines, trim
from harness.results import CheckResult, RunResult, Verdict

_XML_INVALID = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
STALE_CLASS = "expected-failures"


def xml_safe(text: str) -> str:
    """Text XML 1.0 can carry: invalid code points become a visible ``\\xNN`` escape."""
    return _XML_INVALID.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _el(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, {k: xml_safe(v) for k, v in attrs.items()})
    if text is not None:
        el.text = xml_safe(text)
    return el


def _testcase(suite: ET.Element, check: CheckResult) -> None:
    case = _el(suite, "testcase", classname=check.family, name=check.check_id, time=f"{check.duration_s:.3f}")
    message = trim(check.reason or check.actual or check.title, 500)
    if check.verdict is Verdict.FAIL and check.expected_failure:
        _el(case, "skipped", message=f"expected failure: {check.expected_failure}", type="expected-failure")
    elif check.verdict is Verdict.FAIL:
        _el(case, "failure", "\n".join(failure_lines(check)), message=message, type="FAIL")
    elif check.verdict is Verdict.ERROR:
        _el(case, "error", "\n".join(failure_lines(check)), message=message, type="ERROR")
    elif check.verdict is Verdict.SKIP:
        _el(case, "skipped", message=trim(check.reason or "skipped", 500))
    _el(case, "system-out", evidence_summary(check))


def _suite_attrs(checks: list[CheckResult], name: str, timestamp: str) -> dict[str, str]:
    counts = {v: sum(1 for c in checks if c.verdict is v and not c.expected_failure) for v in Verdict}
    accepted = sum(1 for c in checks if c.expected_failure and c.verdict is Verdict.FAIL)
    return {
        "name": name,
        "tests": str(len(checks)),
        "failures": str(counts[Verdict.FAIL]),
        "errors": str(counts[Verdict.ERROR]),
        "skipped": str(counts[Verdict.SKIP] + accepted),
        "time": f"{sum(c.duration_s for c in checks):.3f}",
        "timestamp": timestamp,
    }


def build_junit(result: RunResult) -> ET.ElementTree:
    """The JUnit document as an ElementTree (written by write_junit)."""
    h = result.header
    root = ET.Element("testsuites", {"name": "cognito-harness"})
    props = {
        "seed": str(h.seed),
        "profile": h.profile,
        "target": h.target,
        "target_spec_path": h.target_spec_path,
        "target_sha256": h.target_sha256,
        "backend": h.backend,
        "tool_version": h.tool_version,
        "command": " ".join(h.command),
    }

    def suite(**attrs: str) -> ET.Element:
        el = _el(root, "testsuite", **attrs)
        properties = _el(el, "properties")
        for key, value in props.items():
            _el(properties, "property", name=key, value=value)
        return el

    by_family = result.by_family()
    for family in family_counts(result):
        checks = by_family[family]
        family_suite = suite(**_suite_attrs(checks, family, h.started_at))
        for check in checks:
            _testcase(family_suite, check)
    if result.stale_expected_failures:
        stale = str(len(result.stale_expected_failures))
        stale_suite = suite(name=STALE_CLASS, tests=stale, failures=stale, errors="0", skipped="0", time="0.000",
                            timestamp=h.started_at)
        for check_id in result.stale_expected_failures:
            case = _el(stale_suite, "testcase", classname=STALE_CLASS, name=check_id, time="0.000")
            text = f"{check_id} is listed in the expected-failures file but did not fail: remove the entry"
            _el(case, "failure", text, message="stale expected-failure entry", type="STALE")
    totals = {k: 0 for k in ("tests", "failures", "errors", "skipped")}
    for el in root:
        for key in totals:
            totals[key] += int(el.get(key, "0"))
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", f"{result.duration_s:.3f}")
    return ET.ElementTree(root)


def write_junit(result: RunResult, path: str | os.PathLike[str]) -> Path:
    """Write the JUnit XML report; returns the path."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tree = build_junit(result)
    ET.indent(tree, space="  ")
    tree.write(out, encoding="utf-8", xml_declaration=True)
    return out


__all__ = ["build_junit", "write_junit", "xml_safe"]
