"""The AWS endpoint mode for one run: CA, TLS front, proxy and (where possible) a private hosts file.

Apps whose library builds ``https://cognito-idp.<region>.amazonaws.com/<pool>/...``
itself (fastapi-cloudauth, django-cognito-jwt, cognito-express) are tested
unchanged: the pool's issuer is the AWS form, the app trusts a CA made for the
run, and its requests for the AWS host reach the emulator on loopback, through
the ``HTTPS_PROXY`` it is given or, for an app that ignores proxies, through a
private ``/etc/hosts``. Nothing leaves loopback: the proxy refuses every other
host and the front listens on a 127.x address only.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from harness.awsendpoint.ca import RunCA
from harness.awsendpoint.front import TLSFront
from harness.awsendpoint.namespace import HostsIsolation, loopback_candidates, probe, wrapper, write_hosts_file
from harness.awsendpoint.proxy import InterceptingProxy
from harness.awsendpoint.upstream import Upstream
from harness.results import Evidence

HOSTS_FILE_CHOICES = ("auto", "off", "required")
NO_PROXY = "127.0.0.1,localhost,::1"
HTTPS_PORT = 443


class AwsEndpointError(RuntimeError):
    """The mode could not be set up (every check ERRORs with this message)."""


def idp_host(region: str) -> str:
    """The cognito-idp API host (issuer, JWKS and discovery live under it too)."""
    return f"cognito-idp.{region}.amazonaws.com"


def identity_host(region: str) -> str:
    """The cognito-identity (identity pools) API host."""
    return f"cognito-identity.{region}.amazonaws.com"


IDENTITY_ISSUER_HOST = "cognito-identity.amazonaws.com"
"""The identity service's OpenID token issuer: its JWKS and discovery are at the emulator's root."""


@dataclass
class AwsEndpointMode:
    """Starts and stops everything the mode needs; tells what the launched app receives."""

    region: str
    emulator_url: str  # the emulator's plain-HTTP base URL on loopback
    hosts_file: str = "auto"  # "auto" | "off" | "required"
    directory: Path | None = None
    ca: RunCA | None = None
    front: TLSFront | None = None
    proxy: InterceptingProxy | None = None
    isolation: HostsIsolation = field(default_factory=lambda: HostsIsolation(False, "not started"))
    hosts_path: Path | None = None

    @property
    def host(self) -> str:
        return idp_host(self.region)

    @property
    def hosts(self) -> list[str]:
        """Every AWS host the mode answers for (the cognito-idp one first), all on the one emulator."""
        return [self.host, identity_host(self.region), IDENTITY_ISSUER_HOST]

    def start(self) -> AwsEndpointMode:
        if self.hosts_file not in HOSTS_FILE_CHOICES:
            raise AwsEndpointError(f"[aws].hosts_file must be one of {', '.join(HOSTS_FILE_CHOICES)}, "
                                   f"got {self.hosts_file!r}")
        self.directory = Path(tempfile.mkdtemp(prefix="cognito-harness-aws-"))
        try:
            self.ca = RunCA(self.directory)
            self.ca.bundle()
            upstreams = [Upstream(host, self.emulator_url) for host in self.hosts]
            self.isolation = (probe() if self.hosts_file != "off"
                              else HostsIsolation(False, "turned off by [aws].hosts_file = \"off\""))
            self.front = self._start_front(upstreams)
            if self.hosts_file == "required" and not self.isolation.available:
                raise AwsEndpointError("[aws].hosts_file = \"required\" but a private /etc/hosts is not possible "
                                       f"here: {self.isolation.reason}")
            if self.isolation.available:
                self.hosts_path = write_hosts_file(self.directory, self.front.address[0], self.hosts)
            self.proxy = InterceptingProxy({u.host: self.front.address for u in upstreams},
                                           {u.host: u for u in upstreams}).start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start_front(self, upstreams: list[Upstream]) -> TLSFront:
        """On a per-run 127.x.y.z:443 when the hosts file can point there, else on 127.0.0.1 (any port)."""
        if self.isolation.available:
            errors = []
            for address in loopback_candidates():
                try:
                    return TLSFront(self.ca, upstreams, (address, HTTPS_PORT)).start()  # type: ignore[arg-type]
                except OSError as exc:
                    errors.append(f"{address}:{HTTPS_PORT}: {exc.strerror or exc}")
            self.isolation = HostsIsolation(False, f"no loopback address could take port 443 ({errors[-1]})")
        return TLSFront(self.ca, upstreams).start()  # type: ignore[arg-type]

    # --- what the app receives -----------------------------------------------------------------

    def app_env(self, pool_id: str) -> dict[str, str]:
        """The real AWS URLs, the run CA through every usual variable, and the proxy (loopback excluded)."""
        assert self.ca is not None and self.proxy is not None and self.directory is not None
        endpoint = f"https://{self.host}"
        bundle = str(self.directory / "ca-bundle.pem")
        env = {
            "COGNITO_ISSUER": f"{endpoint}/{pool_id}",
            "COGNITO_JWKS_URL": f"{endpoint}/{pool_id}/.well-known/jwks.json",
            "COGNITO_ENDPOINT": endpoint,
            "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER": endpoint,
            "AWS_ENDPOINT_URL_COGNITO_IDENTITY": f"https://{identity_host(self.region)}",
            "SSL_CERT_FILE": bundle,
            "REQUESTS_CA_BUNDLE": bundle,
            "CURL_CA_BUNDLE": bundle,
            "AWS_CA_BUNDLE": bundle,
            "NODE_EXTRA_CA_CERTS": str(self.ca.cert_path),
            "COGNITO_HARNESS_CA_FILE": str(self.ca.cert_path),
        }
        for name in ("HTTPS_PROXY", "HTTP_PROXY"):
            env[name] = env[name.lower()] = self.proxy.url
        env["NO_PROXY"] = env["no_proxy"] = NO_PROXY
        return env

    def command_prefix(self) -> list[str]:
        """Run the app with the private hosts file, when the machine allows it; else nothing."""
        return wrapper(self.hosts_path) if self.hosts_path is not None else []

    # --- evidence and teardown -----------------------------------------------------------------

    def evidence(self) -> list[Evidence]:
        """One note for the run: how the app was routed, and every host the proxy or front refused."""
        data: dict[str, object] = {"hosts": self.hosts, "region": self.region}
        if self.ca is not None:
            data["ca_sha256"] = self.ca.fingerprint
        if self.proxy is not None:
            data.update(proxy=self.proxy.url, tunnels=dict(self.proxy.log.admitted),
                        refused_by_proxy=list(self.proxy.log.refused))
        if self.front is not None:
            data.update(tls_front="%s:%d" % self.front.address, served_by_front=dict(self.front.log.admitted),
                        refused_tls_names=list(self.front.log.refused))
        data["private_hosts_file"] = self.isolation.available
        data["routing"] = ("HTTPS_PROXY and a private /etc/hosts (" + self.isolation.reason + ")"
                           if self.hosts_path is not None else
                           "HTTPS_PROXY only: an app that ignores HTTPS_PROXY cannot reach the AWS host names "
                           f"(private /etc/hosts not possible: {self.isolation.reason})")
        return [Evidence("note", "AWS endpoint mode", data)]

    def stop(self) -> None:
        if self.proxy is not None:
            self.proxy.stop()
        if self.front is not None:
            self.front.stop()
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)


__all__ = ["AwsEndpointError", "AwsEndpointMode", "HOSTS_FILE_CHOICES", "IDENTITY_ISSUER_HOST", "NO_PROXY",
           "identity_host", "idp_host"]
