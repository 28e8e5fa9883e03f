"""The CLI's terminal output, as one sink of the run: the header, a line per check, the summary.

Colour only on a TTY (and never with NO_COLOR). The report files are other sinks
(harness/runner/sinks.py); :func:`report_lines` tells what became of them.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import TextIO

from harness.reports import failure_lines, family_counts, skip_groups
from harness.results import EXIT_ERROR, EXIT_FAIL, EXIT_OK, CheckResult, RunHeader, RunResult, Verdict
from harness.runner.sinks import ReportFile, RunSink


class Printer:
    """Lines on a stream, painted by verdict on a TTY."""

    COLOURS = {Verdict.PASS: "32", Verdict.FAIL: "31", Verdict.SKIP: "33", Verdict.ERROR: "35"}

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout
        self.colour = hasattr(self.stream, "isatty") and self.stream.isatty() and not os.environ.get("NO_COLOR")

    def paint(self, verdict: Verdict, text: str) -> str:
        return f"\033[{self.COLOURS[verdict]}m{text}\033[0m" if self.colour else text

    def line(self, text: str = "") -> None:
        print(text, file=self.stream, flush=True)


class TerminalSink(RunSink):
    """What ``cognito-harness run`` prints while the run goes: header, ``[n/total]`` lines, summary."""

    def __init__(self, printer: Printer) -> None:
        self.printer = printer
        self.total = 0
        self.done = 0

    def run_started(self, header: RunHeader) -> None:
        self.total, self.done = len(header.selection), 0
        self.printer.line(f"cognito-harness {header.profile} run: target {header.target} ({header.target_spec_path}), "
                          f"seed {header.seed}, backend {header.backend}, {self.total} checks")
        if self.total == 0:
            self.printer.line("no checks selected")

    def backend_note(self, text: str) -> None:
        self.printer.line(text)

    def check_finished(self, check: CheckResult) -> None:
        self.done += 1
        tail = ""
        if check.verdict is Verdict.SKIP:
            tail = f"  ({check.reason})"
        elif check.verdict in (Verdict.FAIL, Verdict.ERROR):
            tail = f"  ({first_line(check.reason)})"
            if check.expected_failure:
                tail += f" [expected failure: {first_line(check.expected_failure, 80)}]"
        width = len(str(self.total))
        self.printer.line(f"[{self.done:>{width}}/{self.total}] "
                          f"{self.printer.paint(check.verdict, f'{check.verdict.value:<5}')} "
                          f"{check.check_id:<24} {check.title}{tail}")

    def run_finished(self, result: RunResult) -> None:
        print_summary(result, self.printer)


def first_line(text: str, limit: int = 160) -> str:
    """The first line of ``text``, cut to ``limit`` characters."""
    first = text.strip().splitlines()[0] if text.strip() else ""
    return first if len(first) <= limit else first[: limit - 3] + "..."


def print_summary(result: RunResult, printer: Printer) -> None:
    """Counts by family, the failures and errors (one block per distinct ERROR reason), the verdict line."""
    printer.line()
    printer.line("Summary by family")
    header = f"  {'family':<24} {'PASS':>5} {'FAIL':>5} {'SKIP':>5} {'ERROR':>5} {'total':>6}"
    printer.line(header)
    printer.line("  " + "-" * (len(header) - 2))
    for family, row in family_counts(result).items():
        printer.line(f"  {family:<24} {row['PASS']:>5} {row['FAIL']:>5} {row['SKIP']:>5} {row['ERROR']:>5} "
                     f"{row['total']:>6}")
    counts = result.counts()
    printer.line("  " + "-" * (len(header) - 2))
    printer.line(f"  {'all':<24} {counts['PASS']:>5} {counts['FAIL']:>5} {counts['SKIP']:>5} {counts['ERROR']:>5} "
                 f"{counts['total']:>6}")
    print_skips(result, printer)
    problems = [r for r in result.results if r.verdict in (Verdict.FAIL, Verdict.ERROR)]
    if problems:
        printer.line()
        printer.line("Failures and errors")
        shown_errors: dict[str, list[str]] = {}  # one block per distinct ERROR reason (a dead target)
        for check in problems:
            if check.verdict is Verdict.ERROR and check.reason in shown_errors:
                shown_errors[check.reason].append(check.check_id)
                continue
            if check.verdict is Verdict.ERROR:
                shown_errors[check.reason] = []
            printer.line()
            for i, text in enumerate(failure_lines(check)):
                printer.line(("  " if i else "") + (printer.paint(check.verdict, text) if i == 0 else text))
        for reason, ids in shown_errors.items():
            if ids:
                printer.line()
                printer.line(f"{len(ids)} more checks ERROR with the same reason ({first_line(reason, 80)}): "
                             f"{', '.join(ids)}")
    if result.stale_expected_failures:
        printer.line()
        printer.line("Stale expected failures (listed, but they did not fail; remove them):")
        for check_id in result.stale_expected_failures:
            printer.line(f"  {check_id}")
    printer.line()
    verdict = {EXIT_OK: "OK", EXIT_FAIL: "FAILED", EXIT_ERROR: "ERROR"}[result.exit_code()]
    accepted = sum(1 for r in result.results if r.verdict is Verdict.FAIL and r.expected_failure)
    failed = f"{counts['FAIL']} failed" + (f" ({accepted} expected)" if accepted else "")
    printer.line(f"{verdict}: {counts['PASS']} passed, {failed}, {counts['SKIP']} skipped, "
                 f"{counts['ERROR']} errors in {result.duration_s:.2f}s (seed {result.header.seed}, "
                 f"target {result.header.target}, backend {result.header.backend})")


def print_skips(result: RunResult, printer: Printer) -> None:
    """The skipped checks grouped by reason (on a backend: what of the control plane each group needs)."""
    groups = skip_groups(result)
    if not groups:
        return
    printer.line()
    where = "" if result.header.backend in ("", "emulator") else f" on backend {result.header.backend}"
    printer.line(f"Skipped{where}, by reason")
    for reason, ids in groups.items():
        printer.line(f"  {len(ids)} {'check' if len(ids) == 1 else 'checks'}: {first_line(reason, 200)}")
        printer.line(f"    {', '.join(ids)}")


def report_lines(files: Sequence[ReportFile], printer: Printer) -> int:
    """``wrote <name>: <path>`` for each report written, the error on stderr for each not: an exit code."""
    status = EXIT_OK
    for report in files:
        if report.error is None:
            printer.line(f"wrote {report.name}: {report.path}")
        else:
            print(f"cognito-harness: {report.error}", file=sys.stderr)
            status = EXIT_ERROR
    return status


__all__ = ["Printer", "TerminalSink", "first_line", "print_skips", "print_summary", "report_lines"]
