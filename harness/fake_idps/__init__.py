"""Fake external identity providers, driven from Python or the control plane.

    idps = FakeIdPs(emu.backend)
    google = idps.create("google", preset="google")
    google.set_user("1001", email="ann@example.com", email_verified=True, name="Ann")
    google.select("1001")                       # /authorize auto-approves as Ann
    idp.create_identity_provider(**google.identity_provider_request(pool_id, "Google"))
    google.fail_token_endpoint("timeout")       # next sign-in: "Timeout occurred in calling IdP token endpoint"
    google.rotate_keys()
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from harness.engine.signing import sign_jwt
from harness.fake_idps.provider import PRESETS, FakeIdP, IdPFault, IdPRegistry, IdPRequestError, IdPUser, IssuedCode

if TYPE_CHECKING:  # pragma: no cover
    from harness.engine.store import Backend


class FakeIdPHandle:
    """One fake IdP, as seen from a test."""

    def __init__(self, registry: IdPRegistry, name: str) -> None:
        self._registry = registry
        self.name = name

    @property
    def state(self) -> FakeIdP:
        return self._registry.get(self.name)

    @property
    def issuer(self) -> str:
        return self.state.issuer(self._registry.public_url)

    @property
    def client_id(self) -> str:
        return self.state.client_id

    @property
    def client_secret(self) -> str:
        return self.state.client_secret

    def set_user(self, sub: str, *, password: str | None = None, select: bool = False, replace: bool = False,
                 **claims: Any) -> IdPUser:
        """Add or update a user; claims given again overwrite (claims that change between sign-ins)."""
        with self._registry.lock:
            user = self.state.set_user(str(sub), claims, password=password, replace=replace)
            if select:
                self.state.selected = user.sub
            return user

    def remove_user(self, sub: str) -> bool:
        with self._registry.lock:
            return self.state.users.pop(str(sub), None) is not None

    def select(self, sub: str | None) -> None:
        """Auto-approve /authorize as ``sub`` (None: show the login form instead)."""
        with self._registry.lock:
            if sub is not None and str(sub) not in self.state.users:
                raise KeyError(f"IdP {self.name} has no user {sub!r}")
            self.state.selected = None if sub is None else str(sub)

    def rotate_keys(self, publish_new: bool = True, unpublish_old: bool = False) -> str:
        """Sign with a new key from now on; returns its kid."""
        with self._registry.lock:
            return self.state.rotate_keys(publish_new=publish_new, unpublish_old=unpublish_old).kid

    def sign_with_unpublished_key(self, on: bool = True) -> None:
        """Sign ID tokens with a key missing from the JWKS (a broken rotation)."""
        with self._registry.lock:
            self.state.sign_with_unpublished = on

    def change_client_secret(self, secret: str | None = None) -> str:
        """The provider changes its configuration: the pool's stored secret stops working."""
        with self._registry.lock:
            new = secret or self._registry.new_secret()
            self.state.change_client_secret(new)
            return new

    def fail_token_endpoint(self, kind: str = "error", *, status: int = 500, delay: float | None = None,
                            count: int | None = None, error: str = "server_error") -> IdPFault:
        """Make /token time out ("timeout") or answer ``status`` ("error")."""
        return self._registry.arm(self.name, "token", kind, status=status, delay=delay, count=count, error=error)

    def fail(self, endpoint: str, kind: str = "error", **options: Any) -> IdPFault:
        return self._registry.arm(self.name, endpoint, kind, **options)

    def clear_faults(self) -> int:
        with self._registry.lock:
            count = len(self.state.faults)
            self.state.faults.clear()
            self.state.sign_with_unpublished = False
            return count

    def id_token(self, sub: str, audience: str | None = None) -> str:
        """An ID token for user ``sub``, as /token issues it (what a provider's own SDK hands an app, which
        then passes it on, e.g. in an identity pool's Logins); ``audience`` defaults to the client id."""
        with self._registry.lock:
            idp = self.state
            user = idp.users[str(sub)]
            grant = IssuedCode(code="", sub=user.sub, client_id=audience or idp.client_id, redirect_uri="",
                               scope="openid", nonce=None, code_challenge=None, expires_at=0.0)
            claims = idp.id_token_claims(user, grant, self.issuer, int(self._registry.now()))
            return sign_jwt(claims, idp.signing_key(), {"typ": "JWT"})

    def provider_details(self) -> dict[str, str]:
        return self.state.provider_details(self._registry.public_url)

    def identity_provider_request(self, pool_id: str, provider_name: str,
                                  attribute_mapping: dict[str, str] | None = None,
                                  provider_type: str = "OIDC") -> dict[str, Any]:
        """Keyword arguments for boto3 ``create_identity_provider`` federating with this IdP."""
        mapping = attribute_mapping or {"email": "email", "email_verified": "email_verified", "name": "name",
                                        "username": "sub"}
        return {"UserPoolId": pool_id, "ProviderName": provider_name, "ProviderType": provider_type,
                "ProviderDetails": self.provider_details(), "AttributeMapping": mapping}

    def describe(self) -> dict[str, Any]:
        with self._registry.lock:
            return self.state.describe(self._registry.public_url)


class FakeIdPs:
    """The Python face of ``backend.idps``."""

    def __init__(self, backend: Backend) -> None:
        if not isinstance(backend.idps, IdPRegistry):
            raise TypeError("this backend has no fake IdPs: build it with Backend(external_idps=IdPRegistry) "
                            "(harness.server.Emulator does)")
        self.registry: IdPRegistry = backend.idps

    def create(self, name: str, preset: str = "oidc", *, client_id: str | None = None,
               client_secret: str | None = None) -> FakeIdPHandle:
        self.registry.create(name, preset, client_id=client_id, client_secret=client_secret)
        return FakeIdPHandle(self.registry, name)

    def get(self, name: str) -> FakeIdPHandle:
        self.registry.get(name)
        return FakeIdPHandle(self.registry, name)

    def delete(self, name: str) -> bool:
        return self.registry.delete(name)

    def names(self) -> list[str]:
        return sorted(self.registry.idps)

    def set_client_timeout(self, seconds: float) -> None:
        """How long the pool waits for an IdP back-channel answer (keep it small in tests)."""
        self.registry.set_client_timeout(seconds)


__all__ = ["FakeIdPs", "FakeIdPHandle", "FakeIdP", "IdPRegistry", "IdPRequestError", "PRESETS"]
