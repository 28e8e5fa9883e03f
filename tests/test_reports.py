"""Reports: JUnit XML parses and counts right, JSON follows its schema, HTML escapes everything."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

from harness.reports import evidence_summary, family_counts
from harness.reports.html import write_html
from harness.reports.jsonreport import SCHEMA, write_json
from harness.reports.junit import write_junit
from harness.results import RunResult, Verdict
from tests.runner_samples import TOKEN, sample_result

# --- JUnit -----------------------------------------------------------------------------------


def test_junit_parses_with_one_testcase_per_check_and_right_counts(tmp_path: Path) -> None:
    result = sample_result()
    path = write_junit(result, tmp_path / "junit.xml")
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites"
    cases = root.findall(".//testcase")
    checks = [c for c in cases if c.get("classname") != "expected-failures"]
    assert [(c.get("classname"), c.get("name")) for c in checks] == [(r.family, r.check_id) for r in result.results]
    by_name = {c.get("name"): c for c in checks}
    assert by_name["TV-VALID-ACCESS"].find("failure") is None and by_name["TV-VALID-ACCESS"].find("skipped") is None
    failure = by_name["TV-ALG-NONE"].find("failure")
    assert failure is not None and failure.get("message") == "the app accepted an unsigned token"
    assert "expected:    401 or 403" in failure.text and "remediation: pin the algorithm" in failure.text
    assert "reproduce:   cognito-harness run --seed 42 -k TV-ALG-NONE" in failure.text
    assert by_name["TEN-ADMIN-REMOVED"].find("skipped").get("message") == "the spec has no tenant_admin request"
    assert by_name["LIFE-REFRESH-ROTATE"].find("error").get("message").startswith("target unreachable")
    accepted = by_name["LIFE-LOGOUT-ALL"].find("skipped")
    assert accepted.get("type") == "expected-failure" and "ticket 12" in accepted.get("message")
    # evidence summary in system-out, including the hostile body (escaped by XML, readable after parsing)
    out = by_name["TV-ALG-NONE"].find("system-out").text
    assert "<script>alert('x')</script>" in out and "#1 present forged token: failed" in out
    assert "\\x1b" in out and "\\x00" in out  # control characters made visible, not dropped
    # stale expected-failure entry is a failing testcase
    stale = [c for c in cases if c.get("classname") == "expected-failures"]
    assert [c.get("name") for c in stale] == ["OLD-CHECK"] and stale[0].find("failure") is not None
    # totals add up per suite and overall
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["token_validation", "tenancy", "lifecycle", "expected-failures"]
    for suite in suites:
        tcs = suite.findall("testcase")
        assert int(suite.get("tests")) == len(tcs)
        assert int(suite.get("failures")) == sum(1 for c in tcs if c.find("failure") is not None)
        assert int(suite.get("errors")) == sum(1 for c in tcs if c.find("error") is not None)
        assert int(suite.get("skipped")) == sum(1 for c in tcs if c.find("skipped") is not None)
        assert suite.find("properties/property[@name='seed']").get("value") == "42"
    assert (root.get("tests"), root.get("failures"), root.get("errors"), root.get("skipped")) == ("6", "2", "1", "2")


def test_junit_raw_bytes_are_escaped(tmp_path: Path) -> None:
    raw = write_junit(sample_result(), tmp_path / "junit.xml").read_bytes()
    assert b"<script>" not in raw and b"&lt;script&gt;" in raw
    assert b"\x00" not in raw and b"\x1b" not in raw
    assert raw.startswith(b"<?xml version='1.0' encoding='utf-8'?>")


# --- JSON ------------------------------------------------------------------------------------


def test_json_report_schema_and_summary(tmp_path: Path) -> None:
    result = sample_result()
    doc = json.loads(write_json(result, tmp_path / "report.json").read_text(encoding="utf-8"))
    assert doc["schema"] == SCHEMA
    assert set(doc) >= {"header", "results", "counts", "exit_code", "stale_expected_failures", "duration_s", "summary"}
    assert doc["exit_code"] == 1  # the sample has a FAIL: its ERROR does not hide it (issue 9)
    assert doc["counts"] == {"PASS": 1, "FAIL": 2, "SKIP": 1, "ERROR": 1, "total": 5}
    summary = doc["summary"]
    assert summary["by_verdict"] == doc["counts"]
    assert summary["by_family"] == {
        "token_validation": {"PASS": 1, "FAIL": 1, "SKIP": 0, "ERROR": 0, "total": 2},
        "tenancy": {"PASS": 0, "FAIL": 0, "SKIP": 1, "ERROR": 0, "total": 1},
        "lifecycle": {"PASS": 0, "FAIL": 1, "SKIP": 0, "ERROR": 1, "total": 2},
    }
    assert summary["by_severity"]["SHOULD"] == {"PASS": 0, "FAIL": 1, "SKIP": 0, "ERROR": 0, "total": 1}
    assert summary["failed"] == ["TV-ALG-NONE"]
    assert summary["accepted_failures"] == {"LIFE-LOGOUT-ALL": "known gap, ticket 12"}
    assert summary["errors"] == ["LIFE-REFRESH-ROTATE"]
    assert summary["skipped"] == {"TEN-ADMIN-REMOVED": "the spec has no tenant_admin request"}
    for check in doc["results"]:
        assert check["verdict"] in {v.value for v in Verdict}
        for step in check["steps"]:
            assert set(step) == {"index", "name", "outcome", "detail", "evidence", "at"}
    # loadable back into the model
    assert RunResult.from_dict(doc).to_dict() == result.to_dict()


def test_json_report_keeps_undecodable_text(tmp_path: Path) -> None:
    result = sample_result()
    result.results[1].actual = "bad byte \udcff here"
    doc = json.loads(write_json(result, tmp_path / "r.json").read_bytes())
    assert doc["results"][1]["actual"] == "bad byte \udcff here"


def test_family_counts_and_text_summary() -> None:
    result = sample_result()
    assert list(family_counts(result)) == ["token_validation", "tenancy", "lifecycle"]
    text = evidence_summary(result.results[1])
    assert "expected:    401 or 403" in text and "requirement: RFC 8725 3.1, OIDF rp-id_token-sig-none" in text
    assert 'header: {"alg": "none", "typ": "JWT"}' in text
    assert "http GET /api/me: GET http://127.0.0.1:5000/api/me?x=<b> -> 200" in text


# --- HTML ------------------------------------------------------------------------------------


class _Collector(HTMLParser):
    """Collects tags, script bodies and text so the tests see the document as a browser parses it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self.text: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        (self.scripts if self._in_script else self.text).append(data)


def _parse(path: Path) -> tuple[str, _Collector]:
    html = path.read_text(encoding="utf-8")
    parser = _Collector()
    parser.feed(html)
    return html, parser


def test_html_escapes_untrusted_content(tmp_path: Path) -> None:
    html, parsed = _parse(write_html(sample_result(), tmp_path / "report.html"))
    # exactly one script (ours), no injected tags from tokens or app responses
    assert [t for t, _ in parsed.tags].count("script") == 1
    assert not any(t in {"img", "iframe", "object", "embed", "link"} for t, _ in parsed.tags)
    assert not any(k.startswith("on") for _, attrs in parsed.tags for k in attrs)
    assert "<script>alert" not in html and "<img src=x" not in html
    text = "".join(parsed.text)
    # ... yet a person reads the hostile strings literally
    assert "<script>alert('x')</script>" in text
    assert '"sub": "<img src=x onerror=alert(1)>"' in text
    assert "\\x1b[31m" in text and "\x00" not in html
    assert TOKEN in text


def test_html_is_self_contained_and_complete(tmp_path: Path) -> None:
    result = sample_result()
    html, parsed = _parse(write_html(result, tmp_path / "report.html"))
    # no network: no src at all, only in-page #anchors, and a CSP that forbids fetching
    for _, attrs in parsed.tags:
        assert not attrs.get("src"), attrs
        assert (attrs.get("href") or "#").startswith("#"), attrs
    assert "default-src 'none'" in html
    text = re.sub(r"\s+", " ", " ".join(parsed.text))
    for expected in ("Target reference-app", "Seed 42", "Profile baseline", "Backend emulator",
                     "2026-11-26T13:00:00Z", "Exit code 1", "Stale expected-failure entries", "Target output",
                     "serving on 127.0.0.1:5000"):
        assert expected in text
    ids = {attrs.get("id") for _, attrs in parsed.tags}
    for check in result.results:
        assert f"check-{check.check_id}" in ids
    assert {"count-PASS", "count-FAIL", "count-SKIP", "count-ERROR", "family-summary", "expand-all"} <= ids
    filters = [attrs["data-filter"] for t, attrs in parsed.tags if t == "button" and "data-filter" in attrs]
    assert filters == ["all", "FAIL", "ERROR", "SKIP", "PASS"]
    details = [attrs for t, attrs in parsed.tags if t == "details" and "data-verdict" in attrs]
    assert [d["data-verdict"] for d in details] == [r.verdict.value for r in result.results]
    for needed in ("Expected", "Actual", "Requirement", "Remediation", "Reproduce", "Timeline", "forge token",
                   "jwks.fetch", "Skipped because", "connection refused", "expected failure"):
        assert needed in text, needed


def test_html_unfolds_fail_and_error_and_folds_pass_and_skip(tmp_path: Path) -> None:
    result = sample_result()
    html, parsed = _parse(write_html(result, tmp_path / "report.html"))
    shown = {attrs["id"]: "open" in attrs for t, attrs in parsed.tags if t == "details" and "data-verdict" in attrs}
    wanted = {f"check-{r.check_id}": r.verdict in (Verdict.FAIL, Verdict.ERROR) for r in result.results}
    assert shown == wanted
    assert set(wanted.values()) == {True, False}  # the sample has both kinds: the check can fail either way
    # the markup itself: the attribute sits on the check's own <details>, not on a nested one
    for r in result.results:
        tag = re.search(rf'<details class="check" id="check-{re.escape(r.check_id)}"[^>]*>', html)
        assert tag is not None and tag.group(0).endswith(" open>") == (r.verdict.value in ("FAIL", "ERROR"))
    nested = [attrs for t, attrs in parsed.tags if t == "details" and "data-verdict" not in attrs]
    assert nested and not any("open" in attrs for attrs in nested)  # headers, cookies, tokens stay folded


def test_html_of_an_empty_run(tmp_path: Path) -> None:
    result = sample_result()
    result.results = []
    result.stale_expected_failures = []
    html, parsed = _parse(write_html(result, tmp_path / "empty.html"))
    assert "Exit code 0" in re.sub(r"\s+", " ", " ".join(parsed.text))


def test_every_writer_survives_odd_evidence(tmp_path: Path) -> None:
    """Mixed-type keys, bytes, sets, NaN, lone surrogates, huge bodies: every report is still written and valid."""
    from harness.results import Evidence

    result = sample_result()
    odd = {"text": "x\udcff\u2028y", 1: "int key", "b": b"\x00\xff", "s": {3}, "n": float("nan")}
    result.results[1].steps[0].evidence.append(Evidence("note", "odd \udcff", odd))
    result.results[1].steps[0].evidence.append(
        Evidence("http", "huge", {"request": {"method": "GET", "url": "/"}, "response": {"status": 500,
                                                                                          "body": "A" * 200_000}}))
    ET.parse(write_junit(result, tmp_path / "j.xml"))
    def strict(constant: str) -> None:
        raise AssertionError(f"non-standard JSON constant {constant}")

    json.loads(write_json(result, tmp_path / "r.json").read_bytes(), parse_constant=strict)
    html, parsed = _parse(write_html(result, tmp_path / "r.html"))
    assert "int key" in html and "more characters]" in html  # kept, and the huge body trimmed
    assert len(html) < 400_000
