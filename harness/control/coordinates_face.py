"""Control plane: a pool's coordinates as shell exports, for ``cognito-harness env``.

Same error shape as the rest of ``/_harness`` (400/404 ``{"error", "field", "message"}``); the
route calls :meth:`harness.control.Control.coordinates`. It answers client secrets, so it is as
guarded as every other control-plane route (the control token, Host and Origin checks).

======  ==========================================  ==========================================================
GET     /_harness/coordinates                       ``?pool_id=&client=`` (default: the first pool, its first
                                                    public client) -> ``{"pool_id", "client_id", "exports":
                                                    [[name, value], ...]}``: what ``serve`` printed
======  ==========================================  ==========================================================
"""

from __future__ import annotations

from typing import Any

from harness.control.api import Control
from harness.control.face import json_routes, query_params
from harness.engine.store import Backend
from harness.web.http import Request, Response, Router


def _unexpected(exc: Exception) -> Response | None:
    """Nothing but ControlError is expected here: anything else is a bug and goes to the HTTP layer."""
    return None


def install(router: Router, backend: Backend) -> None:
    control = Control(backend)
    route = json_routes(router, _unexpected)

    @route("GET", "/coordinates")
    def coordinates(request: Request) -> Any:
        params = query_params(request, ("pool_id", "client"))
        return control.coordinates(params.get("pool_id") or None, params.get("client") or None)
