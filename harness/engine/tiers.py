"""Feature plans (``UserPoolTier`` LITE / ESSENTIALS / PLUS) and the threat-protection add-on.

Each plan unlocks the features of the one below it; a new pool is on ESSENTIALS
(docs: cognito-sign-in-feature-plans). A feature the pool's plan lacks is refused
with ``FeatureUnavailableInTierException``, worded as AWS words it when a pool
configures one: "The following features need to be disabled for the LITE pricing
tier configured: Passwordless Sign-In" (observed, aws-amplify/amplify-backend#2805;
"... ESSENTIALS ...: Threat Protection", hashicorp/terraform-provider-aws#40734). The other
features' names in that message ("Email MFA", "Password History", "Refresh Token Rotation",
"Token Customization with Pre-Token Generation Lambda V2_0") were not seen from AWS itself,
and neither was TierChangeNotAllowedException's message: both are the emulator's choice.

* :func:`tier` is the pool's plan, :func:`require` refuses one feature the plan
  lacks (SetUserPoolMfaConfig, sign-in, client settings call it);
* :func:`check_pool` runs at the end of CreateUserPool / UpdateUserPool over every
  feature the pool has on: features the request itself configures are
  FeatureUnavailableInTierException; features configured elsewhere (email MFA by
  SetUserPoolMfaConfig, refresh-token rotation by a client) that a lower plan
  would lose are TierChangeNotAllowedException ("turn off the features before you
  switch plans", docs: feature-plans-deactivate);
* :func:`threat_protection` is the add-on's mode ("OFF" | "AUDIT" | "ENFORCED").
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.engine.models import UserPool
from harness.errors import CognitoError, Err

LITE = "LITE"
ESSENTIALS = "ESSENTIALS"
PLUS = "PLUS"
TIERS = (LITE, ESSENTIALS, PLUS)  # lowest first
DEFAULT_TIER = ESSENTIALS


@dataclass(frozen=True)
class Feature:
    """A feature a plan gates: the plan that first has it and the name AWS's message gives it."""

    minimum: str
    label: str


EMAIL_MFA = "EMAIL_MFA"
PASSWORDLESS = "PASSWORDLESS"
ACCESS_TOKEN_CUSTOMIZATION = "ACCESS_TOKEN_CUSTOMIZATION"
PASSWORD_HISTORY = "PASSWORD_HISTORY"
REFRESH_TOKEN_ROTATION = "REFRESH_TOKEN_ROTATION"
THREAT_PROTECTION = "THREAT_PROTECTION"

FEATURES: dict[str, Feature] = {
    EMAIL_MFA: Feature(ESSENTIALS, "Email MFA"),
    PASSWORDLESS: Feature(ESSENTIALS, "Passwordless Sign-In"),  # EMAIL_OTP, SMS_OTP, WEB_AUTHN first factors
    ACCESS_TOKEN_CUSTOMIZATION: Feature(ESSENTIALS, "Token Customization with Pre-Token Generation Lambda"),
    PASSWORD_HISTORY: Feature(ESSENTIALS, "Password History"),
    REFRESH_TOKEN_ROTATION: Feature(ESSENTIALS, "Refresh Token Rotation"),
    THREAT_PROTECTION: Feature(PLUS, "Threat Protection"),
}
# Features CreateUserPool / UpdateUserPool themselves configure (the rest come from other operations).
POOL_SETTINGS = (PASSWORDLESS, ACCESS_TOKEN_CUSTOMIZATION, PASSWORD_HISTORY, THREAT_PROTECTION)


def tier(pool: UserPool) -> str:
    """The pool's feature plan (ESSENTIALS unless the pool chose another)."""
    return str(pool.extra.get("UserPoolTier", DEFAULT_TIER))


def has(pool: UserPool, feature: str) -> bool:
    """Whether the pool's plan includes ``feature``."""
    return TIERS.index(tier(pool)) >= TIERS.index(FEATURES[feature].minimum)


def _label(pool: UserPool, feature: str) -> str:
    label = FEATURES[feature].label
    if feature == ACCESS_TOKEN_CUSTOMIZATION:
        return f"{label} {pre_token_version(pool)}"
    return label


def unavailable(pool: UserPool, features: list[str], *, tier_change: bool = False) -> CognitoError:
    """The refusal naming every feature the plan lacks."""
    err = Err.TIER_CHANGE_NOT_ALLOWED if tier_change else Err.FEATURE_UNAVAILABLE_IN_TIER
    return err.error(tier=tier(pool), features=", ".join(_label(pool, f) for f in features))


def require(pool: UserPool, feature: str) -> None:
    """Refuse ``feature`` (a key of :data:`FEATURES`) when the pool's plan lacks it."""
    if feature not in FEATURES:
        raise ValueError(f"unknown feature {feature!r}; known: {', '.join(FEATURES)}")
    if not has(pool, feature):
        raise unavailable(pool, [feature])


# --- what a pool has turned on ------------------------------------------------------------------


def threat_protection(pool: UserPool) -> str:
    """The add-on's mode for standard authentication: "OFF", "AUDIT" or "ENFORCED"."""
    return str((pool.extra.get("UserPoolAddOns") or {}).get("AdvancedSecurityMode", "OFF"))


def threat_protection_on(pool: UserPool) -> bool:
    """AUDIT or ENFORCED for standard sign-in, or for custom auth (AdvancedSecurityAdditionalFlows)."""
    add_ons = pool.extra.get("UserPoolAddOns") or {}
    custom = (add_ons.get("AdvancedSecurityAdditionalFlows") or {}).get("CustomAuthMode")
    return threat_protection(pool) != "OFF" or custom is not None


def pre_token_version(pool: UserPool) -> str:
    config = pool.lambda_config.get("PreTokenGenerationConfig") or {}
    return str(config.get("LambdaVersion") or "V1_0")


def first_factors(pool: UserPool) -> list[str]:
    """The sign-in policy's AllowedFirstAuthFactors (PASSWORD when the pool sets none)."""
    policy = pool.extra.get("SignInPolicy") or {}
    return list(policy.get("AllowedFirstAuthFactors") or ["PASSWORD"])


def features_in_use(pool: UserPool) -> list[str]:
    """Every gated feature the pool (or one of its app clients) has turned on, in table order."""
    on = {
        EMAIL_MFA: pool.mfa.email_enabled,
        PASSWORDLESS: any(f != "PASSWORD" for f in first_factors(pool)),
        ACCESS_TOKEN_CUSTOMIZATION: pre_token_version(pool) != "V1_0",
        PASSWORD_HISTORY: pool.password_policy.password_history_size > 0,
        REFRESH_TOKEN_ROTATION: any(c.refresh_rotation_enabled for c in pool.clients.values()),
        THREAT_PROTECTION: threat_protection_on(pool),
    }
    return [name for name in FEATURES if on[name]]


def check_pool(pool: UserPool, *, previous_tier: str | None = None) -> None:
    """Refuse a Create/UpdateUserPool whose settings need a higher plan than the one chosen.

    ``previous_tier`` is the plan before an update (None on create): a feature set by
    another operation that the new plan lacks blocks the change of plan."""
    missing = [f for f in features_in_use(pool) if not has(pool, f)]
    configured = [f for f in missing if f in POOL_SETTINGS]
    if configured:
        raise unavailable(pool, configured)
    if missing:
        raise unavailable(pool, missing, tier_change=previous_tier is not None and previous_tier != tier(pool))


__all__ = [
    "LITE", "ESSENTIALS", "PLUS", "TIERS", "FEATURES", "Feature", "tier", "has", "require", "unavailable",
    "threat_protection", "threat_protection_on", "features_in_use", "check_pool",
    "EMAIL_MFA", "PASSWORDLESS", "ACCESS_TOKEN_CUSTOMIZATION", "PASSWORD_HISTORY", "REFRESH_TOKEN_ROTATION",
    "THREAT_PROTECTION",
]
