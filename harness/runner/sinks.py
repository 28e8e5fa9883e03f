"""The reports a run can write, in one table shared by the CLI and pytest mode.

Each sink has a name (the CLI option is ``--<name>``, pytest mode's is
``--cognito-<name>``, where pytest has it) and a writer ``(result, path) -> Path``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from harness.reports.html import write_html
from harness.reports.jsonreport import write_json
from harness.reports.junit import write_junit
from harness.results import RunResult
from harness.runner.transcript import write_transcript


@dataclass(frozen=True)
class ReportSink:
    """One report: its option name and its writer."""

    name: str  # "junit-xml", "json", "html", "transcript"
    write: Callable[[RunResult, str | os.PathLike[str]], Path]

    @property
    def dest(self) -> str:
        """The option's attribute name (``junit_xml``)."""
        return self.name.replace("-", "_")


REPORT_SINKS: tuple[ReportSink, ...] = (
    ReportSink("junit-xml", write_junit),
    ReportSink("json", write_json),
    ReportSink("html", write_html),
    ReportSink("transcript", write_transcript),
)

__all__ = ["REPORT_SINKS", "ReportSink"]
