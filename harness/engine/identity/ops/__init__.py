"""The cognito-identity operations the engine emulates, one module per area.

Importing this package imports every operation module; each registers its
handlers with ``@identity_operation("Name")`` (harness.engine.registry).
"""

from __future__ import annotations

from harness.engine.identity.ops import credentials, identities, pools, tokens
from harness.engine.registry import IDENTITY_OPERATIONS, Handler

IDENTITY_OPERATION_MODULES: tuple[object, ...] = (pools, identities, credentials, tokens)
"""Every module that registers cognito-identity operations."""


def load_identity_operations() -> dict[str, Handler]:
    """The name -> handler table, every operation module loaded."""
    return IDENTITY_OPERATIONS


__all__ = ["IDENTITY_OPERATIONS", "IDENTITY_OPERATION_MODULES", "load_identity_operations"]
