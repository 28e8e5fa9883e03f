"""The pool a run needs, from its target spec: the definition (file or inline [pool]), the tenancy's groups and
attributes, the app's client and its trigger functions; built in the emulator or created on another backend."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from harness.pooldef.build import (PoolHandle, build_pool, create_pool_params, default_pool_path, inline_layout,
                                   layered, mfa_config_params, read_definition, with_custom_attributes)
from harness.runner.spec import TargetSpec
from harness.runner.spec_triggers_model import TriggerBinding


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


__all__ = ["PoolPlan"]
