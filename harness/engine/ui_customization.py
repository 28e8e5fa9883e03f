"""Classic hosted-UI branding: the rules of SetUICustomization and what GetUICustomization shows.

From the developer guide ("Customizing hosted UI (classic) branding") and the API reference:

* a pool needs a domain before it can be branded; ``ClientId`` ``ALL`` (or none) sets the pool's
  default, an app client id sets that client's, which then no longer falls back to ``ALL``;
* CSS and logo are set together: a request replaces both (one left out is cleared);
* the CSS may style only the documented ``*-customizable`` classes (and their listed ``:hover`` /
  ``:focus`` forms), and may hold no ``@import``, ``@supports``, ``@page`` or ``@media`` rule and no
  script (``javascript:``, ``expression(``); its size is the model's (131072 characters);
* the logo is a PNG or JPEG file (the model caps its base64 at 131072 characters, about the
  documented 100 KB).

What AWS leaves unsaid, the emulator chooses: ``CSSVersion`` is the last change's time in epoch
milliseconds, and ``ImageUrl`` points at the emulator itself (``<served url>/ui-customization/
<pool id>/<ALL or client id>/logo.<png|jpg>``), where harness.web.ui_logo serves the bytes.
"""

from __future__ import annotations

import base64
import re
from typing import TYPE_CHECKING, Any

from harness.engine.models import UICustomization, UserPool
from harness.errors import Err

if TYPE_CHECKING:  # pragma: no cover
    from harness.engine.store import Backend

ALL = "ALL"
LOGO_PATH = "/ui-customization/{pool_id}/{client}/logo.{ext}"
CSS_CLASSES = frozenset({
    "background-customizable", "banner-customizable", "errorMessage-customizable",
    "idpButton-customizable", "idpButton-customizable:hover", "idpDescription-customizable",
    "inputField-customizable", "inputField-customizable:focus", "label-customizable",
    "legalText-customizable", "logo-customizable", "passwordCheck-notValid-customizable",
    "passwordCheck-valid-customizable", "socialButton-customizable",
    "submitButton-customizable", "submitButton-customizable:hover", "textDescription-customizable",
})
_FORBIDDEN = (("@import", "@import rules"), ("@supports", "@supports rules"), ("@page", "@page rules"),
              ("@media", "@media rules"), ("javascript:", "scripts"), ("expression(", "scripts"))
_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_IMAGE_TYPES = ((b"\x89PNG\r\n\x1a\n", "png"), (b"\xff\xd8\xff", "jpeg"))
_CONTENT_TYPES = {"png": "image/png", "jpeg": "image/jpeg"}


def check_css(css: str) -> None:
    """UI_CSS_INVALID unless every rule styles an allowed class and nothing forbidden appears."""
    text = _COMMENT.sub("", css)
    lowered = text.lower()
    for needle, what in _FORBIDDEN:
        if needle in lowered:
            raise Err.UI_CSS_INVALID.error(detail=f"{what} are not allowed.")
    position = 0  # rule by rule, by index: linear in the size of the CSS
    while True:
        opening = text.find("{", position)
        if opening == -1:
            if text[position:].strip():
                raise Err.UI_CSS_INVALID.error(detail="every rule must be a selector and one {...} block.")
            return
        closing = text.find("}", opening + 1)
        if closing == -1 or text.find("{", opening + 1, closing) != -1:
            raise Err.UI_CSS_INVALID.error(detail="every rule must be a selector and one {...} block.")
        for selector in text[position:opening].split(","):
            name = selector.strip()
            if not name.startswith(".") or name[1:] not in CSS_CLASSES:
                raise Err.UI_CSS_INVALID.error(detail=f"{name or 'an empty selector'} is not one of the "
                                               "customizable classes.")
        position = closing + 1


def image_type(image_b64: str) -> str:
    """``png`` or ``jpeg`` for a logo's base64, else UI_IMAGE_INVALID."""
    raw = base64.b64decode(image_b64)
    for magic, kind in _IMAGE_TYPES:
        if raw.startswith(magic):
            return kind
    raise Err.UI_IMAGE_INVALID.error()


def target(pool: UserPool, client_id: str | None) -> str:
    """``ALL`` or the id of an app client of the pool (ResourceNotFoundException for another)."""
    if client_id is None or client_id == ALL:
        return ALL
    if client_id not in pool.clients:
        raise Err.CLIENT_NOT_FOUND.error(client_id=client_id)
    return client_id


def set_customization(backend: Backend, pool: UserPool, client_id: str | None, css: str | None,
                      image: str | None) -> UICustomization:
    """SetUICustomization: validate, then replace the branding of ``ALL`` or one client."""
    key = target(pool, client_id)
    if pool.domain_config is None:
        raise Err.UI_NEEDS_DOMAIN.error()
    if css is not None:
        check_css(css)
    kind = image_type(image) if image else ""
    now = backend.clock.now()
    previous = pool.ui_customizations.get(key)
    for stale in [k for k in pool.ui_customizations if k != ALL and k not in pool.clients]:
        del pool.ui_customizations[stale]  # a deleted client's branding goes with it
    branding = UICustomization(client_id=key, css=css, image=image or None, image_type=kind,
                               created=previous.created if previous is not None else now, modified=now)
    pool.ui_customizations[key] = branding
    return branding


def effective(pool: UserPool, client_id: str | None) -> UICustomization | None:
    """GetUICustomization's choice: the client's branding, else the pool's ``ALL``, else none."""
    key = target(pool, client_id)
    return pool.ui_customizations.get(key) or pool.ui_customizations.get(ALL)


def view(backend: Backend, pool: UserPool, branding: UICustomization | None) -> dict[str, Any]:
    """The UICustomizationType of ``branding`` ({} when there is none, as AWS answers)."""
    if branding is None:
        return {}
    out: dict[str, Any] = {
        "UserPoolId": pool.pool_id,
        "ClientId": branding.client_id,
        "LastModifiedDate": branding.modified,
        "CreationDate": branding.created,
    }
    if branding.css is not None:
        out["CSS"] = branding.css
        out["CSSVersion"] = str(int(branding.modified * 1000))
    if branding.image:
        path = LOGO_PATH.format(pool_id=pool.pool_id, client=branding.client_id,
                                ext="png" if branding.image_type == "png" else "jpg")
        out["ImageUrl"] = backend.settings.public_url.rstrip("/") + path
    return out


def logo(backend: Backend, pool_id: str, client: str, ext: str) -> tuple[bytes, str] | None:
    """The logo an ImageUrl names and its content type (None: no such logo). For the web face."""
    with backend.transaction():
        pool = backend.pools.get(pool_id)
        branding = pool.ui_customizations.get(client) if pool is not None else None
        if branding is None or not branding.image:
            return None
        if ext != ("png" if branding.image_type == "png" else "jpg"):
            return None
        return base64.b64decode(branding.image), _CONTENT_TYPES[branding.image_type]


__all__ = ["ALL", "CSS_CLASSES", "LOGO_PATH", "check_css", "effective", "image_type", "logo",
           "set_customization", "target", "view"]
