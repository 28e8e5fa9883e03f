"""A pool's federation and hosted-UI state: external IdPs, resource servers, the domain, pending
/oauth2/authorize requests, one-time authorization codes and managed-login sessions.

State only, as in harness.engine.models (which holds them on the UserPool); the rules are in
harness.engine.oauth, hosted_login and federation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class IdentityProvider:
    """A pool's external IdP (CreateIdentityProvider): OIDC, Google, SignInWithApple, ..."""

    name: str
    pool_id: str
    provider_type: str
    details: dict[str, str] = field(default_factory=dict)  # ProviderDetails, incl. discovered endpoints
    attribute_mapping: dict[str, str] = field(default_factory=dict)  # pool attribute -> IdP claim
    idp_identifiers: list[str] = field(default_factory=list)
    created: float = 0.0
    modified: float = 0.0


@dataclass
class ResourceServer:
    identifier: str
    pool_id: str
    name: str
    scopes: list[dict[str, str]] = field(default_factory=list)  # [{ScopeName, ScopeDescription}]


@dataclass
class UserPoolDomain:
    domain: str
    pool_id: str
    custom_domain_config: dict[str, Any] | None = None
    managed_login_version: int = 1
    created: float = 0.0
    version: str = "1"


@dataclass
class OAuthRequest:
    """An /oauth2/authorize request waiting for the user to sign in (locally or at an IdP)."""

    id: str
    pool_id: str
    client_id: str
    response_type: str
    redirect_uri: str
    scopes: list[str]
    state: str | None = None
    nonce: str | None = None
    code_challenge: str | None = None
    code_challenge_method: str | None = None
    identity_provider: str | None = None
    created: float = 0.0
    expires_at: float = 0.0
    idp_nonce: str | None = None  # nonce the pool sent to the external IdP
    idp_state: str | None = None  # state the pool sent to the external IdP


@dataclass
class AuthorizationCode:
    """A one-time, five-minute authorization code from the hosted UI."""

    code: str
    pool_id: str
    client_id: str
    username: str
    sub: str
    redirect_uri: str
    scopes: list[str]
    created: float
    expires_at: float
    auth_time: int
    nonce: str | None = None
    code_challenge: str | None = None
    code_challenge_method: str | None = None
    federated: bool = False
    used: bool = False


@dataclass
class HostedSession:
    """The managed-login session cookie (one hour; /logout ends it)."""

    id: str
    pool_id: str
    username: str
    sub: str
    auth_time: int
    created: float
    expires_at: float
