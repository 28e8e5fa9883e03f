"""AdminLinkProviderForUser and AdminDisableProviderForUser (rules in engine.federation)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from harness.engine import federation
from harness.engine.registry import operation

if TYPE_CHECKING:  # pragma: no cover
    from harness.engine.store import Backend


@operation("AdminLinkProviderForUser")
def admin_link_provider_for_user(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool = backend.pool(params["UserPoolId"])
    federation.link(backend, pool, dict(params["DestinationUser"]), dict(params["SourceUser"]))
    return {}


@operation("AdminDisableProviderForUser")
def admin_disable_provider_for_user(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool = backend.pool(params["UserPoolId"])
    federation.unlink(backend, pool, dict(params["User"]))
    return {}
