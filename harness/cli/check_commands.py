"""CLI subcommands of the runner: ``run``, ``list``, ``verify``, ``replay`` and ``keygen``.

``harness.cli`` imports this module and calls :func:`register`; each
subcommand sets ``run=<function(args) -> exit code>``. Exit codes: 1 whenever
a check FAILed unexpectedly (or an expected-failure entry is stale), whatever
else happened; 2 when nothing FAILed but a check ERRORed (the harness or the
target could not run a step), a report could not be written, or on bad usage;
0 otherwise. An ERROR never hides a FAIL. ``verify`` has its own codes: 0 OK, 1 tampered,
2 unreadable or bad usage, 3 unsigned (a key was given), 4 wrongly signed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from harness.cli.terminal import Printer, TerminalSink, report_lines
from harness.results import EXIT_ERROR, EXIT_OK, Verdict, combine_exit_codes
from harness.runner import replay
from harness.runner.backends import BackendUnavailable
from harness.runner.engine import ExpectedFailuresError, RunOptions, load_expected_failures, run, select_checks
from harness.runner.scenario import PROFILES, Scenario, SelectionError, load_catalogue, select
from harness.runner.spec import SpecError, bundled_spec_path, load_spec
from harness.runner.sinks import report_files
from harness.runner.target import DEFAULT_TIMEOUT
from harness.runner.transcript_signature import (
    EXIT_UNSIGNED,
    EXIT_WRONGLY_SIGNED,
    HMAC_KEY_ENV,
    PUBLIC_KEY_ENV,
    SIGNING_KEY_ENV,
    SigningKeyError,
    VerifyKeys,
    ed25519_key_id,
    generate_signing_key,
    hmac_secret,
    load_public_key,
    private_key_pem,
    public_key_pem,
    public_key_text,
    redact_secrets,
    signers_for,
    signing_transcript,
    verify_signed_transcript,
    write_secret_file,
)


EXIT_INTERRUPTED = 130  # the shell's code for a command ended by Ctrl-C (128 + SIGINT)


def _usage_error(message: str) -> int:
    print(f"cognito-harness: error: {message}", file=sys.stderr)
    return EXIT_ERROR


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
    if args.keep and args.backend in (None, "emulator"):
        return _usage_error("--keep keeps the pools a run made on a --backend URL; the in-process emulator keeps "
                            "nothing")
    spec_path = Path(args.target) if args.target else bundled_spec_path()
    try:
        spec = load_spec(spec_path)
    except SpecError as exc:
        return _usage_error(f"bad target spec: {exc}")
    expected: dict[str, str] = {}
    if args.expected_failures:
        try:
            expected = load_expected_failures(args.expected_failures, load_catalogue())  # unknown ids: exit 2
        except ExpectedFailuresError as exc:
            return _usage_error(str(exc))
    options = RunOptions(
        profile=args.profile, keyword=args.keyword, families=list(args.family or []), seed=args.seed,
        backend=args.backend, command=["cognito-harness", *redact_secrets(sys.argv[1:])] if sys.argv else [],
        expected_failures=expected, request_timeout=args.request_timeout, keep=args.keep,
    )
    try:
        selection = select_checks(spec, options)
    except SpecError as exc:
        return _usage_error(f"bad target spec: {exc}")
    except SelectionError as exc:
        return _usage_error(str(exc))
    if (args.sign_key or args.hmac_key) and not args.transcript:
        return _usage_error("--sign-key and --hmac-key sign the transcript: add --transcript FILE")
    try:
        signers = signers_for(args.sign_key, args.hmac_key, os.environ) if args.transcript else []
    except SigningKeyError as exc:
        return _usage_error(str(exc))
    printer = Printer()
    files = signing_transcript(report_files(lambda dest: getattr(args, dest, None)), signers)
    try:
        result = run(spec, options, sinks=[TerminalSink(printer), *files], selection=selection)
    except BackendUnavailable as exc:  # before any check ran: one message naming the URL, no reports
        return _usage_error(str(exc))
    except KeyboardInterrupt:  # the run stopped its target and backend (its pools deleted, or kept and listed)
        print("cognito-harness: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    return combine_exit_codes(result.exit_code(), report_lines(files, printer))


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
            "control_plane": s.control_plane, "control_plane_for": s.control_plane_for, "aliases": list(s.aliases),
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
            extra.append(f"control plane ({s.control_plane_for})" if s.control_plane_for else "control plane")
        if extra:
            print(f"  {'':<24} {' | '.join(extra)}")
    print(f"\n{len(rows)} checks")
    return EXIT_OK


# --- verify and replay (transcripts) ---------------------------------------------------------------


def cmd_verify(args: argparse.Namespace) -> int:
    try:
        keys = VerifyKeys(
            public_key=load_public_key(args.public_key) if args.public_key else None,
            hmac_secret=hmac_secret(args.hmac_key, "--hmac-key") if args.hmac_key else None,
        )
    except SigningKeyError as exc:
        return _usage_error(str(exc))
    verification = verify_signed_transcript(args.file, keys)
    where = f"line {verification.line}: " if verification.line else ""
    print(f"{verification.status.value}: {args.file}: {where}{verification.message}")
    return verification.exit_code


def cmd_keygen(args: argparse.Namespace) -> int:
    key = generate_signing_key()
    try:
        write_secret_file(args.out, private_key_pem(key), overwrite=args.force)
        if args.public_out:
            Path(args.public_out).write_bytes(public_key_pem(key.public_key()))
    except (SigningKeyError, OSError) as exc:
        return _usage_error(str(exc))
    print(public_key_text(key.public_key()))
    print(f"private key: {args.out} (mode 0600, keep it secret; sign with `cognito-harness run --transcript FILE "
          f"--sign-key {args.out}` or ${SIGNING_KEY_ENV}=\"$(cat {args.out})\")\n"
          f"public key (key id {ed25519_key_id(key.public_key())}) on stdout: check with `cognito-harness verify "
          f"FILE --public-key <it>` or ${PUBLIC_KEY_ENV}", file=sys.stderr)
    return EXIT_OK


def cmd_replay(args: argparse.Namespace) -> int:
    overrides: dict[str, Any] = {"command": ["cognito-harness", *sys.argv[1:]]}
    if args.backend:
        overrides["backend"] = args.backend
    try:
        diff = replay.replay(args.file, target=args.target, **overrides)
    except (replay.ReplayError, BackendUnavailable) as exc:
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
    run_p.add_argument("--sign-key", metavar="KEY.pem",
                       help=f"sign the transcript with this Ed25519 private key (PEM, or the raw 32-byte seed or "
                            f"its base64; default: ${SIGNING_KEY_ENV}, the PEM text or the base64 seed)")
    run_p.add_argument("--hmac-key", metavar="SECRET",
                       help=f"also sign the transcript with HMAC-SHA256 of this CI secret (default: ${HMAC_KEY_ENV}, "
                            "preferred: a command line is visible to other processes)")
    run_p.add_argument("--expected-failures", metavar="FILE",
                       help="TOML/JSON list of check ids accepted as failing (README: Expected failures); an entry "
                            "that passes fails the run (stale), an id not in the catalogue is an error (exit 2)")
    run_p.add_argument("--backend", default="emulator", metavar="emulator|URL",
                       help="the in-process emulator (default) or another cognito-idp endpoint URL (moto, "
                            "LocalStack, another `serve`, a real pool: credentials from the default AWS chain, "
                            "the issuer discovered; checks that need the control plane are skipped)")
    run_p.add_argument("--keep", action="store_true",
                       help="with --backend URL: keep the pools the run made (listed at the end) instead of "
                            "deleting them")
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

    verify_p = subparsers.add_parser(
        "verify", help="check a transcript's hash chain and who signed it",
        description="Without a key: whether the hash chain is consistent (authorship is NOT proven: anyone can "
                    "rewrite a transcript and re-hash it). With --public-key / --hmac-key: whether it was signed by "
                    f"that key. Exit 0 OK, 1 tampered (names the first broken line), 2 unreadable or bad usage, "
                    f"{EXIT_UNSIGNED} unsigned, {EXIT_WRONGLY_SIGNED} wrongly signed (another key, or a corrupt "
                    "or forged signature).")
    verify_p.add_argument("file", metavar="FILE")
    verify_p.add_argument("--public-key", metavar="KEY", default=os.environ.get(PUBLIC_KEY_ENV) or None,
                          help="the Ed25519 public key the transcript must be signed by: its base64 (what keygen "
                               f"prints) or a file (that base64, PEM or 32 raw bytes); default ${PUBLIC_KEY_ENV}")
    verify_p.add_argument("--hmac-key", "--key", dest="hmac_key", metavar="SECRET",
                          default=os.environ.get(HMAC_KEY_ENV) or None,
                          help=f"the CI secret the transcript's HMAC-SHA256 must match; default ${HMAC_KEY_ENV}")
    verify_p.set_defaults(run=cmd_verify)

    keygen_p = subparsers.add_parser(
        "keygen", help="make an Ed25519 key pair for signing transcripts",
        description="Write a new Ed25519 private key (PEM, mode 0600) and print the public key's base64 on stdout, "
                    "one line to store in CI (for verify --public-key).")
    keygen_p.add_argument("--out", metavar="KEY.pem", required=True, help="where to write the private key")
    keygen_p.add_argument("--public-out", metavar="PUB.pem", help="also write the public key as PEM")
    keygen_p.add_argument("--force", action="store_true", help="replace an existing private key file")
    keygen_p.set_defaults(run=cmd_keygen)

    replay_p = subparsers.add_parser("replay", help="re-run a transcript's selection and compare verdicts",
                                     description="Re-run the recorded selection with the recorded seed and print "
                                                 "the differences in verdicts and step outcomes.")
    replay_p.add_argument("file", metavar="FILE")
    replay_p.add_argument("--target", metavar="SPEC.toml", help="run against this spec instead of the recorded one")
    replay_p.add_argument("--backend", metavar="emulator|URL", help="override the recorded backend")
    replay_p.set_defaults(run=cmd_replay)


__all__ = ["cmd_keygen", "cmd_list", "cmd_replay", "cmd_run", "cmd_verify", "register"]
