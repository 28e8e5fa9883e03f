"""Identity pool administration: Create/Describe/Update/List/DeleteIdentityPool, the pool's tags and
its roles (SetIdentityPoolRoles / GetIdentityPoolRoles).

The checks live in ``harness.engine.identity.pools``; these handlers read the request, apply it and
shape the answer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from harness.engine.identity import pools as rules
from harness.engine.identity.models import IdentityPool
from harness.engine.ops.paging import paged_answer
from harness.engine.registry import identity_operation
from harness.errors import Err

if TYPE_CHECKING:  # pragma: no cover
    from harness.engine.store import Backend


@identity_operation("CreateIdentityPool")
def create_identity_pool(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    if len(backend.identity.pools) >= rules.MAX_IDENTITY_POOLS:
        raise Err.IDENTITY_POOL_LIMIT.error(limit=rules.MAX_IDENTITY_POOLS)
    now = backend.clock.now()
    pool = IdentityPool(pool_id=f"{backend.settings.region}:{backend.ids.uuid()}", name=params["IdentityPoolName"],
                        allow_unauthenticated=False, created=now)
    rules.configure(pool, params)  # checks everything before the pool is stored
    backend.identity.pools[pool.pool_id] = pool
    return rules.describe_pool(pool)


@identity_operation("DescribeIdentityPool")
def describe_identity_pool(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    return rules.describe_pool(rules.find_pool(backend, params["IdentityPoolId"]))


@identity_operation("UpdateIdentityPool")
def update_identity_pool(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool = rules.find_pool(backend, params["IdentityPoolId"])
    rules.configure(pool, params)
    keys = rules.configured_providers(pool)
    # chosen (AWS unverified): a mapping whose provider the update removed could never apply again,
    # so it goes with the provider instead of surviving as a dangling key
    pool.role_mappings = {k: m for k, m in pool.role_mappings.items() if k in keys}
    return rules.describe_pool(pool)


@identity_operation("ListIdentityPools")
def list_identity_pools(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pools = sorted(backend.identity.pools.values(), key=lambda p: (p.created, p.pool_id))
    return paged_answer(pools, lambda p: p.pool_id, params["MaxResults"], params.get("NextToken"),
                        scope="ListIdentityPools", items_member="IdentityPools", token_member="NextToken",
                        describe=lambda p: {"IdentityPoolId": p.pool_id, "IdentityPoolName": p.name})


@identity_operation("DeleteIdentityPool")
def delete_identity_pool(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool = rules.find_pool(backend, params["IdentityPoolId"])
    del backend.identity.pools[pool.pool_id]  # its identities go with it; issued credentials stay on record
    return {}


# --- tags ------------------------------------------------------------------------------------------


@identity_operation("TagResource")
def tag_resource(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool = rules.pool_of_arn(backend, params["ResourceArn"])
    pool.tags = rules.check_tags({**pool.tags, **params["Tags"]})
    return {}


@identity_operation("UntagResource")
def untag_resource(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool = rules.pool_of_arn(backend, params["ResourceArn"])
    for key in params["TagKeys"]:
        pool.tags.pop(key, None)
    return {}


@identity_operation("ListTagsForResource")
def list_tags_for_resource(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    return {"Tags": dict(rules.pool_of_arn(backend, params["ResourceArn"]).tags)}


# --- roles -----------------------------------------------------------------------------------------


@identity_operation("SetIdentityPoolRoles")
def set_identity_pool_roles(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    """Replace the pool's roles and role mappings (both, as AWS does: mappings left out are removed)."""
    pool = rules.find_pool(backend, params["IdentityPoolId"])
    roles = rules.roles(params["Roles"])
    mappings = {key: rules.role_mapping(pool, key, raw) for key, raw in params.get("RoleMappings", {}).items()}
    pool.roles, pool.role_mappings = roles, mappings
    return {}


@identity_operation("GetIdentityPoolRoles")
def get_identity_pool_roles(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool = rules.find_pool(backend, params["IdentityPoolId"])
    out: dict[str, Any] = {"IdentityPoolId": pool.pool_id, "Roles": dict(pool.roles)}
    if pool.role_mappings:
        out["RoleMappings"] = {k: rules.describe_role_mapping(m) for k, m in pool.role_mappings.items()}
    return out
