"""The cognito-idp operations the engine emulates, one module per area.

Importing this package imports every operation module, and each registers its
handlers with ``@operation("Name")`` (see harness.engine.registry): a module
that is missing or broken fails the import loudly instead of turning its
operations into NotImplementedException.
"""

from __future__ import annotations

from harness.engine.ops import (
    admin_users,
    auth,
    auth_events,
    clients,
    devices,
    domains,
    federation,
    groups,
    identity_providers,
    mfa,
    pools,
    resource_servers,
    self_service,
    signup,
    tokens,
    user_queries,
)
from harness.engine.registry import OPERATIONS, Handler

OPERATION_MODULES = (pools, clients, groups, admin_users, user_queries, signup, auth, tokens, self_service,
                     identity_providers, domains, resource_servers, federation, mfa, auth_events,
                     devices)
"""Every module that registers operations (``paging`` is a helper, not one of them)."""


def load_operations() -> dict[str, Handler]:
    """The name -> handler table, every operation module loaded."""
    return OPERATIONS


__all__ = ["OPERATIONS", "OPERATION_MODULES", "load_operations"]
