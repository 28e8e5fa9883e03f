"""Pool identity providers: Create/Describe/Update/Delete/List IdentityProvider(s),
GetIdentityProviderByIdentifier.

OIDC providers are configured the Cognito way (``oidc_issuer`` plus client
credentials); endpoints missing from ProviderDetails are discovered from the
issuer and shown by Describe, as Cognito does. Social types (Google,
SignInWithApple) point at the harness's fake IdPs: the fake with that preset
and client_id, else the one named after the preset, else a new fake made with
the given credentials. Facebook, LoginWithAmazon and SAML are stored and
described but cannot be signed in through (not emulated).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from harness.engine import oidc_client, outbound
from harness.engine.federation import user_id_claim
from harness.engine.models import IdentityProvider, UserPool
from harness.engine.ops.paging import page
from harness.engine.registry import operation
from harness.errors import Err

if TYPE_CHECKING:  # pragma: no cover
    from harness.engine.store import Backend

SOCIAL_NAMES = {"Google": "Google", "Facebook": "Facebook", "LoginWithAmazon": "LoginWithAmazon",
                "SignInWithApple": "SignInWithApple"}
RESERVED_NAMES = {"Cognito", "COGNITO", *SOCIAL_NAMES}
FAKE_PRESETS = {"Google": "google", "SignInWithApple": "apple"}
REQUIRED_DETAILS = {
    "Google": ("client_id", "client_secret", "authorize_scopes"),
    "Facebook": ("client_id", "client_secret", "authorize_scopes"),
    "LoginWithAmazon": ("client_id", "client_secret", "authorize_scopes"),
    "SignInWithApple": ("client_id", "team_id", "key_id", "private_key", "authorize_scopes"),
    "OIDC": ("client_id", "attributes_request_method", "oidc_issuer", "authorize_scopes"),
    "SAML": (),
}
MAX_PROVIDERS = 300


def describe(provider: IdentityProvider) -> dict[str, Any]:
    return {
        "UserPoolId": provider.pool_id,
        "ProviderName": provider.name,
        "ProviderType": provider.provider_type,
        "ProviderDetails": dict(provider.details),
        "AttributeMapping": dict(provider.attribute_mapping),
        "IdpIdentifiers": list(provider.idp_identifiers),
        "LastModifiedDate": provider.modified,
        "CreationDate": provider.created,
    }


def find_provider(pool: UserPool, name: str) -> IdentityProvider:
    provider = pool.identity_providers.get(name)
    if provider is None:
        raise Err.IDP_NOT_FOUND.error(name=name)
    return provider


def _check_name(name: str, provider_type: str) -> None:
    expected = SOCIAL_NAMES.get(provider_type)
    if expected is not None and name != expected:
        raise Err.IDP_DETAILS_INVALID.error(
            detail=f"Provider name for provider type {provider_type} must be {expected}.")
    if expected is None and name in RESERVED_NAMES:
        raise Err.IDP_RESERVED_NAME.error(name=name, ptype=SOCIAL_NAMES.get(name, "Cognito"))


def _check_identifiers(pool: UserPool, identifiers: list[str], own: str | None) -> list[str]:
    unique = list(dict.fromkeys(identifiers))
    if len(unique) != len(identifiers):
        raise Err.IDP_DETAILS_INVALID.error(detail="Duplicate IdpIdentifiers are not allowed.")
    for other in pool.identity_providers.values():
        if other.name == own:
            continue
        for identifier in unique:
            if identifier in other.idp_identifiers:  # Update's model has no DuplicateProviderException
                raise (Err.IDP_IDENTIFIER_IN_USE if own else Err.IDP_IDENTIFIER_EXISTS).error(identifier=identifier)
    return unique


def _check_mapping(pool: UserPool, mapping: dict[str, str]) -> None:
    for attribute in mapping:
        if attribute != "username" and attribute not in pool.schema:
            raise Err.IDP_DETAILS_INVALID.error(detail=f"Attribute {attribute} does not exist in the schema.")


def _bind_fake(backend: Backend, provider_type: str, details: dict[str, str]) -> dict[str, str]:
    """Point a social provider at a fake IdP, filling in its endpoints."""
    doc = backend.idps.stand_in(FAKE_PRESETS[provider_type], details.get("client_id"), details.get("client_secret"))
    if doc is None:
        return dict(details)
    bound = dict(details)
    bound.update({
        "oidc_issuer": doc["issuer"],
        "authorize_url": doc["authorization_endpoint"],
        "token_url": doc["token_endpoint"],
        "attributes_url": doc["userinfo_endpoint"],
        "jwks_uri": doc["jwks_uri"],
        "token_request_method": "POST",
        "attributes_url_add_attributes": "true",
        "attributes_request_method": details.get("attributes_request_method", "GET"),
    })
    return bound


def _complete_details(backend: Backend, provider_type: str, details: dict[str, str]) -> dict[str, str]:
    missing = [k for k in REQUIRED_DETAILS.get(provider_type, ()) if not details.get(k)]
    if missing:
        raise Err.IDP_DETAILS_INVALID.error(
            detail=f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} required for provider type "
                   f"{provider_type}.")
    if provider_type in FAKE_PRESETS:
        return _bind_fake(backend, provider_type, details)
    if provider_type != "OIDC":
        return dict(details)
    method = details.get("attributes_request_method", "").upper()
    if method not in ("GET", "POST"):
        raise Err.IDP_DETAILS_INVALID.error(detail="attributes_request_method must be GET or POST.")
    out = dict(details, attributes_request_method=method)
    out.setdefault("attributes_url_add_attributes", "false")
    explicit = all(out.get(k) for k in ("authorize_url", "token_url", "jwks_uri"))
    issuer = out["oidc_issuer"]
    if not explicit:
        if not outbound.is_loopback_url(issuer):
            return out  # not reachable from the harness: sign-in will say so
        try:
            discovered = oidc_client.discovered_details(issuer, backend.outbound_reach())
        except oidc_client.IdPError as exc:
            raise Err.IDP_DETAILS_INVALID.error(detail=exc.description) from None
        for key, value in discovered.items():
            out.setdefault(key, value)
    return out


def _default_mapping(provider_type: str, mapping: dict[str, str] | None) -> dict[str, str]:
    out = dict(mapping or {})
    if provider_type != "SAML":
        out.setdefault("username", user_id_claim(provider_type))
    return out


@operation("CreateIdentityProvider")
def create_identity_provider(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool = backend.pool(params["UserPoolId"])
    name, provider_type = params["ProviderName"], params["ProviderType"]
    _check_name(name, provider_type)
    if name in pool.identity_providers:
        raise Err.IDP_EXISTS.error(name=name)
    if len(pool.identity_providers) >= MAX_PROVIDERS:
        raise Err.IDP_DETAILS_INVALID.error(detail="The maximum number of identity providers has been reached.")
    identifiers = _check_identifiers(pool, list(params.get("IdpIdentifiers") or []), None)
    mapping = _default_mapping(provider_type, params.get("AttributeMapping"))
    _check_mapping(pool, mapping)
    details = _complete_details(backend, provider_type, dict(params["ProviderDetails"]))
    now = backend.clock.now()
    provider = IdentityProvider(name=name, pool_id=pool.pool_id, provider_type=provider_type, details=details,
                                attribute_mapping=mapping, idp_identifiers=identifiers, created=now, modified=now)
    pool.identity_providers[name] = provider
    return {"IdentityProvider": describe(provider)}


@operation("DescribeIdentityProvider")
def describe_identity_provider(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool = backend.pool(params["UserPoolId"])
    return {"IdentityProvider": describe(find_provider(pool, params["ProviderName"]))}


@operation("UpdateIdentityProvider")
def update_identity_provider(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool = backend.pool(params["UserPoolId"])
    provider = find_provider(pool, params["ProviderName"])
    identifiers = provider.idp_identifiers
    if params.get("IdpIdentifiers") is not None:
        identifiers = _check_identifiers(pool, list(params["IdpIdentifiers"]), provider.name)
    mapping = provider.attribute_mapping
    if params.get("AttributeMapping") is not None:
        mapping = _default_mapping(provider.provider_type, params["AttributeMapping"])
        _check_mapping(pool, mapping)
    details = provider.details
    if params.get("ProviderDetails") is not None:
        merged = dict(provider.details)
        merged.update(params["ProviderDetails"])
        if "oidc_issuer" in params["ProviderDetails"] and provider.provider_type == "OIDC":
            for key in ("authorize_url", "token_url", "attributes_url", "jwks_uri", "token_endpoint_auth_methods"):
                if key not in params["ProviderDetails"]:
                    merged.pop(key, None)  # rediscover for the new issuer
        details = _complete_details(backend, provider.provider_type, merged)
    provider.idp_identifiers, provider.attribute_mapping, provider.details = identifiers, mapping, details
    provider.modified = backend.clock.now()
    return {"IdentityProvider": describe(provider)}


@operation("DeleteIdentityProvider")
def delete_identity_provider(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool = backend.pool(params["UserPoolId"])
    provider = find_provider(pool, params["ProviderName"])
    del pool.identity_providers[provider.name]
    return {}


@operation("ListIdentityProviders")
def list_identity_providers(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool = backend.pool(params["UserPoolId"])
    providers = sorted(pool.identity_providers.values(), key=lambda p: p.created)
    chunk, token = page(providers, lambda p: p.name, params.get("MaxResults"), params.get("NextToken"),
                        scope=f"{pool.pool_id}:ListIdentityProviders")
    out: dict[str, Any] = {"Providers": [
        {"ProviderName": p.name, "ProviderType": p.provider_type, "LastModifiedDate": p.modified,
         "CreationDate": p.created} for p in chunk]}
    if token:
        out["NextToken"] = token
    return out


@operation("GetIdentityProviderByIdentifier")
def get_identity_provider_by_identifier(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool = backend.pool(params["UserPoolId"])
    identifier = params["IdpIdentifier"]
    for provider in pool.identity_providers.values():
        if identifier in provider.idp_identifiers:
            return {"IdentityProvider": describe(provider)}
    raise Err.IDP_IDENTIFIER_NOT_FOUND.error(identifier=identifier)
