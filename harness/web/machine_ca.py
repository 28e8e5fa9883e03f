"""The machine CA behind ``serve --tls``: made once, kept, and good for loopback names only.

A browser, the OS or Node is told once to trust one CA (its certificate is
``<cache>/ca/ca.pem``, by default ``~/.cache/cognito-harness/ca``), and every
later ``serve --tls`` presents a fresh leaf certificate signed by it for the
names it answers on (127.0.0.1, localhost, a loopback ``--public-url`` host).

The CA is name-constrained (critical extension) to ``localhost`` (and names
under it), 127.0.0.0/8 and ::1: even sitting in a trust store, and even if
its key were stolen from the cache folder, it cannot vouch for any real
domain. Its key file is 0600 and written atomically; creation happens under
an exclusive lock on the folder, so two processes starting at once agree on
one CA, never a key from one and a certificate from the other.
"""

from __future__ import annotations

import datetime
import fcntl
import functools
import ipaddress
import os
import ssl
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from harness.cachedir import CACHE_ENV, cache_root
from harness.web.certificates import (PrivateKey, ca_certificate, fingerprint, leaf_certificate, new_key, now, pem,
                                      private_pem, public_bundle, server_context, write_atomically, write_private)

CA_FOLDER = "ca"  # under the cache root
CERT_FILE = "ca.pem"
KEY_FILE = "ca.key"
BUNDLE_FILE = "ca-bundle.pem"  # certifi's public CAs + this one
LOCK_FILE = ".lock"
LABEL = "cognito-harness machine CA (loopback only)"
CA_VALIDITY = datetime.timedelta(days=3650)  # trusted once by hand: it should outlive the checkout
LEAF_VALIDITY = datetime.timedelta(days=397)  # re-signed at every start; inside every browser's leaf limit
PERMITTED: tuple[x509.GeneralName, ...] = (
    x509.DNSName("localhost"),
    x509.IPAddress(ipaddress.ip_network("127.0.0.0/8")),
    x509.IPAddress(ipaddress.ip_network("::1/128")),
)
DEFAULT_HOSTS = ("127.0.0.1", "localhost")
CA_BUNDLE_ENV = "COGNITO_HARNESS_CA_BUNDLE"


class MachineCAError(Exception):
    """The machine CA cannot be made, read or used as asked; the message says where and what to do."""


def default_directory(environ: Mapping[str, str] | None = None) -> Path:
    """``<cache root>/ca``; refused when the cache is off (there is then no place to keep it)."""
    root = cache_root(environ)
    if root is None:
        raise MachineCAError(f"{CACHE_ENV}=off keeps nothing on disk, but the machine CA must be kept to be "
                             "trusted: name a folder for it (serve --ca-dir DIR, Emulator(ca_dir=...))")
    return root / CA_FOLDER


def is_loopback_name(host: str) -> bool:
    """Whether the CA's name constraints allow ``host``: localhost (or a name under it), 127.0.0.0/8, ::1."""
    name = host.strip().lower().strip("[]").rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    return address.is_loopback


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock between processes (flock on ``path``), released on exit or on a crash."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing drops the lock


@dataclass(frozen=True)
class MachineCA:
    """The kept CA: its folder, certificate and key. Make or find it with :meth:`load_or_create`."""

    directory: Path
    certificate: x509.Certificate
    key: PrivateKey = field(repr=False)

    @classmethod
    def load_or_create(cls, directory: str | Path | None = None) -> MachineCA:
        """The CA kept in ``directory`` (default :func:`default_directory`), made there first if absent or expired."""
        folder = Path(directory) if directory is not None else default_directory()
        try:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            with _locked(folder / LOCK_FILE):
                return cls._load(folder) or cls._create(folder)
        except OSError as exc:
            raise MachineCAError(f"cannot keep the machine CA in {folder}: {exc.strerror or exc}") from None

    @classmethod
    def _create(cls, folder: Path) -> MachineCA:
        key = new_key()
        cert = ca_certificate(key, LABEL, PERMITTED, CA_VALIDITY)
        write_atomically(folder / CERT_FILE, pem(cert))  # the certificate first: the key's rename commits the CA
        write_private(folder / KEY_FILE, private_pem(key))
        return cls(folder, cert, key)

    @classmethod
    def _load(cls, folder: Path) -> MachineCA | None:
        """The kept CA, or None when there is none yet (or it expired); a damaged one is an error."""
        key_path, cert_path = folder / KEY_FILE, folder / CERT_FILE
        if not key_path.exists():
            return None  # never made (or a crash before its key was committed): make it now
        damaged = (f"the machine CA in {folder} is damaged ({{}}): delete that folder to make a new one, and "
                   "remove the old CA from any trust store you added it to")
        try:
            key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
            cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        except FileNotFoundError:
            raise MachineCAError(damaged.format(f"{CERT_FILE} is missing")) from None
        except ValueError as exc:
            raise MachineCAError(damaged.format(f"unreadable: {exc}")) from None
        if not isinstance(key, PrivateKey) or cert.public_key() != key.public_key():
            raise MachineCAError(damaged.format(f"{CERT_FILE} does not belong to {KEY_FILE}"))
        if cert.not_valid_after_utc <= now() + datetime.timedelta(days=1):
            return None  # expired (or about to): useless in any trust store, so replace it
        return cls(folder, cert, key)

    # --- what clients are given ------------------------------------------------------------------------------

    @property
    def cert_path(self) -> Path:
        return self.directory / CERT_FILE

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the CA certificate (hex), as a browser's certificate viewer shows it."""
        return fingerprint(self.certificate)

    @functools.cached_property
    def _bundle(self) -> Path:
        return public_bundle(self.directory / BUNDLE_FILE, self.certificate)

    def bundle(self) -> Path:
        """certifi's public CAs plus this CA, written (atomically) once per process that loads the CA:
        certifi may have moved on since the last one, but not within a process."""
        return self._bundle

    def client_env(self) -> dict[str, str]:
        """The variables that make clients trust this CA (``serve --tls`` prints them with its exports).

        NODE_EXTRA_CA_CERTS *adds* to Node's roots, so it gets the CA alone.
        AWS_CA_BUNDLE, REQUESTS_CA_BUNDLE and SSL_CERT_FILE *replace* the trust
        store of botocore, requests and OpenSSL-based clients (Python's ssl and
        urllib, so PyJWKClient; curl, Ruby...). They are printed anyway, because
        without them a Python app cannot fetch the https JWKS or call the https
        endpoint with no code change, and they point at certifi's public CAs plus
        this CA, so the shell's other TLS (real AWS, PyPI, public sites) keeps
        verifying; what is lost is only a CA added to the system store by hand,
        which is also what the AWS endpoint mode hands its apps.
        """
        bundle = str(self.bundle())
        return {CA_BUNDLE_ENV: str(self.cert_path), "NODE_EXTRA_CA_CERTS": str(self.cert_path),
                "AWS_CA_BUNDLE": bundle, "REQUESTS_CA_BUNDLE": bundle, "SSL_CERT_FILE": bundle}

    # --- leaf certificates ------------------------------------------------------------------------------------

    def issue(self, hosts: Sequence[str]) -> tuple[bytes, bytes]:
        """(chain PEM: leaf then CA, key PEM) of a new server certificate for loopback ``hosts``."""
        refused = [h for h in hosts if not is_loopback_name(h)]
        if refused:
            raise MachineCAError(f"the machine CA vouches for loopback names only (localhost, 127.0.0.0/8, ::1), "
                                 f"not {', '.join(map(repr, refused))}")
        cert, key = leaf_certificate(self.key, self.certificate, [h.strip("[]") for h in hosts], LEAF_VALIDITY)
        return pem(cert) + pem(self.certificate), private_pem(key)

    def server_context(self, hosts: Sequence[str] = DEFAULT_HOSTS,
                       context: ssl.SSLContext | None = None) -> ssl.SSLContext:
        """A TLS server context presenting a fresh leaf for ``hosts``; given ``context``, its leaf is replaced."""
        chain, key = self.issue(hosts)
        return server_context(chain, key, context)


__all__ = ["CA_BUNDLE_ENV", "DEFAULT_HOSTS", "MachineCA", "MachineCAError", "PERMITTED", "default_directory",
           "is_loopback_name"]
