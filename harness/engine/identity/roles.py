"""Which IAM role an identity's credentials carry: default roles, Token and Rules mappings.

What AWS documents (the developer guide's "Role-based access control", the RoleMapping API reference):

- no logins: the pool's ``unauthenticated`` role; logins with no role mapping for their
  provider: the ``authenticated`` role.
- ``RoleMappings`` are keyed ``cognito-idp.<region>.amazonaws.com/<poolId>:<appClientId>`` for a
  user pool (the provider name for any other provider).
- Token: ``CustomRoleArn`` is used when it is one of ``cognito:roles`` and refused when it is not;
  otherwise ``cognito:preferred_role``; otherwise the mapping is ambiguous ("there is no
  cognito:preferred_role claim and there are multiple cognito:roles matches"; one ``cognito:roles``
  entry alone is taken, as that wording implies).
- Rules: in order, the first match wins; Equals / Contains / StartsWith / NotEqual; a NotEqual rule
  on a claim the token lacks is not evaluated (it does not match).
- ambiguous: ``AmbiguousRoleResolution`` AuthenticatedRole (the pool's authenticated role) or Deny
  (NotAuthorizedException "The ambiguous role mapping rules for: <provider> denied this request.",
  observed). No usable role at all: InvalidIdentityPoolConfigurationException.

Chosen where AWS is silent (kept consistent, named here so a reader can tell):
- several logins: the first login (in the request's Logins order) that has a role mapping decides;
  none mapped: the authenticated role.
- a claim that is a list (``cognito:groups``) matches when one of its members does (NotEqual: when
  none equals the value); other values are compared as text (``true``, numbers as written).
- ``CustomRoleArn`` is honoured by Token mappings only; with a Rules mapping or the default role it
  is not used.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from harness.engine.identity.models import IdentityPool, MappingRule, RoleMapping
from harness.engine.identity.pools import USER_POOL_PROVIDER
from harness.errors import Err

AUTHENTICATED = "authenticated"
UNAUTHENTICATED = "unauthenticated"

PREFERRED_ROLE_CLAIM = "cognito:preferred_role"
ROLES_CLAIM = "cognito:roles"


class MappedLogin(Protocol):
    """What role resolution reads of a verified login (``logins.VerifiedLogin`` has these)."""

    provider: str
    claims: dict[str, Any]
    client_id: str | None


@dataclass(frozen=True)
class RoleChoice:
    """The role credentials are issued for, and why (``source``: default | token | rules | ambiguous)."""

    role_arn: str
    authenticated: bool
    source: str
    mapping_key: str | None = None


def mapping_key(login: MappedLogin) -> str:
    """The ``RoleMappings`` key for a login: ``<provider>:<client id>`` for a user pool, else the provider."""
    if USER_POOL_PROVIDER.fullmatch(login.provider) and login.client_id:
        return f"{login.provider}:{login.client_id}"
    return login.provider


def resolve_role(pool: IdentityPool, logins: Sequence[MappedLogin], custom_role_arn: str | None = None) -> RoleChoice:
    """The role for credentials of ``pool`` given the verified ``logins`` (none: unauthenticated).

    Raises NotAuthorizedException when a mapping denies, InvalidIdentityPoolConfigurationException
    when no role is configured for the case."""
    if not logins:
        return RoleChoice(_configured(pool, UNAUTHENTICATED), authenticated=False, source="default")
    for login in logins:
        key = mapping_key(login)
        mapping = pool.role_mappings.get(key)
        if mapping is not None:
            return _mapped(pool, mapping, key, login, custom_role_arn)
    return RoleChoice(_configured(pool, AUTHENTICATED), authenticated=True, source="default")


def _configured(pool: IdentityPool, which: str) -> str:
    role = pool.roles.get(which)
    if not role:
        raise Err.IDENTITY_POOL_ROLES_INVALID.error()
    return role


def _mapped(pool: IdentityPool, mapping: RoleMapping, key: str, login: MappedLogin,
            custom_role_arn: str | None) -> RoleChoice:
    if mapping.type == "Token":
        role = _from_token(login.claims, custom_role_arn, login.provider)
        source = "token"
    else:
        role = _from_rules(mapping.rules, login.claims)
        source = "rules"
    if role is not None:
        return RoleChoice(role, authenticated=True, source=source, mapping_key=key)
    if mapping.ambiguous_role_resolution == "AuthenticatedRole":
        return RoleChoice(_configured(pool, AUTHENTICATED), authenticated=True, source="ambiguous", mapping_key=key)
    raise Err.AMBIGUOUS_ROLE_DENIED.error(provider=login.provider)


def _from_token(claims: Mapping[str, Any], custom_role_arn: str | None, provider: str) -> str | None:
    """The role a Token mapping picks, None when ambiguous."""
    roles = _as_list(claims.get(ROLES_CLAIM))
    if custom_role_arn:
        if custom_role_arn in roles:
            return custom_role_arn
        raise Err.CUSTOM_ROLE_NOT_IN_TOKEN.error(provider=provider)
    preferred = claims.get(PREFERRED_ROLE_CLAIM)
    if isinstance(preferred, str) and preferred:
        return preferred
    return roles[0] if len(roles) == 1 else None


def _as_list(value: Any) -> list[str]:
    """``cognito:roles`` as a list: a JSON array in today's ID tokens, a comma-separated string in the 2023 doc."""
    if isinstance(value, list):
        return [str(v) for v in value]
    if isinstance(value, str) and value:
        return [part.strip() for part in value.split(",") if part.strip()]
    return []


def _from_rules(rules: Sequence[MappingRule], claims: Mapping[str, Any]) -> str | None:
    """The role of the first rule that matches, None when none does."""
    for rule in rules:
        if rule_matches(rule, claims):
            return rule.role_arn
    return None


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


MATCHERS: dict[str, Callable[[str, str], bool]] = {
    "Equals": lambda actual, wanted: actual == wanted,
    "Contains": lambda actual, wanted: wanted in actual,
    "StartsWith": lambda actual, wanted: actual.startswith(wanted),
}


def rule_matches(rule: MappingRule, claims: Mapping[str, Any]) -> bool:
    """Whether one rule matches the token's claims (a missing claim never matches, NotEqual included)."""
    if rule.claim not in claims or claims[rule.claim] is None:
        return False
    raw = claims[rule.claim]
    values = [_text(v) for v in raw] if isinstance(raw, list) else [_text(raw)]
    if rule.match_type == "NotEqual":
        return all(value != rule.value for value in values)
    matcher = MATCHERS.get(rule.match_type)
    if matcher is None:  # SetIdentityPoolRoles admits only the four types; an unknown one never matches
        return False
    return any(matcher(value, rule.value) for value in values)


__all__ = [
    "AUTHENTICATED",
    "MATCHERS",
    "UNAUTHENTICATED",
    "MappedLogin",
    "RoleChoice",
    "mapping_key",
    "resolve_role",
    "rule_matches",
]
