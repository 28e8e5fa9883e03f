"""The control plane's signing-key operations: list, rotate, retire, publish and unpublish a pool's keys.

A part of :class:`harness.control.Control` (which inherits it), kept apart to keep modules small.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable

from harness.control.checks import ControlError, check_bool, check_choice, check_str
from harness.engine import events as ev
from harness.engine.events import KEY_PUBLISHED, KEY_RETIRED, KEY_UNPUBLISHED
from harness.engine.keys import KEY_USES, SigningKey
from harness.engine.models import UserPool
from harness.engine.signing import foreign_key, public_jwk

if TYPE_CHECKING:  # pragma: no cover
    from harness.engine.store import Backend


class KeyControls:
    """Keys by pool: what :class:`~harness.control.Control` offers under ``/_harness/pools/{id}/keys``."""

    backend: Backend


    def _pool(self, pool_id: Any) -> UserPool:
        check_str("pool_id", pool_id)
        pool = self.backend.pools.get(pool_id)
        if pool is None:
            known = ", ".join(self.backend.pools) or "none"
            raise ControlError("pool_id", f"no user pool {pool_id!r} (known: {known})", 404)
        return pool

    def _key(self, pool: UserPool, kid: Any, field: str = "kid") -> SigningKey:
        check_str(field, kid)
        key = pool.keyring.find(kid)
        if key is None:
            raise ControlError(field, f"pool {pool.pool_id} has no key with kid {kid!r}", 404)
        return key

    @staticmethod
    def _describe(key: SigningKey) -> dict[str, Any]:
        out = dict(key.describe())
        out["jwk"] = key.jwk()
        out["public_pem"] = key.public_pem().decode()
        return out

    def keys(self, pool_id: str) -> list[dict[str, Any]]:
        """Every key of the pool, oldest first: kid, use, active, published, JWK and public PEM."""
        with self.backend.transaction():
            pool = self._pool(pool_id)
            pool.keyring.ensure_active()
            return [self._describe(k) for k in pool.keyring.keys]

    def rotate_keys(
        self, pool_id: str, uses: Iterable[str] = KEY_USES, unpublish_old: bool = False
    ) -> dict[str, Any]:
        """New signing keys for ``uses``; the old ones stop signing but stay published unless told."""
        if isinstance(uses, str) or not isinstance(uses, (list, tuple)) or not uses:
            raise ControlError("uses", f"expected a non-empty list of {', '.join(KEY_USES)}, got {uses!r}")
        for use in uses:
            check_choice("uses", use, KEY_USES)
        check_bool("unpublish_old", unpublish_old)
        with self.backend.transaction():
            pool = self._pool(pool_id)
            old = {use: pool.keyring.active(use).kid for use in uses}  # type: ignore[arg-type]
            made = pool.keyring.rotate(tuple(dict.fromkeys(uses)), unpublish_old=unpublish_old)  # type: ignore[arg-type]
            for key in made:
                self.backend.events.emit(
                    ev.KEY_ROTATED, pool.pool_id, use=key.use, old_kid=old[key.use], new_kid=key.kid,
                    old_published=not unpublish_old,
                )
            return {"retired": list(old.values()), "new": [self._describe(k) for k in made]}

    def retire_key(self, pool_id: str, kid: str) -> dict[str, Any]:
        """Stop a key signing (a fresh key takes over its use); it stays published."""
        with self.backend.transaction():
            pool = self._pool(pool_id)
            key = self._key(pool, kid)
            was_active = key.active
            pool.keyring.retire(key.kid)
            replacement = pool.keyring.active(key.use) if was_active else None
            self.backend.events.emit(
                KEY_RETIRED, pool.pool_id, kid=key.kid, use=key.use,
                new_kid=replacement.kid if replacement else None,
            )
            return {"retired": self._describe(key), "replacement": self._describe(replacement) if replacement else None}

    def _set_published(self, pool_id: str, kid: str, published: bool) -> dict[str, Any]:
        with self.backend.transaction():
            pool = self._pool(pool_id)
            key = self._key(pool, kid)
            pool.keyring.set_published(key.kid, published)
            self.backend.events.emit(KEY_PUBLISHED if published else KEY_UNPUBLISHED, pool.pool_id,
                                     kid=key.kid, use=key.use, active=key.active)
            return self._describe(key)

    def publish_key(self, pool_id: str, kid: str) -> dict[str, Any]:
        """List the key in the JWKS again."""
        return self._set_published(pool_id, kid, True)

    def unpublish_key(self, pool_id: str, kid: str) -> dict[str, Any]:
        """Drop the key from the JWKS: its tokens stop verifying (also for the emulator's own APIs)."""
        return self._set_published(pool_id, kid, False)

    def foreign_jwk(self, kid: str = "foreign") -> dict[str, str]:
        """Public JWK of the key ``sign_with="foreign"`` signs with (for jwk/jku injection tests)."""
        check_str("kid", kid)
        return public_jwk(foreign_key(self.backend.seed).public_key(), kid)


__all__ = ["KeyControls"]
