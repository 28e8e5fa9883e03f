"""User pool tagging by ARN: TagResource, UntagResource, ListTagsForResource.

Terraform's and CDK's Cognito resources read and reconcile a pool's tags with these on every plan; the
rules (limits, the ARN, the ``harness:issuer`` tag) are in :mod:`harness.engine.pool_tags`, so the
tags they change are the ones CreateUserPool set and DescribeUserPool shows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from harness.engine import pool_tags
from harness.engine.registry import operation

if TYPE_CHECKING:  # pragma: no cover
    from harness.engine.store import Backend


@operation("TagResource")
def tag_resource(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool_tags.add(pool_tags.pool_of_arn(backend, params["ResourceArn"]), params["Tags"])
    return {}


@operation("UntagResource")
def untag_resource(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool_tags.remove(pool_tags.pool_of_arn(backend, params["ResourceArn"]), params["TagKeys"])
    return {}


@operation("ListTagsForResource")
def list_tags_for_resource(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    return {"Tags": dict(pool_tags.pool_of_arn(backend, params["ResourceArn"]).tags)}
