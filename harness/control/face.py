"""The control plane's HTTP face under ``/_harness/``: JSON in, JSON out.

Every route calls one method of :class:`harness.control.Control`, so the
Python API and this face cannot drift apart (``RemoteControl`` is the client).
Bad input is a 400 ``{"error": "bad_request", "field": ..., "message": ...}``
naming the member or query parameter at fault; an unknown pool, key, user,
client or fault is a 404 of the same shape. Never a 500.

=======  ===============================================  ===========================================
Method   Path                                             What
=======  ===============================================  ===========================================
GET      /_harness                                        info: version, seed, region, clock, pools
POST     /_harness/reset                                  ``{"seed"?: int}``: forget everything
POST     /_harness/pools                                  ``{"definition"?: {...} | "toml"?: "...",
                                                          "issuer"?}``: create a pool from a pool
                                                          definition (default: fixtures/pools/
                                                          default.toml) -> ids, secrets, users
GET      /_harness/clock                                  ``{"mode", "now", "iso", "offset"}``
POST     /_harness/clock                                  ``{"action": "freeze", "at"?}``,
                                                          ``{"action": "unfreeze"}``,
                                                          ``{"action": "advance", "seconds"}``,
                                                          ``{"action": "set", "at"}``; ``at`` is epoch
                                                          seconds or ISO-8601
GET      /_harness/mailbox                                ``?to=&purpose=&pool_id=&include_failed=``
                                                          -> ``{"messages": [...]}``
DELETE   /_harness/mailbox                                -> ``{"cleared": n}``
GET      /_harness/mailbox/latest-code                    ``?to=&purpose=`` -> ``{"code": str|null}``
GET      /_harness/faults                                 -> ``{"faults": [...]}``
POST     /_harness/faults                                 ``{"kind", "operation"?, "recipient"?,
                                                          "channel"?, "count"?, "trigger"?,
                                                          "message"?}`` -> the fault
DELETE   /_harness/faults                                 disarm all -> ``{"cleared": n}``
GET      /_harness/faults/{id}                            one armed fault (404 if unknown or used up)
DELETE   /_harness/faults/{id}                            disarm one (404 if unknown)
GET      /_harness/pools/{pool_id}/keys                   -> ``{"keys": [...]}`` (JWK, PEM, state)
POST     /_harness/pools/{pool_id}/keys/rotate            ``{"uses"?: ["id","access"],
                                                          "unpublish_old"?: false}``
POST     /_harness/pools/{pool_id}/keys/{kid}/retire      stop signing, stay published
POST     /_harness/pools/{pool_id}/keys/{kid}/publish     list in the JWKS
POST     /_harness/pools/{pool_id}/keys/{kid}/unpublish   drop from the JWKS
GET      /_harness/foreign-jwk                            ``?kid=``: public JWK of the foreign key
POST     /_harness/pools/{pool_id}/mint                   ``{"username", "token_use"?, "client_id"?,
                                                          "claims"?, "header"?, "sign_with"?,
                                                          "expires_in"?, "issued_at"?}``
                                                          -> ``{"token", "header", "claims"}``
POST     /_harness/tokens/status                          ``{"token"}`` -> revocation/expiry status
GET      /_harness/pools/{pool_id}/feedback-token         ``?username=&event_id=`` -> ``{"feedback_token"}``
                                                          (the risk email's one-click link token)
GET      /_harness/events                                 ``?type=&since=&pool_id=&count_only=&<data
                                                          member>=<value>`` -> ``{"events", "count",
                                                          "max_events", "held", "oldest_seq",
                                                          "last_seq", "dropped", "missed"}``
GET      /_harness/snapshot                               ``?secrets=true``: the whole state as JSON,
                                                          streamed (private keys, password material
                                                          and client secrets only with secrets=true)
POST     /_harness/restore                                body: a snapshot taken with secrets -> info
                                                          (checked whole first; 400 names the member)
=======  ===============================================  ===========================================

Key ids contain ``+``, ``/`` and ``=``: send them percent-encoded in the
path (``quote(kid, safe="")``); they are decoded here.
"""

from __future__ import annotations

import json
from typing import Any, Callable
from urllib.parse import unquote

from harness.encoding import b64url_decode
from harness.control.api import Control, ControlError
from harness.control.checks import check_choice
from harness.engine import snapshot as snap
from harness.engine.store import Backend
from harness.errors import CognitoError
from harness.web.http import InvalidJSON, Request, Response, Router

PREFIX = "/_harness"

_TRUE = ("true", "1", "yes")
_FALSE = ("false", "0", "no")


# --- request parsing ------------------------------------------------------------------------


def json_body(request: Request, allowed: tuple[str, ...], required: tuple[str, ...] = ()) -> dict[str, Any]:
    """The JSON object body, with unknown and missing members named."""
    if not request.body.strip():
        data: Any = {}
    else:
        try:
            data = request.json()
        except InvalidJSON as exc:  # bad syntax or UTF-8, nesting bombs, over-long integer literals
            raise ControlError("body", f"not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ControlError("body", f"expected a JSON object, got {type(data).__name__}")
    for name in data:
        if name not in allowed:
            raise ControlError(name, f"unknown member; expected one of {', '.join(allowed) or 'none'}")
    for name in required:
        if data.get(name) is None:
            raise ControlError(name, "required member is missing")
    return data


def query_params(request: Request, allowed: tuple[str, ...] | None) -> dict[str, str]:
    out = {}
    for name, values in request.query.items():
        if allowed is not None and name not in allowed:
            raise ControlError(name, f"unknown query parameter; expected one of {', '.join(allowed)}")
        out[name] = values[-1]
    return out


def query_int(params: dict[str, str], name: str, default: int | None = None) -> int | None:
    raw = params.pop(name, None)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ControlError(name, f"expected an integer, got {raw!r}") from None


def query_bool(params: dict[str, str], name: str) -> bool:
    raw = params.pop(name, None)
    if raw is None or raw == "":
        return False
    if raw.lower() in _TRUE:
        return True
    if raw.lower() in _FALSE:
        return False
    raise ControlError(name, f"expected true or false, got {raw!r}")


ErrorMapper = Callable[[Exception], "Response | None"]
JsonHandler = Callable[[Request], Any]


def json_routes(router: Router, on_error: ErrorMapper) -> Callable[[str, str], Callable[[JsonHandler], JsonHandler]]:
    """A ``route(method, path)`` decorator for control-plane handlers under ``/_harness``.

    A handler returns JSON data (or a Response). A ControlError becomes its
    400/404 body; ``on_error`` maps the face's other expected errors to an
    answer (None: not expected, let it propagate to the HTTP layer).
    """

    def route(method: str, path: str) -> Callable[[JsonHandler], JsonHandler]:
        def register(fn: JsonHandler) -> JsonHandler:
            def handler(request: Request) -> Response:
                try:
                    result = fn(request)
                except ControlError as exc:
                    return Response.json(exc.to_dict(), exc.status)
                except Exception as exc:  # noqa: BLE001 - mapped or re-raised just below
                    mapped = on_error(exc)
                    if mapped is None:
                        raise
                    return mapped
                if isinstance(result, Response):
                    return result
                return Response.json(result, headers={"Cache-Control": "no-store"})

            router.add(method, PREFIX + path, handler)
            return fn

        return register

    return route


def _kid(request: Request) -> str:
    return unquote(request.params["kid"])


# --- the face ----------------------------------------------------------------------------------


def install(router: Router, backend: Backend) -> None:
    control = Control(backend)

    def cognito_error(exc: Exception) -> Response | None:
        if isinstance(exc, CognitoError):
            return Response.json({"error": "bad_request", "field": "request", "message": exc.message,
                                  "__type": exc.type}, 400 if exc.status < 500 else exc.status)
        return None

    route = json_routes(router, cognito_error)

    # --- lifecycle -------------------------------------------------------------------------

    @route("GET", "")
    def info(request: Request) -> Any:
        query_params(request, ())
        return control.info()

    route("GET", "/")(info)

    @route("POST", "/reset")
    def reset(request: Request) -> Any:
        body = json_body(request, ("seed",))
        return control.reset(body.get("seed"))

    @route("POST", "/pools")
    def load_pool(request: Request) -> Any:
        body = json_body(request, ("definition", "toml", "issuer"))
        return control.load_pool(**body)

    # --- clock ---------------------------------------------------------------------------------

    @route("GET", "/clock")
    def clock(request: Request) -> Any:
        return control.clock()

    clock_actions: dict[str, tuple[tuple[str, ...], Callable[[dict[str, Any]], Any]]] = {
        "freeze": (("at",), lambda b: control.freeze(b.get("at"))),
        "unfreeze": ((), lambda b: control.unfreeze()),
        "advance": (("seconds",), lambda b: control.advance(b["seconds"])),
        "set": (("at",), lambda b: control.set(b["at"])),
    }

    @route("POST", "/clock")
    def clock_change(request: Request) -> Any:
        body = json_body(request, ("action", "at", "seconds"), ("action",))
        action = check_choice("action", body["action"], clock_actions)
        members, run = clock_actions[action]
        for name in body:
            if name != "action" and name not in members:
                raise ControlError(name, f"not used by action {action!r} (uses: {', '.join(members) or 'nothing'})")
        for name in members:
            if name not in body and not (action == "freeze" and name == "at"):
                raise ControlError(name, f"required by action {action!r}")
        return run(body)

    # --- mailbox -------------------------------------------------------------------------------

    @route("GET", "/mailbox")
    def mailbox(request: Request) -> Any:
        params = query_params(request, ("to", "purpose", "pool_id", "include_failed"))
        include_failed = query_bool(params, "include_failed")
        messages = control.messages(params.get("to"), params.get("purpose"), include_failed, params.get("pool_id"))
        return {"messages": messages, "count": len(messages)}

    @route("DELETE", "/mailbox")
    def mailbox_clear(request: Request) -> Any:
        return {"cleared": control.clear_mailbox()}

    @route("GET", "/mailbox/latest-code")
    def latest_code(request: Request) -> Any:
        params = query_params(request, ("to", "purpose"))
        return {"code": control.latest_code(params.get("to"), params.get("purpose"))}

    # --- faults ---------------------------------------------------------------------------------

    @route("GET", "/faults")
    def faults(request: Request) -> Any:
        return {"faults": control.faults()}

    @route("POST", "/faults")
    def arm(request: Request) -> Any:
        body = json_body(request, ("kind", "operation", "recipient", "channel", "count", "trigger", "message"),
                         ("kind",))
        return control.arm_fault(**body)

    @route("DELETE", "/faults")
    def clear_all(request: Request) -> Any:
        return {"cleared": control.clear_faults()}

    def fault_id(request: Request) -> int:
        raw = request.params["fault_id"]
        if not (raw.isascii() and raw.isdigit() and len(raw) <= 18):
            raise ControlError("id", f"expected an integer fault id, got {unquote(raw)[:40]!r}")
        return int(raw)

    @route("GET", "/faults/{fault_id}")
    def get_one(request: Request) -> Any:
        wanted = fault_id(request)
        for fault in control.faults():
            if fault["id"] == wanted:
                return fault
        raise ControlError("id", f"no armed fault with id {wanted}", 404)

    @route("DELETE", "/faults/{fault_id}")
    def clear_one(request: Request) -> Any:
        return {"cleared": control.clear_faults(fault_id(request))}

    # --- keys -------------------------------------------------------------------------------------

    @route("GET", "/pools/{pool_id}/keys")
    def keys(request: Request) -> Any:
        return {"keys": control.keys(unquote(request.params["pool_id"]))}

    @route("POST", "/pools/{pool_id}/keys/rotate")
    def rotate(request: Request) -> Any:
        body = json_body(request, ("uses", "unpublish_old"))
        return control.rotate_keys(
            unquote(request.params["pool_id"]),
            body.get("uses", ["id", "access"]),
            body.get("unpublish_old", False),
        )

    key_actions = {
        "retire": control.retire_key,
        "publish": control.publish_key,
        "unpublish": control.unpublish_key,
    }

    def key_action(name: str) -> Callable[[Request], Any]:
        def run(request: Request) -> Any:
            json_body(request, ())
            return key_actions[name](unquote(request.params["pool_id"]), _kid(request))

        return run

    for action in key_actions:
        route("POST", f"/pools/{{pool_id}}/keys/{{kid}}/{action}")(key_action(action))

    @route("GET", "/foreign-jwk")
    def foreign(request: Request) -> Any:
        params = query_params(request, ("kid",))
        return control.foreign_jwk(params.get("kid", "foreign"))

    # --- minting and status ---------------------------------------------------------------------

    @route("POST", "/pools/{pool_id}/mint")
    def mint(request: Request) -> Any:
        body = json_body(
            request,
            ("username", "token_use", "client_id", "claims", "header", "sign_with", "expires_in", "issued_at"),
            ("username",),
        )
        token = control.mint(unquote(request.params["pool_id"]), **body)
        header_b64, claims_b64 = token.split(".")[:2]
        return {"token": token, "header": _segment(header_b64), "claims": _segment(claims_b64)}

    @route("GET", "/pools/{pool_id}/feedback-token")
    def feedback_token(request: Request) -> Any:
        params = query_params(request, ("username", "event_id"))
        token = control.feedback_token(unquote(request.params["pool_id"]), params.get("username"), params.get("event_id"))
        return {"feedback_token": token}

    @route("POST", "/tokens/status")
    def status(request: Request) -> Any:
        body = json_body(request, ("token",), ("token",))
        return control.token_status(body["token"])

    # --- events -----------------------------------------------------------------------------------

    @route("GET", "/events")
    def events(request: Request) -> Any:
        params = query_params(request, None)
        since = query_int(params, "since", 0)
        count_only = query_bool(params, "count_only")
        type_ = params.pop("type", None) or None
        pool_id = params.pop("pool_id", None) or None
        return control.event_page(type_, since or 0, pool_id, count_only=count_only, **params)

    # --- snapshot ---------------------------------------------------------------------------------

    @route("GET", "/snapshot")
    def snapshot(request: Request) -> Any:
        params = query_params(request, ("secrets",))
        view = control.snapshot_capture(query_bool(params, "secrets"))  # the store lock: only for the copy
        return Response.stream(snap.stream(view), headers={"Cache-Control": "no-store"})

    @route("POST", "/restore")
    def restore(request: Request) -> Any:
        if not request.body.strip():
            raise ControlError("body", "expected a snapshot (JSON object from GET /_harness/snapshot?secrets=true)")
        try:
            data = request.json()
        except InvalidJSON as exc:
            raise ControlError("body", f"not valid JSON ({exc})") from None
        return control.restore(data)


def _segment(b64: str) -> Any:
    try:
        return json.loads(b64url_decode(b64))
    except (ValueError, RecursionError):  # a forged token may nest JSON deep
        return None
