"""Per-pool signing keys: one for ID tokens, one for access tokens, rotatable.

A pool's :class:`KeyRing` holds every key it ever had. Active keys sign;
retired keys stop signing but stay published in the JWKS until unpublished,
so tokens they signed keep verifying (as after a real rotation). Keys are made
lazily, on first use, so starting a pool costs nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Literal

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from harness.encoding import b64url

KeyUse = Literal["id", "access"]
KEY_USES: tuple[KeyUse, ...] = ("id", "access")


def _b64uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return b64url(raw)


@dataclass
class SigningKey:
    kid: str
    use: KeyUse
    private_key: rsa.RSAPrivateKey
    created_at: float
    active: bool = True
    published: bool = True
    retired_at: float | None = None

    @property
    def public_key(self) -> rsa.RSAPublicKey:
        return self.private_key.public_key()

    def jwk(self) -> dict[str, str]:
        numbers = self.public_key.public_numbers()
        return {
            "alg": "RS256",
            "e": _b64uint(numbers.e),
            "kid": self.kid,
            "kty": "RSA",
            "n": _b64uint(numbers.n),
            "use": "sig",
        }

    def public_pem(self) -> bytes:
        return self.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def describe(self) -> dict[str, object]:
        return {
            "kid": self.kid,
            "use": self.use,
            "active": self.active,
            "published": self.published,
            "created_at": self.created_at,
            "retired_at": self.retired_at,
        }


KeyMaker = Callable[[str], rsa.RSAPrivateKey]
"""Makes the private key for a given key-material label (seeded or random)."""


@dataclass
class KeyRing:
    """All keys of one pool, oldest first."""

    pool_id: str
    make_key: KeyMaker
    make_kid: Callable[[], str]
    now: Callable[[], float]
    keys: list[SigningKey] = field(default_factory=list)
    generation: int = 0

    def _new_key(self, use: KeyUse) -> SigningKey:
        self.generation += 1
        key = SigningKey(
            kid=self.make_kid(),
            use=use,
            private_key=self.make_key(f"{self.pool_id}:{use}:{self.generation}"),
            created_at=self.now(),
        )
        self.keys.append(key)
        return key

    def active(self, use: KeyUse) -> SigningKey:
        """The key that signs tokens of this use now (made on first need)."""
        for key in reversed(self.keys):
            if key.use == use and key.active:
                return key
        return self._new_key(use)

    def ensure_active(self) -> None:
        for use in KEY_USES:
            self.active(use)

    def find(self, kid: str) -> SigningKey | None:
        for key in self.keys:
            if key.kid == kid:
                return key
        return None

    def rotate(self, uses: tuple[KeyUse, ...] = KEY_USES, unpublish_old: bool = False) -> list[SigningKey]:
        """Retire the active key of each use and make a new one."""
        made = []
        for use in uses:
            old = self.active(use)
            old.active = False
            old.retired_at = self.now()
            if unpublish_old:
                old.published = False
            made.append(self._new_key(use))
        return made

    def retire(self, kid: str) -> SigningKey | None:
        """Stop a key signing; a fresh key takes over its use."""
        key = self.find(kid)
        if key is None:
            return None
        if key.active:
            key.active = False
            key.retired_at = self.now()
            self._new_key(key.use)
        return key

    def set_published(self, kid: str, published: bool) -> SigningKey | None:
        key = self.find(kid)
        if key is not None:
            key.published = published
        return key

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        self.ensure_active()
        return {"keys": [k.jwk() for k in self.keys if k.published]}
