"""The run's identity pool for a scenario: its configuration, the credentials the pool gives, and whose they are.

``ctx.identity`` (a :class:`PoolIdentity`) is what a check of the identity
family uses. The role of any credentials, the app's included, is read from the
emulator's control plane by AccessKeyId (``Control.identity_credential``): a
check never takes the app's word for which role it got. What the pool's
mappings give a user is learnt the same way: the harness signs the user's
login in itself (GetId, GetCredentialsForIdentity: the enhanced flow) and reads
the role of what it got, so the expectation is the pool's own role
resolution, not a second implementation of it.

The identity pool is the pool definition's ``[identity_pool]``
(harness/pooldef/identity.py), built by the runner with the user pool; a run
without one, or on a backend without the control plane, SKIPs these checks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from harness.control import ControlError
from harness.pooldef.identity import provider_name
from harness.runner.scenario import Skip
from harness.runner.target import HarnessError

if TYPE_CHECKING:  # pragma: no cover
    from harness.runner.context import ScenarioContext
    from harness.runner.token_view import Tokens


POOL_REFUSALS = ("NotAuthorizedException", "InvalidIdentityPoolConfigurationException")
"""Errors with which an identity pool refuses a login credentials (its mappings deny it, no role fits)."""


@dataclass(frozen=True)
class IssuedCredentials:
    """What the control plane knows of one AccessKeyId: who it was issued to, for which role, until when."""

    access_key_id: str
    identity_id: str
    identity_pool_id: str
    role_arn: str
    authenticated: bool
    providers: tuple[str, ...] = ()
    issued: float = 0.0
    expiration: float = 0.0
    expired: bool = False

    @classmethod
    def from_control(cls, data: dict[str, Any]) -> IssuedCredentials:
        return cls(access_key_id=str(data["access_key_id"]), identity_id=str(data["identity_id"]),
                   identity_pool_id=str(data["identity_pool_id"]), role_arn=str(data["role_arn"]),
                   authenticated=bool(data["authenticated"]), providers=tuple(data.get("providers") or ()),
                   issued=float(data.get("issued") or 0), expiration=float(data.get("expiration") or 0),
                   expired=bool(data.get("expired")))

    def describe(self) -> dict[str, Any]:
        """Evidence: everything but secrets (the control plane never has them to give)."""
        return {"access_key_id": self.access_key_id, "identity_id": self.identity_id, "role_arn": self.role_arn,
                "authenticated": self.authenticated, "providers": list(self.providers), "issued": self.issued,
                "expiration": self.expiration, "expired": self.expired}


@dataclass
class PoolIdentity:
    """The identity pool of one scenario, its calls recorded as the scenario's steps."""

    ctx: ScenarioContext = field(repr=False)
    _configuration: dict[str, Any] | None = field(default=None, repr=False)

    # --- which pool -------------------------------------------------------------------------------

    @property
    def pool_id(self) -> str:
        """The run's identity pool id; SKIP when the run has none or cannot read credentials' roles."""
        self.ctx.require_control_plane("identity-pool credentials (the role behind an AccessKeyId)")
        if not self.ctx.pool.identity_pool_id:
            raise Skip("the pool definition declares no [identity_pool] (the app gets no AWS credentials to judge)")
        return self.ctx.pool.identity_pool_id

    @property
    def client(self) -> Any:
        """A boto3 cognito-identity client of the backend (the harness's own calls)."""
        client = self.ctx.backend.cognito_identity
        if client is None:
            raise Skip(f"backend {self.ctx.backend.name} has no cognito-identity endpoint")
        return client

    def login_key(self) -> str:
        """The Logins key of the run's user pool: ``cognito-idp.<region>.amazonaws.com/<userPoolId>``."""
        return provider_name(self.ctx.pool.region, self.ctx.pool.pool_id)

    def configuration(self) -> dict[str, Any]:
        """DescribeIdentityPool and GetIdentityPoolRoles of the run's pool, read once and noted as evidence."""
        if self._configuration is None:
            pool_id = self.pool_id
            with self.ctx.step("identity pool: its configuration and roles"):
                described = self.client.describe_identity_pool(IdentityPoolId=pool_id)
                roles = self.client.get_identity_pool_roles(IdentityPoolId=pool_id)
                for answer in (described, roles):
                    answer.pop("ResponseMetadata", None)
                self._configuration = {**described, "Roles": roles.get("Roles", {}),
                                       "RoleMappings": roles.get("RoleMappings", {})}
                self.ctx.note("the identity pool", **self._configuration)
        return self._configuration

    def allows_guests(self) -> bool:
        return bool(self.configuration().get("AllowUnauthenticatedIdentities"))

    def default_role(self, kind: str) -> str | None:
        """The pool's ``authenticated`` or ``unauthenticated`` role (None when it has none)."""
        return self.configuration()["Roles"].get(kind)

    # --- credentials ------------------------------------------------------------------------------

    def pool_credentials(self, tokens: Tokens | None, label: str) -> IssuedCredentials | None:
        """What the identity pool itself gives ``tokens``' ID token (a guest's when None): the harness's own
        GetId and GetCredentialsForIdentity, and the role the control plane recorded for them; None when the
        pool refuses them (a mapping that denies, no role for them), noted with the pool's error."""
        pool_id = self.pool_id
        logins = {"Logins": {self.login_key(): tokens.id_token}} if tokens is not None else {}
        with self.ctx.step(f"identity pool: credentials for {label} (the harness asks the pool itself)"):
            try:
                identity_id = self.client.get_id(IdentityPoolId=pool_id, **logins)["IdentityId"]
                got = self.client.get_credentials_for_identity(IdentityId=identity_id, **logins)
            except ClientError as exc:
                error = exc.response.get("Error", {})
                if error.get("Code") not in POOL_REFUSALS:
                    raise
                self.ctx.note(f"the identity pool gives {label} no credentials", code=error.get("Code"),
                              message=error.get("Message"))
                return None
            issued = self._lookup(got["Credentials"]["AccessKeyId"])
            if issued is None:  # the pool's own answer is always known to its control plane
                raise HarnessError(f"the control plane does not know credentials the pool just issued ({label})")
            self.ctx.note(f"what the identity pool gives {label}", **issued.describe())
        return issued

    def issued(self, access_key_id: str, label: str) -> IssuedCredentials | None:
        """The control plane's record of an AccessKeyId the app handed out (None: the pool never issued it,
        or forgot it), noted as evidence."""
        with self.ctx.step(f"control plane: whose are the credentials {label}?"):
            found = self._lookup(access_key_id)
            if found is None:
                self.ctx.note(f"{label}: the identity pool has no record of this AccessKeyId",
                              access_key_id=access_key_id)
            else:
                self.ctx.note(f"{label}: issued by the identity pool", **found.describe())
        return found

    def _lookup(self, access_key_id: str) -> IssuedCredentials | None:
        try:
            return IssuedCredentials.from_control(self.ctx.control.identity_credential(access_key_id))
        except ControlError as exc:
            if exc.status == 404:
                return None
            raise


__all__ = ["IssuedCredentials", "PoolIdentity"]
