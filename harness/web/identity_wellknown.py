"""The identity service's JWKS and OpenID discovery document (GetOpenIdToken's issuer).

``{public_url}/cognito-identity`` is the local issuer: its keys at ``/.well-known/jwks_uri`` (AWS's
path) and its discovery document beside them. The root ``/.well-known/jwks_uri`` and
``/.well-known/openid-configuration`` are what the AWS host ``cognito-identity.amazonaws.com``
serves (the AWS endpoint mode maps that host to the root), describing AWS's issuer. Installed
before the user pools' well-known face: its ``/{pool_id}/.well-known/openid-configuration``
would otherwise take ``/cognito-identity/...`` for a user pool.
"""

from __future__ import annotations

from harness.engine.identity import openid
from harness.engine.store import Backend
from harness.web.http import Request, Response, Router

JWKS_CACHE = "public, max-age=3600"


def install(router: Router, backend: Backend) -> None:
    def requester(request: Request) -> dict[str, str]:
        return {"requester": request.client, "user_agent": request.header("user-agent")}

    def jwks(request: Request) -> Response:
        return Response.json(openid.jwks(backend, **requester(request)), headers={"Cache-Control": JWKS_CACHE})

    def local_discovery(request: Request) -> Response:
        doc = openid.discovery(backend, aws=False, **requester(request))
        return Response.json(doc, headers={"Cache-Control": JWKS_CACHE})

    def aws_discovery(request: Request) -> Response:
        doc = openid.discovery(backend, aws=True, **requester(request))
        return Response.json(doc, headers={"Cache-Control": JWKS_CACHE})

    for prefix in (openid.LOCAL_PATH, ""):
        router.add("GET", prefix + openid.JWKS_PATH, jwks)
    router.add("GET", openid.LOCAL_PATH + openid.DISCOVERY_PATH, local_discovery)
    router.add("GET", openid.DISCOVERY_PATH, aws_discovery)
