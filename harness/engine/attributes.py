"""User attributes: the pool schema, validation, permissions and uniqueness.

* :func:`standard_schema` is the set of standard attributes every pool has, with
  the constraints DescribeUserPool reports for them.
* :func:`custom_attribute` turns a CreateUserPool/AddCustomAttributes
  ``SchemaAttributeType`` into a ``custom:`` (or ``dev:``) attribute.
* :func:`validate_values` checks an attribute list for create/update the way
  Cognito does (unknown names, sub, immutable, types, lengths, email/phone
  format); :func:`check_writable` applies an app client's WriteAttributes.
* :func:`check_unique` keeps username attributes and verified aliases unique.
* :func:`user_attributes` is the API view (GetUser/AdminGetUser), filtered by
  a client's ReadAttributes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from harness.engine import indexes
from harness.engine.models import AppClient, SchemaAttribute, User, UserPool
from harness.errors import CognitoError, Err

STANDARD_ATTRIBUTES: tuple[str, ...] = (
    "sub", "name", "given_name", "family_name", "middle_name", "nickname", "preferred_username",
    "profile", "picture", "website", "email", "email_verified", "gender", "birthdate", "zoneinfo",
    "locale", "phone_number", "phone_number_verified", "address", "updated_at", "identities",
)
VERIFIABLE = ("email", "phone_number")
MAX_CUSTOM_ATTRIBUTES = 50
STRING_MAX = 2048

EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
PHONE_RE = re.compile(r"\+[0-9]{4,15}")
_INTEGER_RE = re.compile(r"-?[0-9]+")


def standard_attribute(name: str) -> SchemaAttribute:
    """One standard attribute as a new pool has it (before the request's overrides)."""
    if name in ("email_verified", "phone_number_verified"):
        return SchemaAttribute(name=name, data_type="Boolean")
    if name == "updated_at":
        return SchemaAttribute(name=name, data_type="Number", min_value=0)
    if name == "sub":
        return SchemaAttribute(name=name, mutable=False, required=True, min_length=1, max_length=STRING_MAX)
    if name == "birthdate":
        return SchemaAttribute(name=name, min_length=10, max_length=10)
    if name == "identities":
        return SchemaAttribute(name=name)
    return SchemaAttribute(name=name, min_length=0, max_length=STRING_MAX)


def standard_schema() -> dict[str, SchemaAttribute]:
    return {name: standard_attribute(name) for name in STANDARD_ATTRIBUTES}


def is_email(value: str) -> bool:
    return bool(EMAIL_RE.fullmatch(value))


def is_phone(value: str) -> bool:
    return bool(PHONE_RE.fullmatch(value))


def _invalid(detail: str) -> CognitoError:
    return Err.INVALID_PARAMETER.error(detail=detail)


def _int_or_none(value: Any, what: str) -> int | None:
    if value is None or value == "":
        return None
    text = str(value).strip()
    if not _INTEGER_RE.fullmatch(text):
        raise _invalid(f"{what} must be an integer value.")
    return int(text)


def schema_attribute_from_api(spec: Mapping[str, Any], existing: Mapping[str, SchemaAttribute]) -> SchemaAttribute:
    """A schema entry from a request's SchemaAttributeType.

    Standard names override the standard attribute's Required/Mutable; any
    other name becomes ``custom:<name>`` (``dev:<name>`` when developer-only).
    """
    name = str(spec.get("Name") or "")
    if name in STANDARD_ATTRIBUTES:
        attr = standard_attribute(name)
        if "Required" in spec:
            attr.required = bool(spec["Required"])
        if "Mutable" in spec:
            attr.mutable = bool(spec["Mutable"])
        if name == "sub" and (not attr.required or attr.mutable):
            raise _invalid("sub must be required and immutable.")
        _apply_constraints(attr, spec)
        return attr
    return custom_attribute(spec, existing)


def custom_attribute(spec: Mapping[str, Any], existing: Mapping[str, SchemaAttribute]) -> SchemaAttribute:
    """A ``custom:``/``dev:`` attribute from a SchemaAttributeType (AddCustomAttributes rules)."""
    raw = str(spec.get("Name") or "")
    for prefix in ("custom:", "dev:"):
        if raw.startswith(prefix):
            raw = raw[len(prefix):]
    if not raw:
        raise _invalid("Custom attribute name must not be empty.")
    developer_only = bool(spec.get("DeveloperOnlyAttribute", False))
    name = f"dev:{raw}" if developer_only else f"custom:{raw}"
    if name in existing or f"custom:{raw}" in existing or f"dev:{raw}" in existing:
        raise Err.CUSTOM_ATTRIBUTE_EXISTS.error(name=name)
    if spec.get("Required"):
        raise _invalid("Required custom attributes are not supported currently.")
    data_type = str(spec.get("AttributeDataType") or "String")
    attr = SchemaAttribute(
        name=name,
        data_type=data_type,
        mutable=bool(spec.get("Mutable", True)),
        required=False,
        developer_only=developer_only,
    )
    _apply_constraints(attr, spec)
    return attr


def _apply_constraints(attr: SchemaAttribute, spec: Mapping[str, Any]) -> None:
    strings = spec.get("StringAttributeConstraints") or {}
    numbers = spec.get("NumberAttributeConstraints") or {}
    if attr.data_type == "String" and strings:
        lo = _int_or_none(strings.get("MinLength"), "MinLength")
        hi = _int_or_none(strings.get("MaxLength"), "MaxLength")
        if lo is not None:
            attr.min_length = lo
        if hi is not None:
            attr.max_length = hi
        if attr.min_length is not None and attr.min_length < 0:
            raise _invalid("MinLength must be a non-negative integer.")
        if attr.max_length is not None and attr.max_length > STRING_MAX:
            raise _invalid(f"MaxLength must be less than or equal to {STRING_MAX}.")
        if attr.min_length is not None and attr.max_length is not None and attr.min_length > attr.max_length:
            raise _invalid("MinLength must be less than or equal to MaxLength.")
    if attr.data_type == "Number" and numbers:
        lo = _int_or_none(numbers.get("MinValue"), "MinValue")
        hi = _int_or_none(numbers.get("MaxValue"), "MaxValue")
        if lo is not None:
            attr.min_value = lo
        if hi is not None:
            attr.max_value = hi
        if attr.min_value is not None and attr.max_value is not None and attr.min_value > attr.max_value:
            raise _invalid("MinValue must be less than or equal to MaxValue.")


def custom_count(pool: UserPool) -> int:
    return sum(1 for a in pool.schema.values() if a.is_custom)


# --- validation of values ----------------------------------------------------------


def as_dict(attributes: Iterable[Mapping[str, Any]] | Mapping[str, str] | None) -> dict[str, str]:
    """An API AttributeType list (or a plain dict) as ``{name: value}``; later entries win."""
    if attributes is None:
        return {}
    if isinstance(attributes, Mapping):
        return {str(k): "" if v is None else str(v) for k, v in attributes.items()}
    return {str(a["Name"]): str(a.get("Value") or "") for a in attributes}


def is_true(value: str | None) -> bool:
    """A Boolean attribute's truth: Cognito reads "true", "True", "TRUE" alike and keeps the value as
    written (GetUser echoes "True" back: aws-amplify/amplify-js#8205)."""
    return value is not None and value.lower() == "true"


def is_verified(attributes: Mapping[str, str], attribute: str) -> bool:
    """Whether ``<attribute>_verified`` says true (email / phone_number)."""
    return is_true(attributes.get(f"{attribute}_verified"))


USER_STATUS = "cognito:user_status"


def event_attributes(pool: UserPool, user: User) -> dict[str, str]:
    """A trigger event's ``request.userAttributes``: the user's attributes with ``cognito:user_status``
    (and ``cognito:email_alias`` / ``cognito:phone_number_alias`` for verified aliases)."""
    values = dict(user.attributes)
    values[USER_STATUS] = user.status
    for attribute in VERIFIABLE:
        if attribute in pool.alias_attributes and is_verified(user.attributes, attribute):
            values[f"cognito:{attribute}_alias"] = user.attributes.get(attribute, "")
    return values


def _schema_error(name: str, reason: str) -> CognitoError:
    return Err.ATTRIBUTE_BAD_TYPE.error(name=name, reason=reason)


def check_value(attr: SchemaAttribute, value: str) -> None:
    """Type, constraint and format checks for one non-empty value."""
    name = attr.name
    if attr.data_type == "Boolean":
        if value.lower() not in ("true", "false"):
            raise _schema_error(name, "Value must be a boolean (true or false)")
        return
    if attr.data_type == "Number":
        if not _INTEGER_RE.fullmatch(value):
            raise _schema_error(name, "Number must be an integer")
        number = int(value)
        if attr.min_value is not None and number < attr.min_value:
            raise _schema_error(name, f"Number must be no less than {attr.min_value}")
        if attr.max_value is not None and number > attr.max_value:
            raise _schema_error(name, f"Number must be no greater than {attr.max_value}")
        return
    limit = attr.max_length if attr.max_length is not None else STRING_MAX
    if len(value) > limit:
        raise Err.ATTRIBUTE_TOO_LONG.error(name=name, max=limit)
    if attr.min_length is not None and len(value) < attr.min_length:
        raise _schema_error(name, f"String must be no shorter than {attr.min_length} characters")
    if name == "email" and not is_email(value):
        raise Err.INVALID_EMAIL.error()
    if name == "phone_number" and not is_phone(value):
        raise Err.INVALID_PHONE.error()


def validate_values(
    pool: UserPool,
    values: Mapping[str, str],
    *,
    user: User | None = None,
    check_required: bool = False,
) -> None:
    """Check attribute values for a new user (``user`` None) or an update.

    An empty value means "delete" on update. ``check_required`` (SignUp)
    demands every required attribute; AdminCreateUser leaves them to the
    NEW_PASSWORD_REQUIRED challenge.
    """
    for name, value in values.items():
        attr = pool.schema.get(name)
        if attr is None:
            raise Err.ATTRIBUTE_NOT_IN_SCHEMA.error(name=name)
        if name == "sub":
            raise Err.SUB_NOT_WRITABLE.error()
        if user is not None and not attr.mutable and user.attributes.get(name) not in (None, value):
            raise Err.ATTRIBUTE_IMMUTABLE.error(name=name)
        if value == "":
            if user is not None and attr.required:
                raise Err.ATTRIBUTE_REQUIRED.error(name=name)
            continue
        check_value(attr, value)
    if check_required:
        for attr in pool.schema.values():
            if attr.required and attr.name != "sub" and not values.get(attr.name):
                raise Err.ATTRIBUTE_REQUIRED.error(name=attr.name)


def missing_required(pool: UserPool, user: User) -> list[str]:
    """Required attributes the user has no value for (NEW_PASSWORD_REQUIRED's list)."""
    return [
        a.name for a in pool.schema.values()
        if a.required and a.name != "sub" and not user.attributes.get(a.name)
    ]


# --- client permissions --------------------------------------------------------------


def check_writable(pool: UserPool, client: AppClient | None, names: Iterable[str]) -> None:
    """App-client write permission for user-driven writes (SignUp, UpdateUserAttributes).

    Developer-only attributes are never client-writable. Without
    WriteAttributes a client may write every attribute except
    email_verified/phone_number_verified (users cannot vouch for their own
    contact details); with WriteAttributes, exactly those.
    """
    for name in names:
        if name.startswith("dev:"):
            raise Err.ATTRIBUTE_NOT_WRITABLE.error()
        if client is None:
            continue
        if client.write_attributes is None:
            if name in ("email_verified", "phone_number_verified"):
                raise Err.ATTRIBUTE_NOT_WRITABLE.error()
        elif name not in client.write_attributes:
            raise Err.ATTRIBUTE_NOT_WRITABLE.error()


def readable(client: AppClient | None, name: str) -> bool:
    """Whether an app client may read an attribute (admin views pass None)."""
    if client is None:
        return True
    if name.startswith("dev:"):
        return False
    if name == "sub" or client.read_attributes is None:
        return True
    return name in client.read_attributes


def user_attributes(pool: UserPool, client: AppClient | None, user: User) -> list[dict[str, str]]:
    """The ``UserAttributes`` list an API answer shows: sub first, then schema order."""
    order = {name: i for i, name in enumerate(pool.schema)}
    names = sorted(user.attributes, key=lambda n: (n != "sub", order.get(n, len(order)), n))
    return [{"Name": n, "Value": user.attributes[n]} for n in names if readable(client, n)]


# --- uniqueness ------------------------------------------------------------------------


def same_value(attr: str, a: str, b: str) -> bool:
    """Emails and preferred usernames compare case-insensitively, phones exactly."""
    if attr in ("email", "preferred_username"):
        return a.lower() == b.lower()
    return a == b


def holders(pool: UserPool, attr: str, value: str, *, verified_only: bool, exclude: User | None = None) -> list[User]:
    """Users other than ``exclude`` holding ``value`` (verified, with ``verified_only``), from the index."""
    if attr in indexes.INDEXED_ATTRIBUTES:
        candidates = indexes.holding(pool, attr, value)
    else:  # not a username/alias attribute Cognito knows: no index, compare every user
        candidates = [u for u in pool.users.values() if u.attributes.get(attr) is not None]
    out = []
    for other in candidates:
        if other is exclude:
            continue
        current = other.attributes.get(attr)
        if current is None or not same_value(attr, current, value):
            continue
        if verified_only and not is_verified(other.attributes, attr):
            continue
        out.append(other)
    return out


def check_unique(
    pool: UserPool,
    values: Mapping[str, str],
    *,
    user: User | None = None,
    force_alias: bool = False,
) -> list[tuple[User, str]]:
    """Enforce uniqueness of username attributes and aliases for new ``values``.

    * UsernameAttributes (email/phone as username): no other user may hold
      the value. New users get UsernameExistsException, updates
      AliasExistsException.
    * AliasAttributes: a verified email/phone may belong to one user only
      (AliasExistsException, unless ``force_alias`` moves it: the previous
      (holder, attribute) pairs are returned for :func:`release_aliases`);
      preferred_username is unique outright.
    """
    merged = dict(user.attributes) if user is not None else {}
    merged.update(values)
    displaced: list[tuple[User, str]] = []
    for attr in pool.username_attributes:
        value = values.get(attr)
        if not value:
            continue
        if holders(pool, attr, value, verified_only=False, exclude=user):
            if user is None:
                raise (Err.EMAIL_EXISTS if attr == "email" else Err.PHONE_EXISTS).error()
            raise Err.ALIAS_EXISTS.error(name=attr)
    for attr in pool.alias_attributes:
        touched = attr in values or f"{attr}_verified" in values  # newly set, or newly verified
        value = merged.get(attr) if touched else None
        if not value:
            continue
        if attr == "preferred_username":
            if holders(pool, attr, value, verified_only=False, exclude=user):
                raise Err.ALIAS_EXISTS.error(name=attr)
            continue
        if not is_verified(merged, attr):
            continue
        others = holders(pool, attr, value, verified_only=True, exclude=user)
        if others and not force_alias:
            raise Err.ALIAS_EXISTS.error(name=attr)
        displaced.extend((other, attr) for other in others)
    return displaced


def release_aliases(displaced: Iterable[tuple[User, str]]) -> None:
    """Un-verify aliases moved to another user (ForceAliasCreation)."""
    for other, attr in displaced:
        other.attributes[f"{attr}_verified"] = "false"


def claim_verified_aliases(pool: UserPool, user: User, *, force_alias: bool = False) -> None:
    """Make ``user``'s verified email/phone aliases theirs (ConfirmSignUp, verification).

    Raises AliasExistsException when another user holds the alias and
    ``force_alias`` is false; otherwise un-verifies the previous holder.
    """
    values = {a: user.attributes[a] for a in pool.alias_attributes if a in VERIFIABLE and a in user.attributes}
    release_aliases(check_unique(pool, values, user=user, force_alias=force_alias))


__all__ = [
    "STANDARD_ATTRIBUTES", "MAX_CUSTOM_ATTRIBUTES", "USER_STATUS", "event_attributes", "standard_schema", "standard_attribute",
    "schema_attribute_from_api", "custom_attribute", "custom_count", "as_dict", "is_true", "is_verified",
    "check_value",
    "validate_values", "missing_required", "check_writable", "readable", "user_attributes",
    "check_unique", "release_aliases", "claim_verified_aliases", "holders", "is_email", "is_phone",
]
