"""Control plane for the fake IdPs, plus the IdPs themselves (trigger bindings: triggers_face.py).

The fake providers' own endpoints (``/_idp/{name}/...``) are
harness/web/fake_idp_endpoints.py; these are the JSON routes (same error shape as the rest of
``/_harness``: 400/404 ``{"error", "field", "message"}``):

======  =======================================  ==================================================
GET     /_harness/idps                           ``{"idps": [...], "client_timeout"}``
POST    /_harness/idps                           ``{"name", "preset"?: google|apple|oidc,
                                                 "client_id"?, "client_secret"?}`` -> the IdP (201)
GET     /_harness/idps/{name}                    the IdP (issuer, users, faults, keys)
DELETE  /_harness/idps/{name}                    remove it
GET     /_harness/idps/{name}/provider-details   ProviderDetails for CreateIdentityProvider (OIDC)
POST    /_harness/idps/{name}/users              ``{"sub", "claims"?, "password"?, "select"?,
                                                 "replace"?}``: add/update (claims may change)
DELETE  /_harness/idps/{name}/users/{sub}        remove a user
POST    /_harness/idps/{name}/select             ``{"sub": str|null}``: auto-approve as / show form
POST    /_harness/idps/{name}/rotate-keys        ``{"publish_new"?, "unpublish_old"?}`` -> ``{"kid"}``
POST    /_harness/idps/{name}/unpublished-key    ``{"on"?: true}``: sign with a key not in the JWKS
POST    /_harness/idps/{name}/client-secret      ``{"secret"?}``: the IdP changes its secret
POST    /_harness/idps/{name}/faults             ``{"endpoint": token|userinfo|jwks|discovery,
                                                 "kind": timeout|error, "status"?, "delay"?,
                                                 "count"?, "error"?}``
DELETE  /_harness/idps/{name}/faults             clear faults
POST    /_harness/idp-settings                   ``{"client_timeout"}``: seconds the pool waits
======  =======================================  ==================================================
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from harness.control.api import ControlError
from harness.control.checks import MAX_INT, check_number
from harness.engine.store import Backend
from harness.errors import CognitoError
from harness.fake_idps import FakeIdPHandle, FakeIdPs
from harness.control.face import json_body, json_routes
from harness.web.http import Request, Response, Router



def _typed(data: dict[str, Any], name: str, kind: type | tuple[type, ...], what: str) -> Any:
    value = data.get(name)
    if value is not None and (not isinstance(value, kind) or isinstance(value, bool) and kind is not bool):
        raise ControlError(name, f"expected {what}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        check_number(name, value, -MAX_INT, MAX_INT)  # finite, and no 400-digit integer reaches float()
    return value


def install(router: Router, backend: Backend) -> None:
    idps = FakeIdPs(backend)

    def expected_error(exc: Exception) -> Response | None:
        if isinstance(exc, KeyError):
            return Response.json({"error": "not_found", "field": "name", "message": str(exc.args[0])}, 404)
        if isinstance(exc, (ValueError, TypeError)):
            return Response.json({"error": "bad_request", "field": "body", "message": str(exc)}, 400)
        if isinstance(exc, CognitoError):
            status = 404 if exc.type == "ResourceNotFoundException" else 400
            return Response.json({"error": "not_found" if status == 404 else "bad_request",
                                  "field": "pool_id", "message": exc.message}, status)
        return None

    route = json_routes(router, expected_error)

    def handle(request: Request) -> FakeIdPHandle:
        return idps.get(unquote(request.params["name"]))

    @route("GET", "/idps")
    def list_idps(request: Request) -> Any:
        return {"idps": [idps.get(n).describe() for n in idps.names()],
                "client_timeout": backend.idps.client_timeout}

    @route("POST", "/idps")
    def create(request: Request) -> Any:
        data = json_body(request, ("name", "preset", "client_id", "client_secret"), ("name",))
        for key in data:
            _typed(data, key, str, "a string")
        made = idps.create(data["name"], data.get("preset") or "oidc", client_id=data.get("client_id"),
                           client_secret=data.get("client_secret"))
        return Response.json(made.describe(), 201)

    @route("GET", "/idps/{name}")
    def describe(request: Request) -> Any:
        return handle(request).describe()

    @route("DELETE", "/idps/{name}")
    def delete(request: Request) -> Any:
        name = unquote(request.params["name"])
        if not idps.delete(name):
            raise ControlError("name", f"no fake IdP named {name!r}", 404)
        return {"deleted": name}

    @route("GET", "/idps/{name}/provider-details")
    def details(request: Request) -> Any:
        return {"ProviderDetails": handle(request).provider_details()}

    @route("POST", "/idps/{name}/users")
    def set_user(request: Request) -> Any:
        data = json_body(request, ("sub", "claims", "password", "select", "replace"), ("sub",))
        sub = _typed(data, "sub", (str, int), "a string")
        claims = _typed(data, "claims", dict, "an object of claims") or {}
        password = _typed(data, "password", str, "a string")
        select = _typed(data, "select", bool, "true or false") or False
        replace = _typed(data, "replace", bool, "true or false") or False
        idp = handle(request)
        user = idp.set_user(str(sub), password=password, select=select, replace=replace, **claims)
        return {"sub": user.sub, "claims": dict(user.claims), "selected": idp.state.selected == user.sub}

    @route("DELETE", "/idps/{name}/users/{sub}")
    def remove_user(request: Request) -> Any:
        sub = unquote(request.params["sub"])
        if not handle(request).remove_user(sub):
            raise ControlError("sub", f"no user {sub!r}", 404)
        return {"deleted": sub}

    @route("POST", "/idps/{name}/select")
    def select(request: Request) -> Any:
        data = json_body(request, ("sub",))
        sub = _typed(data, "sub", (str, int), "a string or null")
        handle(request).select(None if sub is None else str(sub))
        return {"selected": None if sub is None else str(sub)}

    @route("POST", "/idps/{name}/rotate-keys")
    def rotate(request: Request) -> Any:
        data = json_body(request, ("publish_new", "unpublish_old"))
        publish = _typed(data, "publish_new", bool, "true or false")
        unpublish = _typed(data, "unpublish_old", bool, "true or false") or False
        return {"kid": handle(request).rotate_keys(publish_new=publish is not False, unpublish_old=unpublish)}

    @route("POST", "/idps/{name}/unpublished-key")
    def unpublished(request: Request) -> Any:
        on = _typed(json_body(request, ("on",)), "on", bool, "true or false")
        handle(request).sign_with_unpublished_key(on is not False)
        return {"sign_with_unpublished": on is not False}

    @route("POST", "/idps/{name}/client-secret")
    def client_secret(request: Request) -> Any:
        secret = _typed(json_body(request, ("secret",)), "secret", str, "a string")
        return {"client_secret": handle(request).change_client_secret(secret)}

    @route("POST", "/idps/{name}/faults")
    def arm(request: Request) -> Any:
        data = json_body(request, ("endpoint", "kind", "status", "delay", "count", "error"), ("endpoint", "kind"))
        status = _typed(data, "status", int, "an integer")
        delay = _typed(data, "delay", (int, float), "a number of seconds")
        count = _typed(data, "count", int, "a positive integer")
        error = _typed(data, "error", str, "a string")
        fault = handle(request).fail(str(data["endpoint"]), str(data["kind"]), status=status or 500, delay=delay,
                                     count=count, error=error or "server_error")
        return fault.to_dict()

    @route("DELETE", "/idps/{name}/faults")
    def clear(request: Request) -> Any:
        return {"cleared": handle(request).clear_faults()}

    @route("POST", "/idp-settings")
    def settings(request: Request) -> Any:
        data = json_body(request, ("client_timeout",), ("client_timeout",))
        idps.set_client_timeout(float(_typed(data, "client_timeout", (int, float), "a number of seconds")))
        return {"client_timeout": backend.idps.client_timeout}

