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
    client_secrets,
    clients,
    devices,
    domains,
    federation,
    groups,
    identity_providers,
    import_jobs,
    mfa,
    pools,
    resource_servers,
    self_service,
    signing_certificate,
    signup,
    tags,
    tokens,
    ui_customization,
    user_queries,
)
from harness.engine.registry import OPERATIONS, Handler

OPERATION_MODULES = (pools, clients, groups, admin_users, user_queries, signup, auth, tokens, self_service,
                     identity_providers, domains, resource_servers, federation, mfa, auth_events,
                     devices, tags, signing_certificate, ui_customization, client_secrets, import_jobs)
"""Every module that registers operations (``paging`` is a helper, not one of them)."""


def load_operations() -> dict[str, Handler]:
    """The name -> handler table, every operation module loaded."""
    return OPERATIONS


__all__ = ["OPERATIONS", "OPERATION_MODULES", "load_operations"]
