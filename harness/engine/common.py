"""Lookups and checks that many operations share: clients, secret hashes, users."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import TYPE_CHECKING

from harness.encoding import secrets_equal, utf8
from harness.engine import attributes, client_secrets, indexes
from harness.engine.models import AppClient, User, UserPool, UserPoolDomain
from harness.errors import Err

if TYPE_CHECKING:  # pragma: no cover
    from harness.engine.store import Backend

UNIT_SECONDS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}


def seconds(value: int, unit: str) -> int:
    return int(value) * UNIT_SECONDS[unit]


def find_client(backend: Backend, client_id: str) -> tuple[UserPool, AppClient]:
    """The pool and app client for a bare ClientId (public operations)."""
    for pool in backend.pools.values():
        client = pool.clients.get(client_id)
        if client is not None:
            return pool, client
    raise Err.CLIENT_NOT_FOUND.error(client_id=client_id)


def pool_client(backend: Backend, pool_id: str, client_id: str) -> tuple[UserPool, AppClient]:
    """The pool and one of its clients (admin operations name both)."""
    pool = backend.pool(pool_id)
    client = pool.clients.get(client_id)
    if client is None:
        raise Err.CLIENT_NOT_FOUND.error(client_id=client_id)
    return pool, client


def secret_hash(client_id: str, client_secret: str, username: str) -> str:
    """Base64(HMAC-SHA256(key=secret, msg=username + client_id))."""
    digest = hmac.new(utf8(client_secret), utf8(username + client_id), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def check_secret_hash(client: AppClient, username: str, given: str | None, *alternates: str) -> None:
    """Verify SECRET_HASH for a client with a secret (no-op for public clients).

    ``alternates`` are other names the user may have hashed with (the alias or
    the internal username), which Cognito also accepts.
    """
    if client.secret is None:
        return
    if not given:
        raise Err.SECRET_MISSING.error(client_id=client.client_id)
    keys = client_secrets.values(client)  # during a rotation, either secret
    for name in (username, *alternates):
        if name and any(secrets_equal(given, secret_hash(client.client_id, key, name)) for key in keys):
            return
    raise Err.SECRET_MISMATCH.error(client_id=client.client_id)


def check_client_secret(client: AppClient, given: str | None) -> None:
    """Verify a raw ClientSecret (RevokeToken, GetTokensFromRefreshToken)."""
    if client.secret is None:
        return
    if not given:
        raise Err.SECRET_MISSING.error(client_id=client.client_id)
    if not client_secrets.accepts(client, given):
        raise Err.CLIENT_SECRET_MISMATCH.error(client_id=client.client_id)


def find_user(pool: UserPool, name: str) -> User | None:
    """A user by username, by sub, or by a sign-in attribute/alias (index lookups, no scan).

    With ``UsernameAttributes`` the email or phone is the sign-in name; with
    ``AliasAttributes`` a *verified* email/phone or a preferred_username also
    signs in. Emails and preferred usernames match case-insensitively, phones
    exactly; ties go to the first user created.
    """
    user = pool.users.get(pool.user_key(name))
    if user is not None:
        return user
    for attr in pool.username_attributes:
        if attr in indexes.INDEXED_ATTRIBUTES:
            for candidate in indexes.holding(pool, attr, name):
                return candidate
    for attr in pool.alias_attributes:
        if attr not in indexes.INDEXED_ATTRIBUTES:
            continue
        for candidate in indexes.holding(pool, attr, name):
            if attr == "preferred_username" or attributes.is_verified(candidate.attributes, attr):
                return candidate
    return indexes.by_sub(pool, name)


def require_user(pool: UserPool, name: str) -> User:
    user = find_user(pool, name)
    if user is None:
        raise Err.USER_NOT_FOUND.error()
    return user


def custom_scopes(pool: UserPool) -> set[str]:
    """Every ``identifier/scope`` the pool's resource servers define."""
    return {f"{s.identifier}/{sc['ScopeName']}" for s in pool.resource_servers.values() for sc in s.scopes}


def find_domain(backend: Backend, domain: str) -> UserPoolDomain | None:
    """The pool domain (hosted UI prefix) named ``domain``, if any pool has it."""
    for pool in backend.pools.values():
        if pool.domain_config is not None and pool.domain_config.domain == domain:
            return pool.domain_config
    return None
