"""Where the pool lives during a run: the in-process emulator, or another cognito-idp endpoint.

* :class:`EmulatorBackend` (default): an in-process emulator with its control
  plane. Before every scenario the emulator is reset to the run seed and the
  pool definition is loaded again, so ids, keys and users are the same whatever
  ran before, and the app's env (pool id, client id) stays valid all run long.
* :class:`RemoteBackend` (``--backend URL``): moto server, LocalStack or a real
  pool. There is no control plane: the pool is created once per run through
  the cognito-idp API in the spec's shape, scenarios get fresh seeded users, and scenarios that
  need the control plane are skipped with the reason.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.config import Config

from harness.control import Control
from harness.coordinates import PoolCoordinates, hosted_ui_url
from harness.fake_idps import FakeIdPs
from harness.pooldef.shape import PoolShape
from harness.pooldef.build import (DEFAULT_APP_CLIENT, ClientHandle, PoolDefinitionError, PoolHandle, build_pool,
                             create_pool_params, default_pool_path, inline_layout, layered, mfa_config_params,
                             read_definition, with_custom_attributes)
from harness.results import Evidence
from harness.runner.spec import TargetSpec
from harness.runner.spec_triggers_model import TriggerBinding
from harness.runner.trigger_bindings import BoundTriggers
from harness.runner.users import scenario_seed
from harness.server import ONE_ATTEMPT, TEST_CREDENTIALS, Emulator

APP_CLIENT = DEFAULT_APP_CLIENT
OTHER_CLIENT = "other-app"
DEFAULT_REGION = "us-east-1"


class BackendError(RuntimeError):
    """The pool backend could not be prepared (unreachable, rejected the definition): ERROR."""


@dataclass
class PoolPlan:
    """The pool a run needs, from the spec: tenancy groups, the tenant attribute, two app clients."""

    name: str = "harness-target"
    groups: list[str] = field(default_factory=list)
    custom_attributes: list[str] = field(default_factory=list)
    definition: dict[str, Any] | None = None  # the definition as built (describe() fills it)
    definition_path: str | None = None
    client: str | None = None
    inline: dict[str, Any] | None = None  # the spec's own [pool] keys, when it describes the pool inline
    inline_source: str = ""  # "<spec file> [pool]", for errors
    aws_endpoints: bool = False  # AWS endpoint mode: the pool's issuer is https://cognito-idp.<region>.amazonaws.com/<id>
    triggers: tuple[TriggerBinding, ...] = ()  # the spec's [triggers.*]: the app's functions, bound to the pool
    spec_dir: str = ""

    @classmethod
    def for_spec(cls, spec: TargetSpec) -> PoolPlan:
        t = spec.tenancy
        groups: list[str] = []
        for tenant in t.tenants:
            for g in (t.member_group_for(tenant), t.admin_group_for(tenant)):
                if g and g not in groups:
                    groups.append(g)
        attrs = sorted({name for tenant in t.tenants for name in t.grants(tenant, admin=True)[1]})
        path = spec.pool_definition_path()
        return cls(groups=groups, custom_attributes=attrs, definition_path=str(path) if path else None,
                   client=spec.pool.client, inline=spec.pool.inline, inline_source=f"{spec.path} [pool]",
                   aws_endpoints=spec.aws.endpoints, triggers=tuple(spec.triggers.bindings.values()),
                   spec_dir=str(spec.spec_dir))

    def path(self) -> str:
        """Where the definition comes from: the spec's inline [pool] (over a file it names), a definition
        file, or the bundled one."""
        if self.inline is not None:
            return f"{self.definition_path} + {self.inline_source}" if self.definition_path else self.inline_source
        return self.definition_path or str(default_pool_path())

    def definition_data(self) -> dict[str, Any]:
        """The definition (file layout, or the inline [pool] layout) with the tenancy attributes it lacks added.

        The spec's tenancy may keep the tenant in a custom attribute
        (``custom:tenant_id``); a pool without it would refuse every tenant
        user, so it is added to the schema (String, mutable), whatever the backend.
        """
        if self.inline is None:
            data = read_definition(self.path())
        else:
            base = inline_layout(read_definition(self.definition_path)) if self.definition_path else {}
            data = layered(base, copy.deepcopy(self.inline))
        return with_custom_attributes(data, self.custom_attributes, inline=self.inline is not None)

    def load(self, backend: Any, issuer: str | None = None) -> PoolHandle:
        """Build the pool in an emulator engine backend (the definition's errors name its file or the spec)."""
        return build_pool(backend, self.definition_data(), self.path(), issuer=issuer, inline=self.inline is not None)

    def create_params(self) -> dict[str, Any]:
        """CreateUserPool's parameters for a foreign backend: the same shape, policy and schema as the emulator's."""
        params = create_pool_params(self.definition_data(), self.path(), inline=self.inline is not None)
        params["PoolName"] = self.name
        return params

    def mfa_params(self) -> dict[str, Any] | None:
        """SetUserPoolMfaConfig's parameters for a foreign backend (the definition's mfa and mfa_factors), or None."""
        return mfa_config_params(self.definition_data(), self.path(), inline=self.inline is not None)

    def describe(self) -> dict[str, Any]:
        """What the run header records as the pool definition (the emulator builds all of it; a foreign
        backend gets its pool settings and schema, with the run's own clients and the tenancy groups)."""
        if self.definition is None:
            try:
                self.definition = self.definition_data()
            except Exception:  # noqa: BLE001 - reported when the pool is loaded
                self.definition = {}
        return {
            "path": self.path(),
            "definition": self.definition,
            "client": self.client,
            "inline": self.inline is not None,
            "tenancy_groups": list(self.groups),
            "custom_attributes": list(self.custom_attributes),
            "triggers": {b.trigger: b.describe() for b in self.triggers},
        }


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


def provision(idp: Any, plan: PoolPlan) -> tuple[str, dict[str, dict[str, Any]]]:
    """Create the run's pool through the cognito-idp API in the spec's shape; returns (pool_id, clients by name).

    The pool gets the definition's settings (username attributes or aliases,
    case sensitivity, verification, recovery, password policy, custom
    attributes and the tenancy's), so the users the checks make fit it as
    they fit the emulator's; the clients and groups are the run's own.
    """
    pool = idp.create_user_pool(**plan.create_params())["UserPool"]
    pool_id = pool["Id"]
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

    def fake_idps(self) -> FakeIdPs | None:
        """The fake external IdPs the pool can federate with (only the in-process emulator has them)."""
        return None

    def __init__(self) -> None:
        self._shapes: dict[str, PoolShape] = {}

    def start(self) -> None: ...
    def stop(self) -> None: ...

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
    """Another cognito-idp endpoint (moto server, LocalStack, a real pool): no control plane."""

    def __init__(self, url: str, plan: PoolPlan, region: str = DEFAULT_REGION) -> None:
        super().__init__()
        self.url = url.rstrip("/")
        self.name = self.url
        self.plan = plan
        self.region = region
        self._coords: PoolCoordinates | None = None

    def start(self) -> None:
        import boto3  # third-party, deliberately lazy: only a remote backend needs its own client (start-up time)

        self.idp = boto3.client("cognito-idp", endpoint_url=self.url, region_name=self.region,
                                config=Config(retries=ONE_ATTEMPT, connect_timeout=5, read_timeout=15),
                                **TEST_CREDENTIALS)

    def prepare(self, seed: int, scenario_id: str | None = None) -> PoolCoordinates:
        """The pool is made once per run; scenarios differ by their seeded users."""
        if self._coords is not None:
            return self._coords
        try:
            pool_id, clients = provision(self.idp, self.plan)
        except Exception as exc:  # botocore EndpointConnectionError, ClientError...
            raise BackendError(f"backend {self.url} could not create the pool: {type(exc).__name__}: {exc}") from None
        app = clients[APP_CLIENT]
        self._coords = PoolCoordinates(
            region=self.region,
            pool_id=pool_id,
            client_id=app["ClientId"],
            client_secret=app.get("ClientSecret") or "",
            issuer=f"https://cognito-idp.{self.region}.amazonaws.com/{pool_id}",
            jwks_url=f"{self.url}/{pool_id}/.well-known/jwks.json",
            endpoint=self.url,
            domain=self.url,
            other_client_id=clients[OTHER_CLIENT]["ClientId"],
        )
        return self._coords


def make_backend(backend: str, plan: PoolPlan, seed: int) -> PoolBackend:
    if backend in ("", "emulator"):
        return EmulatorBackend(plan, seed)
    if not backend.startswith(("http://", "https://")):
        raise BackendError(f"--backend must be 'emulator' or an http(s) URL of a cognito-idp endpoint, got {backend!r}")
    if plan.aws_endpoints:
        raise BackendError(f"the spec turns on [aws].endpoints, which serves the emulator's pool at the AWS host names; "
                           f"--backend {backend} is another cognito-idp endpoint: run with the emulator backend, or "
                           "turn [aws].endpoints off and give the app that backend's URLs")
    return RemoteBackend(backend, plan)


__all__ = ["BackendError", "EmulatorBackend", "PoolBackend", "PoolPlan", "RemoteBackend", "make_backend",
           "provision", "APP_CLIENT", "OTHER_CLIENT"]
