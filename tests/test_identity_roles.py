"""Role resolution of identity pools (harness.engine.identity.roles): default roles, Token and Rules
mappings, CustomRoleArn, AmbiguousRoleResolution, and the errors when no role can be given.

The end-to-end proof over HTTP with boto3 is tests/test_identity_credentials.py; these pin each rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from harness.engine.identity.models import IdentityPool, MappingRule, RoleMapping
from harness.engine.identity.roles import mapping_key, resolve_role, rule_matches
from harness.errors import CognitoError

PROVIDER = "cognito-idp.us-east-1.amazonaws.com/us-east-1_Abc123456"
CLIENT = "client1"
KEY = f"{PROVIDER}:{CLIENT}"
AUTH = "arn:aws:iam::123456789012:role/auth"
UNAUTH = "arn:aws:iam::123456789012:role/unauth"
ADMIN = "arn:aws:iam::123456789012:role/admin"
MEMBER = "arn:aws:iam::123456789012:role/member"


@dataclass
class Login:
    provider: str = PROVIDER
    claims: dict[str, Any] = field(default_factory=dict)
    client_id: str | None = CLIENT


def pool(roles: dict[str, str] | None = None, mappings: dict[str, RoleMapping] | None = None) -> IdentityPool:
    return IdentityPool(
        pool_id="us-east-1:00000000-0000-4000-8000-000000000000", name="p", allow_unauthenticated=True, created=0.0,
        roles={"authenticated": AUTH, "unauthenticated": UNAUTH} if roles is None else roles,
        role_mappings=mappings or {},
    )


def token_mapping(ambiguous: str = "Deny") -> dict[str, RoleMapping]:
    return {KEY: RoleMapping(type="Token", ambiguous_role_resolution=ambiguous)}


def rules_mapping(rules: list[MappingRule], ambiguous: str = "Deny") -> dict[str, RoleMapping]:
    return {KEY: RoleMapping(type="Rules", ambiguous_role_resolution=ambiguous, rules=rules)}


def denied(excinfo: pytest.ExceptionInfo[CognitoError]) -> tuple[str, str]:
    return excinfo.value.type, excinfo.value.message


# --- default roles ---------------------------------------------------------------------------


def test_no_logins_take_the_unauthenticated_role() -> None:
    choice = resolve_role(pool(), [])
    assert (choice.role_arn, choice.authenticated, choice.source) == (UNAUTH, False, "default")


def test_an_unmapped_login_takes_the_authenticated_role() -> None:
    choice = resolve_role(pool(mappings={"accounts.google.com": RoleMapping("Token", "Deny")}), [Login()])
    assert (choice.role_arn, choice.authenticated, choice.source) == (AUTH, True, "default")


@pytest.mark.parametrize(("roles", "logins"), [({"authenticated": AUTH}, []), ({"unauthenticated": UNAUTH}, [Login()])])
def test_a_missing_default_role_is_an_invalid_configuration(roles: dict[str, str], logins: list[Login]) -> None:
    with pytest.raises(CognitoError) as excinfo:
        resolve_role(pool(roles=roles), logins)
    assert denied(excinfo) == ("InvalidIdentityPoolConfigurationException",
                               "Invalid identity pool configuration. Check assigned IAM roles for this pool.")


def test_mapping_key_names_the_client_for_user_pools_only() -> None:
    assert mapping_key(Login()) == KEY
    assert mapping_key(Login(provider="accounts.google.com", client_id="g-app")) == "accounts.google.com"


# --- Token mappings ----------------------------------------------------------------------------


def test_token_takes_the_preferred_role() -> None:
    claims = {"cognito:preferred_role": ADMIN, "cognito:roles": [ADMIN, MEMBER]}
    choice = resolve_role(pool(mappings=token_mapping()), [Login(claims=claims)])
    assert (choice.role_arn, choice.source, choice.mapping_key) == (ADMIN, "token", KEY)


def test_token_custom_role_arn_in_roles_wins_over_the_preferred_role() -> None:
    claims = {"cognito:preferred_role": ADMIN, "cognito:roles": [ADMIN, MEMBER]}
    assert resolve_role(pool(mappings=token_mapping()), [Login(claims=claims)], MEMBER).role_arn == MEMBER


def test_token_custom_role_arn_not_in_roles_is_refused_even_with_authenticated_fallback() -> None:
    claims = {"cognito:preferred_role": MEMBER, "cognito:roles": [MEMBER]}
    with pytest.raises(CognitoError) as excinfo:
        resolve_role(pool(mappings=token_mapping("AuthenticatedRole")), [Login(claims=claims)], ADMIN)
    assert excinfo.value.type == "NotAuthorizedException"
    assert PROVIDER in excinfo.value.message


def test_token_single_role_without_preferred_is_taken() -> None:
    assert resolve_role(pool(mappings=token_mapping()), [Login(claims={"cognito:roles": [MEMBER]})]).role_arn == MEMBER


def test_token_comma_separated_roles_are_read() -> None:
    claims = {"cognito:roles": f"{ADMIN},{MEMBER}"}
    assert resolve_role(pool(mappings=token_mapping()), [Login(claims=claims)], MEMBER).role_arn == MEMBER


@pytest.mark.parametrize("claims", [{}, {"cognito:roles": [ADMIN, MEMBER]}])
def test_token_ambiguous_deny(claims: dict[str, Any]) -> None:
    with pytest.raises(CognitoError) as excinfo:
        resolve_role(pool(mappings=token_mapping("Deny")), [Login(claims=claims)])
    assert denied(excinfo) == ("NotAuthorizedException",
                               f"The ambiguous role mapping rules for: {PROVIDER} denied this request.")


@pytest.mark.parametrize("claims", [{}, {"cognito:roles": [ADMIN, MEMBER]}])
def test_token_ambiguous_authenticated_role(claims: dict[str, Any]) -> None:
    choice = resolve_role(pool(mappings=token_mapping("AuthenticatedRole")), [Login(claims=claims)])
    assert (choice.role_arn, choice.source) == (AUTH, "ambiguous")


def test_ambiguous_authenticated_role_without_one_is_an_invalid_configuration() -> None:
    with pytest.raises(CognitoError) as excinfo:
        resolve_role(pool(roles={"unauthenticated": UNAUTH}, mappings=token_mapping("AuthenticatedRole")), [Login()])
    assert excinfo.value.type == "InvalidIdentityPoolConfigurationException"


# --- Rules mappings ----------------------------------------------------------------------------


def rule(claim: str, match_type: str, value: str, role: str) -> MappingRule:
    return MappingRule(claim=claim, match_type=match_type, value=value, role_arn=role)


@pytest.mark.parametrize(
    ("match_type", "value", "claim_value", "matches"),
    [
        ("Equals", "admin", "admin", True),
        ("Equals", "admin", "admins", False),
        ("Contains", "dmi", "admin", True),
        ("Contains", "xyz", "admin", False),
        ("StartsWith", "ad", "admin", True),
        ("StartsWith", "min", "admin", False),
        ("NotEqual", "admin", "member", True),
        ("NotEqual", "admin", "admin", False),
        ("Equals", "admin", ["member", "admin"], True),
        ("Contains", "adm", ["member", "admin"], True),
        ("NotEqual", "admin", ["member", "admin"], False),
        ("NotEqual", "admin", ["member"], True),
        ("Equals", "true", True, True),
        ("Equals", "42", 42, True),
    ],
)
def test_match_types(match_type: str, value: str, claim_value: Any, matches: bool) -> None:
    assert rule_matches(rule("c", match_type, value, ADMIN), {"c": claim_value}) is matches


@pytest.mark.parametrize("match_type", ["Equals", "Contains", "StartsWith", "NotEqual"])
def test_a_missing_claim_never_matches(match_type: str) -> None:
    assert rule_matches(rule("custom:tenant", match_type, "x", ADMIN), {"sub": "s"}) is False


def test_rules_first_match_wins_in_order() -> None:
    rules = [rule("custom:tier", "Equals", "gold", ADMIN), rule("email", "Contains", "@", MEMBER)]
    mappings = rules_mapping(rules)
    both = resolve_role(pool(mappings=mappings), [Login(claims={"custom:tier": "gold", "email": "a@x"})])
    assert (both.role_arn, both.source) == (ADMIN, "rules")
    second = resolve_role(pool(mappings=mappings), [Login(claims={"custom:tier": "tin", "email": "a@x"})])
    assert second.role_arn == MEMBER
    reversed_order = rules_mapping(list(reversed(rules)))
    assert resolve_role(pool(mappings=reversed_order), [Login(claims={"custom:tier": "gold", "email": "a@x"})]
                        ).role_arn == MEMBER


def test_not_equal_on_a_missing_claim_is_not_evaluated() -> None:
    mappings = rules_mapping([rule("custom:tenant", "NotEqual", "acme", ADMIN)], "AuthenticatedRole")
    assert resolve_role(pool(mappings=mappings), [Login(claims={})]).role_arn == AUTH


def test_rules_no_match_deny_and_authenticated_role() -> None:
    rules = [rule("cognito:groups", "Contains", "admin", ADMIN)]
    with pytest.raises(CognitoError) as excinfo:
        resolve_role(pool(mappings=rules_mapping(rules, "Deny")), [Login(claims={"cognito:groups": ["member"]})])
    assert excinfo.value.type == "NotAuthorizedException"
    fallback = resolve_role(pool(mappings=rules_mapping(rules, "AuthenticatedRole")),
                            [Login(claims={"cognito:groups": ["member"]})])
    assert (fallback.role_arn, fallback.source) == (AUTH, "ambiguous")


def test_rules_ignore_custom_role_arn() -> None:
    rules = [rule("cognito:groups", "Contains", "admin", ADMIN)]
    choice = resolve_role(pool(mappings=rules_mapping(rules)), [Login(claims={"cognito:groups": ["admin"]})], MEMBER)
    assert choice.role_arn == ADMIN


def test_the_first_mapped_login_decides() -> None:
    google = Login(provider="accounts.google.com", claims={"hd": "corp.example"}, client_id="g-app")
    mappings = {**rules_mapping([rule("cognito:groups", "Contains", "admin", ADMIN)]),
                "accounts.google.com": RoleMapping("Rules", "Deny", [rule("hd", "Equals", "corp.example", MEMBER)])}
    user_pool = Login(claims={"cognito:groups": ["admin"]})
    assert resolve_role(pool(mappings=mappings), [google, user_pool]).role_arn == MEMBER
    assert resolve_role(pool(mappings=mappings), [user_pool, google]).role_arn == ADMIN
    unmapped = Login(provider="appleid.apple.com", client_id=None)
    assert resolve_role(pool(mappings=mappings), [unmapped, user_pool]).role_arn == ADMIN
