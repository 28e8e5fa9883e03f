"""User pool domains: Create/Describe/Update/DeleteUserPoolDomain.

The hosted UI of every pool is served locally at ``{emulator}/{pool_id}/...``
(the discovery document names those endpoints); a domain is bookkeeping that
apps and DescribeUserPool see (the same pages are also served under
``{emulator}/_domain/{domain}``); ``harness.coordinates.hosted_ui_url`` is the
base URL to give an app as ``COGNITO_DOMAIN``.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from harness.engine.common import find_domain
from harness.engine.models import UserPool, UserPoolDomain
from harness.engine.registry import operation
from harness.errors import Err

if TYPE_CHECKING:  # pragma: no cover
    from harness.engine.store import Backend

RESERVED_WORDS = ("aws", "amazon", "cognito")


def _cloudfront(domain: str) -> str:
    return "d" + hashlib.sha256(domain.encode()).hexdigest()[:13] + ".cloudfront.net"


def _is_custom(config: dict[str, Any] | None) -> bool:
    return bool(config and config.get("CertificateArn"))


def _description(backend: Backend, d: UserPoolDomain) -> dict[str, Any]:
    return {
        "UserPoolId": d.pool_id,
        "AWSAccountId": backend.settings.account_id,
        "Domain": d.domain,
        "S3Bucket": f"aws-cognito-prod-{backend.settings.region}-assets",
        "CloudFrontDistribution": _cloudfront(d.domain),
        "Version": d.version,
        "Status": "ACTIVE",
        **({"CustomDomainConfig": dict(d.custom_domain_config)} if d.custom_domain_config else {}),
        "ManagedLoginVersion": d.managed_login_version,
    }


def _answer(d: UserPoolDomain) -> dict[str, Any]:
    out: dict[str, Any] = {"ManagedLoginVersion": d.managed_login_version}
    if _is_custom(d.custom_domain_config):
        out["CloudFrontDomain"] = _cloudfront(d.domain)
    return out


@operation("CreateUserPoolDomain")
def create_user_pool_domain(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool = backend.pool(params["UserPoolId"])
    domain = params["Domain"]
    config = params.get("CustomDomainConfig")
    if not _is_custom(config):
        for word in RESERVED_WORDS:
            if word in domain:
                raise Err.DOMAIN_RESERVED.error(domain=domain)
    if find_domain(backend, domain) is not None:
        raise Err.DOMAIN_EXISTS.error()
    if pool.domain_config is not None:
        raise Err.POOL_HAS_DOMAIN.error()
    version = params.get("ManagedLoginVersion") or 1
    if version not in (1, 2):
        raise Err.INVALID_PARAMETER.error(detail="ManagedLoginVersion must be 1 or 2.")
    pool.domain_config = UserPoolDomain(domain=domain, pool_id=pool.pool_id, custom_domain_config=config,
                                        managed_login_version=version, created=backend.clock.now(),
                                        version=str(backend.clock.now_int()))
    pool.domain = domain
    return _answer(pool.domain_config)


@operation("DescribeUserPoolDomain")
def describe_user_pool_domain(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    found = find_domain(backend, params["Domain"])
    return {"DomainDescription": _description(backend, found) if found else {}}


def _owned(backend: Backend, params: dict[str, Any]) -> tuple[UserPool, UserPoolDomain]:
    pool = backend.pool(params["UserPoolId"])
    d = pool.domain_config
    if d is None or d.domain != params["Domain"]:
        raise Err.DOMAIN_NOT_FOUND.error()
    return pool, d


@operation("UpdateUserPoolDomain")
def update_user_pool_domain(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    _, d = _owned(backend, params)
    if params.get("ManagedLoginVersion") is not None:
        if params["ManagedLoginVersion"] not in (1, 2):
            raise Err.INVALID_PARAMETER.error(detail="ManagedLoginVersion must be 1 or 2.")
        d.managed_login_version = params["ManagedLoginVersion"]
    if params.get("CustomDomainConfig") is not None:
        if not _is_custom(d.custom_domain_config):
            raise Err.INVALID_PARAMETER.error(detail="CustomDomainConfig applies to custom domains only.")
        d.custom_domain_config = dict(params["CustomDomainConfig"])
    d.version = str(backend.clock.now_int())
    return _answer(d)


@operation("DeleteUserPoolDomain")
def delete_user_pool_domain(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool, _ = _owned(backend, params)
    pool.domain_config = None
    pool.domain = None
    return {}
