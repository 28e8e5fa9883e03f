"""Where a run's events go: the sink protocol, and the one table of report files.

A run is a pipeline: select once, run, and tell every sink what happens
(``run_started`` with the header and its selection, ``check_started``,
``check_finished``, ``run_finished`` with the whole result). The terminal
printer of the CLI is a sink; each report file is a sink that writes at the
end of the run. The report files come from :data:`REPORT_SINKS`, the one table
the CLI and pytest mode both build from: each row has a name (the CLI option is
``--<name>``, pytest mode's is ``--cognito-<name>``, where pytest has it) and a
writer ``(result, path) -> Path``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from harness.reports.html import write_html
from harness.reports.jsonreport import write_json
from harness.reports.junit import write_junit
from harness.results import CheckResult, RunHeader, RunResult
from harness.runner.scenario import Scenario
from harness.runner.transcript import write_transcript


class RunSink:
    """The protocol every sink follows; each event does nothing unless a sink overrides it.

    Events arrive in this order: ``run_started`` once, then ``check_started`` and
    ``check_finished`` for each selected check, then ``run_finished`` once, after the
    expected failures are applied (the result is final).
    """

    def run_started(self, header: RunHeader) -> None:
        """The run begins; ``header.selection`` lists the selected check ids in run order."""

    def backend_note(self, text: str) -> None:
        """Something to tell about the pool backend: credentials used, issuer found (after ``run_started``),
        pools deleted or kept (before ``run_finished``)."""

    def check_started(self, scenario: Scenario) -> None:
        """A check is about to run."""

    def check_finished(self, check: CheckResult) -> None:
        """A check has its verdict."""

    def run_finished(self, result: RunResult) -> None:
        """The run is over and its result final."""


Writer = Callable[[RunResult, str | os.PathLike[str]], Path]


@dataclass
class ReportFile(RunSink):
    """One report file asked for: written when the run finishes.

    A write that fails does not stop the other sinks: the error is kept in
    ``error`` (the caller reports it and makes the run an error); ``written`` is
    the path written, or None.
    """

    name: str
    path: str | os.PathLike[str]
    write: Writer
    written: Path | None = None
    error: str | None = None

    def run_finished(self, result: RunResult) -> None:
        try:
            self.written = self.write(result, self.path)
        except Exception as exc:  # noqa: BLE001 - a report that cannot be written is an error of the run
            self.error = f"could not write {self.name} {self.path}: {exc}"


@dataclass(frozen=True)
class ReportSink:
    """One row of the table: a report's option name and its writer."""

    name: str  # "junit-xml", "json", "html", "transcript"
    write: Writer

    @property
    def dest(self) -> str:
        """The option's attribute name (``junit_xml``)."""
        return self.name.replace("-", "_")

    def to(self, path: str | os.PathLike[str]) -> ReportFile:
        """The sink that writes this report to ``path`` at the end of the run."""
        return ReportFile(self.name, path, self.write)


REPORT_SINKS: tuple[ReportSink, ...] = (
    ReportSink("junit-xml", write_junit),
    ReportSink("json", write_json),
    ReportSink("html", write_html),
    ReportSink("transcript", write_transcript),
)


def report_files(option: Callable[[str], str | os.PathLike[str] | None]) -> list[ReportFile]:
    """The report sinks asked for, in table order; ``option(dest)`` gives a row's path or None."""
    return [row.to(path) for row in REPORT_SINKS if (path := option(row.dest))]


__all__ = ["REPORT_SINKS", "ReportFile", "ReportSink", "RunSink", "report_files"]
