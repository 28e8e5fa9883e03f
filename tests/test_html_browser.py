"""The HTML report as a person sees it: opened in real headless Chromium, clicked, screenshotted."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from harness.reports.html import write_html
from tests.browser_support import browser  # noqa: F401 - the shared Chromium fixture
from tests.runner_samples import sample_result


@pytest.fixture()
def page(browser, tmp_path: Path):  # noqa: ANN001, ANN201 - playwright types are optional
    report = write_html(sample_result(), tmp_path / "report.html")
    context = browser.new_context(viewport={"width": 1280, "height": 900}, java_script_enabled=True)
    requests: list[str] = []
    page = context.new_page()
    page.on("request", lambda req: requests.append(req.url))
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(report.as_uri())
    page.wait_for_load_state("load")
    yield page
    # nothing fetched but the file itself, and no injected script ever ran
    assert requests == [report.as_uri()], requests
    assert dialogs == []
    context.close()


def _visible_ids(page) -> list[str]:  # noqa: ANN001
    return [el.get_attribute("id") for el in page.query_selector_all("details.check") if el.is_visible()]


def test_summary_counts_are_visible(page, tmp_path: Path) -> None:  # noqa: ANN001
    shot = tmp_path / "report-top.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    for verdict, count in (("PASS", "1"), ("FAIL", "2"), ("SKIP", "1"), ("ERROR", "1"), ("total", "5")):
        box = page.locator(f"#count-{verdict}")
        assert box.is_visible()
        assert box.locator("b").inner_text() == count
    assert page.locator("#exit-code").inner_text() == "1"  # a FAIL decides the exit code, ERRORs or not
    table = page.locator("#family-summary")
    assert table.is_visible()
    row = table.locator("tr[data-family=token_validation]").inner_text().split()
    assert row == ["token_validation", "1", "1", "0", "0", "2"]
    # the header says what ran
    header = page.locator("header").inner_text()
    assert "reference-app" in header and "42" in header and "baseline" in header and "emulator" in header


def test_fail_filter_hides_passing_checks(page, tmp_path: Path) -> None:  # noqa: ANN001
    all_ids = _visible_ids(page)
    assert len(all_ids) == 5
    page.click("button[data-filter=FAIL]")
    assert _visible_ids(page) == ["check-TV-ALG-NONE", "check-LIFE-LOGOUT-ALL"]
    assert not page.locator("#check-TV-VALID-ACCESS").is_visible()
    assert not page.locator("section.family[data-family=tenancy]").is_visible()  # no FAIL there: heading hidden
    assert page.locator("button[data-filter=FAIL]").get_attribute("aria-pressed") == "true"
    page.click("button[data-filter=SKIP]")
    assert _visible_ids(page) == ["check-TEN-ADMIN-REMOVED"]
    page.click("button[data-filter=ERROR]")
    assert _visible_ids(page) == ["check-LIFE-REFRESH-ROTATE"]
    page.click("button[data-filter=all]")
    assert _visible_ids(page) == all_ids


def test_a_failed_check_shows_its_finding_open(page, tmp_path: Path) -> None:  # noqa: ANN001
    page.click("button[data-filter=FAIL]")
    check = page.locator("#check-TV-ALG-NONE")
    finding = check.locator("dl.finding")
    assert finding.is_visible()  # FAIL and ERROR start open: the reader came for them
    page.click("#check-TV-ALG-NONE > summary")
    assert not finding.is_visible()  # and a click folds it away
    page.click("#check-TV-ALG-NONE > summary")
    assert finding.is_visible()
    assert check.locator("dd.f-expected").inner_text() == "401 or 403"
    assert check.locator("dd.f-remediation").inner_text() == "pin the algorithm to RS256 & verify the signature"
    assert check.locator("dd.f-requirement").inner_text() == "RFC 8725 3.1, OIDF rp-id_token-sig-none"
    assert check.locator("dd.f-reproduce").inner_text() == "cognito-harness run --seed 42 -k TV-ALG-NONE"
    actual = check.locator("dd.f-actual").inner_text()
    assert "<script>alert('x')</script>" in actual  # shown as text, never run
    timeline = check.locator("ol.timeline").inner_text()
    assert "#0 forge token" in timeline and '"alg": "none"' in timeline and "Response 200" in timeline
    shot = tmp_path / "report-fail-expanded.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    keep = os.environ.get("COGNITO_HARNESS_KEEP_SCREENSHOTS")
    if keep:
        shutil.copy(shot, Path(keep) / shot.name)


def test_expand_all_opens_only_visible_checks(page) -> None:  # noqa: ANN001
    page.click("button[data-filter=SKIP]")
    page.click("#expand-all")
    assert page.locator("#check-TEN-ADMIN-REMOVED dd.f-skipped").inner_text() == "the spec has no tenant_admin request"
    page.click("button[data-filter=all]")
    assert page.locator("#check-TV-VALID-ACCESS").get_attribute("open") is None  # a PASS, hidden at expand-all
