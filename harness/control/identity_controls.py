"""The control plane's view of identity-pool credentials: list them, look one up, expire them.

A part of :class:`harness.control.Control` (which inherits it), kept apart to keep modules small;
:class:`harness.control.client.RemoteControl` has the same methods over ``/_harness/identity``.
Times are epoch seconds on the virtual clock; the secret key and session token are never shown.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from harness.control.checks import ControlError, check_str
from harness.engine.identity import credentials
from harness.engine.identity.models import IssuedCredentials

if TYPE_CHECKING:  # pragma: no cover
    from harness.engine.store import Backend

IDENTITY_ID_PATTERN = re.compile(r"[\w-]+:[0-9a-f-]+")
"""Identity pool ids and identity ids (``<region>:<guid>``), as the cognito-identity model has them."""


def _check_id(field: str, value: Any) -> str | None:
    if value is None:
        return None
    check_str(field, value)
    if len(value) > 55 or not IDENTITY_ID_PATTERN.fullmatch(value):
        raise ControlError(field, f"expected <region>:<guid> (at most 55 characters), got {value[:60]!r}")
    return value


class IdentityControls:
    """Issued identity-pool credentials: what :class:`~harness.control.Control` offers under ``/_harness/identity``."""

    backend: Backend

    def _issued(self, access_key_id: Any) -> IssuedCredentials:
        check_str("access_key_id", access_key_id)
        found = self.backend.identity.credentials.get(access_key_id)
        if found is None:
            raise ControlError("access_key_id", f"no credentials with access key id {access_key_id[:40]!r} "
                                                "(issued ones are remembered, the oldest forgotten first)", 404)
        return found

    def identity_credentials(self, identity_pool_id: str | None = None,
                             identity_id: str | None = None) -> list[dict[str, Any]]:
        """Every remembered credential (newest last), of one identity pool and/or identity if given."""
        _check_id("identity_pool_id", identity_pool_id)
        _check_id("identity_id", identity_id)
        with self.backend.transaction():
            now = self.backend.clock.now()
            found = credentials.find(self.backend.identity, identity_pool_id, identity_id)
            return [credentials.describe(c, now) for c in found]

    def identity_credential(self, access_key_id: str) -> dict[str, Any]:
        """One credential by its access key id (404 when unknown)."""
        with self.backend.transaction():
            return credentials.describe(self._issued(access_key_id), self.backend.clock.now())

    def expire_identity_credentials(self, access_key_id: str | None = None,
                                    identity_pool_id: str | None = None) -> dict[str, int]:
        """End credentials now on the virtual clock: one (by access key id), a pool's, or (neither) all."""
        _check_id("identity_pool_id", identity_pool_id)
        with self.backend.transaction():
            if access_key_id is not None:
                chosen = [self._issued(access_key_id)]
                if identity_pool_id is not None and chosen[0].identity_pool_id != identity_pool_id:
                    raise ControlError("identity_pool_id", f"credentials {access_key_id!r} belong to identity pool "
                                                           f"{chosen[0].identity_pool_id}, not {identity_pool_id}")
            else:
                chosen = credentials.find(self.backend.identity, identity_pool_id)
            return {"expired": credentials.expire(self.backend, chosen)}


__all__ = ["IdentityControls"]
