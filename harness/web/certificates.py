"""Certificate building blocks shared by every CA the harness makes.

Two CAs use them: the AWS endpoint mode's per-run CA (harness.awsendpoint.ca,
name-constrained to amazonaws.com, key in memory) and the machine CA behind
``serve --tls`` (harness.web.machine_ca, name-constrained to loopback, kept
on disk). Both are ECDSA P-256 CAs with ``pathLen 0`` and a *critical* name
constraint, so whatever trust store they land in they can vouch only for the
names they were made for; their leaves are server-auth certificates naming
their hosts in the subjectAltName.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import ssl
import tempfile
from collections.abc import Sequence
from pathlib import Path

import certifi
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

BACKDATE = datetime.timedelta(hours=1)  # tolerate a client whose clock is slightly behind
ORGANIZATION = "cognito-harness"
LEAF_SUBJECT = "cognito-harness server"  # not a host name: verifiers must read the SAN (never the CN)

PrivateKey = ec.EllipticCurvePrivateKey


def new_key() -> PrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def now() -> datetime.datetime:
    """Wall-clock time: certificates are checked against real clocks, never the virtual one."""
    return datetime.datetime.now(datetime.timezone.utc)


def general_name(host: str) -> x509.GeneralName:
    """A subjectAltName entry: an IP address as iPAddress, anything else as dNSName."""
    try:
        return x509.IPAddress(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return x509.DNSName(host)


def _usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=True, key_cert_sign=cert_sign, crl_sign=cert_sign,
                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                         key_agreement=False, encipher_only=False, decipher_only=False)


def ca_certificate(key: PrivateKey, label: str, permitted: Sequence[x509.GeneralName],
                   validity: datetime.timedelta) -> x509.Certificate:
    """A self-signed CA for ``key`` that may sign leaves only (pathLen 0) for the ``permitted`` subtrees."""
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
                      x509.NameAttribute(NameOID.COMMON_NAME, label)])
    public = key.public_key()
    start = now()
    return (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start - BACKDATE).not_valid_after(start + validity)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_usage(cert_sign=True), critical=True)
        .add_extension(x509.NameConstraints(permitted_subtrees=list(permitted), excluded_subtrees=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )


def leaf_certificate(ca_key: PrivateKey, ca_cert: x509.Certificate, hosts: Sequence[str],
                     validity: datetime.timedelta, common_name: str = LEAF_SUBJECT,
                     ) -> tuple[x509.Certificate, PrivateKey]:
    """A server certificate for ``hosts`` signed by the CA, and its new key; never outlives the CA."""
    if not hosts:
        raise ValueError("a leaf certificate needs at least one host name")
    key = new_key()
    start = now()
    until = min(start + validity, ca_cert.not_valid_after_utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
                                 x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .issuer_name(ca_cert.subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start - BACKDATE).not_valid_after(until)
        .add_extension(x509.SubjectAlternativeName([general_name(h) for h in hosts]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(cert_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return cert, key


def pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def private_pem(key: PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 of the certificate (hex): what a browser's certificate viewer shows."""
    return cert.fingerprint(hashes.SHA256()).hex()


def write_atomically(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write ``data`` under a temporary name in the same folder, then rename it over ``path``.

    A reader (or a crash) never sees half a file. The temporary file is created
    0600 (mkstemp) and widened to ``mode`` only when the mode allows it, so a
    private key is never readable by others, not even for a moment.
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_private(path: Path, data: bytes) -> None:
    """A file only the owner can read (private keys), written atomically."""
    write_atomically(path, data, 0o600)


def public_bundle(path: Path, ca_cert: x509.Certificate) -> Path:
    """The public CAs (certifi) plus ``ca_cert``, for the variables that *replace* a client's trust store.

    SSL_CERT_FILE, REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE and AWS_CA_BUNDLE each
    replace the store of whatever reads them, so the public CAs stay in: the
    client's other TLS keeps working wherever it goes. NODE_EXTRA_CA_CERTS
    adds to Node's store and gets the CA alone.
    """
    public = Path(certifi.where()).read_bytes().rstrip(b"\n")
    write_atomically(path, public + b"\n" + pem(ca_cert))
    return path


def server_context(chain: bytes, key: bytes, context: ssl.SSLContext | None = None) -> ssl.SSLContext:
    """A TLS server context (TLS 1.2+, HTTP/1.1) serving ``chain`` with ``key``, both PEM.

    ``ssl`` loads certificates from files only, so they pass through a private
    temporary folder that is gone when this returns. Given ``context``, its
    certificate is replaced (new handshakes get the new one).
    """
    if context is None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.set_alpn_protocols(["http/1.1"])
    with tempfile.TemporaryDirectory(prefix="cognito-harness-leaf-") as folder:  # 0700
        chain_path, key_path = Path(folder) / "chain.pem", Path(folder) / "key.pem"
        chain_path.write_bytes(chain)
        write_private(key_path, key)
        context.load_cert_chain(chain_path, key_path)
    return context


__all__ = ["BACKDATE", "PrivateKey", "ca_certificate", "fingerprint", "general_name", "leaf_certificate", "new_key",
           "now", "pem", "private_pem", "public_bundle", "server_context", "write_atomically", "write_private"]
