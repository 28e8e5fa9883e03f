"""Expected failures: the checks a team accepts as failing for now, read from a file and applied to a run.

``run --expected-failures FILE`` (pytest mode: ``--cognito-expected-failures FILE``). The file is
TOML or JSON (by its suffix; any other suffix: JSON, then TOML), every entry a check id with an
optional comment. A listed check that FAILs is accepted (the report says so, with the comment);
a listed check that PASSes is *stale* and fails the run, so the list shrinks as gaps close. An
id that names no check in the catalogue is a mistake in the file (a typo, a removed check), not
"stale": the run refuses to start (exit 2), naming the id and the file. The README's "Expected
failures" section shows both forms.
"""

from __future__ import annotations

import difflib
import json
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness.results import CheckResult, RunResult, Verdict

TOML_TABLE = "expected_failure"  # [[expected_failure]] id = "...", comment = "..."
LIST_KEY = "expected_failures"  # expected_failures = ["...", { id = "...", comment = "..." }]
DEFAULT_COMMENT = "listed in the expected-failures file"


class ExpectedFailuresError(ValueError):
    """A bad expected-failures file (bad usage: exit 2)."""


def _parse(path: Path, text: str) -> Any:
    suffix = path.suffix.lower()
    by_suffix = {".json": [json.loads], ".toml": [tomllib.loads]}
    parsers = by_suffix.get(suffix, [json.loads, tomllib.loads])
    errors = []
    for parse in parsers:
        try:
            return parse(text)
        except ValueError as exc:  # json.JSONDecodeError and tomllib.TOMLDecodeError are ValueErrors
            errors.append(str(exc))
    raise ExpectedFailuresError(f"{path}: expected a TOML or JSON expected-failures file ({errors[-1]})")


def _unknown_id(where: str, check_id: str, catalogue: Mapping[str, Any]) -> ExpectedFailuresError:
    close = difflib.get_close_matches(check_id, list(catalogue), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return ExpectedFailuresError(f"{where}: {check_id!r} is not a check in the catalogue{hint} "
                                 "(`cognito-harness list` prints every id; remove entries for checks that are gone)")


def check_known(expected: Mapping[str, str], catalogue: Mapping[str, Any]) -> None:
    """Refuse expected failures naming no check (what a run given them directly, not from a file, does)."""
    for check_id in expected:
        if check_id not in catalogue:
            raise _unknown_id("expected failures", check_id, catalogue)


def load_expected_failures(path: str | Path, catalogue: Mapping[str, Any] | None = None) -> dict[str, str]:
    """Check ids a team accepts as failing, with a comment each.

    TOML: ``[[expected_failure]]`` tables with ``id`` and ``comment``, or a
    top-level ``expected_failures = [...]`` list. JSON: a list of ids or of
    ``{"id": ..., "comment": ...}`` objects (or ``{"expected_failures": [...]}``).
    With ``catalogue`` (what the CLI and pytest mode pass), an id naming no check is an error.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ExpectedFailuresError(f"{path}: cannot read the expected-failures file ({exc.strerror})") from None
    data = _parse(path, text)
    if isinstance(data, dict):
        entries = data.get(TOML_TABLE, data.get(LIST_KEY))
        unknown = set(data) - {TOML_TABLE, LIST_KEY}
        if unknown:
            raise ExpectedFailuresError(f"{path}: unknown key {sorted(unknown)[0]!r}; expected '{TOML_TABLE}'")
    else:
        entries = data
    if not isinstance(entries, list):
        raise ExpectedFailuresError(f"{path}: expected a list of expected failures")
    out: dict[str, str] = {}
    for i, entry in enumerate(entries, start=1):
        if isinstance(entry, str):
            check_id, comment = entry, ""
        elif isinstance(entry, dict) and isinstance(entry.get("id"), str):
            extra = set(entry) - {"id", "comment"}
            if extra:
                raise ExpectedFailuresError(f"{path}: entry {i}: unknown key {sorted(extra)[0]!r}")
            check_id, comment = entry["id"], str(entry.get("comment", ""))
        else:
            raise ExpectedFailuresError(f"{path}: entry {i}: expected a check id or a table with 'id'")
        if catalogue is not None and check_id not in catalogue:
            raise _unknown_id(f"{path}: entry {i}", check_id, catalogue)
        out[check_id] = comment
    return out


def accept_if_expected(check: CheckResult, expected: dict[str, str]) -> None:
    """A FAIL listed in the expected-failures file is accepted, with the file's comment."""
    if check.verdict is Verdict.FAIL and check.check_id in expected:
        check.expected_failure = expected[check.check_id] or DEFAULT_COMMENT


def apply_expected_failures(result: RunResult, expected: dict[str, str]) -> None:
    """Mark accepted FAILs; list the entries whose check PASSed (stale) so the run fails.

    A SKIP or ERROR says nothing either way, nor does a check not selected; an id naming no
    check was refused before the run (:func:`load_expected_failures`, :func:`check_known`).
    """
    by_id = {r.check_id: r for r in result.results}
    stale = []
    for check_id in expected:
        r = by_id.get(check_id)
        if r is None:
            continue
        accept_if_expected(r, expected)
        if r.verdict is Verdict.PASS:
            stale.append(check_id)
    result.stale_expected_failures = stale
