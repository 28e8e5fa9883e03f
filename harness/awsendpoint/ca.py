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
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509

from harness.web.certificates import (ca_certificate, fingerprint, leaf_certificate, new_key, pem, private_pem,
                                      public_bundle, write_private)

CA_DOMAIN = "amazonaws.com"
VALIDITY = datetime.timedelta(days=2)


@dataclass(frozen=True)
class LeafCertificate:
    """A server certificate (chain file: leaf then CA) and its key, for ``ssl.load_cert_chain``."""

    hosts: tuple[str, ...]
    chain_path: Path
    key_path: Path


class RunCA:
    """A fresh CA (ECDSA P-256) whose certificate is written to ``directory/ca.pem``."""

    def __init__(self, directory: Path, label: str = "cognito-harness run CA") -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._key = new_key()
        self.certificate = ca_certificate(self._key, label, [x509.DNSName(CA_DOMAIN)], VALIDITY)
        self.cert_path = self.directory / "ca.pem"
        self.cert_path.write_bytes(pem(self.certificate))
        self._issued = 0

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the CA certificate (hex), for the run's evidence."""
        return fingerprint(self.certificate)

    def issue(self, hosts: list[str] | tuple[str, ...]) -> LeafCertificate:
        """A server certificate for ``hosts`` (DNS names under amazonaws.com), signed by this CA."""
        if not hosts:
            raise ValueError("a leaf certificate needs at least one host name")
        for host in hosts:
            if host != CA_DOMAIN and not host.endswith("." + CA_DOMAIN):
                raise ValueError(f"the run CA only signs names under {CA_DOMAIN}, not {host!r}")
        cert, key = leaf_certificate(self._key, self.certificate, hosts, VALIDITY, common_name=hosts[0])
        self._issued += 1
        chain_path = self.directory / f"leaf-{self._issued}.pem"
        key_path = self.directory / f"leaf-{self._issued}.key"
        chain_path.write_bytes(pem(cert) + pem(self.certificate))
        write_private(key_path, private_pem(key))
        return LeafCertificate(tuple(hosts), chain_path, key_path)

    def bundle(self) -> Path:
        """The public CAs (certifi) plus this CA, for SSL_CERT_FILE / REQUESTS_CA_BUNDLE / AWS_CA_BUNDLE
        (harness.web.certificates.public_bundle says why the public CAs stay in)."""
        return public_bundle(self.directory / "ca-bundle.pem", self.certificate)


__all__ = ["CA_DOMAIN", "LeafCertificate", "RunCA"]
