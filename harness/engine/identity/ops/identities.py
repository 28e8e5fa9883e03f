"""Identity administration: ListIdentities, DescribeIdentity, DeleteIdentities, and the developer
identities (LookupDeveloperIdentity, MergeDeveloperIdentities, UnlinkDeveloperIdentity).

Identities are made by GetId and GetOpenIdTokenForDeveloperIdentity (``ops.tokens``); these
operations read, merge, unlink and delete them. A developer user identifier is found through the
pool's developer-identity index (``IdentityPool.developer_identity``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from harness.engine import events as ev
from harness.engine.identity import identities
from harness.engine.identity import pools as rules
from harness.engine.identity.models import Identity, IdentityPool
from harness.engine.ops.paging import page, paged_answer
from harness.engine.registry import identity_operation
from harness.errors import Err

if TYPE_CHECKING:  # pragma: no cover
    from harness.engine.store import Backend


@identity_operation("ListIdentities")
def list_identities(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    """The pool's identities in creation order; merged-away ones are disabled (HideDisabled leaves them out)."""
    pool = rules.find_pool(backend, params["IdentityPoolId"])
    identities = [i for i in pool.identities.values() if not (params.get("HideDisabled") and i.disabled)]
    answer = paged_answer(identities, lambda i: i.identity_id, params["MaxResults"], params.get("NextToken"),
                          scope=f"ListIdentities:{pool.pool_id}", items_member="Identities",
                          token_member="NextToken", describe=lambda i: rules.describe_identity(pool, i))
    return {"IdentityPoolId": pool.pool_id, **answer}


@identity_operation("DescribeIdentity")
def describe_identity(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool, identity = rules.find_identity(backend, params["IdentityId"])
    return rules.describe_identity(pool, identity)


@identity_operation("DeleteIdentities")
def delete_identities(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    """Delete each identity; an id that names no identity is already deleted (nothing to report: AWS's
    UnprocessedIdentityIds carries AccessDenied / InternalServerError, neither of which can happen here)."""
    for identity_id in params["IdentityIdsToDelete"]:
        for pool in backend.identity.pools.values():
            identity = pool.identities.get(identity_id)
            if identity is not None:
                rules.forget_identity(pool, identity)
                break
    return {"UnprocessedIdentityIds": []}


# --- developer identities -----------------------------------------------------------------------------


def _developer_pool(backend: Backend, params: dict[str, Any]) -> IdentityPool:
    """The pool, which must be the one of ``DeveloperProviderName``."""
    pool = rules.find_pool(backend, params["IdentityPoolId"])
    if pool.developer_provider_name is None or params["DeveloperProviderName"] != pool.developer_provider_name:
        raise Err.DEVELOPER_PROVIDER_MISMATCH.error()
    return pool


def _developer_identity(pool: IdentityPool, identifier: str) -> Identity:
    identity = pool.developer_identity(identifier)
    if identity is None:
        raise Err.DEVELOPER_USER_NOT_FOUND.error(identifier=identifier)
    return identity


@identity_operation("LookupDeveloperIdentity")
def lookup_developer_identity(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    """The identity of a developer user identifier, or the identifiers of an identity; both given: they
    must match (ResourceConflictException otherwise)."""
    pool = rules.find_pool(backend, params["IdentityPoolId"])
    identity_id, identifier = params.get("IdentityId"), params.get("DeveloperUserIdentifier")
    if identity_id is None and identifier is None:
        raise Err.DEVELOPER_LOOKUP_NEEDS_KEY.error()
    if identifier is not None:
        identity = _developer_identity(pool, identifier)
        if identity_id is not None and identity_id != identity.identity_id:
            raise Err.DEVELOPER_USER_MISMATCH.error(identifier=identifier, identity_id=identity_id)
    else:
        identity = pool.identities.get(identity_id)  # type: ignore[arg-type]
        if identity is None:
            raise Err.IDENTITY_NOT_FOUND.error(identity_id=identity_id)
    chunk, next_token = page(identity.developer_user_identifiers, lambda i: i, params.get("MaxResults"),
                             params.get("NextToken"), scope=f"LookupDeveloperIdentity:{identity.identity_id}")
    answer: dict[str, Any] = {"IdentityId": identity.identity_id, "DeveloperUserIdentifierList": chunk}
    if next_token:
        answer["NextToken"] = next_token
    return answer


@identity_operation("MergeDeveloperIdentities")
def merge_developer_identities(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    """Move everything linked to the source user's identity onto the destination user's identity; the
    source identity stays, disabled (``merged_into``). Two different users of one public provider
    cannot be merged (ResourceConflictException)."""
    pool = _developer_pool(backend, params)
    source = _developer_identity(pool, params["SourceUserIdentifier"])
    target = _developer_identity(pool, params["DestinationUserIdentifier"])
    if source is target:
        return {"IdentityId": target.identity_id}
    for provider, subject in source.logins.items():
        if target.logins.get(provider, subject) != subject:
            raise Err.IDENTITY_MERGE_CONFLICT.error(provider=provider)
    identities.merge(backend, pool, source, target)
    return {"IdentityId": target.identity_id}


@identity_operation("UnlinkDeveloperIdentity")
def unlink_developer_identity(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    """Unlink a developer user identifier from its identity: the identifier is a new identity next time."""
    pool = _developer_pool(backend, params)
    identity = pool.identities.get(params["IdentityId"])
    if identity is None:
        raise Err.IDENTITY_NOT_FOUND.error(identity_id=params["IdentityId"])
    identifier = params["DeveloperUserIdentifier"]
    if _developer_identity(pool, identifier) is not identity:
        raise Err.DEVELOPER_USER_MISMATCH.error(identifier=identifier, identity_id=identity.identity_id)
    pool.unlink_developer_user(identity, identifier)
    identity.modified = backend.clock.now()
    backend.events.emit(ev.IDENTITY_UNLINKED, pool.pool_id, identity_id=identity.identity_id,
                        provider=pool.developer_provider_name)
    return {}
