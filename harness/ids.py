"""Seeded identifiers: pool ids, client ids and secrets, subs, codes, jtis.

One :class:`IdFactory` per emulator, seeded once, so the same ``--seed``
gives the same users, codes and ids in the same order.
"""

from __future__ import annotations

import base64
import random
import string
import threading
import uuid

from harness.encoding import b64url

_ALNUM_LOWER = string.ascii_lowercase + string.digits
_ALNUM = string.ascii_letters + string.digits


class IdFactory:
    """Deterministic (per seed) generator of every id the emulator hands out."""

    def __init__(self, seed: int | None = None) -> None:
        self.seed = seed if seed is not None else random.SystemRandom().randrange(2**31)
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()

    def reseed(self, seed: int | None = None) -> None:
        with self._lock:
            if seed is not None:
                self.seed = seed
            self._rng = random.Random(self.seed)

    def state(self) -> tuple[int, list[int], float | None]:
        """The generator's position (snapshot): version, internal state, gauss."""
        with self._lock:
            version, internal, gauss = self._rng.getstate()
            return version, list(internal), gauss

    def set_state(self, seed: int, state: tuple[int, list[int], float | None]) -> None:
        """Resume exactly where :meth:`state` was taken."""
        version, internal, gauss = state
        with self._lock:
            self.seed = seed
            self._rng.setstate((version, tuple(internal), gauss))

    def _choice(self, alphabet: str, n: int) -> str:
        with self._lock:
            return "".join(self._rng.choice(alphabet) for _ in range(n))

    def randbytes(self, n: int) -> bytes:
        with self._lock:
            return self._rng.randbytes(n)

    def uuid(self) -> str:
        """A UUID4-shaped string (Cognito subs, jtis, event ids)."""
        return str(uuid.UUID(bytes=self.randbytes(16), version=4))

    def pool_id(self, region: str) -> str:
        return f"{region}_{self._choice(_ALNUM, 9)}"

    def client_id(self) -> str:
        return self._choice(_ALNUM_LOWER, 26)

    def client_secret(self) -> str:
        return self._choice(_ALNUM_LOWER, 51)

    def code(self, digits: int = 6) -> str:
        return self._choice(string.digits, digits)

    def temporary_password(self) -> str:
        """Meets the default policy: upper, lower, digit, symbol, length 12."""
        body = self._choice(string.ascii_letters + string.digits, 8)
        return "Tmp" + body + self._choice(string.digits, 1) + "!"

    def kid(self) -> str:
        """Cognito-looking key id: base64 of 32 bytes, ending in '='."""
        return base64.b64encode(self.randbytes(32)).decode()

    def token_blob(self, n: int) -> str:
        return b64url(self.randbytes(n))

    def hex(self, n_bytes: int) -> str:
        return self.randbytes(n_bytes).hex()
