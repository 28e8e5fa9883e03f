"""A pool's OpenID discovery document: where an app's OIDC library finds the issuer, keys and endpoints.

Cognito publishes it at ``{issuer}/.well-known/openid-configuration``; the
emulator serves the hosted-UI endpoints it names locally, under the pool's path
(:func:`harness.coordinates.hosted_ui_url`).
"""

from __future__ import annotations

from typing import Any

from harness.coordinates import hosted_ui_url


def discovery_document(pool_id: str, issuer: str, jwks_uri: str, public_url: str) -> dict[str, Any]:
    """The document for pool ``pool_id`` of an emulator reachable at ``public_url``."""
    hosted = hosted_ui_url(public_url.rstrip("/"), pool_id)
    return {
        "issuer": issuer,
        "jwks_uri": jwks_uri,
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "token"],
        "scopes_supported": ["openid", "email", "phone", "profile"],
        "subject_types_supported": ["public"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "authorization_endpoint": f"{hosted}/oauth2/authorize",
        "token_endpoint": f"{hosted}/oauth2/token",
        "userinfo_endpoint": f"{hosted}/oauth2/userInfo",
        "revocation_endpoint": f"{hosted}/oauth2/revoke",
        "end_session_endpoint": f"{hosted}/logout",
    }


__all__ = ["discovery_document"]
