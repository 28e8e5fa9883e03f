"""Client-secret rotation: AddUserPoolClientSecret, ListUserPoolClientSecrets, DeleteUserPoolClientSecret.

The rules (two secrets at most, never the last one, values shown only when generated) are in
:mod:`harness.engine.client_secrets`, which every client-secret check also reads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from harness.engine import client_secrets
from harness.engine.common import pool_client
from harness.engine.models import ClientSecret
from harness.engine.registry import operation
from harness.errors import Err

if TYPE_CHECKING:  # pragma: no cover
    from harness.engine.store import Backend


def _descriptor(secret: ClientSecret, with_value: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"ClientSecretId": secret.secret_id, "ClientSecretCreateDate": secret.created}
    if with_value:
        out["ClientSecretValue"] = secret.value
    return out


@operation("AddUserPoolClientSecret")
def add_user_pool_client_secret(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    _, client = pool_client(backend, params["UserPoolId"], params["ClientId"])
    secret, generated = client_secrets.add(backend, client, params.get("ClientSecret"))
    return {"ClientSecretDescriptor": _descriptor(secret, with_value=generated)}


@operation("ListUserPoolClientSecrets")
def list_user_pool_client_secrets(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    _, client = pool_client(backend, params["UserPoolId"], params["ClientId"])
    if params.get("NextToken"):  # the list is never paged, so no token is one it handed out
        raise Err.INVALID_PAGINATION.error()
    return {"ClientSecrets": [_descriptor(s) for s in client_secrets.current(client)]}


@operation("DeleteUserPoolClientSecret")
def delete_user_pool_client_secret(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    _, client = pool_client(backend, params["UserPoolId"], params["ClientId"])
    client_secrets.delete(backend, client, params["ClientSecretId"])
    return {}
