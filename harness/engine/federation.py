"""Federated users: who a federated sign-in becomes, and account linking.

Cognito's rules, as emulated here:

* The first sign-in through provider P of IdP user ``id`` creates the user
  ``P_id`` with status EXTERNAL_PROVIDER and an ``identities`` attribute (stored
  form: a JSON string whose ``primary`` is a boolean and ``dateCreated`` a
  number; tokens carry the string-typed form, see claims.identities_claim).
* Mapped attributes are overwritten at every federated sign-in. A mapped
  email is unverified unless ``email_verified`` is mapped too.
* Cognito never merges by email: a native user and a federated user with the
  same email are two users with two subs.
* Once AdminLinkProviderForUser has linked ``P/id`` to a user, signing in
  through P yields *that* user (its sub, its tokens listing the identities).
* Linking inside PreSignUp during the first sign-in fails that sign-in with
  "Already found an entry for username P_id" (the next one succeeds).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from harness.engine import attributes as attrs
from harness.engine import events as ev
from harness.engine import indexes
from harness.engine.models import AppClient, IdentityProvider, User, UserPool
from harness.engine.triggers import run_pre_signup
from harness.engine.users import disable_user
from harness.errors import Err
from harness.engine.events import FEDERATED_SIGN_IN, FEDERATION_LINKED, FEDERATION_UNLINKED

if TYPE_CHECKING:  # pragma: no cover
    from harness.engine.store import Backend

MAX_LINKS = 5
EXTERNAL_PROVIDER = "EXTERNAL_PROVIDER"
COGNITO = "Cognito"
COGNITO_SUBJECT = "Cognito_Subject"

USER_ID_CLAIM = {"Facebook": "id", "LoginWithAmazon": "user_id",
                 "SAML": "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier"}


def user_id_claim(provider_type: str) -> str:
    """The IdP claim Cognito uses as the provider user id (``<Provider>_<id>``)."""
    return USER_ID_CLAIM.get(provider_type, "sub")


# --- the identities attribute -------------------------------------------------------------


identities_of = indexes.identities_of  # one parser of the attribute: the index reads it too


def write_identities(user: User, entries: list[dict[str, Any]]) -> None:
    if entries:
        user.attributes["identities"] = json.dumps(entries, separators=(",", ":"))
    else:
        user.attributes.pop("identities", None)


def identity_entry(provider_name: str, provider_type: str, user_id: str, now_ms: int, primary: bool,
                   issuer: str | None = None) -> dict[str, Any]:
    """The stored form: boolean ``primary``, number ``dateCreated``."""
    return {"userId": user_id, "providerName": provider_name, "providerType": provider_type,
            "issuer": issuer, "primary": primary, "dateCreated": now_ms}


def federated_username(provider_name: str, user_id: str) -> str:
    return f"{provider_name}_{user_id}"


def linked_user(pool: UserPool, provider_name: str, user_id: str) -> User | None:
    """The user an external identity is linked to (not its own ``P_id`` user): an index lookup."""
    own = pool.user_key(federated_username(provider_name, user_id))
    for user in indexes.linked_to(pool, provider_name, user_id):
        if pool.user_key(user.username) != own:
            return user
    return None


# --- attribute mapping ------------------------------------------------------------------


def _as_attribute(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def map_attributes(pool: UserPool, provider: IdentityProvider, claims: dict[str, Any]) -> dict[str, str]:
    """Pool attributes from IdP claims through the provider's AttributeMapping."""
    out: dict[str, str] = {}
    for attribute, claim in provider.attribute_mapping.items():
        if attribute == "username" or claim not in claims or claims[claim] is None:
            continue
        value = _as_attribute(claims[claim])
        if attribute in ("email_verified", "phone_number_verified"):
            value = "true" if value.lower() == "true" else "false"
        out[attribute] = value
    if "email" in out and "email_verified" not in provider.attribute_mapping:
        out["email_verified"] = "false"  # "By default, mapped email addresses are unverified"
    if "phone_number" in out and "phone_number_verified" not in provider.attribute_mapping:
        out["phone_number_verified"] = "false"
    return out


def provider_user_id(provider: IdentityProvider, claims: dict[str, Any]) -> str:
    claim = provider.attribute_mapping.get("username") or user_id_claim(provider.provider_type)
    value = claims.get(claim)
    if value in (None, ""):
        raise Err.INVALID_PARAMETER.error(detail=f"The identity provider did not return the {claim} claim")
    return str(value)


# --- sign-in ----------------------------------------------------------------------------


def _usable(user: User) -> User:
    if not user.enabled:
        raise Err.USER_DISABLED.error()
    return user


def federated_sign_in(backend: Backend, pool: UserPool, provider: IdentityProvider, claims: dict[str, Any],
                      client: AppClient) -> User:
    """The pool user a verified set of IdP claims signs in as (creating it the first time).

    Call with the pool lock held; the PreSignUp trigger runs with it released.
    """
    user_id = provider_user_id(provider, claims)
    username = federated_username(provider.name, user_id)
    mapped = map_attributes(pool, provider, claims)
    linked = linked_user(pool, provider.name, user_id)
    if linked is not None:
        backend.events.emit(FEDERATED_SIGN_IN, pool.pool_id, provider=provider.name, provider_user_id=user_id,
                            username=linked.username, linked=True, created=False)
        return _usable(linked)
    existing = pool.users.get(pool.user_key(username))
    if existing is not None:
        _usable(existing)
        attrs.validate_values(pool, mapped, check_required=False)
        with indexes.reindexing(pool, existing):
            existing.attributes.update(mapped)  # overwritten at every federated sign-in
        existing.modified = backend.clock.now()
        backend.events.emit(FEDERATED_SIGN_IN, pool.pool_id, provider=provider.name, provider_user_id=user_id,
                            username=existing.username, linked=False, created=False)
        return existing
    attrs.validate_values(pool, mapped, check_required=True)
    decision = run_pre_signup(backend, pool, "PreSignUp_ExternalProvider", mapped, username, client.client_id)
    if linked_user(pool, provider.name, user_id) is not None or pool.user_key(username) in pool.users:
        raise Err.ALREADY_FOUND_ENTRY.error(username=username)
    if decision.auto_verify_email and "email" in mapped:
        mapped["email_verified"] = "true"
    if decision.auto_verify_phone and "phone_number" in mapped:
        mapped["phone_number_verified"] = "true"
    now = backend.clock.now()
    sub = backend.ids.uuid()
    user = User(username=username, pool_id=pool.pool_id, sub=sub, attributes={"sub": sub, **mapped},
                status=EXTERNAL_PROVIDER, created=now, modified=now)
    write_identities(user, [identity_entry(provider.name, provider.provider_type, user_id,
                                           backend.clock.now_ms(), primary=True)])
    indexes.add_user(pool, user)
    backend.events.emit(ev.USER_CREATED, pool.pool_id, username=username, sub=sub, status=EXTERNAL_PROVIDER,
                        admin=False, client_id=client.client_id, provider=provider.name)
    backend.events.emit(FEDERATED_SIGN_IN, pool.pool_id, provider=provider.name, provider_user_id=user_id,
                        username=username, linked=False, created=True)
    return user


# --- linking ----------------------------------------------------------------------------


def _destination(pool: UserPool, spec: dict[str, Any]) -> User:
    name, value = spec.get("ProviderName", ""), spec.get("ProviderAttributeValue") or ""
    if name == COGNITO:
        user = pool.users.get(pool.user_key(value))
    else:
        user = pool.users.get(pool.user_key(federated_username(name, value)))
    if user is None:
        raise Err.USER_NOT_FOUND.error()
    return user


def link(backend: Backend, pool: UserPool, destination: dict[str, Any], source: dict[str, Any]) -> User:
    """AdminLinkProviderForUser's rules; returns the destination user."""
    source_name = source.get("ProviderName", "")
    source_value = source.get("ProviderAttributeValue") or ""
    if source_name in (COGNITO, "COGNITO"):
        raise Err.LINK_SOURCE_IS_NATIVE.error()
    provider = pool.identity_providers.get(source_name)
    if provider is None:
        raise Err.IDP_NOT_FOUND.error(name=source_name)
    if provider.provider_type != "SAML" and source.get("ProviderAttributeName") != COGNITO_SUBJECT:
        raise Err.LINK_SOURCE_ATTRIBUTE.error(name=source_name)
    if not source_value:
        raise Err.INVALID_PARAMETER.error(detail="SourceUser ProviderAttributeValue is required")
    user = _destination(pool, destination)
    if pool.user_key(federated_username(source_name, source_value)) in pool.users:
        raise Err.LINK_MERGE_NOT_SUPPORTED.error()
    if linked_user(pool, source_name, source_value) is not None:
        raise Err.LINK_ALREADY_LINKED.error()
    entries = identities_of(user)
    if len(entries) >= MAX_LINKS:
        raise Err.LINK_LIMIT.error()
    for name in user.attributes:
        schema = pool.schema.get(name)
        if schema is not None and schema.is_custom and not schema.mutable:
            raise Err.LINK_IMMUTABLE_ATTRIBUTES.error(name=name)
    entries.append(identity_entry(provider.name, provider.provider_type, source_value, backend.clock.now_ms(),
                                  primary=False))
    with indexes.reindexing(pool, user):
        write_identities(user, entries)
    user.modified = backend.clock.now()
    backend.events.emit(FEDERATION_LINKED, pool.pool_id, username=user.username, provider=provider.name,
                        provider_user_id=source_value)
    return user


def unlink(backend: Backend, pool: UserPool, spec: dict[str, Any]) -> None:
    """AdminDisableProviderForUser: remove a link, or stop a standalone federated user."""
    name, value = spec.get("ProviderName", ""), spec.get("ProviderAttributeValue") or ""
    if name in (COGNITO, "COGNITO"):
        raise Err.INVALID_PARAMETER.error(
            detail="Disabling native (Cognito) sign-in with AdminDisableProviderForUser is not emulated")
    if name not in pool.identity_providers:
        raise Err.IDP_NOT_FOUND.error(name=name)
    found = False
    holder = linked_user(pool, name, value)
    if holder is not None:
        with indexes.reindexing(pool, holder):
            write_identities(holder, [i for i in identities_of(holder)
                                      if not (i.get("providerName") == name and str(i.get("userId")) == value)])
        holder.modified = backend.clock.now()
        backend.events.emit(FEDERATION_UNLINKED, pool.pool_id, username=holder.username, provider=name,
                            provider_user_id=value)
        found = True
    own = pool.users.get(pool.user_key(federated_username(name, value)))
    if own is not None:
        disable_user(backend, pool, own)
        found = True
    if not found:
        raise Err.USER_NOT_FOUND.error()


__all__ = ["federated_sign_in", "identities_of", "identity_entry", "link", "linked_user", "map_attributes",
           "unlink", "write_identities"]
