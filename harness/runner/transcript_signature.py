"""Who wrote a transcript: Ed25519 signatures and CI-secret HMACs over its chain head.

The hash chain (harness/runner/transcript.py) proves that a transcript is
consistent, not who wrote it: anyone who can write the file can turn a FAIL
into a PASS and recompute every hash after it. A signature made at the end of a
run with a key only the CI holds, and checked against a key the auditor trusts,
proves authorship: the ``signature`` line signs the chain head and the SHA-256
of every byte before it (see transcript.py for exactly what is signed).

Keys:

- **Ed25519** (asymmetric, the one to prefer: the verifier holds only the public
  key). Private key: a PEM file (PKCS#8, unencrypted: what ``cognito-harness
  keygen`` writes, mode 0600, and what ``openssl genpkey -algorithm ed25519``
  writes), a file holding the raw 32-byte seed, or a file holding the seed in
  base64; in the environment (``COGNITO_HARNESS_SIGNING_KEY``) the PEM text or
  the base64 seed. Public key: the base64 of its 32 raw bytes (one line, what
  ``keygen`` prints, easy to paste into CI) inline, or a file holding that, a
  PEM ``PUBLIC KEY`` or the raw 32 bytes. Its key id is the first 16 hex digits
  of the SHA-256 of the raw public key.
- **HMAC-SHA256** with a shared CI secret (at least 16 bytes): whoever can check
  it can also forge it, so it proves "written by a holder of the CI secret". Its
  key id is derived with the secret itself (HMAC of a fixed label), so it names
  the secret without revealing it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import Enum
from functools import partial
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from harness.results import EXIT_ERROR, EXIT_FAIL, EXIT_OK
from harness.runner.sinks import ReportFile
from harness.runner.transcript import (
    SignatureEntry,
    SignatureRecord,
    SignatureRecordError,
    Signer,
    TranscriptError,
    parse_transcript,
    write_transcript,
)

ED25519 = "Ed25519"
HMAC_SHA256 = "HMAC-SHA256"
SIGNING_KEY_ENV = "COGNITO_HARNESS_SIGNING_KEY"
PUBLIC_KEY_ENV = "COGNITO_HARNESS_PUBLIC_KEY"
HMAC_KEY_ENV = "COGNITO_HARNESS_TRANSCRIPT_HMAC_KEY"
MIN_HMAC_KEY_BYTES = 16
_HMAC_KEY_ID_LABEL = b"cognito-harness transcript hmac key id"
_PEM_START = b"-----BEGIN"


class SigningKeyError(ValueError):
    """A key that cannot be used: the message says which and why (a usage error, exit 2)."""


# --- keys ---------------------------------------------------------------------------------------


def ed25519_key_id(public_key: Ed25519PublicKey) -> str:
    return hashlib.sha256(_raw_public(public_key)).hexdigest()[:16]


def hmac_key_id(secret: bytes) -> str:
    return hmac.new(secret, _HMAC_KEY_ID_LABEL, hashlib.sha256).hexdigest()[:16]


def _raw_public(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def generate_signing_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def public_key_text(public_key: Ed25519PublicKey) -> str:
    """The one-line form ``verify --public-key`` takes: base64 of the 32 raw bytes."""
    return base64.b64encode(_raw_public(public_key)).decode("ascii")


def public_key_pem(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def private_key_pem(private_key: Ed25519PrivateKey) -> bytes:
    return private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption())


def write_secret_file(path: str | os.PathLike[str], data: bytes, overwrite: bool = False) -> Path:
    """Create ``path`` readable by its owner only (0600 from the start, never wider)."""
    out = Path(path)
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if overwrite else os.O_EXCL)
    try:
        fd = os.open(out, flags, 0o600)
    except FileExistsError:
        raise SigningKeyError(f"{out} exists: not overwriting a key (pass --force to replace it)") from None
    except OSError as exc:
        raise SigningKeyError(f"cannot write {out}: {exc.strerror or exc}") from None
    with os.fdopen(fd, "wb") as fh:
        os.fchmod(fh.fileno(), 0o600)  # an existing file overwritten with --force keeps no wider mode
        fh.write(data)
    return out


def _seed_key(seed: bytes, where: str) -> Ed25519PrivateKey:
    if len(seed) != 32:
        raise SigningKeyError(f"{where}: an Ed25519 seed is 32 bytes, got {len(seed)}")
    return Ed25519PrivateKey.from_private_bytes(seed)


def _b64(text: bytes) -> bytes | None:
    """Standard or URL-safe base64 (padding and surrounding whitespace optional), or None."""
    compact = b"".join(text.split()).translate(bytes.maketrans(b"-_", b"+/"))
    try:
        return base64.b64decode(compact + b"=" * (-len(compact) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None


def private_key_from_bytes(data: bytes, where: str) -> Ed25519PrivateKey:
    """An Ed25519 private key from PEM, the raw 32-byte seed or its base64."""
    if data.lstrip().startswith(_PEM_START):
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except TypeError:
            raise SigningKeyError(f"{where}: the PEM private key is encrypted; give an unencrypted one") from None
        except (ValueError, UnsupportedAlgorithm) as exc:
            raise SigningKeyError(f"{where}: not a readable PEM private key ({exc})") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise SigningKeyError(f"{where}: the PEM key is {type(key).__name__}, expected an Ed25519 key")
        return key
    if len(data) == 32:
        return _seed_key(data, where)
    seed = _b64(data)
    if seed is None:
        raise SigningKeyError(f"{where}: expected a PEM Ed25519 private key, a raw 32-byte seed or its base64")
    return _seed_key(seed, where)


def load_signing_key(path: str | os.PathLike[str]) -> Ed25519PrivateKey:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise SigningKeyError(f"cannot read the signing key {path}: {exc.strerror or exc}") from None
    return private_key_from_bytes(data, str(path))


def load_public_key(value: str) -> Ed25519PublicKey:
    """``--public-key``: a file (PEM, raw 32 bytes or base64) or the inline base64 of the raw key."""
    path = Path(value)
    if path.is_file():
        data, where = path.read_bytes(), str(path)
    else:
        data, where = value.encode("utf-8", "replace"), "--public-key"
    if data.lstrip().startswith(_PEM_START):
        try:
            key = serialization.load_pem_public_key(data)
        except (ValueError, UnsupportedAlgorithm) as exc:
            raise SigningKeyError(f"{where}: not a readable PEM public key ({exc})") from None
        if not isinstance(key, Ed25519PublicKey):
            raise SigningKeyError(f"{where}: the PEM key is {type(key).__name__}, expected an Ed25519 key")
        return key
    raw = data if len(data) == 32 and path.is_file() else _b64(data)
    if raw is None or len(raw) != 32:
        raise SigningKeyError(f"{where}: not a file, and not the base64 of a 32-byte Ed25519 public key "
                              "(what `cognito-harness keygen` prints)")
    return Ed25519PublicKey.from_public_bytes(raw)


def hmac_secret(value: str, where: str) -> bytes:
    secret = value.encode("utf-8")
    if len(secret) < MIN_HMAC_KEY_BYTES:
        raise SigningKeyError(f"{where}: an HMAC key shorter than {MIN_HMAC_KEY_BYTES} bytes can be guessed; "
                              "use a long random CI secret")
    return secret


# --- signing ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ed25519Signer:
    private_key: Ed25519PrivateKey

    @property
    def alg(self) -> str:
        return ED25519

    @property
    def key_id(self) -> str:
        return ed25519_key_id(self.private_key.public_key())

    def sign(self, statement: bytes) -> str:
        return base64.b64encode(self.private_key.sign(statement)).decode("ascii")


@dataclass(frozen=True)
class HmacSigner:
    secret: bytes

    @property
    def alg(self) -> str:
        return HMAC_SHA256

    @property
    def key_id(self) -> str:
        return hmac_key_id(self.secret)

    def sign(self, statement: bytes) -> str:
        return base64.b64encode(hmac.new(self.secret, statement, hashlib.sha256).digest()).decode("ascii")


def signers_for(sign_key: str | None, hmac_key: str | None, environ: Mapping[str, str]) -> list[Signer]:
    """The run's signers: ``--sign-key FILE`` else $COGNITO_HARNESS_SIGNING_KEY (PEM or base64 seed),
    and ``--hmac-key`` else $COGNITO_HARNESS_TRANSCRIPT_HMAC_KEY; raises SigningKeyError."""
    signers: list[Signer] = []
    if sign_key:
        signers.append(Ed25519Signer(load_signing_key(sign_key)))
    elif environ.get(SIGNING_KEY_ENV):
        signers.append(Ed25519Signer(private_key_from_bytes(environ[SIGNING_KEY_ENV].encode(), SIGNING_KEY_ENV)))
    if hmac_key:
        signers.append(HmacSigner(hmac_secret(hmac_key, "--hmac-key")))
    elif environ.get(HMAC_KEY_ENV):
        signers.append(HmacSigner(hmac_secret(environ[HMAC_KEY_ENV], HMAC_KEY_ENV)))
    return signers


SECRET_OPTIONS = ("--hmac-key", "--key", "--cognito-hmac-key")
REDACTED = "<redacted>"


def redact_secrets(argv: list[str]) -> list[str]:
    """A command line fit for the transcript's header: the HMAC secret's value replaced."""
    out: list[str] = []
    for arg in argv:
        if out and out[-1] in SECRET_OPTIONS:
            out.append(REDACTED)
        elif arg.startswith(tuple(f"{opt}=" for opt in SECRET_OPTIONS)):
            out.append(f"{arg.split('=', 1)[0]}={REDACTED}")
        else:
            out.append(arg)
    return out


def signing_transcript(files: list[ReportFile], signers: Sequence[Signer]) -> list[ReportFile]:
    """The run's report files, the transcript among them (if asked for) written signed by ``signers``."""
    if not signers:
        return files
    return [replace(f, write=partial(write_transcript, signers=signers)) if f.write is write_transcript else f
            for f in files]


# --- verifying ----------------------------------------------------------------------------------


class Status(Enum):
    """What ``verify`` concludes; each has its own exit code (``verify --help`` lists them)."""

    OK = "OK"
    UNSIGNED = "UNSIGNED"
    WRONGLY_SIGNED = "WRONGLY SIGNED"
    TAMPERED = "TAMPERED"
    UNREADABLE = "UNREADABLE"

    @property
    def exit_code(self) -> int:
        return _EXIT_CODES[self]


EXIT_UNSIGNED, EXIT_WRONGLY_SIGNED = 3, 4
_EXIT_CODES = {Status.OK: EXIT_OK, Status.TAMPERED: EXIT_FAIL, Status.UNREADABLE: EXIT_ERROR,
               Status.UNSIGNED: EXIT_UNSIGNED, Status.WRONGLY_SIGNED: EXIT_WRONGLY_SIGNED}
_SEVERITY = (Status.OK, Status.UNSIGNED, Status.WRONGLY_SIGNED)


@dataclass(frozen=True)
class VerifyKeys:
    """The keys an auditor trusts; none given: only the chain's consistency can be checked."""

    public_key: Ed25519PublicKey | None = None
    hmac_secret: bytes | None = None

    @property
    def given(self) -> bool:
        return self.public_key is not None or self.hmac_secret is not None


@dataclass(frozen=True)
class Verification:
    status: Status
    message: str
    line: int | None = None
    authorship_proven: bool = False

    @property
    def exit_code(self) -> int:
        return self.status.exit_code


Validator = Callable[[bytes, bytes], bool]  # (decoded signature value, signed statement) -> valid?


def _ed25519_validator(public_key: Ed25519PublicKey) -> Validator:
    def valid(value: bytes, statement: bytes) -> bool:
        try:
            public_key.verify(value, statement)
        except InvalidSignature:
            return False
        return True
    return valid


def _hmac_validator(secret: bytes) -> Validator:
    def valid(value: bytes, statement: bytes) -> bool:
        return hmac.compare_digest(value, hmac.new(secret, statement, hashlib.sha256).digest())
    return valid


def _check_one(signature: SignatureRecord | None, alg: str, key_id: str, valid: Validator) -> tuple[Status, str]:
    """One trusted key against the signature line: UNSIGNED, WRONGLY_SIGNED (another key, or a value
    that does not verify: corrupt or forged) or OK."""
    entries = [e for e in signature.entries if e.alg == alg] if signature else []
    if signature is None or not entries:
        carries = f"it carries only {signature.describe()}" if signature else "it has no signature record"
        return Status.UNSIGNED, f"not signed with {alg} ({carries})"
    mine = [e for e in entries if e.key_id == key_id]
    if not mine:
        others = ", ".join(sorted({e.key_id for e in entries}))
        return Status.WRONGLY_SIGNED, f"signed by another {alg} key ({others}), not by the given key {key_id}"
    if any(_valid_entry(signature, e, valid) for e in mine):
        return Status.OK, f"signed by {alg} key {key_id}"
    return Status.WRONGLY_SIGNED, (f"the {alg} signature of key {key_id} does not verify: it is corrupt, or "
                                   "was made over other content (the transcript was rewritten and re-hashed)")


def _valid_entry(signature: SignatureRecord, entry: SignatureEntry, valid: Validator) -> bool:
    value = _b64(entry.value.encode("ascii", "replace"))
    return value is not None and valid(value, signature.statement(entry))


def verify_signed_transcript(path: str | os.PathLike[str], keys: VerifyKeys = VerifyKeys()) -> Verification:
    """Check the chain, then every key given against the signatures; the worst finding wins."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        return Verification(Status.UNREADABLE, f"cannot read {path}: {exc.strerror or exc}")
    try:
        parsed = parse_transcript(data)
    except SignatureRecordError as exc:
        return Verification(Status.WRONGLY_SIGNED, f"corrupt signature: {exc.message}", exc.line)
    except TranscriptError as exc:
        return Verification(Status.TAMPERED, exc.message, exc.line)
    chain = f"{parsed.records} records, {len(parsed.result.results)} verdicts, hash chain intact"
    signature = parsed.signature
    if not keys.given:
        if signature:
            note = (f"signed ({signature.describe()}) but no key was given, so the signature is NOT checked "
                    "(pass --public-key or --hmac-key)")
        else:
            note = "the transcript is not signed: anyone who can write the file can rewrite it and re-hash the chain"
        return Verification(Status.OK, f"{chain}; authorship NOT proven: {note}")
    findings = []
    if keys.public_key is not None:
        findings.append(_check_one(signature, ED25519, ed25519_key_id(keys.public_key),
                                   _ed25519_validator(keys.public_key)))
    if keys.hmac_secret is not None:
        findings.append(_check_one(signature, HMAC_SHA256, hmac_key_id(keys.hmac_secret),
                                   _hmac_validator(keys.hmac_secret)))
    status = max((s for s, _ in findings), key=_SEVERITY.index)
    if status is Status.OK:
        return Verification(Status.OK, f"{'; '.join(m for _, m in findings)}; {chain}", authorship_proven=True)
    line = signature.line if signature else parsed.records + 1
    return Verification(status, "; ".join(m for s, m in findings if s is not Status.OK), line)


__all__ = [
    "ED25519", "EXIT_UNSIGNED", "EXIT_WRONGLY_SIGNED", "HMAC_KEY_ENV", "HMAC_SHA256", "PUBLIC_KEY_ENV",
    "SIGNING_KEY_ENV", "Ed25519Signer", "HmacSigner", "SigningKeyError", "Status", "Verification", "VerifyKeys",
    "ed25519_key_id", "generate_signing_key", "hmac_key_id", "hmac_secret", "load_public_key", "load_signing_key", "private_key_from_bytes",
    "private_key_pem", "public_key_pem", "public_key_text", "redact_secrets", "signers_for", "signing_transcript", "verify_signed_transcript",
    "write_secret_file",
]
