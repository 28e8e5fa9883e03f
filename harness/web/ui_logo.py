"""The logo a GetUICustomization ``ImageUrl`` names: ``GET /ui-customization/{pool_id}/{client}/logo.{ext}``.

AWS serves the classic hosted UI's logo from its own CDN; the emulator serves it itself, so the URL
the API hands out works (harness.engine.ui_customization keeps the bytes and builds the URL).
"""

from __future__ import annotations

from harness.engine import ui_customization
from harness.engine.store import Backend
from harness.web.http import Request, Response, Router


def install(router: Router, backend: Backend) -> None:
    @router.route("GET", "/ui-customization/{pool_id}/{client}/{name}")
    def logo(request: Request) -> Response:
        stem, _, ext = request.params["name"].partition(".")
        found = ui_customization.logo(backend, request.params["pool_id"], request.params["client"], ext)
        if stem != "logo" or found is None:
            return Response.json({"message": "No such logo."}, 404)
        data, content_type = found
        return Response(200, data, {"Content-Type": content_type, "Cache-Control": "max-age=300",
                                    "X-Content-Type-Options": "nosniff"})
