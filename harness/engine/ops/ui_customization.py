"""Classic hosted-UI branding: GetUICustomization and SetUICustomization.

The rules (a domain first, ``ALL`` versus one app client, the CSS classes, the logo) are in
:mod:`harness.engine.ui_customization`; times come from the virtual clock.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from harness.engine import ui_customization as ui
from harness.engine.registry import operation

if TYPE_CHECKING:  # pragma: no cover
    from harness.engine.store import Backend


@operation("SetUICustomization")
def set_ui_customization(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool = backend.pool(params["UserPoolId"])
    branding = ui.set_customization(backend, pool, params.get("ClientId"), params.get("CSS"),
                                    params.get("ImageFile"))
    return {"UICustomization": ui.view(backend, pool, branding)}


@operation("GetUICustomization")
def get_ui_customization(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool = backend.pool(params["UserPoolId"])
    return {"UICustomization": ui.view(backend, pool, ui.effective(pool, params.get("ClientId")))}
