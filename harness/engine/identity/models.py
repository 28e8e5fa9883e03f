"""State of the identity-pool service: pools, identities and the credentials handed out."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class IdentityState:
    """Everything cognito-identity holds, for every identity pool of the emulator."""

    pools: dict[str, object] = field(default_factory=dict)

    def clear(self) -> None:
        self.pools.clear()
