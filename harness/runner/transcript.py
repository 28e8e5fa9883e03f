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
- optionally one more line, ``type: "signature"`` (written when the run was given
  a signing key): ``seq`` (= the number of lines before it), ``prev`` (the chain
  head: SHA-256 of the digest line), ``content_sha256`` (SHA-256 of every byte
  of the file before this line, newlines included) and ``signatures``, a list of
  ``{alg, key_id, value}``. Each value signs :func:`signed_statement`: the
  canonical JSON of ``context``, ``format``, ``records``, ``head``,
  ``content_sha256``, ``alg`` and ``key_id``. So a signature covers every byte
  of the file but its own line, and binds its algorithm and key id; the line
  has no ``sha`` of its own (the signatures are its integrity). It lives in the
  transcript itself, not in a sidecar, so that the one file an auditor is handed
  carries its proof. harness/runner/transcript_signature.py makes and checks them.

The chain alone proves consistency, not authorship: anyone who can write the file
can edit a record and recompute every hash after it. Only a signature checked
against a key the auditor trusts proves who wrote it.

``verify_transcript`` checks all of the above but the signatures and names the
first broken line; ``read_transcript`` rebuilds the RunResult from a (verified)
transcript.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol

from harness.reports import strict_json
from harness.results import CheckResult, Evidence, RunHeader, RunResult, StepRecord

FORMAT = "cognito-harness-transcript/1"
ZERO_HASH = "0" * 64
RECORD_TYPES = ("header", "step", "verdict", "log", "digest")
SIGNATURE_TYPE = "signature"
SIGNATURE_CONTEXT = "cognito-harness-transcript-signature/1"
SIGNATURE_KEYS = ("content_sha256", "prev", "seq", "signatures", "type")
SIGNATURE_ENTRY_KEYS = ("alg", "key_id", "value")


class TranscriptError(Exception):
    """A transcript that is broken (edited, truncated, reordered) or not a transcript at all."""

    def __init__(self, line: int | None, message: str) -> None:
        super().__init__(f"line {line}: {message}" if line else message)
        self.line = line
        self.message = message  # without the line number (verify_transcript returns both apart)


class SignatureRecordError(TranscriptError):
    """The chain is intact but the signature line is malformed (a corrupt signature, not a broken chain)."""


class Signer(Protocol):
    """What the writer needs from a key (harness/runner/transcript_signature.py has the real ones)."""

    @property
    def alg(self) -> str: ...

    @property
    def key_id(self) -> str: ...

    def sign(self, statement: bytes) -> str: ...


def signed_statement(*, alg: str, key_id: str, records: int, head: str, content_sha256: str) -> bytes:
    """The exact bytes a signature of the ``signature`` record signs (see the module docstring)."""
    return canonical({
        "alg": alg, "content_sha256": content_sha256, "context": SIGNATURE_CONTEXT, "format": FORMAT,
        "head": head, "key_id": key_id, "records": records,
    }).encode("ascii")


@dataclass(frozen=True)
class SignatureEntry:
    """One signature of the ``signature`` record (its value is unchecked until a key is given)."""

    alg: str
    key_id: str
    value: str


@dataclass(frozen=True)
class SignatureRecord:
    """The parsed ``signature`` line; ``head`` and ``content_sha256`` already match the file."""

    line: int
    records: int
    head: str
    content_sha256: str
    entries: tuple[SignatureEntry, ...]

    def statement(self, entry: SignatureEntry) -> bytes:
        return signed_statement(alg=entry.alg, key_id=entry.key_id, records=self.records, head=self.head,
                                content_sha256=self.content_sha256)

    def describe(self) -> str:
        """``Ed25519 key 1a2b..., HMAC-SHA256 key 9f8e...``"""
        return ", ".join(f"{e.alg} key {e.key_id}" for e in self.entries)


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

    def __init__(self, stream: IO[bytes], signers: Sequence[Signer] = ()) -> None:
        self._stream = stream
        self._signers = tuple(signers)
        self._content = hashlib.sha256()  # every byte written so far: what a signature covers
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
        self._content.update(line + b"\n")
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
        if self._signers:
            self._sign()
        self._stream.flush()
        self._closed = True

    def _sign(self) -> None:
        """The ``signature`` line: every signer signs the head of the finished chain."""
        records, head, content = self._seq, self._prev, self._content.hexdigest()
        entries = [
            {"alg": s.alg, "key_id": s.key_id,
             "value": s.sign(signed_statement(alg=s.alg, key_id=s.key_id, records=records, head=head,
                                              content_sha256=content))}
            for s in self._signers
        ]
        record = {"type": SIGNATURE_TYPE, "seq": records, "prev": head, "content_sha256": content,
                  "signatures": entries}
        self._stream.write(canonical(record).encode("ascii") + b"\n")


def write_transcript(result: RunResult, path: str | os.PathLike[str],
                     signers: Sequence[Signer] = ()) -> Path:
    """Write the whole run as a hash-chained JSON-lines transcript, signed by ``signers``; returns the path."""
    out = Path(path)
    if out.parent and not out.parent.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("wb") as fh:
        writer = TranscriptWriter(fh, signers)
        writer.header(result.header)
        for check in result.results:
            writer.check(check)
        for evidence in result.target_logs:
            writer.log(evidence)
        writer.digest(result)
    return out


def _parse_lines(data: bytes) -> tuple[list[tuple[int, dict[str, Any]]], SignatureRecord | None]:
    """Every structural and chain check; returns the (line number, record) pairs and the signature line."""
    if not data:
        raise TranscriptError(1, "the file is empty (no header record)")
    lines = data.split(b"\n")
    terminated = lines[-1] == b""
    if terminated:
        lines.pop()
    records: list[tuple[int, dict[str, Any]]] = []
    prev_hash = ZERO_HASH
    digest_seen = False
    signature: SignatureRecord | None = None
    chained_bytes = 0  # the file's bytes up to the end of the last chain line
    for i, raw in enumerate(lines):
        n = i + 1
        if signature is not None:
            raise TranscriptError(n, "content after the signature record (appended or edited)")
        if digest_seen and not _is_signature_line(raw):
            raise TranscriptError(n, "content after the digest record (appended or edited)")
        if not terminated and n == len(lines):
            raise TranscriptError(n, "no line terminator at the end of the file (truncated or edited)")
        if digest_seen:
            signature = _parse_signature(n, raw, records=i, head=prev_hash,
                                         content_sha256=_sha(data[:chained_bytes]))
            continue
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
        chained_bytes += len(raw) + 1
    if not digest_seen:
        last = len(lines)
        raise TranscriptError(
            last + 1, f"the digest record is missing (the transcript was truncated after line {last})"
        )
    return records, signature


def _is_signature_line(raw: bytes) -> bool:
    try:
        record = json.loads(raw.decode("ascii"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return False
    return isinstance(record, dict) and record.get("type") == SIGNATURE_TYPE


def _parse_signature(n: int, raw: bytes, *, records: int, head: str, content_sha256: str) -> SignatureRecord:
    """The ``signature`` line after the digest: a malformed one is a corrupt signature
    (SignatureRecordError); one that covers other content than the file's is an edit (TranscriptError)."""
    record = json.loads(raw.decode("ascii"))
    try:
        again = canonical(record).encode("ascii")
    except ValueError:
        again = b""
    if again != raw:
        raise SignatureRecordError(n, "the signature record is not in canonical form (it was edited)")
    if sorted(record) != list(SIGNATURE_KEYS):
        raise SignatureRecordError(n, f"the signature record has the keys {sorted(record)}, expected "
                                      f"{list(SIGNATURE_KEYS)}")
    if record["seq"] != records:
        raise TranscriptError(n, f"seq is {record['seq']!r}, expected {records} "
                                 "(records were removed, inserted or reordered)")
    if record["prev"] != head or record["content_sha256"] != content_sha256:
        raise TranscriptError(n, f"the transcript changed after it was signed: the signature record covers "
                                 f"other content than lines 1-{records} (its prev or content_sha256 differ)")
    entries = record["signatures"]
    if not isinstance(entries, list) or not entries:
        raise SignatureRecordError(n, "the signature record holds no signatures")
    parsed = []
    for entry in entries:
        if not (isinstance(entry, dict) and sorted(entry) == list(SIGNATURE_ENTRY_KEYS)
                and all(isinstance(entry[k], str) and entry[k] for k in SIGNATURE_ENTRY_KEYS)):
            raise SignatureRecordError(n, "a signature is malformed (expected non-empty alg, key_id and value "
                                          "strings)")
        parsed.append(SignatureEntry(entry["alg"], entry["key_id"], entry["value"]))
    return SignatureRecord(n, records, head, content_sha256, tuple(parsed))


@dataclass(frozen=True)
class ParsedTranscript:
    """A transcript whose chain and bookkeeping check out; its signatures are not checked yet."""

    result: RunResult
    records: int  # lines of the chain: header to digest
    signature: SignatureRecord | None


def parse_transcript(data: bytes) -> ParsedTranscript:
    """Every check but the signatures' values; raises TranscriptError naming the first broken line."""
    records, signature = _parse_lines(data)
    return ParsedTranscript(_rebuild(records), len(records), signature)


def verify_transcript(path: str | os.PathLike[str]) -> tuple[bool, int | None, str]:
    """(ok, first broken line number or None, message) for the transcript at ``path``."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        return False, None, f"cannot read {path}: {exc.strerror or exc}"
    try:
        parsed = parse_transcript(data)
    except TranscriptError as exc:
        return False, exc.line, exc.message
    message = f"OK: {parsed.records} records, {len(parsed.result.results)} verdicts, hash chain intact"
    if parsed.signature:
        message += f"; signed ({parsed.signature.describe()}), signature not checked"
    return True, None, message


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
    return parse_transcript(Path(path).read_bytes()).result


__all__ = [
    "FORMAT",
    "ParsedTranscript",
    "SignatureEntry",
    "SignatureRecord",
    "SignatureRecordError",
    "Signer",
    "TranscriptError",
    "TranscriptWriter",
    "canonical",
    "parse_transcript",
    "read_transcript",
    "signed_statement",
    "verify_transcript",
    "write_transcript",
]
