"""The user import CSV file: its header (GetCSVHeader) and how its rows are read.

From the developer guide ("Creating the user import .csv file"):

* the header is the pool's attributes (the standard ones but ``sub`` and ``identities``, then the
  custom ones) followed by ``cognito:mfa_enabled`` and ``cognito:username``; a file must carry every
  one of those columns, in any order, and no other;
* values are not quoted; a comma inside a value is written ``\\,``; leading and trailing blanks are
  trimmed; the file is UTF-8 without a byte-order mark (a BOM makes the first column unknown);
* a row is at most 16,000 characters.

The rules a row must then satisfy (usernames, verified contacts, MFA, the schema) are the job's
(harness.engine.import_jobs); this module only turns text into named values.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass

from harness.engine.models import UserPool

MFA_COLUMN = "cognito:mfa_enabled"
USERNAME_COLUMN = "cognito:username"
MAX_ROW_CHARS = 16_000
_NOT_IMPORTED = ("sub", "identities")


class CsvProblem(ValueError):
    """The file as a whole cannot be imported (its header, its encoding, its syntax)."""


@dataclass(frozen=True)
class Row:
    """One data row: its line in the file and its values by column, or why it cannot be read."""

    line: int
    values: dict[str, str]
    problem: str | None = None


def header(pool: UserPool) -> list[str]:
    """GetCSVHeader's columns for ``pool``."""
    return [name for name in pool.schema if name not in _NOT_IMPORTED] + [MFA_COLUMN, USERNAME_COLUMN]


def _check_header(pool: UserPool, columns: list[str]) -> None:
    expected = header(pool)
    missing = [c for c in expected if c not in columns]
    unknown = [c for c in columns if c not in expected]
    repeated = sorted({c for c in columns if columns.count(c) > 1})
    if missing or unknown or repeated:
        parts = [f"{what}: {', '.join(names)}" for what, names in
                 (("missing columns", missing), ("unknown columns", unknown), ("repeated columns", repeated)) if names]
        raise CsvProblem("The CSV header does not match GetCSVHeader's columns (" + "; ".join(parts) + ").")


def rows(pool: UserPool, text: str) -> Iterator[Row]:
    """The file's data rows, after its header is checked (CsvProblem for a bad file)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=",", escapechar="\\", quoting=csv.QUOTE_NONE)
    try:
        columns = [c.strip() for c in next(reader, [])]
        if not columns:
            raise CsvProblem("The CSV file is empty: its first row must be GetCSVHeader's columns.")
        _check_header(pool, columns)
        for fields in reader:
            if not fields or fields == [""]:
                continue  # a blank line
            line = reader.line_num
            if sum(map(len, fields)) + len(fields) - 1 > MAX_ROW_CHARS:
                yield Row(line, {}, f"the row is longer than {MAX_ROW_CHARS} characters")
            elif len(fields) != len(columns):
                yield Row(line, {}, f"the row has {len(fields)} values for {len(columns)} columns")
            else:
                yield Row(line, {c: v.strip() for c, v in zip(columns, fields)})
    except csv.Error as error:
        raise CsvProblem(f"The CSV file cannot be read: {error}.") from None


__all__ = ["MAX_ROW_CHARS", "MFA_COLUMN", "USERNAME_COLUMN", "CsvProblem", "Row", "header", "rows"]
