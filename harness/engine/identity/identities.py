"""Identity ids and the logins linked to them: create, return, link, merge, unlink.

What AWS documents (the GetId and GetOpenIdToken API references, the developer guide's "identity
pools concepts"): GetId returns the identity of the logins, creating it the first time; several logins
in one call are linked; a login already linked to another identity merges that identity into this
one (the merged one is disabled, the survivor's id is returned: "the IdentityId returned may not
match the one passed on input"); GetOpenIdToken's extra logins make an implicit link; one login per
provider per identity (a second: ResourceConflictException); without logins, GetId makes a new
unauthenticated identity each time, only where ``AllowUnauthenticatedIdentities`` is on.

Chosen where AWS is silent: when several identities merge, the oldest survives (ties: the id
first in the request's Logins order); an unauthenticated identity presented with logins it does
not own becomes authenticated (its logins are linked, or it is merged into their identity), as
AWS's "switching an unauthenticated identity to authenticated" describes; a merged identity is
refused by every operation with IDENTITY_MERGED naming the survivor.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.engine import events as ev
from harness.engine.identity.logins import VerifiedLogin
from harness.engine.identity.models import Identity, IdentityPool, login_key
from harness.engine.identity.pools import find_identity
from harness.errors import Err

if TYPE_CHECKING:  # pragma: no cover
    from harness.engine.store import Backend


def find_pool_of_identity(backend: Backend, identity_id: str) -> IdentityPool:
    """The identity pool ``identity_id`` belongs to (ResourceNotFoundException if none)."""
    return find_identity(backend, identity_id)[0]


def owner_of(pool: IdentityPool, login: VerifiedLogin) -> str | None:
    """The identity a verified login belongs to, if any."""
    if login.is_identity_token:
        return login.subject if login.subject in pool.identities else None
    return pool.login_index.get(login.key)


def is_authenticated(identity: Identity) -> bool:
    """An identity with a login (public or developer) linked to it."""
    return bool(identity.logins or identity.developer_user_identifiers)


def linked_logins(pool: IdentityPool, identity: Identity) -> list[tuple[str, str]]:
    """Every (provider, subject) linked to the identity, developer user identifiers included."""
    developer = [(pool.developer_provider_name, i) for i in identity.developer_user_identifiers
                 if pool.developer_provider_name is not None]
    return [*identity.logins.items(), *developer]


def live_identity(pool: IdentityPool, identity_id: str) -> Identity:
    """The identity, refusing one that is unknown or was merged away."""
    identity = pool.identities.get(identity_id)
    if identity is None:
        raise Err.IDENTITY_NOT_FOUND.error(identity_id=identity_id)
    if identity.merged_into is not None:
        raise Err.IDENTITY_MERGED.error(identity_id=identity_id, survivor=identity.merged_into)
    return identity


def identity_for_credentials(backend: Backend, pool: IdentityPool, identity_id: str,
                             verified: list[VerifiedLogin]) -> Identity:
    """The identity credentials (or an OpenID token) may be issued for.

    With logins: at least one must be this identity's ("Logins don't match" otherwise), and the
    others are linked to it (an implicit link, merging where they belong elsewhere; the survivor is
    returned). An unauthenticated identity presented with logins becomes authenticated. Without
    logins: only an unauthenticated identity of a pool that allows them.
    """
    identity = live_identity(pool, identity_id)
    if verified:
        owned = any(owner_of(pool, login) == identity_id for login in verified)
        if not owned and is_authenticated(identity):
            raise Err.LOGINS_DONT_MATCH.error()
        return consolidate(backend, pool, verified, include=identity)
    if is_authenticated(identity):
        raise Err.LOGINS_DONT_MATCH.error()
    if not pool.allow_unauthenticated:
        raise Err.UNAUTHENTICATED_NOT_ALLOWED.error()
    return identity


def get_id(backend: Backend, pool: IdentityPool, verified: list[VerifiedLogin]) -> Identity:
    """GetId: the identity of these logins (made, linked, merged as needed), or a new unauthenticated one."""
    if not verified:
        if not pool.allow_unauthenticated:
            raise Err.UNAUTHENTICATED_NOT_ALLOWED.error()
        return create(backend, pool)
    return consolidate(backend, pool, verified)


def create(backend: Backend, pool: IdentityPool) -> Identity:
    now = backend.clock.now()
    region = pool.pool_id.partition(":")[0]
    identity = Identity(identity_id=f"{region}:{backend.ids.uuid()}", pool_id=pool.pool_id, created=now, modified=now)
    pool.identities[identity.identity_id] = identity
    backend.events.emit(ev.IDENTITY_CREATED, pool.pool_id, identity_id=identity.identity_id)
    return identity


def consolidate(backend: Backend, pool: IdentityPool, verified: list[VerifiedLogin],
                include: Identity | None = None) -> Identity:
    """One identity holding every login of ``verified`` (plus ``include``'s): the oldest of those
    that hold any of them survives, the others merge into it; a new identity when none does.
    Checked whole before anything changes: two subjects of one provider refuse the call."""
    owners: list[Identity] = [include] if include is not None else []
    for login in verified:
        owner_id = owner_of(pool, login)
        if owner_id is not None:
            owner = live_identity(pool, owner_id)
            if owner not in owners:
                owners.append(owner)
    linking = [login for login in verified if not login.is_identity_token]
    survivor = min(owners, key=lambda i: i.created) if owners else None
    public = [login for login in linking if login.provider != pool.developer_provider_name]
    _check_one_login_per_provider(owners, public, survivor.identity_id if survivor else "")
    if survivor is None:
        survivor = create(backend, pool)
    for other in owners:
        if other is not survivor:
            merge(backend, pool, other, survivor)
    for login in linking:
        if login.provider == pool.developer_provider_name:
            if pool.developer_identity(login.subject) is not survivor:
                pool.link_developer_user(survivor, login.subject)
                _linked(backend, pool, survivor, login.provider)
        elif survivor.logins.get(login.provider) != login.subject:
            survivor.logins[login.provider] = login.subject
            pool.login_index[login_key(login.provider, login.subject)] = survivor.identity_id
            _linked(backend, pool, survivor, login.provider)
    return survivor


def _check_one_login_per_provider(owners: list[Identity], linking: list[VerifiedLogin], identity_id: str) -> None:
    subjects: dict[str, str] = {}
    pairs = [(p, s) for owner in owners for p, s in owner.logins.items()]
    pairs += [(login.provider, login.subject) for login in linking]
    for provider, subject in pairs:
        if subjects.setdefault(provider, subject) != subject:
            raise Err.LOGIN_DUPLICATE_PROVIDER.error(identity_id=identity_id or "(new)", provider=provider)


def _linked(backend: Backend, pool: IdentityPool, identity: Identity, provider: str) -> None:
    identity.modified = backend.clock.now()
    backend.events.emit(ev.IDENTITY_LINKED, pool.pool_id, identity_id=identity.identity_id, provider=provider)


def merge(backend: Backend, pool: IdentityPool, merged: Identity, survivor: Identity) -> None:
    """Move every login of ``merged`` onto ``survivor`` and disable ``merged`` (GetId, MergeDeveloperIdentities)."""
    for provider, subject in merged.logins.items():
        survivor.logins[provider] = subject
        pool.login_index[login_key(provider, subject)] = survivor.identity_id
    merged.logins = {}
    for identifier in list(merged.developer_user_identifiers):
        pool.link_developer_user(survivor, identifier)
    merged.merged_into = survivor.identity_id
    merged.modified = survivor.modified = backend.clock.now()
    backend.events.emit(ev.IDENTITY_MERGED, pool.pool_id, identity_id=survivor.identity_id,
                        merged_identity_id=merged.identity_id)


def unlink(backend: Backend, pool: IdentityPool, identity: Identity, providers: list[str]) -> None:
    """UnlinkIdentity: forget these providers' logins; next time they are seen they make a new identity.
    A developer provider's login is UnlinkDeveloperIdentity's to remove."""
    for provider in providers:
        if provider == pool.developer_provider_name:
            raise Err.UNLINK_DEVELOPER_LOGIN.error(provider=provider)
    for provider in providers:
        subject = identity.logins.pop(provider, None)
        if subject is None:
            continue
        pool.login_index.pop(login_key(provider, subject), None)
        identity.modified = backend.clock.now()
        backend.events.emit(ev.IDENTITY_UNLINKED, pool.pool_id, identity_id=identity.identity_id, provider=provider)


__all__ = ["consolidate", "create", "find_pool_of_identity", "get_id", "identity_for_credentials",
           "is_authenticated", "linked_logins", "live_identity", "owner_of", "unlink"]
