"""User pool tags: one set per pool, written by CreateUserPool/UpdateUserPool (``UserPoolTags``) and by
TagResource/UntagResource, read by DescribeUserPool and ListTagsForResource.

Limits: at most 50 tags a pool (TagResource's documentation), keys of 1-128 and values of 0-256
characters (botocore's model, checked before a handler runs), no key starting ``aws:`` (AWS's tagging
rules reserve the prefix). The tagging operations name the pool by its ARN,
``arn:aws:cognito-idp:<region>:<account id>:userpool/<pool id>`` (``UserPool.arn``): a string of
another shape is an InvalidParameterException, a well-formed ARN of no pool here (another id, region
or account) a ResourceNotFoundException.

Harness extension: the tag ``harness:issuer`` = ``local`` | ``aws`` picks the issuer of the pool's
tokens (see harness.engine.ops.pools); setting the whole tag set without it (UserPoolTags) or
untagging it returns the pool to ``local``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from harness.engine.models import UserPool
from harness.errors import Err

if TYPE_CHECKING:  # pragma: no cover
    from harness.engine.store import Backend

MAX_TAGS = 50
RESERVED_PREFIX = "aws:"
ISSUER_TAG = "harness:issuer"
ISSUER_MODES = ("local", "aws")

_POOL_ARN = re.compile(
    r"arn:aws[\w-]*:cognito-idp:(?P<region>[a-z0-9-]+):(?P<account>[0-9]{12}):userpool/(?P<pool_id>[\w-]+_[0-9a-zA-Z]+)"
)


def check(tags: Mapping[str, str]) -> None:
    """InvalidParameterException unless ``tags`` is a set a pool may hold."""
    for key in tags:
        if key.lower().startswith(RESERVED_PREFIX):
            raise Err.TAG_KEY_RESERVED.error(key=key)
    mode = tags.get(ISSUER_TAG)
    if mode is not None and mode not in ISSUER_MODES:
        raise Err.INVALID_PARAMETER.error(detail=f"Tag {ISSUER_TAG} must be one of: {', '.join(ISSUER_MODES)}.")
    if len(tags) > MAX_TAGS:
        raise Err.TAG_LIMIT.error(limit=MAX_TAGS)


def replace(pool: UserPool, tags: Mapping[str, str]) -> None:
    """The pool's whole tag set becomes ``tags`` (UserPoolTags)."""
    check(tags)
    pool.tags = dict(tags)
    pool.issuer_mode = tags.get(ISSUER_TAG, "local")


def add(pool: UserPool, tags: Mapping[str, str]) -> None:
    """TagResource: add or overwrite ``tags``; the 50-tag limit counts the merged set."""
    merged = {**pool.tags, **tags}
    check(merged)
    pool.tags = merged
    if ISSUER_TAG in tags:
        pool.issuer_mode = tags[ISSUER_TAG]


def remove(pool: UserPool, keys: Iterable[str]) -> None:
    """UntagResource: keys the pool does not have are ignored."""
    for key in keys:
        pool.tags.pop(key, None)
        if key == ISSUER_TAG:
            pool.issuer_mode = "local"


def pool_of_arn(backend: Backend, arn: str) -> UserPool:
    """The pool a ResourceArn names."""
    match = _POOL_ARN.fullmatch(arn)
    if match is None:
        raise Err.RESOURCE_ARN_INVALID.error(arn=arn)
    pool = backend.pools.get(match["pool_id"])
    if pool is None or pool.arn != arn:
        raise Err.POOL_NOT_FOUND.error(pool_id=match["pool_id"])
    return pool


__all__ = ["ISSUER_MODES", "ISSUER_TAG", "MAX_TAGS", "add", "check", "pool_of_arn", "remove", "replace"]
