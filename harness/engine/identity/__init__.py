"""Identity pools (cognito-identity): identities, logins, role resolution, credentials, OpenID tokens.

The rules live here beside the user-pool engine and share its clock, ids, event
log and the one place that signs tokens; the operation handlers are in
``harness.engine.identity.ops`` (``@identity_operation``), every module imported
by that package, and enter through ``Backend.call(op, params, COGNITO_IDENTITY)``.
"""

from __future__ import annotations

from harness.engine.identity.ops import load_identity_operations

__all__ = ["load_identity_operations"]
