"""Resource servers: Create/Describe/Update/Delete/ListResourceServers.

A resource server's scopes are named ``<identifier>/<scope>`` in app clients'
AllowedOAuthScopes, in client_credentials requests and in access tokens.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from harness.engine.models import ResourceServer, UserPool
from harness.engine.ops.paging import page
from harness.engine.registry import operation
from harness.errors import Err

if TYPE_CHECKING:  # pragma: no cover
    from harness.engine.store import Backend

MAX_RESOURCE_SERVERS = 25
MAX_SCOPES = 100


def describe(server: ResourceServer) -> dict[str, Any]:
    out: dict[str, Any] = {"UserPoolId": server.pool_id, "Identifier": server.identifier, "Name": server.name}
    out["Scopes"] = [dict(s) for s in server.scopes]
    return out


def _find(pool: UserPool, identifier: str) -> ResourceServer:
    server = pool.resource_servers.get(identifier)
    if server is None:
        raise Err.RESOURCE_SERVER_NOT_FOUND.error(identifier=identifier)
    return server


def _scopes(raw: list[dict[str, str]] | None) -> list[dict[str, str]]:
    scopes = [{"ScopeName": s["ScopeName"], "ScopeDescription": s["ScopeDescription"]} for s in raw or []]
    names = [s["ScopeName"] for s in scopes]
    if len(set(names)) != len(names):
        raise Err.INVALID_PARAMETER.error(detail="Duplicate scope names are not allowed.")
    if len(scopes) > MAX_SCOPES:
        raise Err.INVALID_PARAMETER.error(detail=f"A resource server can have at most {MAX_SCOPES} scopes.")
    return scopes


@operation("CreateResourceServer")
def create_resource_server(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool = backend.pool(params["UserPoolId"])
    identifier = params["Identifier"]
    if identifier in pool.resource_servers:
        raise Err.RESOURCE_SERVER_EXISTS.error(identifier=identifier)
    if len(pool.resource_servers) >= MAX_RESOURCE_SERVERS:
        raise Err.INVALID_PARAMETER.error(detail="The maximum number of resource servers has been reached.")
    server = ResourceServer(identifier=identifier, pool_id=pool.pool_id, name=params["Name"],
                            scopes=_scopes(params.get("Scopes")))
    pool.resource_servers[identifier] = server
    return {"ResourceServer": describe(server)}


@operation("DescribeResourceServer")
def describe_resource_server(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool = backend.pool(params["UserPoolId"])
    return {"ResourceServer": describe(_find(pool, params["Identifier"]))}


@operation("UpdateResourceServer")
def update_resource_server(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool = backend.pool(params["UserPoolId"])
    server = _find(pool, params["Identifier"])
    server.name = params["Name"]
    server.scopes = _scopes(params.get("Scopes"))  # Update replaces; omitted Scopes means none
    return {"ResourceServer": describe(server)}


@operation("DeleteResourceServer")
def delete_resource_server(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool = backend.pool(params["UserPoolId"])
    del pool.resource_servers[_find(pool, params["Identifier"]).identifier]
    return {}


@operation("ListResourceServers")
def list_resource_servers(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool = backend.pool(params["UserPoolId"])
    servers = list(pool.resource_servers.values())
    chunk, token = page(servers, lambda s: s.identifier, params.get("MaxResults"), params.get("NextToken"),
                        scope=f"{pool.pool_id}:ListResourceServers", default_limit=50)
    out: dict[str, Any] = {"ResourceServers": [describe(s) for s in chunk]}
    if token:
        out["NextToken"] = token
    return out
