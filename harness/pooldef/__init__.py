"""Pool definitions: a TOML file (or a spec's inline ``[pool]``) that builds a user pool.

``build`` turns a definition into a pool through the engine's own operations;
``reader`` reads the typed TOML tables; ``users`` makes the seed users;
``shape`` says which sign-in identifiers the pool uses (username, email, phone).
"""

from __future__ import annotations

from harness.pooldef import build
from harness.pooldef.build import *  # noqa: F403 - the package's public names are build's

__all__ = list(build.__all__)
