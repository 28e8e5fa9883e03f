"""Rules shared by the identity-pool administration operations: finding pools and identities,
checking a pool's configuration as AWS does, and the API shapes they are described with.

The handlers (``harness.engine.identity.ops.pools`` / ``.identities``) stay thin: every check a
real identity pool makes on its configuration lives here, so CreateIdentityPool and
UpdateIdentityPool (and a pool definition built through them) refuse the same things.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from harness.engine.identity.models import (
    Identity,
    IdentityPool,
    MappingRule,
    RoleMapping,
    UserPoolProvider,
    login_key,
)
from harness.errors import Err

if TYPE_CHECKING:  # pragma: no cover
    from harness.engine.store import Backend

MAX_IDENTITY_POOLS = 1000  # per account and region (limits.md: identity pools per account)
MAX_USER_POOL_PROVIDERS = 50  # limits.md: user-pool providers per identity pool
MAX_RULES_PER_MAPPING = 25  # limits.md: role-based access control rules per provider
MAX_TAGS = 50  # AWS tagging limit per resource
SUPPORTED_LOGIN_PROVIDERS = frozenset({"graph.facebook.com", "accounts.google.com", "www.amazon.com",
                                       "appleid.apple.com", "api.twitter.com", "www.digits.com"})
ROLE_TYPES = ("authenticated", "unauthenticated")
USER_POOL_PROVIDER = re.compile(r"cognito-idp\.([a-z0-9-]+)\.amazonaws\.com/([\w-]+_[0-9a-zA-Z]+)")
ROLE_ARN = re.compile(r"arn:aws[\w-]*:iam::\d{12}:role/[\w+=,.@/-]+")
POOL_ARN = re.compile(r"arn:aws[\w-]*:cognito-identity:([a-z0-9-]+):(\d{12}):identitypool/([\w-]+:[0-9a-f-]+)")


# --- lookups ---------------------------------------------------------------------------------------


def find_pool(backend: Backend, pool_id: str) -> IdentityPool:
    pool = backend.identity.pools.get(pool_id)
    if pool is None:
        raise Err.IDENTITY_POOL_NOT_FOUND.error(pool_id=pool_id)
    return pool


def find_identity(backend: Backend, identity_id: str) -> tuple[IdentityPool, Identity]:
    """The identity and its pool, whichever pool it is in (an identity id does not name its pool)."""
    for pool in backend.identity.pools.values():
        identity = pool.identities.get(identity_id)
        if identity is not None:
            return pool, identity
    raise Err.IDENTITY_NOT_FOUND.error(identity_id=identity_id)


def pool_arn(backend: Backend, pool: IdentityPool) -> str:
    region = pool.pool_id.split(":", 1)[0]
    return f"arn:aws:cognito-identity:{region}:{backend.settings.account_id}:identitypool/{pool.pool_id}"


def pool_of_arn(backend: Backend, arn: str) -> IdentityPool:
    """The identity pool a tagging ARN names (InvalidParameter: not an identity-pool ARN of this account)."""
    match = POOL_ARN.fullmatch(arn)
    if match is None or match.group(2) != backend.settings.account_id:
        raise Err.IDENTITY_POOL_ARN_INVALID.error(arn=arn)
    pool = find_pool(backend, match.group(3))
    if match.group(1) != pool.pool_id.split(":", 1)[0]:
        raise Err.IDENTITY_POOL_ARN_INVALID.error(arn=arn)
    return pool


# --- configuration checks ----------------------------------------------------------------------------


def user_pool_providers(raw: list[dict[str, Any]]) -> list[UserPoolProvider]:
    """``CognitoIdentityProviders``: user-pool provider names in AWS's form, each (provider, client) once."""
    if len(raw) > MAX_USER_POOL_PROVIDERS:
        raise Err.USER_POOL_PROVIDER_LIMIT.error(limit=MAX_USER_POOL_PROVIDERS)
    providers: list[UserPoolProvider] = []
    seen: set[tuple[str, str]] = set()
    for item in raw:
        name, client_id = item.get("ProviderName", ""), item.get("ClientId", "")
        if not USER_POOL_PROVIDER.fullmatch(name) or not client_id:
            raise Err.USER_POOL_PROVIDER_INVALID.error(name=name or "(none)")
        if (name, client_id) in seen:
            raise Err.USER_POOL_PROVIDER_DUPLICATE.error(name=name, client_id=client_id)
        seen.add((name, client_id))
        providers.append(UserPoolProvider(name, client_id, bool(item.get("ServerSideTokenCheck", False))))
    return providers


def login_providers(raw: dict[str, str]) -> dict[str, str]:
    """``SupportedLoginProviders``: only the public providers AWS knows (OIDC and SAML go by ARN)."""
    for name in raw:
        if name not in SUPPORTED_LOGIN_PROVIDERS:
            raise Err.LOGIN_PROVIDER_UNSUPPORTED.error(name=name)
    return dict(raw)


def check_tags(tags: dict[str, str]) -> dict[str, str]:
    if len(tags) > MAX_TAGS:
        raise Err.IDENTITY_POOL_TAG_LIMIT.error(limit=MAX_TAGS)
    if any(key.lower().startswith("aws:") for key in tags):
        raise Err.IDENTITY_POOL_TAG_RESERVED.error()
    return dict(tags)


def configure(pool: IdentityPool, params: dict[str, Any]) -> None:
    """Apply a Create/UpdateIdentityPool request to ``pool``, every check first (a refused request
    changes nothing). Like AWS, an update replaces the whole configuration: an optional member left
    out is cleared, except the developer provider name (fixed once set) and the tags (TagResource's)."""
    providers = user_pool_providers(params.get("CognitoIdentityProviders", []))
    logins = login_providers(params.get("SupportedLoginProviders", {}))
    developer = params.get("DeveloperProviderName")
    if pool.developer_provider_name is not None and developer not in (None, pool.developer_provider_name):
        raise Err.DEVELOPER_PROVIDER_IMMUTABLE.error(name=pool.developer_provider_name)
    tags = check_tags(params["IdentityPoolTags"]) if "IdentityPoolTags" in params else None
    pool.name = params["IdentityPoolName"]
    pool.allow_unauthenticated = bool(params["AllowUnauthenticatedIdentities"])
    pool.allow_classic_flow = bool(params.get("AllowClassicFlow", False))
    pool.supported_login_providers = logins
    pool.developer_provider_name = developer or pool.developer_provider_name
    pool.open_id_connect_provider_arns = list(params.get("OpenIdConnectProviderARNs", []))
    pool.cognito_identity_providers = providers
    pool.saml_provider_arns = list(params.get("SamlProviderARNs", []))
    if tags is not None:
        pool.tags = tags


def configured_providers(pool: IdentityPool) -> set[str]:
    """The RoleMappings keys the pool accepts: ``<user pool provider>:<client id>`` for each user-pool
    app client, the public providers, and the OIDC / SAML provider ARNs."""
    keys = {f"{p.provider_name}:{p.client_id}" for p in pool.cognito_identity_providers}
    keys |= set(pool.supported_login_providers)
    keys |= set(pool.open_id_connect_provider_arns) | set(pool.saml_provider_arns)
    return keys


def check_role_arn(arn: str) -> str:
    if not ROLE_ARN.fullmatch(arn):
        raise Err.ROLE_ARN_INVALID.error(arn=arn)
    return arn


def roles(raw: dict[str, str]) -> dict[str, str]:
    """``Roles``: the authenticated and unauthenticated role ARNs."""
    for role_type, arn in raw.items():
        if role_type not in ROLE_TYPES:
            raise Err.ROLE_TYPE_INVALID.error(name=role_type)
        check_role_arn(arn)
    return dict(raw)


def role_mapping(pool: IdentityPool, key: str, raw: dict[str, Any]) -> RoleMapping:
    """One ``RoleMappings`` entry: a configured provider, AmbiguousRoleResolution given (AWS requires it
    for both types), rules (1..25, role ARNs) for the Rules type and only for it."""
    if key not in configured_providers(pool):
        raise Err.ROLE_MAPPING_PROVIDER.error(key=key)
    ambiguous = raw.get("AmbiguousRoleResolution")
    if ambiguous is None:
        raise Err.ROLE_MAPPING_AMBIGUOUS_REQUIRED.error(key=key)
    rules_raw = (raw.get("RulesConfiguration") or {}).get("Rules")
    if raw["Type"] == "Token":
        if rules_raw is not None:
            raise Err.ROLE_MAPPING_RULES_UNEXPECTED.error(key=key)
        return RoleMapping("Token", ambiguous)
    if not rules_raw:
        raise Err.ROLE_MAPPING_RULES_REQUIRED.error(key=key)
    if len(rules_raw) > MAX_RULES_PER_MAPPING:
        raise Err.ROLE_MAPPING_RULES_LIMIT.error(key=key, count=len(rules_raw), limit=MAX_RULES_PER_MAPPING)
    rules = [MappingRule(r["Claim"], r["MatchType"], r["Value"], check_role_arn(r["RoleARN"])) for r in rules_raw]
    return RoleMapping("Rules", ambiguous, rules)


# --- shapes ------------------------------------------------------------------------------------------


def describe_pool(pool: IdentityPool) -> dict[str, Any]:
    """The ``IdentityPool`` shape (Create/Describe/UpdateIdentityPool): unset optional members are left out,
    as in AWS's examples (the tags always come, ``{}`` when there are none)."""
    optional: dict[str, Any] = {
        "SupportedLoginProviders": dict(pool.supported_login_providers),
        "DeveloperProviderName": pool.developer_provider_name,
        "OpenIdConnectProviderARNs": list(pool.open_id_connect_provider_arns),
        "CognitoIdentityProviders": [
            {"ProviderName": p.provider_name, "ClientId": p.client_id, "ServerSideTokenCheck": p.server_side_token_check}
            for p in pool.cognito_identity_providers
        ],
        "SamlProviderARNs": list(pool.saml_provider_arns),
    }
    return {
        "IdentityPoolId": pool.pool_id,
        "IdentityPoolName": pool.name,
        "AllowUnauthenticatedIdentities": pool.allow_unauthenticated,
        "AllowClassicFlow": pool.allow_classic_flow,
        **{name: value for name, value in optional.items() if value},
        "IdentityPoolTags": dict(pool.tags),
    }


def describe_role_mapping(mapping: RoleMapping) -> dict[str, Any]:
    out: dict[str, Any] = {"Type": mapping.type}
    if mapping.ambiguous_role_resolution is not None:
        out["AmbiguousRoleResolution"] = mapping.ambiguous_role_resolution
    if mapping.type == "Rules":
        out["RulesConfiguration"] = {"Rules": [
            {"Claim": r.claim, "MatchType": r.match_type, "Value": r.value, "RoleARN": r.role_arn}
            for r in mapping.rules
        ]}
    return out


def login_names(pool: IdentityPool, identity: Identity) -> list[str]:
    """The provider names an identity is linked with (DescribeIdentity's ``Logins``)."""
    names = list(identity.logins)
    if identity.developer_user_identifiers and pool.developer_provider_name is not None:
        names.append(pool.developer_provider_name)
    return names


def describe_identity(pool: IdentityPool, identity: Identity) -> dict[str, Any]:
    """The ``IdentityDescription`` shape (epoch seconds: the JSON protocol's timestamps)."""
    return {
        "IdentityId": identity.identity_id,
        "Logins": login_names(pool, identity),
        "CreationDate": identity.created,
        "LastModifiedDate": identity.modified,
    }


def forget_identity(pool: IdentityPool, identity: Identity) -> None:
    """Remove an identity and every login that pointed at it (its logins are new identities next time)."""
    keys = [login_key(provider, subject) for provider, subject in identity.logins.items()]
    if pool.developer_provider_name is not None:
        keys += [login_key(pool.developer_provider_name, i) for i in identity.developer_user_identifiers]
    for key in keys:
        if pool.login_index.get(key) == identity.identity_id:
            del pool.login_index[key]
    del pool.identities[identity.identity_id]
