"""GetCredentialsForIdentity: temporary AWS credentials for an identity (the enhanced flow).

The logins are verified (logins.verify_logins), must be the identity's own (or none, for an
unauthenticated identity of a pool that allows them: identities.identity_for_credentials), the
role is resolved (roles.resolve_role: default roles, Token / Rules mappings, CustomRoleArn,
AmbiguousRoleResolution), and credentials are issued for one hour on the virtual clock
(credentials.issue). A refusal by role resolution is recorded as an ``identity.denied`` event.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from harness.engine.events import IDENTITY_DENIED
from harness.engine.identity import credentials
from harness.engine.identity.identities import find_pool_of_identity, identity_for_credentials
from harness.engine.identity.logins import verify_logins
from harness.engine.identity.roles import resolve_role
from harness.engine.registry import identity_operation
from harness.errors import CognitoError

if TYPE_CHECKING:  # pragma: no cover
    from harness.engine.store import Backend


@identity_operation("GetCredentialsForIdentity")
def get_credentials_for_identity(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool = find_pool_of_identity(backend, params["IdentityId"])
    verified = verify_logins(backend, pool, params.get("Logins"))
    identity = identity_for_credentials(backend, pool, params["IdentityId"], verified)
    try:
        role = resolve_role(pool, verified, params.get("CustomRoleArn"))
    except CognitoError as error:
        backend.events.emit(IDENTITY_DENIED, pool.pool_id, identity_id=identity.identity_id,
                            providers=[login.provider for login in verified], error=error.type, reason=error.message)
        raise
    issued = credentials.issue(backend, pool.pool_id, identity.identity_id, role,
                               [login.provider for login in verified])
    return {"IdentityId": identity.identity_id, "Credentials": credentials.api_credentials(issued)}
