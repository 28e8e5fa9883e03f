"""CLI subcommands of the runner: ``run``, ``list``, ``verify`` and ``replay``.

``harness.cli`` imports this module and calls :func:`register`; each
subcommand sets ``run=<function(args) -> exit code>``. Exit codes: 1 whenever
a check FAILed unexpectedly (or an expected-failure entry is stale), whatever
else happened; 2 when nothing FAILed but a check ERRORed (the harness or the
target could not run a step), a report could not be written, or on bad usage;
0 otherwise. An ERROR never hides a FAIL.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any, Callable, TextIO

from harness.results import (
    EXIT_ERROR,
    EXIT_FAIL,
    EXIT_OK,
    CheckResult,
    RunResult,
    Verdict,
    combine_exit_codes,
)
from harness.reports import failure_lines, family_counts
from harness.runner import replay
from harness.runner.engine import ExpectedFailuresError, RunOptions, load_expected_failures, run, select_checks
from harness.runner.scenario import PROFILES, Scenario, SelectionError, load_catalogue, select
from harness.runner.spec import SpecError, bundled_spec_path, load_spec
from harness.runner.sinks import REPORT_SINKS
from harness.runner.target import DEFAULT_TIMEOUT
from harness.runner.transcript import verify_transcript


# --- output helpers -----------------------------------------------------------------------------


class Printer:
    """Terminal output: colour only on a TTY (and never with NO_COLOR)."""

    COLOURS = {Verdict.PASS: "32", Verdict.FAIL: "31", Verdict.SKIP: "33", Verdict.ERROR: "35"}

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout
        self.colour = hasattr(self.stream, "isatty") and self.stream.isatty() and not os.environ.get("NO_COLOR")

    def paint(self, verdict: Verdict, text: str) -> str:
        return f"\033[{self.COLOURS[verdict]}m{text}\033[0m" if self.colour else text

    def line(self, text: str = "") -> None:
        print(text, file=self.stream, flush=True)


def _progress(printer: Printer, total: int) -> Callable[[str, Any], None]:
    done = {"n": 0}
    width = len(str(total))

    def report(kind: str, obj: Any) -> None:
        if kind != "result":
            return
        done["n"] += 1
        check: CheckResult = obj
        tail = ""
        if check.verdict is Verdict.SKIP:
            tail = f"  ({check.reason})"
        elif check.verdict in (Verdict.FAIL, Verdict.ERROR):
            tail = f"  ({_first_line(check.reason)})"
            if check.expected_failure:
                tail += f" [expected failure: {_first_line(check.expected_failure, 80)}]"
        printer.line(f"[{done['n']:>{width}}/{total}] {printer.paint(check.verdict, f'{check.verdict.value:<5}')} "
                     f"{check.check_id:<24} {check.title}{tail}")

    return report


def _first_line(text: str, limit: int = 160) -> str:
    first = text.strip().splitlines()[0] if text.strip() else ""
    return first if len(first) <= limit else first[: limit - 3] + "..."


def print_summary(result: RunResult, printer: Printer) -> None:
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
                printer.line(f"{len(ids)} more checks ERROR with the same reason ({_first_line(reason, 80)}): "
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


def _usage_error(message: str) -> int:
    print(f"cognito-harness: error: {message}", file=sys.stderr)
    return EXIT_ERROR


# --- reports (the sinks table shared with pytest mode) ---------------------------------------------


def write_reports(result: RunResult, args: argparse.Namespace, printer: Printer) -> int:
    status = EXIT_OK
    for sink in REPORT_SINKS:
        path = getattr(args, sink.dest, None)
        if not path:
            continue
        try:
            sink.write(result, path)
            printer.line(f"wrote {sink.name}: {path}")
        except Exception as exc:  # noqa: BLE001 - a report that cannot be written is an error of the run
            print(f"cognito-harness: could not write {sink.name} {path}: {exc}", file=sys.stderr)
            status = EXIT_ERROR
    return status


# --- run ----------------------------------------------------------------------------------------


def _seed(value: str) -> int:
    try:
        seed = int(value, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer seed, got {value!r}") from None
    if seed < 0:
        raise argparse.ArgumentTypeError("the seed must be >= 0")
    return seed


def _seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {value!r}") from None
    if not 0 < seconds <= 3600:
        raise argparse.ArgumentTypeError("expected a number of seconds between 0 and 3600")
    return seconds


def cmd_run(args: argparse.Namespace) -> int:
    spec_path = Path(args.target) if args.target else bundled_spec_path()
    try:
        spec = load_spec(spec_path)
    except SpecError as exc:
        return _usage_error(f"bad target spec: {exc}")
    expected: dict[str, str] = {}
    if args.expected_failures:
        try:
            expected = load_expected_failures(args.expected_failures)
        except ExpectedFailuresError as exc:
            return _usage_error(str(exc))
    printer = Printer()
    options = RunOptions(
        profile=args.profile, keyword=args.keyword, families=list(args.family or []), seed=args.seed,
        backend=args.backend, command=["cognito-harness", *sys.argv[1:]] if sys.argv else [],
        expected_failures=expected, request_timeout=args.request_timeout,
    )
    try:
        selection = select_checks(spec, options)
    except SpecError as exc:
        return _usage_error(f"bad target spec: {exc}")
    except SelectionError as exc:
        return _usage_error(str(exc))
    total = len(selection.checks)
    printer.line(f"cognito-harness {args.profile} run: target {spec.name} ({spec.path}), seed {args.seed}, "
                 f"backend {args.backend}, {total} checks")
    if total == 0:
        printer.line("no checks selected")
    result = run(spec, options, progress=_progress(printer, total), selection=selection)
    print_summary(result, printer)
    return combine_exit_codes(result.exit_code(), write_reports(result, args, printer))


# --- list ---------------------------------------------------------------------------------------


def catalogue_rows(profile: str | None = None, families: list[str] | None = None,
                   keyword: str | None = None) -> list[Scenario]:
    catalogue = load_catalogue()
    return select(catalogue, profile=profile or "strict", keyword=keyword, families=families or None)


def cmd_list(args: argparse.Namespace) -> int:
    try:
        rows = catalogue_rows(args.profile, list(args.family or []), args.keyword)
    except SelectionError as exc:
        return _usage_error(str(exc))
    try:
        return _print_catalogue(rows, args.format)
    except BrokenPipeError:  # `cognito-harness list | head`: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


def _print_catalogue(rows: list[Scenario], fmt: str) -> int:
    if fmt == "json":
        print(json.dumps([{
            "id": s.id, "family": s.family, "title": s.title, "severity": s.severity, "profile": s.profile,
            "requirements": list(s.requirements), "remediation": s.remediation, "needs": list(s.needs),
            "control_plane": s.control_plane, "aliases": list(s.aliases),
        } for s in rows], indent=2))
        return EXIT_OK
    current = None
    for s in rows:
        if s.family != current:
            current = s.family
            print(f"\n{current}")
        print(f"  {s.id:<24} {s.severity:<6} {s.profile:<8} {s.title}")
        print(f"  {'':<24} refs: {'; '.join(s.requirements) or '-'}")
        extra = []
        if s.needs:
            extra.append("needs " + ", ".join(s.needs))
        if s.control_plane:
            extra.append("control plane")
        if extra:
            print(f"  {'':<24} {' | '.join(extra)}")
    print(f"\n{len(rows)} checks")
    return EXIT_OK


# --- verify and replay (transcripts) ---------------------------------------------------------------


def cmd_verify(args: argparse.Namespace) -> int:
    ok, line, message = verify_transcript(args.file)
    if ok:
        print(f"{args.file}: {message or 'OK'}")
        return EXIT_OK
    where = f"line {line}" if line else "file"
    print(f"BROKEN: {args.file}: {where}: {message}")
    return EXIT_FAIL


def cmd_replay(args: argparse.Namespace) -> int:
    overrides: dict[str, Any] = {"command": ["cognito-harness", *sys.argv[1:]]}
    if args.backend:
        overrides["backend"] = args.backend
    try:
        diff = replay.replay(args.file, target=args.target, **overrides)
    except replay.ReplayError as exc:
        return _usage_error(str(exc))
    print(diff.render())
    errored = any(r.verdict is Verdict.ERROR for r in diff.replayed.results)
    return combine_exit_codes(diff.exit_code(), EXIT_ERROR if errored else EXIT_OK)


# --- registration -------------------------------------------------------------------------------


def register(subparsers: Any) -> None:
    run_p = subparsers.add_parser(
        "run", help="run the scenario catalogue against a target app",
        description="Run checks against a target app (default: the bundled reference app). "
                    "Exit 1 when a check FAILed (whatever else happened), 2 when nothing FAILed but a check "
                    "ERRORed or on bad usage, 0 otherwise.")
    run_p.add_argument("--target", metavar="SPEC.toml", help="target spec (default: the bundled reference app)")
    run_p.add_argument("--profile", choices=PROFILES, default="baseline",
                       help="baseline, or strict (baseline plus the strict checks)")
    run_p.add_argument("-k", dest="keyword", metavar="EXPR",
                       help="select checks whose id/title/family match: substrings, and/or/not, parentheses")
    run_p.add_argument("--family", action="append", metavar="F", help="only this family (repeatable)")
    run_p.add_argument("--seed", type=_seed, default=0, help="seed for users, codes and ids (default 0)")
    run_p.add_argument("--junit-xml", metavar="FILE", help="write a JUnit XML report")
    run_p.add_argument("--json", metavar="FILE", help="write a JSON report")
    run_p.add_argument("--html", metavar="FILE", help="write a self-contained HTML report")
    run_p.add_argument("--transcript", metavar="FILE", help="write a hash-chained JSON-lines transcript")
    run_p.add_argument("--expected-failures", metavar="FILE",
                       help="TOML/JSON list of check ids accepted as failing; an entry that passes fails the run")
    run_p.add_argument("--backend", default="emulator", metavar="emulator|URL",
                       help="the in-process emulator (default) or another cognito-idp endpoint URL")
    run_p.add_argument("--request-timeout", type=_seconds, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                       help=f"how long a request to the target may take before the target counts as hung: "
                            f"a FAIL of the check that sent it (default {DEFAULT_TIMEOUT:g})")
    run_p.set_defaults(run=cmd_run)

    list_p = subparsers.add_parser("list", help="print the scenario catalogue",
                                   description="Print every check with its ID, family, severity, profile and "
                                               "references.")
    list_p.add_argument("--profile", choices=PROFILES, default="strict",
                        help="strict (default: every check) or baseline only")
    list_p.add_argument("--family", action="append", metavar="F")
    list_p.add_argument("-k", dest="keyword", metavar="EXPR")
    list_p.add_argument("--format", choices=("text", "json"), default="text")
    list_p.set_defaults(run=cmd_list)

    verify_p = subparsers.add_parser("verify", help="check a transcript's hash chain",
                                     description="Report the first broken record of a transcript (exit 1) or OK.")
    verify_p.add_argument("file", metavar="FILE")
    verify_p.set_defaults(run=cmd_verify)

    replay_p = subparsers.add_parser("replay", help="re-run a transcript's selection and compare verdicts",
                                     description="Re-run the recorded selection with the recorded seed and print "
                                                 "the differences in verdicts and step outcomes.")
    replay_p.add_argument("file", metavar="FILE")
    replay_p.add_argument("--target", metavar="SPEC.toml", help="run against this spec instead of the recorded one")
    replay_p.add_argument("--backend", metavar="emulator|URL", help="override the recorded backend")
    replay_p.set_defaults(run=cmd_replay)


__all__ = ["cmd_list", "cmd_replay", "cmd_run", "cmd_verify", "print_summary", "register", "write_reports"]
