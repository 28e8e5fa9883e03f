"""The audit report as text (for people) and JSON (for tools)."""

from __future__ import annotations

import json

from harness.audit.checks import AuditReport


def render_text(report: AuditReport) -> str:
    lines = [f"identity pool {report.identity_pool!r} ({report.source})",
             f"roles audited: {', '.join(report.roles) or 'none'}",
             f"unauthenticated allow-list: {', '.join(report.allow) or 'empty'}"]
    if report.undocumented:
        lines.append(f"not audited (no role documents): {', '.join(report.undocumented)}")
    if report.clean:
        lines.append("no findings")
    for f in report.findings:
        lines += ["", f"{f.kind.id}: {f.kind.title}", f"  subject: {f.subject}", f"  detail: {f.detail}"]
        if f.location:
            lines.append(f"  where: {f.location}")
        lines += [f"  why: {f.kind.why}", f"  fix: {f.kind.fix}"]
        lines += [f"  see: {r.title} <{r.url}>" for r in f.kind.references]
    if report.findings:
        lines += ["", f"{len(report.findings)} finding(s)"]
    return "\n".join(lines) + "\n"


def render_json(report: AuditReport) -> str:
    return json.dumps(report.to_dict(), indent=2, default=str) + "\n"


__all__ = ["render_json", "render_text"]
