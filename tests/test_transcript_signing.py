"""Signed transcripts: who wrote a transcript, not only whether it is consistent.

The hash chain alone is defeated by a forger who rewrites verdicts and re-hashes every line
after them: these tests perform that attack and expect a keyed ``verify`` to refuse it, while
the unkeyed ``verify`` (which cannot tell) says authorship is not proven.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import os
import stat
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from harness.cli import main
from harness.results import Verdict
from harness.runner.transcript import (
    FORMAT,
    SIGNATURE_CONTEXT,
    read_transcript,
    verify_transcript,
    write_transcript,
)
from harness.runner.transcript_signature import (
    HMAC_KEY_ENV,
    PUBLIC_KEY_ENV,
    SIGNING_KEY_ENV,
    Ed25519Signer,
    HmacSigner,
    SigningKeyError,
    Status,
    VerifyKeys,
    ed25519_key_id,
    load_public_key,
    load_signing_key,
    private_key_pem,
    public_key_pem,
    public_key_text,
    redact_secrets,
    signers_for,
    verify_signed_transcript,
)
from tests.runner_samples import sample_result
from tests.test_runner_cli import CLI, ROOT

AUDITOR_SEED = bytes(range(32))
FORGER_SEED = bytes(range(100, 132))
CI_SECRET = b"ci-secret-0123456789-abcdef"
OTHER_SECRET = b"not-the-ci-secret-9876543210"


def _key(seed: bytes) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(seed)


AUDITOR = _key(AUDITOR_SEED)
FORGER = _key(FORGER_SEED)
AUDITOR_KEYS = VerifyKeys(public_key=AUDITOR.public_key())


def failing_run(fails: int = 51):
    """The sample run with ``fails`` FAIL verdicts (the issue's attack turned 51 of them into PASS)."""
    result = sample_result()
    template = next(r for r in result.results if r.verdict is Verdict.FAIL and not r.expected_failure)
    for i in range(fails - 1):
        clone = copy.deepcopy(template)
        clone.check_id = f"TV-FORGED-{i:02d}"
        result.results.append(clone)
    assert sum(r.verdict is Verdict.FAIL and not r.expected_failure for r in result.results) == fails
    return result


@pytest.fixture()
def signed(tmp_path: Path) -> Path:
    return write_transcript(failing_run(), tmp_path / "signed.jsonl",
                            signers=[Ed25519Signer(AUDITOR), HmacSigner(CI_SECRET)])


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().split(b"\n")[:-1]


def _canonical(obj: object) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def rehash_with_passes(path: Path) -> tuple[list[bytes], bytes | None]:
    """The attack: every FAIL verdict becomes PASS, the digest's counts and exit code follow, and
    every record's sha and every prev link is recomputed so that the unkeyed chain checks out.
    Returns the forged chain lines and the original signature line (None if there was none)."""
    lines = _lines(path)
    signature = lines.pop() if json.loads(lines[-1])["type"] == "signature" else None
    forged: list[bytes] = []
    prev = "0" * 64
    flipped = 0
    for raw in lines:
        record = json.loads(raw)
        if record["type"] == "verdict" and record["result"]["verdict"] == "FAIL":
            record["result"]["verdict"] = "PASS"
            flipped += 1
        if record["type"] == "digest":
            record["counts"]["PASS"] += record["counts"]["FAIL"]
            record["counts"]["FAIL"] = 0
            record["exit_code"] = 2  # the sample keeps one ERROR
        record["prev"] = prev
        record.pop("sha")
        record["sha"] = _sha(_canonical(record))
        line = _canonical(record)
        forged.append(line)
        prev = _sha(line)
    assert flipped >= 51
    return forged, signature


def _write(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    return path


def _resigned_line(forged: list[bytes], signature: bytes, sign: Ed25519PrivateKey | None = None) -> bytes:
    """The original signature line re-pointed at the forged chain (prev, content_sha256), its values
    kept, or re-signed over the forged content with ``sign`` (the forger's own key)."""
    record = json.loads(signature)
    record["prev"] = _sha(forged[-1])
    record["content_sha256"] = _sha(b"".join(line + b"\n" for line in forged))
    if sign is not None:
        signer = Ed25519Signer(sign)
        statement = _canonical({"alg": "Ed25519", "content_sha256": record["content_sha256"],
                                "context": SIGNATURE_CONTEXT, "format": FORMAT, "head": record["prev"],
                                "key_id": signer.key_id, "records": len(forged)})
        record["signatures"] = [{"alg": "Ed25519", "key_id": signer.key_id, "value": signer.sign(statement)}]
    return _canonical(record)


# --- what a signature covers -------------------------------------------------------------------


def test_the_signature_covers_every_byte_before_its_line(signed: Path) -> None:
    """Re-derived independently of the writer: the signed statement names the chain head (SHA-256 of
    the digest line) and the SHA-256 of every byte before the signature line, and verifies."""
    data = signed.read_bytes()
    lines = _lines(signed)
    record = json.loads(lines[-1])
    assert record["type"] == "signature" and json.loads(lines[-2])["type"] == "digest"
    assert record["seq"] == len(lines) - 1 and record["prev"] == _sha(lines[-2])
    assert record["content_sha256"] == _sha(data[: len(data) - len(lines[-1]) - 1])
    assert "sha" not in record
    ed, mac = record["signatures"]
    assert ed["key_id"] == ed25519_key_id(AUDITOR.public_key()) == _sha(
        AUDITOR.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))[:16]
    statement = _canonical({"alg": "Ed25519", "content_sha256": record["content_sha256"],
                            "context": SIGNATURE_CONTEXT, "format": FORMAT, "head": record["prev"],
                            "key_id": ed["key_id"], "records": record["seq"]})
    AUDITOR.public_key().verify(base64.b64decode(ed["value"]), statement)  # raises if not
    assert mac["alg"] == "HMAC-SHA256" and CI_SECRET.decode() not in lines[-1].decode()


def test_signed_transcript_verifies_with_its_keys_and_still_reads_back(signed: Path) -> None:
    for keys in (AUDITOR_KEYS, VerifyKeys(hmac_secret=CI_SECRET),
                 VerifyKeys(public_key=AUDITOR.public_key(), hmac_secret=CI_SECRET)):
        result = verify_signed_transcript(signed, keys)
        assert (result.status, result.exit_code, result.authorship_proven) == (Status.OK, 0, True), result
    message = verify_signed_transcript(signed, AUDITOR_KEYS).message
    assert message.startswith(f"signed by Ed25519 key {ed25519_key_id(AUDITOR.public_key())}; ")
    assert read_transcript(signed).to_dict() == failing_run().to_dict()  # replay reads signed transcripts
    ok, line, message = verify_transcript(signed)
    assert ok and line is None and "signature not checked" in message


# --- the whole-chain re-hash attack ---------------------------------------------------------------


def test_whole_chain_rehash_fools_the_unkeyed_chain_but_not_the_key(signed: Path, tmp_path: Path) -> None:
    forged, signature = rehash_with_passes(signed)
    assert signature is not None

    # stripped of its signature: the chain alone is consistent (that is the weakness)...
    stripped = _write(tmp_path / "stripped.jsonl", forged)
    assert verify_transcript(stripped)[0]
    assert all(r.verdict is not Verdict.FAIL for r in read_transcript(stripped).results)
    unkeyed = verify_signed_transcript(stripped)
    assert unkeyed.status is Status.OK and not unkeyed.authorship_proven
    assert "authorship NOT proven" in unkeyed.message and "not signed" in unkeyed.message
    # ...and a key refuses it
    assert verify_signed_transcript(stripped, AUDITOR_KEYS).status is Status.UNSIGNED

    # the old signature line kept: it covers other content
    kept = verify_signed_transcript(_write(tmp_path / "kept.jsonl", forged + [signature]), AUDITOR_KEYS)
    assert kept.status is Status.TAMPERED and kept.line == len(forged) + 1
    assert "changed after it was signed" in kept.message

    # the signature line re-pointed at the forged chain: the values do not verify
    repointed = _write(tmp_path / "repointed.jsonl", forged + [_resigned_line(forged, signature)])
    for keys in (AUDITOR_KEYS, VerifyKeys(hmac_secret=CI_SECRET)):
        result = verify_signed_transcript(repointed, keys)
        assert result.status is Status.WRONGLY_SIGNED and result.exit_code == 4, result
        assert "does not verify" in result.message
    unchecked = verify_signed_transcript(repointed)
    assert unchecked.status is Status.OK and "signature is NOT checked" in unchecked.message

    # re-signed with the forger's own key: signed, but by another key
    resigned = _write(tmp_path / "resigned.jsonl", forged + [_resigned_line(forged, signature, sign=FORGER)])
    assert verify_signed_transcript(resigned, VerifyKeys(public_key=FORGER.public_key())).status is Status.OK
    result = verify_signed_transcript(resigned, AUDITOR_KEYS)
    assert result.status is Status.WRONGLY_SIGNED
    assert f"another Ed25519 key ({ed25519_key_id(FORGER.public_key())})" in result.message


# --- unsigned, wrong key, corrupt signature, HMAC ------------------------------------------------


def test_unsigned_transcript_with_a_key_is_unsigned(tmp_path: Path) -> None:
    path = write_transcript(sample_result(), tmp_path / "plain.jsonl")
    result = verify_signed_transcript(path, AUDITOR_KEYS)
    assert (result.status, result.exit_code) == (Status.UNSIGNED, 3)
    assert "no signature record" in result.message
    hmac_only = write_transcript(sample_result(), tmp_path / "hmac.jsonl", signers=[HmacSigner(CI_SECRET)])
    result = verify_signed_transcript(hmac_only, AUDITOR_KEYS)
    assert result.status is Status.UNSIGNED and "carries only HMAC-SHA256" in result.message
    both = verify_signed_transcript(hmac_only, VerifyKeys(public_key=AUDITOR.public_key(), hmac_secret=CI_SECRET))
    assert both.status is Status.UNSIGNED  # every key given must check out


def test_wrong_public_key_and_wrong_hmac_secret_are_wrongly_signed(signed: Path) -> None:
    wrong_key = verify_signed_transcript(signed, VerifyKeys(public_key=FORGER.public_key()))
    assert (wrong_key.status, wrong_key.exit_code) == (Status.WRONGLY_SIGNED, 4)
    assert f"not by the given key {ed25519_key_id(FORGER.public_key())}" in wrong_key.message
    wrong_secret = verify_signed_transcript(signed, VerifyKeys(hmac_secret=OTHER_SECRET))
    assert wrong_secret.status is Status.WRONGLY_SIGNED and "another HMAC-SHA256 key" in wrong_secret.message
    mixed = verify_signed_transcript(signed, VerifyKeys(public_key=AUDITOR.public_key(), hmac_secret=OTHER_SECRET))
    assert mixed.status is Status.WRONGLY_SIGNED  # the worst finding wins


@pytest.mark.parametrize("corrupt", ["bit-flip", "not-base64", "short", "no-key-id", "no-signatures", "extra-key"])
def test_a_corrupt_signature_is_wrongly_signed(signed: Path, tmp_path: Path, corrupt: str) -> None:
    lines = _lines(signed)
    record = json.loads(lines[-1])
    entry = record["signatures"][0]
    if corrupt == "bit-flip":
        raw = bytearray(base64.b64decode(entry["value"]))
        raw[10] ^= 0x01
        entry["value"] = base64.b64encode(bytes(raw)).decode()
    elif corrupt == "not-base64":
        entry["value"] = "!!!" + entry["value"][3:]
    elif corrupt == "short":
        entry["value"] = entry["value"][:20]
    elif corrupt == "no-key-id":
        del entry["key_id"]
    elif corrupt == "no-signatures":
        record["signatures"] = []
    else:
        record["note"] = "x"
    edited = _write(tmp_path / "corrupt.jsonl", lines[:-1] + [_canonical(record)])
    result = verify_signed_transcript(edited, AUDITOR_KEYS)
    assert (result.status, result.exit_code, result.line) == (Status.WRONGLY_SIGNED, 4, len(lines)), result
    if corrupt in ("no-key-id", "no-signatures", "extra-key"):  # malformed: visible without a key too
        assert verify_signed_transcript(edited).status is Status.WRONGLY_SIGNED
        assert "corrupt signature" in verify_signed_transcript(edited).message


def test_edits_around_the_signature_line_are_tampering(signed: Path, tmp_path: Path) -> None:
    data = signed.read_bytes()
    appended = tmp_path / "appended.jsonl"
    appended.write_bytes(data + b'{"type":"log"}\n')
    assert verify_signed_transcript(appended, AUDITOR_KEYS).status is Status.TAMPERED
    no_newline = tmp_path / "no-newline.jsonl"
    no_newline.write_bytes(data[:-1])
    assert verify_signed_transcript(no_newline, AUDITOR_KEYS).status is Status.TAMPERED
    one_byte = tmp_path / "one-byte.jsonl"
    one_byte.write_bytes(data.replace(b'"seed":42', b'"seed":43', 1))
    result = verify_signed_transcript(one_byte, AUDITOR_KEYS)
    assert (result.status, result.exit_code, result.line) == (Status.TAMPERED, 1, 1)
    missing = verify_signed_transcript(tmp_path / "nope.jsonl", AUDITOR_KEYS)
    assert (missing.status, missing.exit_code) == (Status.UNREADABLE, 2)


# --- keys: files, environment, formats ------------------------------------------------------------


def test_signing_key_from_pem_raw_seed_and_base64_files_and_from_env(tmp_path: Path) -> None:
    pem = tmp_path / "k.pem"
    pem.write_bytes(private_key_pem(AUDITOR))
    raw = tmp_path / "k.seed"
    raw.write_bytes(AUDITOR_SEED)
    b64 = tmp_path / "k.b64"
    b64.write_text(base64.b64encode(AUDITOR_SEED).decode() + "\n")
    want = ed25519_key_id(AUDITOR.public_key())
    for path in (pem, raw, b64):
        assert ed25519_key_id(load_signing_key(path).public_key()) == want
        assert [s.key_id for s in signers_for(str(path), None, {})] == [want]
    for env_value in (private_key_pem(AUDITOR).decode(), base64.b64encode(AUDITOR_SEED).decode()):
        signers = signers_for(None, None, {SIGNING_KEY_ENV: env_value, HMAC_KEY_ENV: CI_SECRET.decode()})
        assert [(s.alg, s.key_id) for s in signers][0] == ("Ed25519", want)
        assert signers[1].alg == "HMAC-SHA256"
    # the flag wins over the environment
    other = tmp_path / "other.seed"
    other.write_bytes(FORGER_SEED)
    assert signers_for(str(other), None, {SIGNING_KEY_ENV: base64.b64encode(AUDITOR_SEED).decode()})[0].key_id \
        == ed25519_key_id(FORGER.public_key())
    assert signers_for(None, None, {}) == []


def test_bad_keys_are_refused_with_a_reason(tmp_path: Path) -> None:
    rsa_pem = tmp_path / "rsa.pem"
    rsa_pem.write_bytes(rsa.generate_private_key(public_exponent=65537, key_size=1024).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    short = tmp_path / "short.seed"
    short.write_bytes(b"\x01" * 31)
    for path, reason in ((rsa_pem, "expected an Ed25519 key"), (short, "expected a PEM Ed25519 private key"),
                         (tmp_path / "missing.pem", "cannot read the signing key")):
        with pytest.raises(SigningKeyError, match=reason):
            load_signing_key(path)
    with pytest.raises(SigningKeyError, match="shorter than 16 bytes"):
        signers_for(None, "short", {})
    with pytest.raises(SigningKeyError, match=SIGNING_KEY_ENV):
        signers_for(None, None, {SIGNING_KEY_ENV: "not a key"})
    with pytest.raises(SigningKeyError, match="not the base64 of a 32-byte Ed25519 public key"):
        load_public_key("bm90IGEga2V5")


def test_public_key_inline_base64_or_file(tmp_path: Path) -> None:
    public = AUDITOR.public_key()
    text = public_key_text(public)
    assert len(text) == 44 and base64.b64decode(text) == public.public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    as_text = tmp_path / "pub.txt"
    as_text.write_text(text + "\n")
    as_pem = tmp_path / "pub.pem"
    as_pem.write_bytes(public_key_pem(public))
    as_raw = tmp_path / "pub.raw"
    as_raw.write_bytes(base64.b64decode(text))
    for value in (text, text.rstrip("="), str(as_text), str(as_pem), str(as_raw)):
        key = load_public_key(value)
        assert isinstance(key, Ed25519PublicKey) and ed25519_key_id(key) == ed25519_key_id(public)


# --- the command line ----------------------------------------------------------------------------


def test_keygen_writes_a_0600_key_and_prints_the_public_key(tmp_path: Path) -> None:
    proc = subprocess.run([*CLI, "keygen", "--out", "ci.pem", "--public-out", "ci.pub.pem"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    public_b64 = proc.stdout.strip()
    assert proc.stdout.count("\n") == 1  # one line, embeddable in CI
    key = tmp_path / "ci.pem"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    private = load_signing_key(key)
    assert public_key_text(private.public_key()) == public_b64
    assert public_key_text(load_public_key(str(tmp_path / "ci.pub.pem"))) == public_b64
    assert ed25519_key_id(private.public_key()) in proc.stderr
    # never overwrites a key by accident
    assert main(["keygen", "--out", str(key)]) == 2
    assert load_signing_key(key).private_bytes_raw() == private.private_bytes_raw()
    key.chmod(0o644)
    assert main(["keygen", "--out", str(key), "--force"]) == 0
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert load_signing_key(key).private_bytes_raw() != private.private_bytes_raw()


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """One real `cognito-harness run` signing its transcript with a keygen key and an HMAC secret."""
    work = tmp_path_factory.mktemp("signed-run")
    keygen = subprocess.run([*CLI, "keygen", "--out", "ci.pem"], cwd=work, capture_output=True, text=True,
                            timeout=120)
    assert keygen.returncode == 0, keygen.stderr
    env = {k: v for k, v in os.environ.items() if k not in (SIGNING_KEY_ENV, PUBLIC_KEY_ENV, HMAC_KEY_ENV)}
    proc = subprocess.run(
        [*CLI, "run", "--target", str(ROOT / "fixtures" / "targets" / "reference.toml"), "-k", "TV-ALG-NONE",
         "--seed", "0", "--transcript", "run.jsonl", "--sign-key", "ci.pem", f"--hmac-key={CI_SECRET.decode()}"],
        cwd=work, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return work / "run.jsonl", keygen.stdout.strip()


def _verify(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in (PUBLIC_KEY_ENV, HMAC_KEY_ENV)}
    return subprocess.run([*CLI, "verify", *args], env=env, capture_output=True, text=True, timeout=120)


def test_run_then_verify_through_the_cli(cli_run: tuple[Path, str]) -> None:
    transcript, public_b64 = cli_run
    run = read_transcript(transcript)
    assert [r.check_id for r in run.results] == ["TV-ALG-NONE"]
    assert CI_SECRET not in transcript.read_bytes() and "--hmac-key=<redacted>" in run.header.command

    proc = _verify(str(transcript), "--public-key", public_b64)
    assert proc.returncode == 0 and proc.stdout.startswith(f"OK: {transcript}: signed by Ed25519 key "), proc.stdout
    proc = _verify(str(transcript))
    assert proc.returncode == 0 and "authorship NOT proven" in proc.stdout and "NOT checked" in proc.stdout
    proc = _verify(str(transcript), "--public-key", public_key_text(FORGER.public_key()))
    assert proc.returncode == 4 and proc.stdout.startswith("WRONGLY SIGNED: "), proc.stdout


def _verify_in_process(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["verify", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_verify_options_env_and_exit_codes(cli_run: tuple[Path, str], tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    transcript, public_b64 = cli_run
    monkeypatch.delenv(PUBLIC_KEY_ENV, raising=False)
    monkeypatch.delenv(HMAC_KEY_ENV, raising=False)
    code, out, _ = _verify_in_process(capsys, str(transcript), "--key", OTHER_SECRET.decode())
    assert code == 4 and "another HMAC-SHA256 key" in out
    assert _verify_in_process(capsys, str(transcript), "--hmac-key", CI_SECRET.decode())[0] == 0

    stripped = _write(tmp_path / "stripped.jsonl", _lines(transcript)[:-1])  # the signature line removed
    code, out, _ = _verify_in_process(capsys, str(stripped), "--public-key", public_b64)
    assert code == 3 and out.startswith("UNSIGNED: "), out
    edited = tmp_path / "edited.jsonl"
    edited.write_bytes(transcript.read_bytes().replace(b'"seed":0', b'"seed":1', 1))
    code, out, _ = _verify_in_process(capsys, str(edited), "--public-key", public_b64)
    assert code == 1 and out.startswith(f"TAMPERED: {edited}: line 1: "), out
    code, _, err = _verify_in_process(capsys, str(transcript), "--public-key", "not-a-key")
    assert code == 2 and "not the base64" in err

    # keys from the environment (what a CI job sets once)
    monkeypatch.setenv(PUBLIC_KEY_ENV, public_b64)
    monkeypatch.setenv(HMAC_KEY_ENV, CI_SECRET.decode())
    code, out, _ = _verify_in_process(capsys, str(transcript))
    assert code == 0 and "signed by Ed25519 key" in out and "signed by HMAC-SHA256 key" in out, out
    assert _verify_in_process(capsys, str(stripped))[0] == 3


def test_run_refuses_bad_signing_options_before_running(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = tmp_path / "k.pem"
    key.write_bytes(private_key_pem(AUDITOR))
    assert main(["run", "-k", "TV-ALG-NONE", "--sign-key", str(key)]) == 2
    assert "add --transcript FILE" in capsys.readouterr().err
    assert main(["run", "-k", "TV-ALG-NONE", "--transcript", str(tmp_path / "t.jsonl"),
                 "--sign-key", str(tmp_path / "missing.pem")]) == 2
    assert "cannot read the signing key" in capsys.readouterr().err
    assert not (tmp_path / "t.jsonl").exists()


def test_replay_accepts_a_signed_transcript(cli_run: tuple[Path, str], capsys: pytest.CaptureFixture[str]) -> None:
    transcript, _ = cli_run
    assert main(["replay", str(transcript)]) == 0
    assert "no differences" in capsys.readouterr().out


def test_pytest_mode_signs_its_transcript(tmp_path: Path) -> None:
    """``pytest --cognito-target ... --cognito-transcript`` signs with --cognito-sign-key and the env HMAC."""
    from tests.test_pytest_mode import REFERENCE, TIMEOUT, _isolated

    (tmp_path / "k.pem").write_bytes(private_key_pem(AUDITOR))
    cmd = _isolated(tmp_path) + ["--cognito-target", str(REFERENCE), "-k", "TV-ALG-NONE", "-q",
                                 "--cognito-transcript", "t.jsonl", "--cognito-sign-key", "k.pem"]
    env = {**{k: v for k, v in os.environ.items() if k != SIGNING_KEY_ENV}, HMAC_KEY_ENV: CI_SECRET.decode()}
    proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=TIMEOUT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    keys = VerifyKeys(public_key=AUDITOR.public_key(), hmac_secret=CI_SECRET)
    result = verify_signed_transcript(tmp_path / "t.jsonl", keys)
    assert result.status is Status.OK and result.authorship_proven, result
    bad = subprocess.run(cmd[:-1] + ["missing.pem"], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=TIMEOUT)
    assert bad.returncode == 4 and "cannot read the signing key" in bad.stderr, bad.stdout + bad.stderr


def test_the_hmac_secret_never_reaches_the_recorded_command_line() -> None:
    argv = ["run", "--hmac-key", "s3cret-s3cret-s3cret", "--cognito-hmac-key=abc", "-k", "TV", "--sign-key", "k.pem"]
    assert redact_secrets(argv) == ["run", "--hmac-key", "<redacted>", "--cognito-hmac-key=<redacted>", "-k", "TV",
                                    "--sign-key", "k.pem"]
