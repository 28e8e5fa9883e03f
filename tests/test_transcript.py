"""Transcripts: hash chain, tamper detection (one byte anywhere), round trip, replay."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.runner.transcript import (
    FORMAT,
    ZERO_HASH,
    TranscriptError,
    read_transcript,
    verify_transcript,
    write_transcript,
)
from tests.runner_samples import sample_result


@pytest.fixture()
def transcript(tmp_path: Path) -> Path:
    return write_transcript(sample_result(), tmp_path / "run.jsonl")


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().split(b"\n")[:-1]


def _flip(path: Path, pos: int, out: Path) -> int:
    """Write a copy with byte ``pos`` changed; returns the 1-based line it falls in."""
    data = bytearray(path.read_bytes())
    data[pos] = data[pos] ^ 0x01 if data[pos] != 0x0A else 0x20
    out.write_bytes(bytes(data))
    return data[:pos].count(b"\n") + 1


def test_untouched_transcript_verifies(transcript: Path) -> None:
    ok, line, message = verify_transcript(transcript)
    assert (ok, line) == (True, None), message
    assert message.startswith("OK: 15 records, 5 verdicts")


def test_records_are_canonical_and_chained(transcript: Path) -> None:
    import hashlib

    lines = _lines(transcript)
    records = [json.loads(raw) for raw in lines]
    assert records[0]["type"] == "header" and records[0]["prev"] == ZERO_HASH and records[0]["format"] == FORMAT
    header = records[0]["header"]
    for key in ("tool_version", "seed", "target_spec_path", "target_sha256", "pool_definition", "profile",
                "selection", "backend", "command"):
        assert key in header
    assert header["seed"] == 42 and header["selection"][0] == "TV-VALID-ACCESS"
    assert [r["seq"] for r in records] == list(range(len(records)))
    for before, raw, record in zip(lines, lines[1:], records[1:]):
        assert record["prev"] == hashlib.sha256(before).hexdigest()
        assert json.dumps(record, sort_keys=True, separators=(",", ":")) == raw.decode()
    assert [r["type"] for r in records[1:4]] == ["step", "step", "verdict"]
    assert [r["type"] for r in records[-3:]] == ["log", "log", "digest"]  # target output, then the digest
    assert records[-1]["records"] == len(records) - 1
    assert records[-1]["counts"] == {"PASS": 1, "FAIL": 2, "SKIP": 1, "ERROR": 1, "total": 5}
    assert transcript.read_bytes().isascii()


def test_round_trip_rebuilds_the_run(transcript: Path) -> None:
    original = sample_result()
    rebuilt = read_transcript(transcript)
    assert rebuilt.to_dict() == original.to_dict()
    fail = next(r for r in rebuilt.results if r.check_id == "TV-ALG-NONE")
    assert [s.outcome for s in fail.steps] == ["ok", "failed"]
    assert fail.steps[0].evidence[0].data["header"]["alg"] == "none"
    assert [e.data["stream"] for e in rebuilt.target_logs] == ["stdout", "stderr"]


@pytest.mark.parametrize("where", ["header-start", "header-seed", "header-end", "middle", "last-record", "digest",
                                   "newline"])
def test_one_byte_edit_is_detected_at_its_line(transcript: Path, tmp_path: Path, where: str) -> None:
    data = transcript.read_bytes()
    lines = _lines(transcript)
    starts = [0]
    for raw in lines:
        starts.append(starts[-1] + len(raw) + 1)
    positions = {
        "header-start": 0,
        "header-seed": data.index(b'"seed":42') + 8,
        "header-end": starts[1] - 2,
        "middle": starts[5] + len(lines[5]) // 2,
        "last-record": starts[len(lines) - 2] + 40,
        "digest": starts[len(lines) - 1] + 20,
        "newline": starts[3] - 1,
    }
    edited = tmp_path / "edited.jsonl"
    line = _flip(transcript, positions[where], edited)
    ok, broken, message = verify_transcript(edited)
    assert not ok, message
    assert broken == line, message
    with pytest.raises(TranscriptError, match=f"^line {line}: "):
        read_transcript(edited)


def test_every_single_byte_flip_is_detected(transcript: Path, tmp_path: Path) -> None:
    """Exhaustive over a stride of positions (every 7th byte): none goes unnoticed."""
    data = transcript.read_bytes()
    edited = tmp_path / "edited.jsonl"
    for pos in range(0, len(data), 7):
        _flip(transcript, pos, edited)
        ok, _, message = verify_transcript(edited)
        assert not ok, f"flip at byte {pos} not detected: {message}"


def test_digit_change_in_a_value_is_pinned_to_its_line(transcript: Path, tmp_path: Path) -> None:
    """A valid-JSON, still-canonical edit (42 -> 43) is caught by the record's own hash."""
    edited = tmp_path / "edited.jsonl"
    edited.write_bytes(transcript.read_bytes().replace(b'"seed":42', b'"seed":43', 1))
    assert verify_transcript(edited)[:2] == (False, 1)


def test_rehashed_forgery_of_one_line_breaks_the_next(transcript: Path, tmp_path: Path) -> None:
    """Even a forger who recomputes the edited line's own hash breaks the chain at the next line."""
    from harness.runner.transcript import _record_sha, canonical

    lines = _lines(transcript)
    record = json.loads(lines[6])
    assert record["check_id"] == "TV-ALG-NONE" and record["result"]["verdict"] == "FAIL"
    record["result"]["verdict"] = "PASS"
    record["sha"] = _record_sha(record)
    lines[6] = canonical(record).encode()
    edited = tmp_path / "edited.jsonl"
    edited.write_bytes(b"\n".join(lines) + b"\n")
    ok, line, message = verify_transcript(edited)
    assert (ok, line) == (False, 8), message
    assert "prev" in message


def test_removed_middle_line(transcript: Path, tmp_path: Path) -> None:
    lines = _lines(transcript)
    edited = tmp_path / "edited.jsonl"
    edited.write_bytes(b"\n".join(lines[:4] + lines[5:]) + b"\n")
    ok, line, message = verify_transcript(edited)
    assert (ok, line) == (False, 5), message


def test_reordered_lines(transcript: Path, tmp_path: Path) -> None:
    lines = _lines(transcript)
    lines[2], lines[3] = lines[3], lines[2]
    edited = tmp_path / "edited.jsonl"
    edited.write_bytes(b"\n".join(lines) + b"\n")
    ok, line, message = verify_transcript(edited)
    assert (ok, line) == (False, 3), message
    assert "reordered" in message


def test_dropped_tail_and_dropped_digest(transcript: Path, tmp_path: Path) -> None:
    lines = _lines(transcript)
    edited = tmp_path / "edited.jsonl"
    for keep in (len(lines) - 1, 6, 1):
        edited.write_bytes(b"\n".join(lines[:keep]) + b"\n")
        ok, line, message = verify_transcript(edited)
        assert (ok, line) == (False, keep + 1), message
        assert "truncated" in message


def test_truncated_mid_line_and_missing_final_newline(transcript: Path, tmp_path: Path) -> None:
    data = transcript.read_bytes()
    edited = tmp_path / "edited.jsonl"
    edited.write_bytes(data[: len(data) // 2])
    ok, line, _ = verify_transcript(edited)
    assert not ok and line == data[: len(data) // 2].count(b"\n") + 1
    edited.write_bytes(data[:-1])
    ok, line, message = verify_transcript(edited)
    assert (ok, line) == (False, len(_lines(transcript))) and "terminator" in message


def test_appended_content_and_empty_and_missing_file(transcript: Path, tmp_path: Path) -> None:
    edited = tmp_path / "edited.jsonl"
    edited.write_bytes(transcript.read_bytes() + b"\n")
    assert verify_transcript(edited)[:2] == (False, len(_lines(transcript)) + 1)
    edited.write_bytes(b"")
    assert verify_transcript(edited)[:2] == (False, 1)
    ok, line, message = verify_transcript(tmp_path / "nope.jsonl")
    assert (ok, line) == (False, None) and "cannot read" in message


def test_an_empty_run_is_a_valid_transcript(tmp_path: Path) -> None:
    result = sample_result()
    result.results = []
    result.stale_expected_failures = []
    path = write_transcript(result, tmp_path / "empty.jsonl")
    assert verify_transcript(path)[0]
    assert read_transcript(path).results == []


# --- replay against real runs (the runner engine, the reference app and a flawed one) -------------

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "fixtures" / "targets" / "reference.toml"
FLAWED = ROOT / "fixtures" / "targets" / "flawed" / "alg_none_accepted.toml"
REPLAY_SELECTION = "TV-ACCESS-VALID or TV-ALG-NONE or TV-SIG-TAMPERED"


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real run of a few checks against the reference app, written as a transcript."""
    from harness.runner import engine
    from harness.runner.spec import load_spec

    result = engine.run(load_spec(REFERENCE), engine.RunOptions(seed=11, keyword=REPLAY_SELECTION,
                                                                command=["test"]))
    assert [r.verdict.value for r in result.results] == ["PASS"] * len(result.results), [
        (r.check_id, r.reason) for r in result.results
    ]
    assert {"TV-ACCESS-VALID", "TV-ALG-NONE"} <= {r.check_id for r in result.results}
    path = write_transcript(result, tmp_path_factory.mktemp("replay") / "reference.jsonl")
    assert verify_transcript(path)[0]
    return path


def test_replay_of_an_unchanged_target_reports_no_differences(recorded: Path) -> None:
    from harness.runner.replay import replay

    diff = replay(recorded)
    assert diff.identical and diff.exit_code() == 0, diff.render()
    assert diff.verdict_changes == [] and diff.step_changes == []
    assert [r.check_id for r in diff.replayed.results] == read_transcript(recorded).header.selection
    assert diff.replayed.header.seed == 11
    assert "no differences" in diff.render()
    assert diff.notes == []


def test_replay_against_a_flawed_app_reports_the_changed_verdicts(recorded: Path) -> None:
    from harness.runner.replay import replay

    diff = replay(recorded, target=str(FLAWED))
    assert not diff.identical and diff.exit_code() == 1
    changed = {(c.check_id, c.before, c.after) for c in diff.verdict_changes}
    assert changed == {("TV-ALG-NONE", "PASS", "FAIL")}, diff.render()
    assert any(c.check_id == "TV-ALG-NONE" and c.before == "ok" and c.after == "failed" for c in diff.step_changes)
    text = diff.render()
    assert "~ TV-ALG-NONE (token-validation)" in text
    assert "  - verdict PASS" in text and "  + verdict FAIL" in text
    assert "target spec differs from the recorded one" in text
    assert json.loads(json.dumps(diff.to_dict()))["identical"] is False


def test_replay_refuses_a_broken_transcript(recorded: Path, tmp_path: Path) -> None:
    from harness.runner.replay import ReplayError, replay

    edited = tmp_path / "edited.jsonl"
    _flip(recorded, len(recorded.read_bytes()) // 2, edited)
    with pytest.raises(ReplayError, match="refusing to replay .* the transcript is broken: line"):
        replay(edited)
    with pytest.raises(ReplayError, match="cannot override 'keyword'"):
        replay(recorded, keyword="x")


def test_replay_needs_a_target_when_the_recorded_one_is_gone(tmp_path: Path) -> None:
    from harness.runner.replay import ReplayError, replay

    result = sample_result()
    result.header.target_spec_path = str(tmp_path / "moved-away.toml")
    path = write_transcript(result, tmp_path / "t.jsonl")
    with pytest.raises(ReplayError, match="moved-away.toml does not exist here; pass --target"):
        replay(path)


def test_compare_lists_added_removed_and_renamed_steps() -> None:
    from harness.results import StepRecord, Verdict
    from harness.runner.replay import ABSENT, ReplayDiff, compare

    before = sample_result()
    after = sample_result()
    fail = after.results[1]
    fail.verdict = Verdict.PASS
    fail.steps[1] = StepRecord(index=1, name="other step", outcome="ok")
    fail.steps.append(StepRecord(index=2, name="extra", outcome="ok"))
    after.results.pop(2)  # TEN-ADMIN-REMOVED no longer runs
    verdicts, steps = compare(before, after)
    assert [(v.check_id, v.before, v.after) for v in verdicts] == [
        ("TV-ALG-NONE", "FAIL", "PASS"), ("TEN-ADMIN-REMOVED", "SKIP", ABSENT)]
    assert [(s.index, s.before_name, s.name, s.before, s.after) for s in steps] == [
        (1, "present forged token", "other step", "failed", "ok"), (2, "", "extra", ABSENT, "ok")]
    text = ReplayDiff("t.jsonl", before.header.target_spec_path, before, after, verdicts, steps).render()
    assert "differences: 2 verdicts and 2 step outcomes changed, in 2 of 5 checks" in text
    assert "  - step #1 present forged token: failed (status 200)\n  + step #1 other step: ok" in text
    assert "  + step #2 extra: ok" in text and "- step #2" not in text
    assert "  - verdict SKIP: the spec has no tenant_admin request\n  + verdict (absent)" in text


def test_odd_evidence_values_still_verify(tmp_path: Path) -> None:
    """Non-string keys, bytes, sets, non-ASCII and NaN in evidence: written, verified, read back."""
    from harness.results import Evidence

    result = sample_result()
    result.results[0].evidence.append(
        Evidence("note", "odd", {"text": "ünïcode \u2603 \udcff", "n": float("nan"), 1: "int key", "b": b"\x00\xff",
                                 "s": {3}, "big": 10**30, "f": 1e16})
    )
    path = write_transcript(result, tmp_path / "odd.jsonl")
    assert path.read_bytes().isascii() and b"NaN" not in path.read_bytes()
    assert verify_transcript(path)[0], verify_transcript(path)
    data = read_transcript(path).results[0].evidence[-1].data
    assert data["1"] == "int key" and data["big"] == 10**30 and data["text"] == "ünïcode \u2603 \udcff"


def test_a_nan_smuggled_into_a_record_is_an_edit(transcript: Path, tmp_path: Path) -> None:
    edited = tmp_path / "edited.jsonl"
    edited.write_bytes(transcript.read_bytes().replace(b'"seed":42', b'"seed":NaN', 1))
    ok, line, message = verify_transcript(edited)
    assert (ok, line) == (False, 1) and "canonical" in message
