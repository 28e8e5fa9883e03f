"""The ``cognito-harness`` command line.

Subcommands come from the command modules imported below; each exposes
``register(subparsers)`` and sets ``run(args) -> int`` with ``set_defaults(run=...)``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from harness.version import __version__
from harness.cli import audit_command, check_commands, env_command, serve

COMMAND_MODULES = (
    serve,  # serve
    env_command,  # env
    check_commands,  # run, list, verify, replay
    audit_command,  # audit
)

EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cognito-harness",
        description="Local Amazon Cognito User Pool emulator with a control plane, "
        "and a contract-test runner for the apps that use it.",
    )
    parser.add_argument("--version", action="version", version=f"cognito-harness {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    run = getattr(args, "run", None)
    if run is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    return int(run(args) or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
