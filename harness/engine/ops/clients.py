"""App client operations: CreateUserPoolClient, DescribeUserPoolClient,
UpdateUserPoolClient, ListUserPoolClients, DeleteUserPoolClient.

Token validity: values without ``TokenValidityUnits`` are hours (access, ID)
and days (refresh), as the API documents; left out, they are Cognito's
defaults (60 minutes, 60 minutes, 30 days). Access and ID tokens must last
5 minutes to 1 day, refresh tokens 60 minutes to 10 years
("Invalid range for token validity."); RefreshTokenValidity 0 means 30 days.

Like Cognito, UpdateUserPoolClient resets every setting the request leaves
out to its default (the client id, secret and, if omitted, the name stay).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from harness.engine import tiers
from harness.engine.common import pool_client, seconds
from harness.engine.models import AppClient, UserPool
from harness.engine.ops.paging import page
from harness.engine.registry import operation
from harness.errors import CognitoError, Err

if TYPE_CHECKING:  # pragma: no cover
    from harness.engine.store import Backend

DEFAULT_FLOWS = ("ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_CUSTOM_AUTH")
LEGACY_FLOWS = {"ADMIN_NO_SRP_AUTH", "CUSTOM_AUTH_FLOW_ONLY", "USER_PASSWORD_AUTH"}
STANDARD_SCOPES = {"openid", "email", "phone", "profile", "aws.cognito.signin.user.admin"}
BUILTIN_PROVIDERS = {"COGNITO"}
DEFAULT_UNITS = {"AccessToken": "hours", "IdToken": "hours", "RefreshToken": "days"}
# (value member, unit member, default value, default unit, min seconds, max seconds)
_VALIDITY = (
    ("AccessTokenValidity", "AccessToken", 60, "minutes", 300, 86400),
    ("IdTokenValidity", "IdToken", 60, "minutes", 300, 86400),
    ("RefreshTokenValidity", "RefreshToken", 30, "days", 3600, 3650 * 86400),
)
_FIELDS = {"AccessToken": "access_token", "IdToken": "id_token", "RefreshToken": "refresh_token"}
LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "[::1]", "::1"}


def _invalid(detail: str) -> CognitoError:
    return Err.INVALID_PARAMETER.error(detail=detail)


def _oauth_error(detail: str) -> CognitoError:
    return CognitoError("InvalidOAuthFlowException", detail)


# --- settings ---------------------------------------------------------------------------------


def _apply_validity(client: AppClient, params: dict[str, Any]) -> None:
    units = params.get("TokenValidityUnits") or {}
    for member, unit_key, default_value, default_unit, low, high in _VALIDITY:
        value = params.get(member)
        if unit_key == "RefreshToken" and value == 0:
            value = None  # "Cognito overrides the value with the default value of 30 days"
        if value is None:
            value, unit = default_value, default_unit
        else:
            unit = units.get(unit_key) or DEFAULT_UNITS[unit_key]
            if not low <= seconds(value, unit) <= high:
                raise Err.TOKEN_VALIDITY_RANGE.error()
        setattr(client, f"{_FIELDS[unit_key]}_validity", int(value))
        setattr(client, f"{_FIELDS[unit_key]}_unit", unit)


def _check_flows(flows: list[str]) -> list[str]:
    flows = list(dict.fromkeys(flows))
    legacy = [f for f in flows if f in LEGACY_FLOWS]
    if legacy and len(legacy) != len(flows):
        raise _invalid("ExplicitAuthFlows can not have both legacy and new values.")
    return flows


def _check_attributes(pool: UserPool, names: list[str] | None, kind: str) -> list[str] | None:
    if names is None:
        return None
    for name in names:
        bad = name not in pool.schema or (kind == "write" and (name == "sub" or name.startswith("dev:")))
        if bad:
            raise _invalid(f"Invalid {kind} attributes specified while creating a client")
    return list(dict.fromkeys(names))


def _check_url(url: str, what: str) -> None:
    parts = urlsplit(url)
    if not parts.scheme or parts.fragment or "#" in url:
        raise _invalid(f"{what} must be an absolute URI without a fragment: {url}")
    if parts.scheme == "http" and (parts.hostname or "") not in LOOPBACK_HOSTS:
        raise _invalid(f"{what} must use HTTPS (HTTP is allowed only for localhost): {url}")
    if parts.scheme in ("http", "https") and not parts.netloc:
        raise _invalid(f"{what} must be an absolute URI: {url}")


def _known_scopes(pool: UserPool) -> set[str]:
    """The custom scopes the pool's resource servers define ("identifier/scope")."""
    return {
        f"{identifier}/{scope.get('ScopeName')}"
        for identifier, server in pool.resource_servers.items()
        for scope in server.scopes
    }


def _apply_oauth(pool: UserPool, client: AppClient, params: dict[str, Any]) -> None:
    callbacks = list(params.get("CallbackURLs") or [])
    logouts = list(params.get("LogoutURLs") or [])
    for url in callbacks:
        _check_url(url, "CallbackURLs")
    for url in logouts:
        _check_url(url, "LogoutURLs")
    default = params.get("DefaultRedirectURI")
    if default is not None and default not in callbacks:
        raise _invalid("DefaultRedirectURI must be one of the CallbackURLs.")
    flows = list(dict.fromkeys(params.get("AllowedOAuthFlows") or []))
    scopes = list(dict.fromkeys(params.get("AllowedOAuthScopes") or []))
    enabled = bool(params.get("AllowedOAuthFlowsUserPoolClient", False))
    if "client_credentials" in flows and len(flows) > 1:
        raise _oauth_error("client_credentials flow can not be selected along with code flow or implicit flow.")
    if "client_credentials" in flows and client.secret is None:
        raise _oauth_error("client_credentials flow can not be selected if client does not have a client secret.")
    if enabled and (not flows or not scopes):
        raise _oauth_error(
            "AllowedOAuthFlows and AllowedOAuthScopes are required if user pool client is allowed to use OAuth flows."
        )
    if enabled and set(flows) & {"code", "implicit"} and not callbacks:
        raise _invalid("CallbackURLs must not be empty when the code or implicit OAuth flow is allowed.")
    custom = _known_scopes(pool)
    for scope in scopes:
        if scope in STANDARD_SCOPES:
            if "client_credentials" in flows:
                raise CognitoError("ScopeDoesNotExistException", f"Invalid scope requested: {scope}")
            continue
        if scope not in custom:
            raise CognitoError("ScopeDoesNotExistException", f"Invalid scope requested: {scope}")
    providers = list(dict.fromkeys(params.get("SupportedIdentityProviders") or []))
    for name in providers:
        if name not in BUILTIN_PROVIDERS and name not in pool.identity_providers:
            raise _invalid(f"The provider {name} does not exist for User Pool {pool.pool_id}")
    client.callback_urls, client.logout_urls, client.default_redirect_uri = callbacks, logouts, default
    client.allowed_oauth_flows, client.allowed_oauth_scopes = flows, scopes
    client.allowed_oauth_flows_user_pool_client = enabled
    client.supported_identity_providers = providers


def _apply_settings(pool: UserPool, client: AppClient, params: dict[str, Any]) -> None:
    """Every setting of a Create/UpdateUserPoolClient request, defaults for the rest."""
    _apply_validity(client, params)
    client.explicit_auth_flows = _check_flows(params.get("ExplicitAuthFlows") or [])
    client.read_attributes = _check_attributes(pool, params.get("ReadAttributes"), "read")
    client.write_attributes = _check_attributes(pool, params.get("WriteAttributes"), "write")
    client.prevent_user_existence_errors = params.get("PreventUserExistenceErrors", "LEGACY")
    client.enable_token_revocation = bool(params.get("EnableTokenRevocation", True))
    rotation = params.get("RefreshTokenRotation") or {}
    client.refresh_rotation_enabled = rotation.get("Feature") == "ENABLED"
    if client.refresh_rotation_enabled:
        tiers.require(pool, tiers.REFRESH_TOKEN_ROTATION)  # an Essentials feature
    client.refresh_retry_grace_seconds = int(rotation.get("RetryGracePeriodSeconds", 0))
    if rotation.get("RetryGracePeriodSeconds") and not client.refresh_rotation_enabled:
        raise _invalid("RetryGracePeriodSeconds can be set only when refresh token rotation is enabled.")
    client.auth_session_validity_minutes = int(params.get("AuthSessionValidity", 3))
    _apply_oauth(pool, client, params)
    client.extra = {
        key: params[key]
        for key in ("AnalyticsConfiguration", "EnablePropagateAdditionalUserContextData")
        if key in params
    }


def describe(client: AppClient) -> dict[str, Any]:
    """The UserPoolClientType view."""
    out: dict[str, Any] = {
        "UserPoolId": client.pool_id,
        "ClientName": client.name,
        "ClientId": client.client_id,
        "LastModifiedDate": client.modified,
        "CreationDate": client.created,
        "RefreshTokenValidity": client.refresh_token_validity,
        "AccessTokenValidity": client.access_token_validity,
        "IdTokenValidity": client.id_token_validity,
        "TokenValidityUnits": {
            "AccessToken": client.access_token_unit,
            "IdToken": client.id_token_unit,
            "RefreshToken": client.refresh_token_unit,
        },
        "ExplicitAuthFlows": list(client.explicit_auth_flows or DEFAULT_FLOWS),
        "AllowedOAuthFlowsUserPoolClient": client.allowed_oauth_flows_user_pool_client,
        "PreventUserExistenceErrors": client.prevent_user_existence_errors,
        "EnableTokenRevocation": client.enable_token_revocation,
        "EnablePropagateAdditionalUserContextData": bool(
            client.extra.get("EnablePropagateAdditionalUserContextData", False)
        ),
        "AuthSessionValidity": client.auth_session_validity_minutes,
        "RefreshTokenRotation": {
            "Feature": "ENABLED" if client.refresh_rotation_enabled else "DISABLED",
            "RetryGracePeriodSeconds": client.refresh_retry_grace_seconds,
        },
    }
    if client.secret is not None:
        out["ClientSecret"] = client.secret
    if client.read_attributes is not None:
        out["ReadAttributes"] = list(client.read_attributes)
    if client.write_attributes is not None:
        out["WriteAttributes"] = list(client.write_attributes)
    optional = {
        "SupportedIdentityProviders": client.supported_identity_providers,
        "CallbackURLs": client.callback_urls,
        "LogoutURLs": client.logout_urls,
        "AllowedOAuthFlows": client.allowed_oauth_flows,
        "AllowedOAuthScopes": client.allowed_oauth_scopes,
    }
    out.update({k: list(v) for k, v in optional.items() if v})
    if client.default_redirect_uri:
        out["DefaultRedirectURI"] = client.default_redirect_uri
    if "AnalyticsConfiguration" in client.extra:
        out["AnalyticsConfiguration"] = dict(client.extra["AnalyticsConfiguration"])
    return out


# --- operations ---------------------------------------------------------------------------------


@operation("CreateUserPoolClient")
def create_user_pool_client(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool = backend.pool(params["UserPoolId"])
    secret = params.get("ClientSecret")
    if secret is not None and not params.get("GenerateSecret"):
        raise _invalid("ClientSecret can be set only when GenerateSecret is true.")
    if params.get("GenerateSecret") and secret is None:
        secret = backend.ids.client_secret()
    now = backend.clock.now()
    client = AppClient(
        client_id=backend.ids.client_id(),
        pool_id=pool.pool_id,
        name=params["ClientName"],
        secret=secret,
        created=now,
        modified=now,
    )
    _apply_settings(pool, client, params)
    pool.clients[client.client_id] = client
    return {"UserPoolClient": describe(client)}


@operation("DescribeUserPoolClient")
def describe_user_pool_client(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    _, client = pool_client(backend, params["UserPoolId"], params["ClientId"])
    return {"UserPoolClient": describe(client)}


@operation("UpdateUserPoolClient")
def update_user_pool_client(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool, client = pool_client(backend, params["UserPoolId"], params["ClientId"])
    updated = AppClient(
        client_id=client.client_id,
        pool_id=pool.pool_id,
        name=params.get("ClientName") or client.name,
        secret=client.secret,
        client_secrets=client.client_secrets,
        created=client.created,
        modified=backend.clock.now(),
    )
    _apply_settings(pool, updated, params)
    vars(client).update(vars(updated))  # in place: the client object stays the one others hold
    return {"UserPoolClient": describe(client)}


@operation("ListUserPoolClients")
def list_user_pool_clients(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool = backend.pool(params["UserPoolId"])
    chunk, token = page(list(pool.clients.values()), lambda c: c.client_id, params.get("MaxResults"),
                        params.get("NextToken"), scope=f"ListUserPoolClients:{pool.pool_id}")
    out: dict[str, Any] = {
        "UserPoolClients": [
            {"ClientId": c.client_id, "UserPoolId": c.pool_id, "ClientName": c.name} for c in chunk
        ]
    }
    if token:
        out["NextToken"] = token
    return out


@operation("DeleteUserPoolClient")
def delete_user_pool_client(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool, client = pool_client(backend, params["UserPoolId"], params["ClientId"])
    del pool.clients[client.client_id]
    return {}
