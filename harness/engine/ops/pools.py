"""User pool operations: CreateUserPool, DescribeUserPool, UpdateUserPool,
ListUserPools, DeleteUserPool, AddCustomAttributes.

Every setting a request gives is kept and echoed back by DescribeUserPool in
botocore's ``UserPoolType`` shape. Like Cognito, UpdateUserPool resets the
settings it can change but that the request leaves out to their defaults
(the schema, username attributes, aliases and case sensitivity are fixed at
creation).

Harness extension: the pool tag ``{"harness:issuer": "aws"}`` (in
``UserPoolTags`` on CreateUserPool or UpdateUserPool, or by TagResource; the
tag rules are in harness.engine.pool_tags) makes the pool issue
tokens with the AWS issuer ``https://cognito-idp.{region}.amazonaws.com/{poolId}``
instead of the emulator's local URL (``"local"``, the default). The JWKS and
discovery documents are always served locally.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from harness.engine import attributes as attrs
from harness.engine import auth_events, mfa, pool_tags, tiers
from harness.engine.models import PasswordPolicy, SchemaAttribute, UserPool
from harness.engine.ops.paging import page
from harness.engine.registry import operation
from harness.errors import Err

if TYPE_CHECKING:  # pragma: no cover
    from harness.engine.store import Backend

ISSUER_TAG = pool_tags.ISSUER_TAG
CODE_PLACEHOLDER = "{####}"

# Settings UpdateUserPool may change; absent from an update, they return to these defaults.
_UPDATABLE = (
    "password_policy", "deletion_protection", "lambda_config", "auto_verified_attributes",
    "verification_email_subject", "verification_email_message", "verification_sms_message",
    "invite_email_subject", "invite_email_message", "invite_sms_message",
    "attributes_require_verification_before_update",
    "allow_admin_create_user_only", "account_recovery", "email_sending_account",
)
# Echoed settings (kept in pool.extra) that an update resets when it leaves them out.
_RESET_EXTRAS = (
    "SignInPolicy", "DeviceConfiguration", "EmailConfiguration", "SmsConfiguration",
    "UserPoolAddOns", "SmsAuthenticationMessage", "VerificationMessageTemplate",
    "AdminCreateUserConfig", "AccountRecoverySetting",
)


def _invalid(detail: str) -> Exception:
    return Err.INVALID_PARAMETER.error(detail=detail)


# --- settings ------------------------------------------------------------------------------


def _password_policy(policies: dict[str, Any] | None) -> PasswordPolicy:
    spec = (policies or {}).get("PasswordPolicy")
    if spec is None:
        return PasswordPolicy()
    # Through the API an omitted Require* flag is false (the console's "all on" is a console default).
    return PasswordPolicy(
        minimum_length=spec.get("MinimumLength", 8),
        require_uppercase=bool(spec.get("RequireUppercase", False)),
        require_lowercase=bool(spec.get("RequireLowercase", False)),
        require_numbers=bool(spec.get("RequireNumbers", False)),
        require_symbols=bool(spec.get("RequireSymbols", False)),
        temporary_password_validity_days=spec.get("TemporaryPasswordValidityDays", 7),
        password_history_size=spec.get("PasswordHistorySize", 0),
    )


def _needs_code(field: str, template: str | None) -> None:
    if template is not None and CODE_PLACEHOLDER not in template:
        raise _invalid(f"{field} must contain the {CODE_PLACEHOLDER} placeholder.")


def _pick(field: str, legacy: str | None, template: str | None) -> str | None:
    if legacy is not None and template is not None and legacy != template:
        raise _invalid(f"{field} and VerificationMessageTemplate differ; set only one of them.")
    return template if template is not None else legacy


def _apply_verification_messages(pool: UserPool, params: dict[str, Any]) -> None:
    template = params.get("VerificationMessageTemplate") or {}
    option = template.get("DefaultEmailOption", "CONFIRM_WITH_CODE")
    email = _pick("EmailVerificationMessage", params.get("EmailVerificationMessage"), template.get("EmailMessage"))
    subject = _pick("EmailVerificationSubject", params.get("EmailVerificationSubject"), template.get("EmailSubject"))
    sms = _pick("SmsVerificationMessage", params.get("SmsVerificationMessage"), template.get("SmsMessage"))
    if option == "CONFIRM_WITH_CODE":
        _needs_code("EmailVerificationMessage", email)
    _needs_code("SmsVerificationMessage", sms)
    by_link = template.get("EmailMessageByLink")
    if option == "CONFIRM_WITH_LINK" and by_link is not None and "{##" not in by_link:
        raise _invalid("EmailMessageByLink must contain a {##Click here##} link placeholder.")
    if email is not None:
        pool.verification_email_message = email
    if subject is not None:
        pool.verification_email_subject = subject
    if sms is not None:
        pool.verification_sms_message = sms
    pool.extra["VerificationMessageTemplate"] = {
        k: v for k, v in template.items() if k in ("EmailMessageByLink", "EmailSubjectByLink", "DefaultEmailOption")
    }


def _apply_admin_create_user_config(pool: UserPool, config: dict[str, Any] | None) -> None:
    config = config or {}
    pool.allow_admin_create_user_only = bool(config.get("AllowAdminCreateUserOnly", False))
    invite = config.get("InviteMessageTemplate") or {}
    if invite.get("EmailMessage") is not None:
        pool.invite_email_message = invite["EmailMessage"]
    if invite.get("EmailSubject") is not None:
        pool.invite_email_subject = invite["EmailSubject"]
    if invite.get("SMSMessage") is not None:
        pool.invite_sms_message = invite["SMSMessage"]
    pool.extra["AdminCreateUserConfig"] = {
        "UnusedAccountValidityDays": config.get("UnusedAccountValidityDays", 7),
        "InviteMessageTemplate": dict(invite),
    }


def _apply_account_recovery(pool: UserPool, setting: dict[str, Any] | None) -> None:
    mechanisms = (setting or {}).get("RecoveryMechanisms")
    if mechanisms is None:
        pool.account_recovery = []
        pool.extra.pop("AccountRecoverySetting", None)
        return
    names = [m["Name"] for m in mechanisms]
    priorities = [m["Priority"] for m in mechanisms]
    if len(set(names)) != len(names) or len(set(priorities)) != len(priorities):
        raise _invalid("RecoveryMechanisms must have unique names and priorities.")
    if "admin_only" in names and len(names) > 1:
        raise _invalid("admin_only cannot be combined with other recovery mechanisms.")
    ordered = sorted(mechanisms, key=lambda m: m["Priority"])
    pool.account_recovery = [m["Name"] for m in ordered]
    pool.extra["AccountRecoverySetting"] = {"RecoveryMechanisms": [dict(m) for m in ordered]}


def _apply_settings(pool: UserPool, params: dict[str, Any]) -> None:
    """Apply every updatable setting from a CreateUserPool/UpdateUserPool request."""
    fresh = UserPool(pool_id=pool.pool_id, name=pool.name, region=pool.region, account_id=pool.account_id,
                     keyring=pool.keyring)
    for name in _UPDATABLE:
        setattr(pool, name, copy.deepcopy(getattr(fresh, name)))
    for key in _RESET_EXTRAS:
        pool.extra.pop(key, None)
    policies = params.get("Policies") or {}
    pool.password_policy = _password_policy(policies)
    if "SignInPolicy" in policies:
        pool.extra["SignInPolicy"] = policies["SignInPolicy"]
    pool.deletion_protection = params.get("DeletionProtection", "INACTIVE")
    pool.lambda_config = dict(params.get("LambdaConfig") or {})
    pool.auto_verified_attributes = list(dict.fromkeys(params.get("AutoVerifiedAttributes") or []))
    require = list((params.get("UserAttributeUpdateSettings") or {}).get("AttributesRequireVerificationBeforeUpdate") or [])
    for name in require:
        if name not in pool.auto_verified_attributes:
            raise _invalid(
                "Cannot set AttributesRequireVerificationBeforeUpdate for attributes that are not "
                f"in AutoVerifiedAttributes: {name}"
            )
    pool.attributes_require_verification_before_update = require
    _apply_verification_messages(pool, params)
    mfa.apply_pool_settings(pool, params)  # MfaConfiguration and SMS MFA (engine.mfa)
    _apply_admin_create_user_config(pool, params.get("AdminCreateUserConfig"))
    _apply_account_recovery(pool, params.get("AccountRecoverySetting"))
    email_config = dict(params.get("EmailConfiguration") or {})
    pool.email_sending_account = email_config.get("EmailSendingAccount", "COGNITO_DEFAULT")
    pool.extra["EmailConfiguration"] = {**email_config, "EmailSendingAccount": pool.email_sending_account}
    for key in ("DeviceConfiguration", "SmsConfiguration", "UserPoolAddOns", "SmsAuthenticationMessage"):
        if key in params:
            pool.extra[key] = copy.deepcopy(params[key])
    if "UserPoolTier" in params:  # an update that leaves the plan out keeps it
        pool.extra["UserPoolTier"] = params["UserPoolTier"]
    if params.get("UserPoolTags") is not None:  # an update that leaves the tags out keeps them
        pool_tags.replace(pool, params["UserPoolTags"])


def _schema(params: dict[str, Any]) -> dict[str, SchemaAttribute]:
    schema = attrs.standard_schema()
    seen: set[str] = set()
    for spec in params.get("Schema") or []:
        name = spec.get("Name", "")
        if name in seen:
            raise _invalid(f"Duplicate attribute in schema: {name}")
        seen.add(name)
        if name in attrs.STANDARD_ATTRIBUTES:
            schema[name] = attrs.schema_attribute_from_api(spec, {})
        else:
            attr = attrs.custom_attribute(spec, schema)
            schema[attr.name] = attr
    return schema


# --- views ---------------------------------------------------------------------------------


def describe(pool: UserPool) -> dict[str, Any]:
    """The UserPoolType view of a pool."""
    extra = pool.extra
    policies: dict[str, Any] = {"PasswordPolicy": pool.password_policy.to_api()}
    policies["SignInPolicy"] = extra.get("SignInPolicy", {"AllowedFirstAuthFactors": ["PASSWORD"]})
    template = {
        "SmsMessage": pool.verification_sms_message,
        "EmailMessage": pool.verification_email_message,
        "EmailSubject": pool.verification_email_subject,
        **extra.get("VerificationMessageTemplate", {}),
    }
    template.setdefault("DefaultEmailOption", "CONFIRM_WITH_CODE")
    admin_config = extra.get("AdminCreateUserConfig", {})
    invite = {
        "SMSMessage": pool.invite_sms_message,
        "EmailMessage": pool.invite_email_message,
        "EmailSubject": pool.invite_email_subject,
    }
    out: dict[str, Any] = {
        "Id": pool.pool_id,
        "Name": pool.name,
        "Policies": policies,
        "DeletionProtection": pool.deletion_protection,
        "LambdaConfig": dict(pool.lambda_config),
        "LastModifiedDate": pool.modified,
        "CreationDate": pool.created,
        "SchemaAttributes": [a.to_api() for a in pool.schema.values()],
        "AutoVerifiedAttributes": list(pool.auto_verified_attributes),
        "SmsVerificationMessage": pool.verification_sms_message,
        "EmailVerificationMessage": pool.verification_email_message,
        "EmailVerificationSubject": pool.verification_email_subject,
        "VerificationMessageTemplate": template,
        "UserAttributeUpdateSettings": {
            "AttributesRequireVerificationBeforeUpdate": list(pool.attributes_require_verification_before_update)
        },
        "MfaConfiguration": pool.mfa_configuration,
        "EstimatedNumberOfUsers": len(pool.users),
        "EmailConfiguration": extra.get("EmailConfiguration", {"EmailSendingAccount": pool.email_sending_account}),
        "UserPoolTags": dict(pool.tags),
        "AdminCreateUserConfig": {
            "AllowAdminCreateUserOnly": pool.allow_admin_create_user_only,
            "UnusedAccountValidityDays": admin_config.get("UnusedAccountValidityDays", 7),
            "InviteMessageTemplate": invite,
        },
        "UsernameConfiguration": {"CaseSensitive": pool.username_case_sensitive},
        "Arn": pool.arn,
        "UserPoolTier": tiers.tier(pool),
    }
    if pool.alias_attributes:
        out["AliasAttributes"] = list(pool.alias_attributes)
    if pool.username_attributes:
        out["UsernameAttributes"] = list(pool.username_attributes)
    if "AccountRecoverySetting" in extra:
        out["AccountRecoverySetting"] = copy.deepcopy(extra["AccountRecoverySetting"])
    for key in ("DeviceConfiguration", "SmsConfiguration", "UserPoolAddOns", "SmsAuthenticationMessage"):
        if key in extra:
            out[key] = copy.deepcopy(extra[key])
    if pool.domain_config is not None and pool.domain_config.custom_domain_config:
        out["CustomDomain"] = pool.domain_config.domain
    elif pool.domain:
        out["Domain"] = pool.domain
    return out


def summary(pool: UserPool) -> dict[str, Any]:
    """The UserPoolDescriptionType (ListUserPools) view."""
    return {
        "Id": pool.pool_id,
        "Name": pool.name,
        "LambdaConfig": dict(pool.lambda_config),
        "LastModifiedDate": pool.modified,
        "CreationDate": pool.created,
    }


# --- operations ------------------------------------------------------------------------------


@operation("CreateUserPool")
def create_user_pool(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    username_attributes = list(dict.fromkeys(params.get("UsernameAttributes") or []))
    alias_attributes = list(dict.fromkeys(params.get("AliasAttributes") or []))
    if username_attributes and alias_attributes:
        raise _invalid("Only one of the aliasAttributes or usernameAttributes can be set in a User Pool.")
    schema = _schema(params)
    region = backend.settings.region
    pool_id = backend.ids.pool_id(region)
    now = backend.clock.now()
    pool = UserPool(
        pool_id=pool_id,
        name=params["PoolName"],
        region=region,
        account_id=backend.settings.account_id,
        keyring=backend.new_keyring(pool_id),
        created=now,
        modified=now,
        schema=schema,
        username_attributes=username_attributes,
        alias_attributes=alias_attributes,
        username_case_sensitive=bool((params.get("UsernameConfiguration") or {}).get("CaseSensitive", True)),
    )
    _apply_settings(pool, params)
    tiers.check_pool(pool)
    backend.pools[pool_id] = pool
    auth_events.track(backend, pool, was_on=False)
    return {"UserPool": describe(pool)}


@operation("DescribeUserPool")
def describe_user_pool(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    return {"UserPool": describe(backend.pool(params["UserPoolId"]))}


@operation("UpdateUserPool")
def update_user_pool(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool = backend.pool(params["UserPoolId"])
    trial = copy.copy(pool)  # validate on a copy so a bad request changes nothing
    trial.extra = copy.deepcopy(pool.extra)
    trial.mfa = copy.deepcopy(pool.mfa)
    trial.tags = dict(pool.tags)
    was_on = tiers.threat_protection_on(pool)
    _apply_settings(trial, params)
    tiers.check_pool(trial, previous_tier=tiers.tier(pool))
    for name in (*_UPDATABLE, "extra", "issuer_mode", "mfa", "mfa_configuration", "tags"):
        setattr(pool, name, getattr(trial, name))
    if params.get("PoolName"):
        pool.name = params["PoolName"]
    pool.modified = backend.clock.now()
    auth_events.track(backend, pool, was_on=was_on)
    return {}


@operation("ListUserPools")
def list_user_pools(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pools = list(backend.pools.values())
    chunk, token = page(pools, lambda p: p.pool_id, params.get("MaxResults"), params.get("NextToken"),
                        scope="ListUserPools")
    out: dict[str, Any] = {"UserPools": [summary(p) for p in chunk]}
    if token:
        out["NextToken"] = token
    return out


@operation("DeleteUserPool")
def delete_user_pool(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool = backend.pool(params["UserPoolId"])
    if pool.deletion_protection == "ACTIVE":
        raise Err.DELETION_PROTECTED.error()
    if pool.domain_config is not None:
        raise Err.POOL_HAS_DOMAIN_DELETE.error()
    del backend.pools[pool.pool_id]
    return {}


@operation("AddCustomAttributes")
def add_custom_attributes(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool = backend.pool(params["UserPoolId"])
    added: dict[str, SchemaAttribute] = {}
    for spec in params["CustomAttributes"]:
        attr = attrs.custom_attribute(spec, {**pool.schema, **added})
        added[attr.name] = attr
    if attrs.custom_count(pool) + len(added) > attrs.MAX_CUSTOM_ATTRIBUTES:
        raise _invalid(Err.TOO_MANY_CUSTOM_ATTRIBUTES.message())
    pool.schema.update(added)
    pool.modified = backend.clock.now()
    return {}
