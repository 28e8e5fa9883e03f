"""What the pool needs from the external identity providers it federates with.

The engine federates over HTTP (harness.engine.oidc_client) with any OIDC
provider on loopback; besides that it needs a few settings and, for the social
provider types (Google, SignInWithApple), a stand-in it can point them at.
:class:`ExternalIdPs` is that small protocol; the fake IdPs
(harness.fake_idps.IdPRegistry) implement it and are injected by whoever
builds the :class:`~harness.engine.store.Backend` (the emulator server does).
"""

from __future__ import annotations

from typing import Any, Protocol

DEFAULT_CLIENT_TIMEOUT = 5.0  # how long the pool waits for an IdP back-channel answer


class ExternalIdPs(Protocol):
    """The external IdPs as the engine sees them."""

    client_timeout: float  # seconds the pool waits for an IdP's token, userinfo or JWKS answer
    jwks_cache: dict[str, dict[str, Any]]  # the pool's cache of external JWKS, by URL

    def clear(self) -> None:
        """Back to the initial state (a reset of the emulator)."""

    def stand_in(self, preset: str, client_id: str | None, client_secret: str | None) -> dict[str, Any] | None:
        """The discovery document of an IdP standing in for a social provider (``preset``: google, apple),
        made if needed; None when there is none (the provider details are then kept as given)."""

    def verify_id_token(self, preset: str, token: str) -> dict[str, Any]:
        """The claims of an ID token signed by the stand-in of a social provider (``preset``: google, apple):
        signature against its published keys and its issuer checked, not ``exp`` nor ``aud`` (the caller
        decides those on its clock and configuration). Raises ValueError when no stand-in signed it."""


class NoFakeIdPs:
    """The engine's default: real providers only, no stand-ins."""

    def __init__(self) -> None:
        self.client_timeout = DEFAULT_CLIENT_TIMEOUT
        self.jwks_cache: dict[str, dict[str, Any]] = {}

    def clear(self) -> None:
        self.client_timeout = DEFAULT_CLIENT_TIMEOUT
        self.jwks_cache.clear()

    def stand_in(self, preset: str, client_id: str | None, client_secret: str | None) -> dict[str, Any] | None:
        return None

    def verify_id_token(self, preset: str, token: str) -> dict[str, Any]:
        raise ValueError(f"no stand-in IdP for {preset}: real social providers are not reachable")


__all__ = ["DEFAULT_CLIENT_TIMEOUT", "ExternalIdPs", "NoFakeIdPs"]
