"""The HTML report's Content-Security-Policy names its own style and script by hash: no 'unsafe-inline'.

Checked twice: by reading the written file (the hashes are those of the blocks actually in it)
and in headless Chromium (the report's CSS and JS run, no CSP violation is reported, and an
inline script that is not the report's own does not run).
"""

from __future__ import annotations

import base64
import hashlib
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from harness.reports.html import render_html, write_html
from tests.runner_samples import sample_result
from tests.test_html_browser import browser  # noqa: F401 - the shared headless Chromium fixture


class _Blocks(HTMLParser):
    """The CSP meta tag and the text of every <style> and <script> element."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.csp: list[str] = []
        self.blocks: dict[str, list[str]] = {"style": [], "script": []}
        self._open: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "meta" and (found.get("http-equiv") or "").lower() == "content-security-policy":
            self.csp.append(found.get("content") or "")
        if tag in self.blocks:
            self._open = tag
            self.blocks[tag].append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == self._open:
            self._open = None

    def handle_data(self, data: str) -> None:
        if self._open:
            self.blocks[self._open][-1] += data


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"


def _directives(csp: str) -> dict[str, list[str]]:
    out = {}
    for part in csp.split(";"):
        name, *values = part.split()
        out[name] = values
    return out


def test_csp_has_no_unsafe_inline_and_hashes_match_the_blocks(tmp_path: Path) -> None:
    written = write_html(sample_result(), tmp_path / "report.html").read_text(encoding="utf-8")
    parsed = _Blocks()
    parsed.feed(written)
    (csp,) = parsed.csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp and "nonce-" not in csp
    policy = _directives(csp)
    assert policy["default-src"] == ["'none'"]
    (style,), (script,) = parsed.blocks["style"], parsed.blocks["script"]
    assert policy["style-src"] == [_sha256(style)]
    assert policy["script-src"] == [_sha256(script)]
    # the policy follows the blocks: change one and its hash changes with it
    assert _sha256(style + " ") not in csp


def test_hostile_content_never_changes_the_policy(tmp_path: Path) -> None:
    """Hostile content never changes the blocks, so two different runs share one policy."""
    other = sample_result()
    other.results = []
    first, second = render_html(sample_result()), render_html(other)
    assert re.search(r'content="([^"]+)"', first).group(1) == re.search(r'content="([^"]+)"', second).group(1)


@pytest.fixture()
def report_page(browser: Any, tmp_path: Path) -> Any:  # noqa: F811 - the imported fixture
    html = render_html(sample_result())
    # what an escaping bug would let through: a second inline script and an inline style block
    injected = html.replace("</main>", "<script>document.title='pwned'</script>"
                                       "<style>body{background:rgb(255,0,0)}</style></main>")
    report = tmp_path / "report.html"
    report.write_text(injected, encoding="utf-8")
    context = browser.new_context(java_script_enabled=True)
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    page.goto(report.as_uri())
    page.wait_for_load_state("load")
    yield page, console
    context.close()


def test_the_report_runs_its_own_css_and_js_and_nothing_else(report_page: Any) -> None:
    page, console = report_page
    # the report's CSS applied (a PASS badge is green) and the injected style was not
    assert page.eval_on_selector(".badge.PASS", "e => getComputedStyle(e).backgroundColor") == "rgb(26, 127, 55)"
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") != "rgb(255, 0, 0)"
    # the report's script ran: the FAIL filter hides the passing checks
    page.click('.filters button[data-filter="FAIL"]')
    verdicts = {el.get_attribute("data-verdict") for el in page.query_selector_all("details.check") if el.is_visible()}
    assert verdicts == {"FAIL"}
    # ... and the injected one did not, and Chromium said why
    assert page.title() != "pwned"
    refusals = [line for line in console if "Content Security Policy" in line]
    assert refusals and all("unsafe-inline" in line or "hash" in line for line in refusals), console
    assert len(refusals) == 2, console  # exactly the injected script and style, never the report's own
