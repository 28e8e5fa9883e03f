"""Control plane for identity-pool credentials: the temporary AWS credentials the emulator handed out.

Same error shape as the rest of ``/_harness`` (400/404 ``{"error", "field", "message"}``); every
route calls one method of :class:`harness.control.Control` (:class:`IdentityControls`).
Times are epoch seconds on the virtual clock; secrets are never shown.

======  ========================================================  =====================================================
GET     /_harness/identity/credentials                            ``?identity_pool_id=&identity_id=`` ->
                                                                  ``{"credentials": [{access_key_id, identity_id,
                                                                  identity_pool_id, role_arn, authenticated,
                                                                  providers, issued, expiration, expired}]}``
                                                                  (newest last)
GET     /_harness/identity/credentials/{access_key_id}            one of them (404 if unknown)
POST    /_harness/identity/credentials/expire                     ``{"access_key_id"?, "identity_pool_id"?}``: end
                                                                  them now (neither: all) -> ``{"expired": n}``
======  ========================================================  =====================================================
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from harness.control.api import Control
from harness.control.face import json_body, json_routes, query_params
from harness.engine.store import Backend
from harness.web.http import Request, Response, Router


def _unexpected(exc: Exception) -> Response | None:
    """Nothing but ControlError is expected here: anything else is a bug and goes to the HTTP layer."""
    return None


def install(router: Router, backend: Backend) -> None:
    control = Control(backend)
    route = json_routes(router, _unexpected)

    @route("GET", "/identity/credentials")
    def listed(request: Request) -> Any:
        params = query_params(request, ("identity_pool_id", "identity_id"))
        found = control.identity_credentials(params.get("identity_pool_id") or None, params.get("identity_id") or None)
        return {"credentials": found}

    @route("GET", "/identity/credentials/{access_key_id}")
    def one(request: Request) -> Any:
        query_params(request, ())
        return control.identity_credential(unquote(request.params["access_key_id"]))

    @route("POST", "/identity/credentials/expire")
    def expire(request: Request) -> Any:
        data = json_body(request, ("access_key_id", "identity_pool_id"))
        return control.expire_identity_credentials(data.get("access_key_id"), data.get("identity_pool_id"))
