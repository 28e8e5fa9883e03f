"""Tamper-evident run transcripts: hash-chained JSON lines.

A transcript is what an auditor keeps: it says what was run (header), every step
and verdict in order, and a final digest, each line chained to the one before so
that any edit, removal, insertion, reordering or truncation is detected.

Format (``cognito-harness-transcript/1``), one JSON object per line, UTF-8 (in
practice pure ASCII: non-ASCII is ``\\u`` escaped), each line ends with ``\\n``:

- every record is *canonical* JSON: sorted keys, no spaces
  (``json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True)``);
- every record carries ``seq`` (0-based line index), ``type``, ``prev`` = SHA-256
  (hex) of the previous line's exact bytes without its newline (64 zeros for the
  header) and ``sha`` = SHA-256 (hex) of the record's canonical JSON without the
  ``sha`` key, so an edit is pinned to the line it was made in;
- line 1, ``type: "header"``: ``format`` and ``header`` (the RunHeader: tool
  version, seed, target name, target spec path and SHA-256, pool definition,
  profile, scenario selection, backend, start time, command line, -k, families);
- ``type: "step"``: ``check_id`` and ``step`` (a StepRecord: index, name,
  outcome, detail, evidence, virtual time), in the order they ran;
- ``type: "verdict"``: ``check_id``, ``steps`` (how many step records this check
  wrote just before) and ``result`` (the CheckResult without its steps);
- ``type: "log"``: ``evidence`` (one captured stdout/stderr of the target, an
  Evidence), after the last verdict;
- last line, ``type: "digest"``: ``records`` (number of lines before it),
  ``counts`` (verdict counts), ``exit_code``, ``stale_expected_failures`` and
  ``duration_s``. A transcript without it was truncated.

``verify_transcript`` checks all of the above and names the first broken line;
``read_transcript`` rebuilds the RunResult from a (verified) transcript.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import IO, Any

from harness.reports import strict_json
from harness.results import CheckResult, Evidence, RunHeader, RunResult, StepRecord

FORMAT = "cognito-harness-transcript/1"
ZERO_HASH = "0" * 64
RECORD_TYPES = ("header", "step", "verdict", "log", "digest")


class TranscriptError(Exception):
    """A transcript that is broken (edited, truncated, reordered) or not a transcript at all."""

    def __init__(self, line: int | None, message: str) -> None:
        super().__init__(f"line {line}: {message}" if line else message)
        self.line = line
        self.message = message  # without the line number (verify_transcript returns both apart)


def canonical(obj: Any) -> str:
    """The one serialisation every record uses (and that verify re-derives)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _record_sha(record: dict[str, Any]) -> str:
    body = {k: v for k, v in record.items() if k != "sha"}
    return _sha(canonical(body).encode("ascii"))


class TranscriptWriter:
    """Writes records one by one, so a run can stream its transcript as it goes.

    ``write_transcript`` uses it for a finished RunResult; the engine may use it
    directly to keep a partial (and detectably unfinished) transcript if a run dies.
    """

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self._prev = ZERO_HASH
        self._seq = 0
        self._pending_steps: dict[str, int] = {}
        self._closed = False

    def _emit(self, rtype: str, body: dict[str, Any]) -> None:
        if self._closed:
            raise TranscriptError(None, "transcript already closed by its digest record")
        if (rtype == "header") != (self._seq == 0):
            raise TranscriptError(None, "the header must be the first record, and only the first")
        # plain JSON first (str keys; NaN, bytes, sets... as strings) so that the record
        # verify re-parses is exactly the one hashed here, and any JSON parser reads it
        record = strict_json(dict(body, type=rtype, seq=self._seq, prev=self._prev))
        record["sha"] = _record_sha(record)
        line = canonical(record).encode("ascii")
        self._stream.write(line + b"\n")
        self._prev = _sha(line)
        self._seq += 1

    def header(self, header: RunHeader) -> None:
        self._emit("header", {"format": FORMAT, "header": header.to_dict()})

    def step(self, check_id: str, step: StepRecord) -> None:
        self._pending_steps[check_id] = self._pending_steps.get(check_id, 0) + 1
        self._emit("step", {"check_id": check_id, "step": step.to_dict()})

    def verdict(self, result: CheckResult) -> None:
        body = result.to_dict()
        body.pop("steps", None)
        steps = self._pending_steps.pop(result.check_id, 0)
        self._emit("verdict", {"check_id": result.check_id, "steps": steps, "result": body})

    def check(self, result: CheckResult) -> None:
        """All steps of one finished check, then its verdict."""
        for step in result.steps:
            self.step(result.check_id, step)
        self.verdict(result)

    def log(self, evidence: Evidence) -> None:
        """The target's captured output (one stream or one start of it)."""
        self._emit("log", {"evidence": evidence.to_dict()})

    def digest(self, result: RunResult) -> None:
        self._emit(
            "digest",
            {
                "records": self._seq,
                "counts": result.counts(),
                "exit_code": result.exit_code(),
                "stale_expected_failures": list(result.stale_expected_failures),
                "duration_s": result.duration_s,
            },
        )
        self._stream.flush()
        self._closed = True


def write_transcript(result: RunResult, path: str | os.PathLike[str]) -> Path:
    """Write the whole run as a hash-chained JSON-lines transcript; returns the path."""
    out = Path(path)
    if out.parent and not out.parent.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("wb") as fh:
        writer = TranscriptWriter(fh)
        writer.header(result.header)
        for check in result.results:
            writer.check(check)
        for evidence in result.target_logs:
            writer.log(evidence)
        writer.digest(result)
    return out


def _parse_lines(data: bytes) -> list[tuple[int, dict[str, Any]]]:
    """Every structural and chain check; returns (line number, record) pairs or raises."""
    if not data:
        raise TranscriptError(1, "the file is empty (no header record)")
    lines = data.split(b"\n")
    terminated = lines[-1] == b""
    if terminated:
        lines.pop()
    records: list[tuple[int, dict[str, Any]]] = []
    prev_hash = ZERO_HASH
    digest_seen = False
    for i, raw in enumerate(lines):
        n = i + 1
        if digest_seen:
            raise TranscriptError(n, "content after the digest record (appended or edited)")
        if not terminated and n == len(lines):
            raise TranscriptError(n, "no line terminator at the end of the file (truncated or edited)")
        try:
            record = json.loads(raw.decode("ascii"))
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise TranscriptError(n, f"not a valid JSON record ({exc})") from None
        if not isinstance(record, dict):
            raise TranscriptError(n, "not a JSON object")
        try:
            again = canonical(record).encode("ascii")
        except ValueError:  # NaN/Infinity: never written by the writer
            again = b""
        if again != raw:
            raise TranscriptError(n, "not in canonical form (the line was edited)")
        if record.get("sha") != _record_sha(record):
            raise TranscriptError(n, "content does not match its record hash (the line was edited)")
        if record.get("seq") != i:
            raise TranscriptError(
                n,
                f"seq is {record.get('seq')!r}, expected {i} "
                "(records were removed, inserted or reordered)",
            )
        if record.get("prev") != prev_hash:
            raise TranscriptError(
                n,
                f"prev does not match the SHA-256 of line {n - 1} "
                "(a record was removed, inserted, reordered or edited)"
                if n > 1
                else f"the header's prev must be {ZERO_HASH[:8]}... (edited)",
            )
        rtype = record.get("type")
        if rtype not in RECORD_TYPES:
            raise TranscriptError(n, f"unknown record type {rtype!r}")
        if (rtype == "header") != (n == 1):
            raise TranscriptError(n, "the header must be the first record and only the first")
        if n == 1 and record.get("format") != FORMAT:
            raise TranscriptError(1, f"unknown transcript format {record.get('format')!r}, expected {FORMAT}")
        if rtype == "digest":
            digest_seen = True
            if record.get("records") != i:
                raise TranscriptError(
                    n, f"the digest counts {record.get('records')!r} records but {i} precede it"
                )
        records.append((n, record))
        prev_hash = _sha(raw)
    if not digest_seen:
        last = len(lines)
        raise TranscriptError(
            last + 1, f"the digest record is missing (the transcript was truncated after line {last})"
        )
    return records


def verify_transcript(path: str | os.PathLike[str]) -> tuple[bool, int | None, str]:
    """(ok, first broken line number or None, message) for the transcript at ``path``."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        return False, None, f"cannot read {path}: {exc.strerror or exc}"
    try:
        records = _parse_lines(data)
        _rebuild(records)
    except TranscriptError as exc:
        return False, exc.line, exc.message
    checks = sum(1 for _, r in records if r["type"] == "verdict")
    return True, None, f"OK: {len(records)} records, {checks} verdicts, hash chain intact"


def _rebuild(records: list[tuple[int, dict[str, Any]]]) -> RunResult:
    """RunResult from verified records; also checks steps/verdict bookkeeping."""
    try:
        header = RunHeader.from_dict(records[0][1]["header"])
    except (KeyError, TypeError) as exc:
        raise TranscriptError(1, f"the header record is incomplete ({exc})") from None
    result = RunResult(header=header)
    pending: list[StepRecord] = []
    pending_id: str | None = None
    for n, record in records[1:]:
        rtype = record["type"]
        try:
            if rtype == "step":
                if pending_id is not None and record["check_id"] != pending_id:
                    raise TranscriptError(
                        n, f"step of {record['check_id']} while {pending_id} has no verdict yet"
                    )
                pending_id = record["check_id"]
                pending.append(StepRecord.from_dict(record["step"]))
            elif rtype == "verdict":
                if pending_id is not None and record["check_id"] != pending_id:
                    raise TranscriptError(n, f"verdict of {record['check_id']} follows steps of {pending_id}")
                if record["steps"] != len(pending):
                    raise TranscriptError(
                        n, f"verdict announces {record['steps']} steps but {len(pending)} were recorded"
                    )
                check = CheckResult.from_dict(dict(record["result"], steps=[]))
                check.steps = pending
                result.results.append(check)
                pending, pending_id = [], None
            elif rtype == "log":
                if pending:
                    raise TranscriptError(n, f"steps of {pending_id} have no verdict")
                result.target_logs.append(Evidence.from_dict(record["evidence"]))
            elif rtype == "digest":
                if pending:
                    raise TranscriptError(n, f"steps of {pending_id} have no verdict")
                result.stale_expected_failures = list(record.get("stale_expected_failures") or [])
                result.duration_s = float(record.get("duration_s") or 0.0)
                if record.get("counts") != result.counts():
                    raise TranscriptError(n, "the digest's verdict counts do not match the verdicts recorded")
        except (KeyError, TypeError, ValueError) as exc:
            raise TranscriptError(n, f"malformed {rtype} record ({exc!r})") from None
    return result


def read_transcript(path: str | os.PathLike[str]) -> RunResult:
    """Rebuild the run (header, verdicts with their steps) from a transcript.

    Reading always verifies (a transcript is only worth what its chain proves):
    raises TranscriptError naming the first broken line.
    """
    return _rebuild(_parse_lines(Path(path).read_bytes()))


__all__ = [
    "FORMAT",
    "TranscriptError",
    "TranscriptWriter",
    "canonical",
    "read_transcript",
    "verify_transcript",
    "write_transcript",
]
