"""The emulator as a server: a Backend behind the HTTP faces on loopback.

``Emulator`` starts in a background thread (in-process, for tests) or in the
foreground (``cognito-harness serve``)::

    with Emulator.start(seed=7) as emu:
        idp = emu.boto3_client()
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from botocore.config import Config

from harness.coordinates import TEST_KEY
from harness.control import face as control_face
from harness.control import fake_idps_face, identity_face, triggers_face
from harness.control.client import RemoteControl
from harness.control.guard import ControlPlaneGuard, TokenError, is_loopback_host
from harness.engine.store import Backend
from harness.fake_idps import IdPRegistry
from harness.web import aws_root, fake_idp_endpoints, identity_wellknown, oauth2, wellknown
from harness.web.http import Router
from harness.web.serving import HTTPService

FACES = (aws_root, identity_wellknown, wellknown, control_face, fake_idp_endpoints, fake_idps_face,
         triggers_face, identity_face, oauth2)
"""Every HTTP face the emulator serves, in routing order: each exposes ``install(router, backend)``."""

TEST_CREDENTIALS = {"aws_access_key_id": TEST_KEY, "aws_secret_access_key": TEST_KEY}
ONE_ATTEMPT = {"total_max_attempts": 1, "mode": "standard"}
"""boto3 retries: exactly one attempt. (``max_attempts`` counts *retries*: a retried
SignUp after LimitExceeded would come back as UsernameExists and hide what happened.)"""


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
    ) -> None:
        if control_token is None and not is_loopback_host(host):  # refused before anything is bound
            raise TokenError(f"host {host!r} is not a loopback address: the control plane needs a control_token")
        self.backend = backend or Backend(seed=seed, region=region, external_idps=IdPRegistry)
        if lambda_endpoint:
            self.backend.triggers.set_endpoint(lambda_endpoint)
        self.backend.triggers.isolate_python = isolate_python or self.backend.triggers.isolate_python
        self.control_token = control_token
        self.guard = ControlPlaneGuard(build_router(self.backend), token=control_token, allowed_hosts=allowed_hosts)
        self.http = HTTPService(self.guard, host=host, port=port)
        self.guard.allow_host(self.http.host)
        self.backend.settings.public_url = self.http.url

    def set_public_url(self, url: str) -> None:
        """Where apps reach this emulator (issuer, JWKS); its host is one the control plane answers to."""
        self.guard.allow_host(url)
        self.backend.settings.public_url = url.rstrip("/")

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

    def __enter__(self) -> Emulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- coordinates -----------------------------------------------------------------

    @property
    def url(self) -> str:
        return self.http.url

    @property
    def region(self) -> str:
        return self.backend.settings.region

    def remote_control(self, **kwargs: Any) -> RemoteControl:
        """The control plane over HTTP (:class:`RemoteControl`), with this emulator's control token."""
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
        options.update(kwargs)
        import boto3  # third-party, deliberately lazy: `serve` never needs it, and it costs ~0.2 s of start-up

        return boto3.client(service, **options)
