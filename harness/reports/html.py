"""One self-contained HTML report for people (inline CSS and JS, nothing fetched).

What a reader sees, top to bottom: the run header (target, seed, profile,
backend, time, verdict counts), a summary table by family, filter buttons
(All / FAIL / SKIP / ERROR / PASS), then per family each check as a collapsible
block (FAIL and ERROR unfolded, PASS and SKIP folded until clicked or "expand
all"): for FAIL and ERROR the expected and actual behaviour, the requirement,
the remediation and a reproduction line; for SKIP the reason; then the timeline
of steps with their requests and responses, decoded token headers and claims,
emulator events, logs and notes.

Everything shown comes from the app under test or from tokens and is treated as
hostile: every string is HTML-escaped, no data goes into script or style
blocks, and a Content-Security-Policy forbids any network fetch and runs only
the report's own style and script block, named by their SHA-256 (no
``'unsafe-inline'``: a tag that slipped past the escaping would not run).
"""

from __future__ import annotations

import base64
import hashlib
import os
from datetime import datetime, timezone
from html import escape
from pathlib import Path
from typing import Any

from harness.reports import VERDICTS, as_text, family_counts, printable, skip_groups, to_json, trim
from harness.results import CheckResult, Evidence, RunResult, StepRecord, Verdict

BODY_LIMIT = 20_000  # characters of one body shown in the page
TIME_CLAIMS = ("exp", "iat", "nbf", "auth_time")

CSS = """
:root{--pass:#1a7f37;--fail:#cf222e;--skip:#8a6d00;--error:#8250df;--fg:#1f2328;--muted:#59636e;
--bg:#fff;--panel:#f6f8fa;--line:#d1d9e0;--code:#eff2f5}
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;
color:var(--fg);background:var(--bg)}main{max-width:1200px;margin:0 auto;padding:16px 24px 48px}
h1{font-size:22px;margin:8px 0}h2{font-size:18px;margin:24px 0 8px}h3{font-size:15px;margin:18px 0 6px;
color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
code,pre{font:12.5px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
pre{background:var(--code);padding:8px;border-radius:6px;overflow:auto;max-height:420px;white-space:pre-wrap;
word-break:break-all;margin:4px 0}
.meta{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:8px 0}
.meta dt{color:var(--muted)}.meta dd{margin:0;word-break:break-all}
.counts{display:flex;gap:10px;flex-wrap:wrap;margin:12px 0}
.count{border:1px solid var(--line);border-radius:8px;padding:6px 14px;min-width:90px;background:var(--panel)}
.count b{display:block;font-size:22px}.count.PASS b{color:var(--pass)}.count.FAIL b{color:var(--fail)}
.count.SKIP b{color:var(--skip)}.count.ERROR b{color:var(--error)}
.exit{font-weight:600}.exit.bad{color:var(--fail)}.exit.good{color:var(--pass)}
table{border-collapse:collapse;min-width:480px}th,td{border:1px solid var(--line);padding:4px 10px;text-align:right}
th:first-child,td:first-child{text-align:left}thead th{background:var(--panel)}
td.nz.FAIL{color:var(--fail);font-weight:700}td.nz.ERROR{color:var(--error);font-weight:700}
td.nz.SKIP{color:var(--skip)}td.nz.PASS{color:var(--pass)}
.badge{display:inline-block;min-width:52px;text-align:center;border-radius:4px;padding:0 6px;color:#fff;
font-weight:700;font-size:12px}.badge.PASS{background:var(--pass)}.badge.FAIL{background:var(--fail)}
.badge.SKIP{background:var(--skip)}.badge.ERROR{background:var(--error)}
.tag{border:1px solid var(--line);border-radius:10px;padding:0 7px;font-size:11.5px;color:var(--muted)}
.tag.accepted{border-color:var(--skip);color:var(--skip)}
.filters{position:sticky;top:0;background:var(--bg);padding:8px 0;display:flex;gap:6px;flex-wrap:wrap;
border-bottom:1px solid var(--line);z-index:1}
.filters button{font:inherit;border:1px solid var(--line);background:var(--panel);border-radius:6px;
padding:3px 12px;cursor:pointer}.filters button[aria-pressed=true]{background:var(--fg);color:#fff}
.filters .sep{flex:1}
details.check{border:1px solid var(--line);border-left:5px solid var(--line);border-radius:6px;margin:6px 0;
background:var(--bg)}details.check[data-verdict=PASS]{border-left-color:var(--pass)}
details.check[data-verdict=FAIL]{border-left-color:var(--fail)}
details.check[data-verdict=SKIP]{border-left-color:var(--skip)}
details.check[data-verdict=ERROR]{border-left-color:var(--error)}
details.check>summary{cursor:pointer;padding:6px 10px;display:flex;gap:8px;align-items:baseline;flex-wrap:wrap}
.check .title{flex:1}.check-body{padding:4px 14px 12px}
.finding{display:grid;grid-template-columns:max-content 1fr;gap:4px 14px;background:#fff5f5;
border:1px solid #ffcecb;border-radius:6px;padding:8px 12px;margin:6px 0}
.finding.SKIP{background:#fffbea;border-color:#eed888}.finding.PASS{background:#f0fff4;border-color:#aceebb}
.finding dt{font-weight:600}.finding dd{margin:0;white-space:pre-wrap;word-break:break-word}
ol.timeline{list-style:none;padding:0;margin:8px 0;border-left:2px solid var(--line)}
ol.timeline>li{position:relative;padding:2px 0 8px 16px}
ol.timeline>li:before{content:"";position:absolute;left:-7px;top:7px;width:12px;height:12px;border-radius:50%;
background:var(--line)}li.outcome-ok:before{background:var(--pass)!important}
li.outcome-failed:before{background:var(--fail)!important}li.outcome-error:before{background:var(--error)!important}
li.outcome-skipped:before{background:var(--skip)!important}
.step-head{font-weight:600}.step-head .at{font-weight:400;color:var(--muted);font-size:12px}
.outcome{font-family:ui-monospace,monospace;font-size:12px;padding:0 4px;border-radius:3px;background:var(--panel)}
.ev{border:1px solid var(--line);border-radius:6px;padding:6px 10px;margin:6px 0;background:var(--panel)}
.ev-title{font-weight:600}.ev-kind{font-size:11px;text-transform:uppercase;color:var(--muted);margin-right:6px}
.ev .cols{display:grid;grid-template-columns:1fr 1fr;gap:10px}
@media(max-width:800px){.ev .cols{grid-template-columns:1fr}}
.status{font-weight:700}.status.s2{color:var(--pass)}.status.s4,.status.s5{color:var(--fail)}
table.kv{min-width:0;width:100%;font-size:12.5px}table.kv td,table.kv th{text-align:left;vertical-align:top;
word-break:break-all}table.events td:nth-child(-n+2){white-space:nowrap;word-break:normal}
.empty{color:var(--muted);font-style:italic}[hidden]{display:none!important}
"""

JS = """
(function(){
  var checks=[].slice.call(document.querySelectorAll('details.check'));
  var groups=[].slice.call(document.querySelectorAll('section.family'));
  var buttons=[].slice.call(document.querySelectorAll('.filters button[data-filter]'));
  var empty=document.getElementById('filter-empty');
  function apply(filter){
    checks.forEach(function(c){c.hidden=(filter!=='all'&&c.getAttribute('data-verdict')!==filter);});
    groups.forEach(function(g){g.hidden=!g.querySelector('details.check:not([hidden])');});
    buttons.forEach(function(b){b.setAttribute('aria-pressed',String(b.getAttribute('data-filter')===filter));});
    empty.hidden=checks.some(function(c){return !c.hidden;});
  }
  buttons.forEach(function(b){b.addEventListener('click',function(){apply(b.getAttribute('data-filter'));});});
  function openAll(open){checks.forEach(function(c){if(!c.hidden){c.open=open;}});}
  document.getElementById('expand-all').addEventListener('click',function(){openAll(true);});
  document.getElementById('collapse-all').addEventListener('click',function(){openAll(false);});
  if(location.hash){var t=document.getElementById(location.hash.slice(1));if(t&&t.tagName==='DETAILS'){t.open=true;}}
})();
"""


def _e(value: Any) -> str:
    """HTML-escape anything, control characters shown as visible ``\\xNN``."""
    return escape(printable(str(value)), quote=True)


def _pre(value: Any, limit: int = BODY_LIMIT) -> str:
    if value is None or value == "":
        return '<p class="empty">(empty)</p>'
    text = as_text(value)
    return f"<pre>{_e(trim(text, limit))}</pre>"


def _when(value: Any) -> str:
    """Epoch seconds as UTC time (virtual clock), small numbers as offsets."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 100_000_000:
        return datetime.fromtimestamp(value, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    return f"t={value}"


def _kv(mapping: Any) -> str:
    if not isinstance(mapping, dict) or not mapping:
        return '<p class="empty">(none)</p>'
    rows = "".join(f"<tr><td>{_e(k)}</td><td>{_e(v)}</td></tr>" for k, v in mapping.items())
    return f'<table class="kv">{rows}</table>'


def _http(data: dict[str, Any]) -> str:
    req = data.get("request") or {}
    resp = data.get("response") or {}
    status = resp.get("status")
    cls = f"s{str(status)[0]}" if status is not None else ""
    extra = f" &middot; {_e(data['elapsed_ms'])} ms" if "elapsed_ms" in data else ""
    masked = " &middot; secrets masked" if data.get("masked") else ""
    request = (
        f"<div><b>Request</b> <code>{_e(req.get('method', ''))} {_e(req.get('url', ''))}</code>"
        f"<details><summary>headers</summary>{_kv(req.get('headers'))}</details>"
        + (f"<details><summary>cookies</summary>{_kv(req.get('cookies'))}</details>" if req.get("cookies") else "")
        + f"{_pre(req.get('body'))}</div>"
    )
    response = (
        f'<div><b>Response</b> <span class="status {cls}">{_e(status if status is not None else "no response")}'
        f"</span>{extra}{masked}<details><summary>headers</summary>{_kv(resp.get('headers'))}</details>"
        f"{_pre(resp.get('body'))}</div>"
    )
    return f'<div class="cols">{request}{response}</div>'


def _token(data: dict[str, Any]) -> str:
    claims = data.get("claims")
    times = ""
    if isinstance(claims, dict):
        shown = [f"{k} = {_when(claims[k])}" for k in TIME_CLAIMS if isinstance(claims.get(k), (int, float))]
        if shown:
            times = f"<div><small>{_e('; '.join(shown))}</small></div>"
    raw = data.get("token")
    raw_html = f"<details><summary>encoded token</summary>{_pre(raw)}</details>" if raw else ""
    rest = {k: v for k, v in data.items() if k not in ("header", "claims", "token")}
    return (
        f'<div class="cols"><div><b>Header</b>{_pre(data.get("header"))}</div>'
        f"<div><b>Claims</b>{_pre(claims)}{times}</div></div>{raw_html}"
        + (_pre(rest) if rest else "")
    )


def _events(data: dict[str, Any]) -> str:
    rows = []
    for event in data.get("events") or []:
        if isinstance(event, dict):
            kind = event.get("type", event.get("name", ""))
            at = event.get("at", event.get("time", ""))
            detail: Any = {k: v for k, v in event.items() if k not in ("type", "name", "at", "time", "seq", "pool_id")}
            if set(detail) == {"data"}:  # the emulator's event shape: show its payload directly
                detail = detail["data"]
            rows.append(
                f"<tr><td>{_e(kind)}</td><td>{_e(_when(at) if at != '' else '')}</td>"
                f"<td>{_e(trim(to_json(detail), 2000))}</td></tr>"
            )
        else:
            rows.append(f'<tr><td colspan="3">{_e(event)}</td></tr>')
    if not rows:
        return '<p class="empty">(no events)</p>'
    rest = {k: v for k, v in data.items() if k != "events"}
    table = (f'<table class="kv events"><thead><tr><th>event</th><th>at</th><th>detail</th></tr></thead>'
             f'{"".join(rows)}</table>')
    return table + (_pre(rest) if rest else "")


def _evidence(ev: Evidence) -> str:
    data = ev.data or {}
    if ev.kind == "http" and ("request" in data or "response" in data):
        body = _http(data)
    elif ev.kind == "token" and ("header" in data or "claims" in data):
        body = _token(data)
    elif ev.kind == "event" and isinstance(data.get("events"), list):
        body = _events(data)
    elif set(data) == {"text"}:
        body = _pre(data["text"])
    elif ev.kind == "log" and isinstance(data.get("lines"), list):
        rest = {k: v for k, v in data.items() if k != "lines"}
        body = _pre("\n".join(str(line) for line in data["lines"])) + (
            f"<details><summary>details</summary>{_kv(rest)}</details>" if rest else "")
    else:
        body = _pre(data) if data else ""
    return (
        f'<div class="ev ev-{_e(ev.kind)}"><div><span class="ev-kind">{_e(ev.kind)}</span>'
        f'<span class="ev-title">{_e(ev.title)}</span></div>{body}</div>'
    )


def _step(step: StepRecord) -> str:
    detail = f'<div class="detail">{_e(step.detail)}</div>' if step.detail else ""
    evidence = "".join(_evidence(ev) for ev in step.evidence)
    return (
        f'<li class="step outcome-{_e(step.outcome)}"><div class="step-head">#{_e(step.index)} {_e(step.name)} '
        f'<span class="outcome">{_e(step.outcome)}</span> <span class="at">{_e(_when(step.at))}</span></div>'
        f"{detail}{evidence}</li>"
    )


def _finding(check: CheckResult) -> str:
    rows: list[tuple[str, str]] = []
    if check.verdict is Verdict.SKIP:
        rows.append(("Skipped because", check.reason or "(no reason given)"))
    elif check.verdict in (Verdict.FAIL, Verdict.ERROR):
        if check.reason:
            rows.append(("Reason" if check.verdict is Verdict.FAIL else "Error", check.reason))
        rows.append(("Expected", check.expected or "(not stated)"))
        rows.append(("Actual", trim(check.actual, BODY_LIMIT) or "(not stated)"))
    rows.append(("Requirement", ", ".join(check.requirements) or "(none listed)"))
    if check.verdict in (Verdict.FAIL, Verdict.ERROR):
        rows.append(("Remediation", check.remediation or "(none given)"))
    if check.expected_failure:
        rows.append(("Accepted as expected failure", check.expected_failure))
    cells = "".join(f'<dt>{_e(k)}</dt><dd class="f-{_e(k.split()[0].lower())}">{_e(v)}</dd>' for k, v in rows)
    if check.reproduction:
        cells += f'<dt>Reproduce</dt><dd class="f-reproduce"><code>{_e(check.reproduction)}</code></dd>'
    return f'<dl class="finding {_e(check.verdict.value)}">{cells}</dl>'


OPEN_VERDICTS = (Verdict.FAIL, Verdict.ERROR)
"""Checks shown unfolded when the report opens: what a reader came for (PASS and SKIP stay folded)."""


def _check(check: CheckResult) -> str:
    accepted = '<span class="tag accepted">expected failure</span>' if check.expected_failure else ""
    steps = "".join(_step(s) for s in check.steps)
    timeline = (f'<h4>Timeline</h4><ol class="timeline">{steps}</ol>' if steps
                else '<p class="empty">(no steps recorded)</p>')
    evidence = "".join(_evidence(ev) for ev in check.evidence)
    evidence_html = f"<h4>Evidence</h4>{evidence}" if evidence else ""
    opened = " open" if check.verdict in OPEN_VERDICTS else ""
    return (
        f'<details class="check" id="check-{_e(check.check_id)}" data-verdict="{_e(check.verdict.value)}" '
        f'data-family="{_e(check.family)}"{opened}><summary><span class="badge {_e(check.verdict.value)}">'
        f'{_e(check.verdict.value)}</span><code class="check-id">{_e(check.check_id)}</code>'
        f'<span class="title">{_e(check.title)}</span>{accepted}<span class="tag">{_e(check.severity)}</span>'
        f'<span class="tag">{_e(check.profile)}</span><span class="tag">{_e(f"{check.duration_s:.2f}s")}</span>'
        f'</summary><div class="check-body">{_finding(check)}{timeline}{evidence_html}</div></details>'
    )


def _header(result: RunResult) -> str:
    h = result.header
    code = result.exit_code()
    meta = [
        ("Target", h.target),
        ("Target spec", f"{h.target_spec_path} (sha256 {h.target_sha256})" if h.target_spec_path else h.target_sha256),
        ("Seed", h.seed),
        ("Profile", h.profile),
        ("Backend", h.backend),
        ("Started", h.started_at),
        ("Duration", f"{result.duration_s:.2f} s"),
        ("Tool version", h.tool_version),
        ("Command", " ".join(h.command)),
    ]
    if h.keyword:
        meta.append(("-k", h.keyword))
    if h.families:
        meta.append(("Families", ", ".join(h.families)))
    dl = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in meta)
    dl += f'<dt>Exit code</dt><dd class="exit {"good" if code == 0 else "bad"}" id="exit-code">{code}</dd>'
    counts = result.counts()
    boxes = "".join(
        f'<div class="count {v}" id="count-{v}">{v}<b>{counts[v]}</b></div>' for v in VERDICTS
    ) + f'<div class="count" id="count-total">total<b>{counts["total"]}</b></div>'
    return (f'<header><h1>cognito-harness report</h1><dl class="meta">{dl}</dl>'
            f'<div class="counts">{boxes}</div></header>')


def _skips(result: RunResult) -> str:
    """The skipped checks grouped by reason (on a backend: what of the control plane each group needs)."""
    groups = skip_groups(result)
    if not groups:
        return ""
    backend = result.header.backend
    where = "" if backend in ("", "emulator") else f" on backend {backend}"
    items = "".join(f"<li>{_e(reason)} ({len(ids)}): <code>{_e(', '.join(ids))}</code></li>"
                    for reason, ids in groups.items())
    return f'<h3>Skipped{_e(where)}, by reason</h3><ul id="skipped-by-reason">{items}</ul>'


def _summary(result: RunResult) -> str:
    rows = []
    for family, row in family_counts(result).items():
        cells = "".join(f'<td class="{v}{" nz" if row[v] else ""}">{row[v]}</td>' for v in VERDICTS)
        rows.append(f'<tr data-family="{_e(family)}"><td><a href="#family-{_e(family)}">{_e(family)}</a></td>{cells}'
                    f'<td>{row["total"]}</td></tr>')
    counts = result.counts()
    total = "".join(f'<td class="{v}{" nz" if counts[v] else ""}">{counts[v]}</td>' for v in VERDICTS)
    head = "".join(f"<th>{v}</th>" for v in VERDICTS)
    table = (
        f'<table id="family-summary"><thead><tr><th>Family</th>{head}<th>total</th></tr></thead>'
        f'<tbody>{"".join(rows)}</tbody><tfoot><tr><th>all</th>{total}<th>{counts["total"]}</th></tr></tfoot></table>'
    )
    stale = ""
    if result.stale_expected_failures:
        ids = ", ".join(result.stale_expected_failures)
        stale = (
            f'<p class="finding" id="stale">Stale expected-failure entries (these checks no longer fail; '
            f"remove them from the file): <code>{_e(ids)}</code></p>"
        )
    return f'<section id="summary"><h2>Summary by family</h2>{table}{stale}{_skips(result)}</section>'


def _checks(result: RunResult) -> str:
    counts = result.counts()
    buttons = [f'<button type="button" data-filter="all" aria-pressed="true">All ({counts["total"]})</button>']
    buttons += [
        f'<button type="button" data-filter="{v}" aria-pressed="false">{v} ({counts[v]})</button>'
        for v in ("FAIL", "ERROR", "SKIP", "PASS")
    ]
    toolbar = (
        f'<div class="filters" role="toolbar" aria-label="filter checks by verdict">{"".join(buttons)}'
        '<span class="sep"></span><button type="button" id="expand-all">Expand all</button>'
        '<button type="button" id="collapse-all">Collapse all</button></div>'
        '<p id="filter-empty" class="empty" hidden>No check has this verdict.</p>'
    )
    groups = "".join(
        f'<section class="family" id="family-{_e(family)}" data-family="{_e(family)}"><h3>{_e(family)}</h3>'
        f'{"".join(_check(c) for c in checks)}</section>'
        for family, checks in result.by_family().items()
    )
    return f'<section id="checks"><h2>Checks</h2>{toolbar}{groups}</section>'


def _target_logs(result: RunResult) -> str:
    if not result.target_logs:
        return ""
    logs = "".join(_evidence(ev) for ev in result.target_logs)
    return (
        '<section id="target-logs"><h2>Target output</h2><details><summary>what the target printed '
        f"({len(result.target_logs)} streams)</summary>{logs}</details></section>"
    )


def csp_source_hash(block: str) -> str:
    """The CSP source expression allowing one inline block: ``'sha256-<base64>'`` of its UTF-8 text."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(block.encode("utf-8")).digest()).decode() + "'"


def content_security_policy(css: str = CSS, js: str = JS) -> str:
    """Nothing fetched, nothing submitted; only these exact style and script blocks run."""
    return (f"default-src 'none'; style-src {csp_source_hash(css)}; script-src {csp_source_hash(js)}; "
            "img-src data:; base-uri 'none'; form-action 'none'")


def render_html(result: RunResult) -> str:
    """The whole report as one HTML string."""
    title = f"cognito-harness report: {result.header.target}"
    csp = content_security_policy()
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body><main>"
        f"{_header(result)}{_summary(result)}{_checks(result)}{_target_logs(result)}</main>"
        f"<script>{JS}</script></body></html>\n"
    )


def write_html(result: RunResult, path: str | os.PathLike[str]) -> Path:
    """Write the HTML report; returns the path."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(render_html(result).encode("utf-8", "backslashreplace"))
    return out


__all__ = ["content_security_policy", "csp_source_hash", "render_html", "write_html"]
