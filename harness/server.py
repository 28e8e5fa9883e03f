"""The emulator as a server: a Backend behind the HTTP faces on loopback.

``Emulator`` starts in a background thread (in-process, for tests) or in the
foreground (``cognito-harness serve``)::

    with Emulator.start(seed=7) as emu:
        idp = emu.boto3_client()
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from botocore.config import Config

from harness.coordinates import TEST_KEY, PoolCoordinates
from harness.control import face as control_face
from harness.control import coordinates_face, fake_idps_face, identity_face, triggers_face
from harness.control.client import RemoteControl
from harness.control.guard import ControlPlaneGuard, TokenError, is_loopback_host
from harness.control.pool_coordinates import pool_coordinates
from harness.engine.persist import StateFile
from harness.engine.store import Backend
from harness.fake_idps import IdPRegistry
from harness.pooldef import PoolHandle, load_pool
from harness.web import aws_root, fake_idp_endpoints, identity_wellknown, import_upload, oauth2, ui_logo, wellknown
from harness.web.cors import CrossOrigin
from harness.web.http import Request, Response, Router
from harness.web.machine_ca import DEFAULT_HOSTS, MachineCA, is_loopback_name
from harness.web.serving import HTTPService, TLSTermination

FACES = (aws_root, identity_wellknown, wellknown, control_face, fake_idp_endpoints, fake_idps_face,
         triggers_face, identity_face, coordinates_face, oauth2, import_upload, ui_logo)
"""Every HTTP face the emulator serves, in routing order: each exposes ``install(router, backend)``."""

TEST_CREDENTIALS = {"aws_access_key_id": TEST_KEY, "aws_secret_access_key": TEST_KEY}
ONE_ATTEMPT = {"total_max_attempts": 1, "mode": "standard"}
"""boto3 retries: exactly one attempt. (``max_attempts`` counts *retries*: a retried
SignUp after LimitExceeded would come back as UsernameExists and hide what happened.)"""


def _attached_state(path: str | Path | None, backend: Backend) -> StateFile | None:
    """The state file at ``path`` attached to ``backend`` (its saved state restored), or None."""
    if path is None:
        return None
    state = StateFile.open(path)
    try:
        state.attach(backend)
    except BaseException:
        state.close()
        raise
    return state


class _CommitEachAnswer:
    """Wraps the dispatcher when there is a state file: the one point every HTTP request passes, so
    every answer (cognito-idp, cognito-identity, STS, OAuth 2.0 and the hosted UI, the control plane)
    is sent only once the state it changed is committed. A commit that fails turns the answer into
    a 500, never an acknowledgement of something not kept.

    The fake IdPs' own endpoints (harness.web.fake_idp_endpoints, under ``/_idp/``) are answered
    without a commit: they change nothing a state file keeps and never take the store lock, and
    an operation may call them while it holds that lock (OIDC discovery in CreateIdentityProvider),
    so a commit there would wait for it."""

    NOT_KEPT = "/_idp/"

    def __init__(self, inner: ControlPlaneGuard, state: StateFile) -> None:
        self.inner = inner
        self.state = state

    def dispatch(self, request: Request) -> Response:
        if request.path.startswith(self.NOT_KEPT):
            return self.inner.dispatch(request)
        try:
            return self.inner.dispatch(request)
        finally:
            self.state.commit()


def build_router(backend: Backend) -> Router:
    router = Router()
    for face in FACES:
        face.install(router, backend)
    return router


class Emulator:
    """One emulated Cognito (all pools) reachable over HTTP on 127.0.0.1.

    ``control_token``: every ``/_harness`` request must carry it (see
    harness.control.guard, which also refuses foreign Hosts and Origins and
    non-JSON writes); ``allowed_hosts``: more names the control plane answers to.
    ``lambda_endpoint``: the Lambda Invoke API (loopback) that runs trigger ARNs bound to nothing;
    ``isolate_python``: run ``python:`` trigger handlers in worker processes (``serve`` does).
    ``tls``: serve https only, with a leaf signed at each start by the machine CA kept in ``ca_dir``
    (default ~/.cache/cognito-harness/ca, harness.web.machine_ca); ``ca_path`` is its certificate.
    ``state``: a state file or directory (harness.engine.persist): a saved state is restored into the
    backend (``restored``), and every answer is sent only once what it changed is committed there.
    """

    def __init__(
        self,
        backend: Backend | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int | None = None,
        region: str = "us-east-1",
        control_token: str | None = None,
        allowed_hosts: Iterable[str] = (),
        lambda_endpoint: str | None = None,
        isolate_python: bool = False,
        tls: bool = False,
        ca_dir: str | Path | None = None,
        state: str | Path | None = None,
    ) -> None:
        if control_token is None and not is_loopback_host(host):  # refused before anything is bound
            raise TokenError(f"host {host!r} is not a loopback address: the control plane needs a control_token")
        self.backend = backend or Backend(seed=seed, region=region, external_idps=IdPRegistry)
        if lambda_endpoint:
            self.backend.triggers.set_endpoint(lambda_endpoint)
        self.backend.triggers.isolate_python = isolate_python or self.backend.triggers.isolate_python
        self.control_token = control_token
        faces = CrossOrigin(build_router(self.backend))  # CORS for what pages call (harness.web.cors)
        self.guard = ControlPlaneGuard(faces, token=control_token, allowed_hosts=allowed_hosts)
        self.ca = MachineCA.load_or_create(ca_dir) if tls else None  # before binding: a CA error binds nothing
        self._tls_hosts = [*DEFAULT_HOSTS, *([host] if is_loopback_name(host) and host not in DEFAULT_HOSTS else [])]
        termination = TLSTermination(self.ca.server_context(self._tls_hosts)) if self.ca else None
        self.state = _attached_state(state, self.backend)  # StateFileError: nothing is bound
        try:
            self.http = HTTPService(self.guard if self.state is None else _CommitEachAnswer(self.guard, self.state),
                                    host=host, port=port, tls=termination)
        except BaseException:
            if self.state is not None:
                self.state.close()
            raise
        self.guard.allow_host(self.http.host)
        self.backend.settings.public_url = self.url
        if self.ca is not None:  # the pool's calls to its own https endpoints (the fake IdPs) trust the machine CA
            self.backend.settings.outbound_ca = str(self.ca.bundle())
        self.pool: PoolCoordinates | None = None  # the pool load_pool() made (harness.start() loads one)
        self.pool_handle: PoolHandle | None = None  # the same with its users and passwords, groups, clients
        if self.restored and self.backend.pools:
            self.pool = pool_coordinates(self.backend)  # the saved state's first pool: the one first loaded

    def set_public_url(self, url: str) -> None:
        """Where apps reach this emulator (issuer, JWKS); its host is one the control plane answers to."""
        if self.ca is not None:
            self._vouch_for(url)
        self.guard.allow_host(url)
        self.backend.settings.public_url = url.rstrip("/")

    def _vouch_for(self, url: str) -> None:
        """Under TLS the public URL is https on a loopback name, which the served leaf then names too."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        if parts.scheme != "https":
            raise ValueError(f"{url}: the emulator serves https only (tls), so its public URL is https")
        if not is_loopback_name(host):
            raise ValueError(f"{url}: the machine CA vouches for loopback names only (localhost, 127.0.0.0/8, "
                             f"::1), not {host!r}")
        if host not in self._tls_hosts and self.ca is not None and self.http.tls is not None:
            self._tls_hosts.append(host)
            self.ca.server_context(self._tls_hosts, self.http.tls.context)  # new handshakes get the new leaf

    # --- lifecycle -----------------------------------------------------------------

    @classmethod
    def start(cls, **kwargs: Any) -> Emulator:
        """Start in a background thread; returns at once, ready for requests."""
        emu = cls(**kwargs)
        emu.http.start()
        return emu

    def serve_forever(self) -> None:
        self.http.serve_forever()

    def stop(self) -> None:
        self.http.stop()
        self.backend.triggers.close()  # trigger worker processes end with the server
        if self.state is not None:
            self.state.close()  # what in-process calls changed since the last answer, then the file

    @property
    def restored(self) -> bool:
        """Whether the state came from the state file (then no pool should be loaded on top of it)."""
        return self.state is not None and self.state.loaded

    def __enter__(self) -> Emulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def load_pool(self, definition: str | Path | None = None, issuer: str | None = None) -> PoolCoordinates:
        """Create the pool a definition file describes (default: fixtures/pools/default.toml, as ``serve``
        does); ``emu.pool`` and ``emu.pool_handle`` then describe it (its first public client)."""
        handle = load_pool(self.backend, definition, issuer=issuer)
        if self.state is not None:
            self.state.commit()  # the pool is in the state file before anything uses it
        self.pool_handle = handle
        self.pool = pool_coordinates(self.backend, handle.pool_id, handle.client.client_id if handle.clients else None)
        return self.pool

    # --- coordinates -----------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"https://{self.http.host}:{self.http.port}" if self.ca else self.http.url

    @property
    def ca_path(self) -> Path | None:
        """The machine CA's certificate (PEM) that clients must trust, when serving TLS."""
        return self.ca.cert_path if self.ca else None

    @property
    def region(self) -> str:
        return self.backend.settings.region

    def remote_control(self, **kwargs: Any) -> RemoteControl:
        """The control plane over HTTP (:class:`RemoteControl`), with this emulator's control token."""
        if self.ca is not None and "session" not in kwargs:
            kwargs["session"] = session = requests.Session()
            session.verify = str(self.ca.cert_path)
            session.trust_env = False  # else $REQUESTS_CA_BUNDLE overrides session.verify (and a proxy takes loopback)
        return RemoteControl(self.url, token=self.control_token or "", **kwargs)

    def boto3_client(self, **kwargs: Any) -> Any:
        """A real boto3 cognito-idp client pointed at this emulator."""
        return self._aws_client("cognito-idp", **kwargs)

    def identity_client(self, **kwargs: Any) -> Any:
        """A real boto3 cognito-identity client (identity pools) pointed at this emulator."""
        return self._aws_client("cognito-identity", **kwargs)

    def sts_client(self, **kwargs: Any) -> Any:
        """A real boto3 STS client (the classic flow's AssumeRoleWithWebIdentity) pointed at this emulator."""
        return self._aws_client("sts", **kwargs)

    def _aws_client(self, service: str, **kwargs: Any) -> Any:
        options: dict[str, Any] = {
            "endpoint_url": self.url,
            "region_name": self.region,
            "config": Config(retries=ONE_ATTEMPT),
            **TEST_CREDENTIALS,
        }
        if self.ca is not None:
            options["verify"] = str(self.ca.cert_path)  # botocore trusts exactly the machine CA here
        options.update(kwargs)
        import boto3  # third-party, deliberately lazy: `serve` never needs it, and it costs ~0.2 s of start-up

        return boto3.client(service, **options)
