"""Per-pool ``/.well-known/jwks.json`` and ``/.well-known/openid-configuration``.

Every fetch is an event (with the requester's address and user agent), so a
scenario can count how often an app refetches the JWKS.
"""

from __future__ import annotations

from typing import Any

from harness.coordinates import hosted_ui_url
from harness.engine import events as ev
from harness.engine.store import Backend
from harness.web.http import Request, Response, Router

JWKS_CACHE = "public, max-age=3600"


def discovery_document(backend: Backend, pool_id: str) -> dict[str, Any]:
    pool = backend.pool(pool_id)
    base = backend.settings.public_url.rstrip("/")
    doc: dict[str, Any] = {
        "issuer": backend.issuer(pool),
        "jwks_uri": backend.jwks_url(pool),
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "token"],
        "scopes_supported": ["openid", "email", "phone", "profile"],
        "subject_types_supported": ["public"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
    }
    # hosted-UI endpoints are served locally under the pool's path
    hosted = hosted_ui_url(base, pool_id)
    doc.update(
        {
            "authorization_endpoint": f"{hosted}/oauth2/authorize",
            "token_endpoint": f"{hosted}/oauth2/token",
            "userinfo_endpoint": f"{hosted}/oauth2/userInfo",
            "revocation_endpoint": f"{hosted}/oauth2/revoke",
            "end_session_endpoint": f"{hosted}/logout",
        }
    )
    return doc


def install(router: Router, backend: Backend) -> None:
    def _requester(request: Request) -> dict[str, str]:
        return {"requester": request.client, "user_agent": request.header("user-agent")}

    @router.route("GET", "/{pool_id}/.well-known/jwks.json")
    def jwks(request: Request) -> Response:
        pool_id = request.params["pool_id"]
        keys = backend.jwks(pool_id, **_requester(request))
        if keys is None:
            return Response.json({"message": f"User pool {pool_id} does not exist."}, 404)
        return Response.json(keys, headers={"Cache-Control": JWKS_CACHE})

    @router.route("GET", "/{pool_id}/.well-known/openid-configuration")
    def discovery(request: Request) -> Response:
        pool_id = request.params["pool_id"]
        with backend.transaction():
            if pool_id not in backend.pools:
                return Response.json({"message": f"User pool {pool_id} does not exist."}, 404)
            doc = discovery_document(backend, pool_id)
            backend.events.emit(ev.DISCOVERY_FETCH, pool_id, **_requester(request))
        return Response.json(doc, headers={"Cache-Control": JWKS_CACHE})
