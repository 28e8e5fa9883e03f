"""Where the pool lives during a run: the in-process emulator, or another cognito-idp endpoint.

* :class:`EmulatorBackend` (default): an in-process emulator with its control
  plane. Before every scenario the emulator is reset to the run seed and the
  pool definition is loaded again, so ids, keys and users are the same whatever
  ran before, and the app's env (pool id, client id) stays valid all run long.
* :class:`RemoteBackend` (``--backend URL``): moto server, LocalStack, another
  ``cognito-harness serve`` or a real pool. There is no control plane: the
  pool is created once per run through the cognito-idp API in the spec's
  shape (with the default chain's credentials: harness/runner/credentials.py),
  its issuer and JWKS are discovered (harness/runner/discovery.py), scenarios
  get fresh seeded users, scenarios that need the control plane are skipped
  with the reason, and every pool the run created is deleted when it stops
  (unless ``keep``). A backend that cannot be reached, refuses the
  credentials or cannot make the pool raises :class:`BackendUnavailable`
  before any check runs.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from botocore import xform_name
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from harness.control import Control
from harness.coordinates import PoolCoordinates, hosted_ui_url
from harness.fake_idps import FakeIdPs
from harness.pooldef.shape import PoolShape
from harness.pooldef.build import DEFAULT_APP_CLIENT, ClientHandle, PoolDefinitionError
from harness.results import Evidence
from harness.runner.credentials import CredentialSource, CredentialsError, chain_region, credential_session
from harness.runner.discovery import Discovery, DiscoveryError, discover
from harness.runner.foreign import probe_params, unsupported
from harness.runner.pool_plan import PoolPlan
from harness.runner.trigger_bindings import BoundTriggers
from harness.runner.users import scenario_seed
from harness.server import ONE_ATTEMPT, Emulator

APP_CLIENT = DEFAULT_APP_CLIENT
OTHER_CLIENT = "other-app"
DEFAULT_REGION = "us-east-1"


class BackendError(RuntimeError):
    """The pool backend could not be prepared (unreachable, rejected the definition): ERROR."""


class BackendUnavailable(BackendError):
    """A foreign backend that cannot serve the run at all (unreachable, bad URL or credentials, refused the
    pool): one error naming the URL, exit 2, before any check runs."""


def _client_params(pool_id: str, name: str) -> dict[str, Any]:
    return {
        "UserPoolId": pool_id,
        "ClientName": name,
        "GenerateSecret": False,
        "ExplicitAuthFlows": ["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_USER_PASSWORD_AUTH",
                              "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        "EnableTokenRevocation": True,
        "PreventUserExistenceErrors": "ENABLED",
    }


def provision(idp: Any, plan: PoolPlan, created: list[str] | None = None) -> tuple[str, dict[str, dict[str, Any]]]:
    """Create the run's pool through the cognito-idp API in the spec's shape; returns (pool_id, clients by name).

    The pool gets the definition's settings (username attributes or aliases,
    case sensitivity, verification, recovery, password policy, custom
    attributes and the tenancy's), so the users the checks make fit it as
    they fit the emulator's; the clients and groups are the run's own. The
    pool id goes into ``created`` as soon as it exists, so a failure further
    on still leaves it to be deleted.
    """
    pool = idp.create_user_pool(**plan.create_params())["UserPool"]
    pool_id = pool["Id"]
    if created is not None:
        created.append(pool_id)
    mfa = plan.mfa_params()
    if mfa is not None:  # TOTP and email MFA cannot be turned on by CreateUserPool
        idp.set_user_pool_mfa_config(UserPoolId=pool_id, **mfa)
    clients = {}
    for name in (APP_CLIENT, OTHER_CLIENT):
        client = idp.create_user_pool_client(**_client_params(pool_id, name))["UserPoolClient"]
        clients[name] = client
    for group in plan.groups:
        idp.create_group(UserPoolId=pool_id, GroupName=group)
    return pool_id, clients


class PoolBackend:
    """Common shape: ``idp`` (boto3 client), ``control`` (or None), ``prepare(seed)`` -> coordinates."""

    name = "backend"
    control: Any = None
    idp: Any = None
    cognito_identity: Any = None  # boto3 cognito-identity client, where the backend has identity pools

    jwks: dict[str, Any] | None = None  # the pool's public keys, where bent tokens are made without the control plane
    foreign = False  # another endpoint than the in-process emulator: a failure to start is BackendUnavailable

    def fake_idps(self) -> FakeIdPs | None:
        """The fake external IdPs the pool can federate with (only the in-process emulator has them)."""
        return None

    def __init__(self) -> None:
        self._shapes: dict[str, PoolShape] = {}

    def start(self) -> None: ...
    def stop(self) -> None: ...

    def notes(self) -> list[str]:
        """What the run should tell about the backend (credentials used, issuer found, pools kept or deleted)."""
        return []

    def track_pool(self, pool_id: str) -> None:
        """A check made another pool (CreateUserPool): a backend that keeps state past the run deletes it too."""

    def lacks(self, operation: str) -> str | None:
        """Why the backend cannot do ``operation`` (a foreign backend's gap), or None."""
        return None

    def target_env(self) -> dict[str, str]:
        """Variables the launched app receives from the backend (the run directory its triggers share)."""
        return {}

    def function_logs(self) -> list[Evidence]:
        """The output of the app's trigger functions the backend ran (their CloudWatch, in a real pool)."""
        return []

    def prepare(self, seed: int, scenario_id: str | None = None) -> PoolCoordinates:
        raise NotImplementedError

    def now(self) -> float:
        return time.time()

    def pool_shape(self, pool_id: str) -> PoolShape:
        """How the pool's users sign in (DescribeUserPool, once per pool: checks never change it)."""
        if pool_id not in self._shapes:
            self._shapes[pool_id] = PoolShape.read(self.idp, pool_id)
        return self._shapes[pool_id]


class EmulatorBackend(PoolBackend):
    """The in-process emulator: full control plane, fresh pool state per scenario."""

    name = "emulator"

    def __init__(self, plan: PoolPlan, seed: int, region: str = DEFAULT_REGION) -> None:
        super().__init__()
        self.plan = plan
        self.seed = seed
        self.region = region
        self.emulator: Any = None
        self._loaded: tuple[int, dict[str, Any], PoolCoordinates] | None = None
        self.functions = BoundTriggers(plan.triggers, Path(plan.spec_dir or "."))

    def target_env(self) -> dict[str, str]:
        return self.functions.target_env() if self.plan.triggers else {}

    def function_logs(self) -> list[Evidence]:
        return [Evidence("log", f"trigger function {trigger} (its output)", {"output": text})
                for trigger, text in self.functions.logs().items() if text]

    def start(self) -> None:
        self.emulator = Emulator.start(seed=self.seed, region=self.region)
        self.control = Control(self.emulator.backend)
        self.idp = self.emulator.boto3_client()
        self.cognito_identity = self.emulator.identity_client()

    def fake_idps(self) -> FakeIdPs | None:
        return FakeIdPs(self.emulator.backend) if self.emulator is not None else None

    def stop(self) -> None:
        if self.emulator is not None:
            self.emulator.stop()
            self.emulator = None
        self.functions.stop()

    def prepare(self, seed: int, scenario_id: str | None = None) -> PoolCoordinates:
        """Fresh pool state: reset to ``seed`` and load the definition, then freeze the clock at the
        real now (the app judges exp by its own clock).

        The state right after the first load (signing keys made) is
        snapshotted; later scenarios restore that snapshot, which is the same
        state without paying for the password hashing again. For a scenario,
        the id stream then continues from a seed derived from the run seed and
        the scenario id: its users, subs and session ids are the same whatever
        ran before, yet never collide with another scenario's in the app's own
        state (data keyed by sub, revoked session ids).
        """
        if self._loaded is None or self._loaded[0] != seed:
            coords = self._load(seed)
            self.control.keys(coords.pool_id)  # make the signing keys now, so every scenario shares them
            self._loaded = (seed, self.control.snapshot(include_secrets=True), coords)  # restorable: keys, hashes
        else:
            self.control.restore(self._loaded[1])
        if scenario_id is not None:
            self.emulator.backend.ids.reseed(scenario_seed(seed, scenario_id) % 2**63)
        self.control.freeze(time.time())
        return self._loaded[2]

    def _load(self, seed: int) -> PoolCoordinates:
        self.control.reset(seed)
        self.control.freeze(time.time())
        try:
            handle = self.plan.load(self.emulator.backend, issuer="aws" if self.plan.aws_endpoints else None)
        except PoolDefinitionError as exc:
            raise BackendError(f"pool definition: {exc}") from None
        for group in self.plan.groups:  # the spec's tenancy groups, when the definition lacks them
            if group not in handle.groups:
                self.idp.create_group(UserPoolId=handle.pool_id, GroupName=group)
        if not handle.clients:  # a definition without clients: the app gets a public one with every auth flow
            created = self.idp.create_user_pool_client(**_client_params(handle.pool_id, APP_CLIENT))["UserPoolClient"]
            handle.clients[APP_CLIENT] = ClientHandle(APP_CLIENT, created["ClientId"], None)
        if self.plan.client is not None and self.plan.client not in handle.clients:
            raise BackendError(f"pool definition {self.plan.path()} has no client {self.plan.client!r} "
                               f"(known: {', '.join(handle.clients)})")
        app = handle.clients[self.plan.client] if self.plan.client else handle.client
        others = [c for c in handle.clients.values() if c.client_id != app.client_id]
        other_id = others[0].client_id if others else ""
        other_secret = (others[0].client_secret or "") if others else ""
        if not other_id:  # client_id-confusion checks need a second client of the same pool
            other_id = self.idp.create_user_pool_client(**_client_params(handle.pool_id, OTHER_CLIENT))[
                "UserPoolClient"]["ClientId"]
        coords = PoolCoordinates(
            region=handle.region,
            pool_id=handle.pool_id,
            client_id=app.client_id,
            client_secret=app.client_secret or "",
            issuer=handle.issuer,
            jwks_url=handle.jwks_url,
            endpoint=self.emulator.url,
            domain=hosted_ui_url(self.emulator.url, handle.pool_id),
            other_client_id=other_id,
            other_client_secret=other_secret,
            identity_pool_id=handle.identity_pool.identity_pool_id if handle.identity_pool else "",
        )
        self.functions.bind(self.emulator.backend, coords)  # the spec's [triggers.*], before the snapshot
        return coords

    def now(self) -> float:
        return self.control.now()


class RemoteBackend(PoolBackend):
    """Another cognito-idp endpoint (moto server, LocalStack, ``serve``, a real pool): no control plane.

    ``start`` checks the URL and the credentials (one ListUserPools call);
    the first ``prepare`` makes the pool and discovers its issuer; ``stop``
    deletes every pool the run made (``keep``: leaves them, and says so).
    Pools the run did not make are never touched.
    """

    foreign = True

    def __init__(self, url: str, plan: PoolPlan, region: str | None = None, keep: bool = False) -> None:
        super().__init__()
        self.url = url.rstrip("/")
        self.name = self.url
        self.plan = plan
        self.region = region or region_of(self.url)
        self.keep = keep
        self.created: list[str] = []  # pool ids this run made, in order
        self.credentials: CredentialSource | None = None
        self.discovery: Discovery | None = None
        self._notes: list[str] = []
        self._coords: PoolCoordinates | None = None
        self._gaps: dict[str, str | None] = {}

    def start(self) -> None:
        try:
            session, self.credentials = credential_session(self.url, self.region)
        except CredentialsError as exc:
            raise BackendUnavailable(f"backend {self.url}: {exc}") from None
        self.idp = session.client("cognito-idp", endpoint_url=self.url,
                                  config=Config(retries=ONE_ATTEMPT, connect_timeout=5, read_timeout=15))
        self._notes.append(f"backend {self.url}: region {self.region}, credentials from "
                           f"{self.credentials.describe()}")
        try:
            self.idp.list_user_pools(MaxResults=1)
        except ClientError as exc:
            if _code(exc) != "AccessDeniedException":  # valid credentials without ListUserPools: go on
                raise BackendUnavailable(f"backend {self.url} refused the run's credentials "
                                         f"({self.credentials.describe()}): {_aws_error(exc)}") from None
        except BotoCoreError as exc:  # connection refused, DNS, TLS, timeouts
            raise BackendUnavailable(f"backend {self.url} cannot be reached: {exc}") from None

    def target_env(self) -> dict[str, str]:
        return self.credentials.app_env() if self.credentials is not None else {}

    def prepare(self, seed: int, scenario_id: str | None = None) -> PoolCoordinates:
        """The pool is made (and its issuer discovered) once per run; scenarios differ by their seeded users."""
        if self._coords is not None:
            return self._coords
        try:
            pool_id, clients = provision(self.idp, self.plan, self.created)
        except ClientError as exc:
            raise BackendUnavailable(f"backend {self.url} could not create the run's pool: {_aws_error(exc)}") from None
        except BotoCoreError as exc:
            raise BackendUnavailable(f"backend {self.url} could not create the run's pool: {exc}") from None
        app = clients[APP_CLIENT]
        try:
            self.discovery = discover(self.idp, self.url, pool_id, app["ClientId"], self.pool_shape(pool_id))
        except (DiscoveryError, ClientError, BotoCoreError) as exc:
            raise BackendUnavailable(f"backend {self.url}: {exc}") from None
        self.jwks = self.discovery.jwks
        region = pool_id.split("_", 1)[0] if _REGION.fullmatch(pool_id.split("_", 1)[0]) else self.region
        self._notes.append(f"backend {self.url}: made pool {pool_id} (clients {', '.join(clients)}); "
                           f"{self.discovery.describe()}")
        self._coords = PoolCoordinates(
            region=region,
            pool_id=pool_id,
            client_id=app["ClientId"],
            client_secret=app.get("ClientSecret") or "",
            issuer=self.discovery.issuer,
            jwks_url=self.discovery.jwks_uri,
            endpoint=self.url,
            domain=self.url,
            other_client_id=clients[OTHER_CLIENT]["ClientId"],
        )
        return self._coords

    def track_pool(self, pool_id: str) -> None:
        if pool_id and pool_id not in self.created:
            self.created.append(pool_id)

    def lacks(self, operation: str) -> str | None:
        """Asked once per operation: a call with placeholders (a token no pool issued) that any Cognito answers
        with one of the operation's errors; a 5xx outside them means the backend does not implement it."""
        if operation not in self._gaps:
            coords = self.prepare(0)
            try:
                getattr(self.idp, xform_name(operation))(**probe_params(operation, coords.pool_id, coords.client_id))
                self._gaps[operation] = None
            except ClientError as exc:
                self._gaps[operation] = unsupported(self.url, operation, exc)
        return self._gaps[operation]

    def stop(self) -> None:
        """Delete every pool the run made, newest first (``keep``: list them instead); failures are noted."""
        if self.idp is None:
            return
        for pool_id in reversed(self.created):
            if self.keep:
                self._notes.append(f"backend {self.url}: kept pool {pool_id} (--keep); delete it with: aws "
                                   f"cognito-idp delete-user-pool --user-pool-id {pool_id} --endpoint-url {self.url}")
                continue
            try:
                self.idp.delete_user_pool(UserPoolId=pool_id)
                self._notes.append(f"backend {self.url}: deleted pool {pool_id}")
            except (ClientError, BotoCoreError) as exc:
                self._notes.append(f"backend {self.url}: could NOT delete pool {pool_id}: {exc}")
        self.created = [] if not self.keep else self.created

    def notes(self) -> list[str]:
        """The notes since the last call (start: credentials; prepare: the pool and its issuer; stop: cleanup)."""
        out, self._notes = self._notes, []
        return out


_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d")
_AWS_HOST = re.compile(r"cognito-idp(?:-fips)?\.([a-z]{2}(?:-[a-z]+)+-\d)\.amazonaws\.com(?:\.cn)?")


def region_of(url: str) -> str:
    """The region of an AWS endpoint URL (``cognito-idp.<region>.amazonaws.com``), else the chain's
    configured region, else us-east-1."""
    match = _AWS_HOST.fullmatch((urlsplit(url).hostname or "").lower())
    return match.group(1) if match else (chain_region() or DEFAULT_REGION)


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _aws_error(exc: ClientError) -> str:
    """The AWS error as AWS words it: ``Code: Message``."""
    error = exc.response.get("Error", {})
    return f"{error.get('Code', '?')}: {error.get('Message', '') or exc}"


def make_backend(backend: str, plan: PoolPlan, seed: int, keep: bool = False) -> PoolBackend:
    if backend in ("", "emulator"):
        return EmulatorBackend(plan, seed)
    if not backend.startswith(("http://", "https://")) or not urlsplit(backend).hostname:
        raise BackendUnavailable(f"--backend must be 'emulator' or an http(s) URL of a cognito-idp endpoint, "
                                 f"got {backend!r}")
    if plan.aws_endpoints:
        raise BackendUnavailable(f"the spec turns on [aws].endpoints, which serves the emulator's pool at the AWS "
                                 f"host names; --backend {backend} is another cognito-idp endpoint: run with the "
                                 "emulator backend, or turn [aws].endpoints off and give the app that backend's URLs")
    return RemoteBackend(backend, plan, keep=keep)


__all__ = ["BackendError", "BackendUnavailable", "EmulatorBackend", "PoolBackend", "PoolPlan", "RemoteBackend",
           "make_backend", "provision", "region_of", "APP_CLIENT", "OTHER_CLIENT"]
