"""A certificate authority made for one run, and the leaf certificates the TLS front serves.

The app under test must trust the front's certificate for the real AWS host
names, so the run makes its own CA, hands its certificate to the app through
the usual CA-bundle variables, and signs leaf certificates for exactly the
host names it serves. The CA's private key lives only in memory and the CA is
name-constrained to ``amazonaws.com``: even while it sits in the app's trust
bundle it cannot vouch for any other domain.
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass
from pathlib import Path

import certifi
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_DOMAIN = "amazonaws.com"
VALIDITY = datetime.timedelta(days=2)
BACKDATE = datetime.timedelta(hours=1)  # tolerate an app whose clock is slightly behind


@dataclass(frozen=True)
class LeafCertificate:
    """A server certificate (chain file: leaf then CA) and its key, for ``ssl.load_cert_chain``."""

    hosts: tuple[str, ...]
    chain_path: Path
    key_path: Path


def _write_private(path: Path, data: bytes) -> None:
    """Write a file only the owner can read (private keys)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


class RunCA:
    """A fresh CA (ECDSA P-256) whose certificate is written to ``directory/ca.pem``."""

    def __init__(self, directory: Path, label: str = "cognito-harness run CA") -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "cognito-harness"),
                          x509.NameAttribute(NameOID.COMMON_NAME, label)])
        public = self._key.public_key()
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(name).issuer_name(name).public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - BACKDATE).not_valid_after(now + VALIDITY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.NameConstraints(permitted_subtrees=[x509.DNSName(CA_DOMAIN)], excluded_subtrees=None),
                           critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .sign(self._key, hashes.SHA256())
        )
        self.cert_path = self.directory / "ca.pem"
        self.cert_path.write_bytes(_pem(self.certificate))
        self._issued = 0

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the CA certificate (hex), for the run's evidence."""
        return self.certificate.fingerprint(hashes.SHA256()).hex()

    def issue(self, hosts: list[str] | tuple[str, ...]) -> LeafCertificate:
        """A server certificate for ``hosts`` (DNS names under amazonaws.com), signed by this CA."""
        if not hosts:
            raise ValueError("a leaf certificate needs at least one host name")
        for host in hosts:
            if host != CA_DOMAIN and not host.endswith("." + CA_DOMAIN):
                raise ValueError(f"the run CA only signs names under {CA_DOMAIN}, not {host!r}")
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])]))
            .issuer_name(self.certificate.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - BACKDATE).not_valid_after(now + VALIDITY)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(h) for h in hosts]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=False, crl_sign=False,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self._key.public_key()), critical=False)
            .sign(self._key, hashes.SHA256())
        )
        self._issued += 1
        chain_path = self.directory / f"leaf-{self._issued}.pem"
        key_path = self.directory / f"leaf-{self._issued}.key"
        chain_path.write_bytes(_pem(cert) + _pem(self.certificate))
        _write_private(key_path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                   serialization.NoEncryption()))
        return LeafCertificate(tuple(hosts), chain_path, key_path)

    def bundle(self) -> Path:
        """The public CAs (certifi) plus this CA, for SSL_CERT_FILE / REQUESTS_CA_BUNDLE / AWS_CA_BUNDLE.

        Those variables *replace* an app's trust store, so the public CAs stay in
        (an app's other TLS keeps working wherever it may go); NODE_EXTRA_CA_CERTS
        adds to Node's store and gets ``cert_path`` alone.
        """
        path = self.directory / "ca-bundle.pem"
        public = Path(certifi.where()).read_bytes().rstrip(b"\n")
        path.write_bytes(public + b"\n" + _pem(self.certificate))
        return path


__all__ = ["CA_DOMAIN", "LeafCertificate", "RunCA"]
