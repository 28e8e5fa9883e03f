"""An app client's secrets: up to two at a time, either one authenticates the client.

AddUserPoolClientSecret, ListUserPoolClientSecrets and DeleteUserPoolClientSecret (the API reference:
"up to 2 active secrets per app client for zero-downtime credential rotation"; "You cannot delete the
last remaining secret"; the list never shows a value; AddUserPoolClientSecret shows the value only when
Amazon Cognito generated it; a secret's id is ``<client id>--<epoch create time>``).

``AppClient.secret`` stays the client's first current secret (what DescribeUserPoolClient shows and
what pool definitions and fixtures hand out); ``AppClient.client_secrets`` is empty until a rotation
operation touches the client, and then holds every current secret, ``secret`` first. Every check of a
client secret (SECRET_HASH, RevokeToken, GetTokensFromRefreshToken, client_secret_basic/post at
/oauth2/token) goes through :func:`accepts` or :func:`values`, so both secrets work until one is
deleted. The epoch time in a secret id is in milliseconds (the emulator's choice: two secrets added in
one second still get two ids; on a frozen clock the later one moves on by a millisecond).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.encoding import secrets_equal
from harness.engine.models import AppClient, ClientSecret
from harness.errors import Err

if TYPE_CHECKING:  # pragma: no cover
    from harness.engine.store import Backend

MAX_SECRETS = 2


def _secret_id(client: AppClient, created: float, taken: set[str]) -> str:
    millis = int(created * 1000)
    while f"{client.client_id}--{millis}" in taken:
        millis += 1
    return f"{client.client_id}--{millis}"


def current(client: AppClient) -> list[ClientSecret]:
    """The client's secrets, oldest first ([] for a public client); the first is ``client.secret``."""
    if client.client_secrets:
        return list(client.client_secrets)
    if client.secret is None:
        return []
    return [ClientSecret(secret_id=_secret_id(client, client.created, set()), value=client.secret,
                         created=client.created)]


def values(client: AppClient) -> list[str]:
    """Every secret value the client authenticates with."""
    return [s.value for s in current(client)]


def accepts(client: AppClient, given: str | None) -> bool:
    """Whether ``given`` is one of the client's secrets (constant-time per secret)."""
    return any(secrets_equal(given, value) for value in values(client))


def _store(client: AppClient, secrets: list[ClientSecret]) -> None:
    client.client_secrets = secrets
    client.secret = secrets[0].value


def add(backend: Backend, client: AppClient, value: str | None) -> tuple[ClientSecret, bool]:
    """AddUserPoolClientSecret: the new secret, and whether the emulator generated its value."""
    secrets = current(client)
    if not secrets:
        raise Err.CLIENT_HAS_NO_SECRET.error(client_id=client.client_id)
    if len(secrets) >= MAX_SECRETS:
        raise Err.CLIENT_SECRET_LIMIT.error(client_id=client.client_id, limit=MAX_SECRETS)
    if value is not None and any(secrets_equal(value, s.value) for s in secrets):
        raise Err.CLIENT_SECRET_EXISTS.error(client_id=client.client_id)
    chosen = value if value is not None else backend.ids.client_secret()
    now = backend.clock.now()
    secret = ClientSecret(secret_id=_secret_id(client, now, {s.secret_id for s in secrets}), value=chosen,
                          created=now)
    _store(client, [*secrets, secret])
    client.modified = now
    return secret, value is None


def delete(backend: Backend, client: AppClient, secret_id: str) -> None:
    """DeleteUserPoolClientSecret: never the last one."""
    secrets = current(client)
    remaining = [s for s in secrets if s.secret_id != secret_id]
    if len(remaining) == len(secrets):
        raise Err.CLIENT_SECRET_NOT_FOUND.error(secret_id=secret_id)
    if not remaining:
        raise Err.LAST_CLIENT_SECRET.error()
    _store(client, remaining)
    client.modified = backend.clock.now()


__all__ = ["MAX_SECRETS", "accepts", "add", "current", "delete", "values"]
