"""Per-pool ``/.well-known/jwks.json`` and ``/.well-known/openid-configuration``.

The engine builds both documents and records every fetch as an event (with the
requester's address and user agent), so a scenario can count how often an app
refetches the JWKS; this face only maps them to HTTP.
"""

from __future__ import annotations

from harness.engine.store import Backend
from harness.web.http import Request, Response, Router

JWKS_CACHE = "public, max-age=3600"


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
        doc = backend.discovery(pool_id, **_requester(request))
        if doc is None:
            return Response.json({"message": f"User pool {pool_id} does not exist."}, 404)
        return Response.json(doc, headers={"Cache-Control": JWKS_CACHE})
