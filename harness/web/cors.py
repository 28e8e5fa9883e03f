"""Cross-origin access for the faces a web page calls: one policy, in front of the router.

Amplify and amazon-cognito-identity-js run in the page of an app served from another origin
and call Cognito with ``fetch``; a browser lets them read an answer only when it carries CORS
headers, and sends a preflight ``OPTIONS`` first for every call with ``X-Amz-Target`` or a
JSON body. Real Cognito answers those calls from any origin, so this emulator does too, on:

* ``POST /``: the AWS JSON APIs (cognito-idp and cognito-identity) and STS; the answer exposes
  ``x-amzn-RequestId``, ``x-amzn-ErrorType``, ``x-amzn-ErrorMessage`` and ``Date``, which the
  SDKs read to name an error (a 400 with its CORS headers is a NotAuthorizedException in the
  page; without them, only a network error);
* the JWKS and OpenID discovery documents (``/{pool}/.well-known/...``, the identity service's
  ``/.well-known/...`` and ``/cognito-identity/.well-known/...``);
* ``/oauth2/token``, ``/oauth2/userInfo`` and ``/oauth2/revoke``, under ``/{pool}`` and
  ``/_domain/{domain}`` (Cognito documents ``Access-Control-Allow-Origin: *`` on the token endpoint).

The policy: ``Access-Control-Allow-Origin: *`` on every answer of those paths, errors included,
and never ``Allow-Credentials`` (no cookie rides on these calls). A preflight is answered here,
before any face: 200, the path's methods, the headers the browser asks for echoed back (the
SDKs add headers over time: ``amz-sdk-invocation-id`` with SDK v3, ``cache-control`` in
amazon-cognito-identity-js and Amplify since 2022; a fixed list would refuse the next one), and
a max-age of 172800 s (the value cognito-identity.<region>.amazonaws.com sends; browsers cap it).

Never here: the control plane ``/_harness`` (harness.control.guard refuses foreign origins on
purpose: a web page must not mint tokens) and the hosted UI's pages (``/login``,
``/oauth2/authorize``, ``/logout``...: a browser navigates to them, it does not fetch them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from harness.web.http import Request, Response

CONTROL_PREFIX = "/_harness"  # never cross-origin, whatever a pattern below would say
ALLOW_ORIGIN = "*"
MAX_AGE_SECONDS = 172800
SDK_HEADERS = ("authorization", "content-type", "x-amz-target", "x-amz-user-agent", "x-amz-date",
               "x-amz-security-token", "x-amz-content-sha256", "amz-sdk-invocation-id", "amz-sdk-request",
               "cache-control")
"""Allowed when a preflight names no headers: what the AWS SDKs, Amplify and amazon-cognito-identity-js send."""
AWS_EXPOSED = ("x-amzn-RequestId", "x-amzn-ErrorType", "x-amzn-ErrorMessage", "Date")
MAX_ECHOED_HEADERS = 64
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}")  # an HTTP field name (RFC 9110 token)


class Dispatcher(Protocol):
    def dispatch(self, request: Request) -> Response: ...


@dataclass(frozen=True)
class CorsFace:
    """Paths a page may call from another origin, the methods they serve, the headers a page may read."""

    name: str
    path: re.Pattern[str]
    methods: tuple[str, ...]
    exposed: tuple[str, ...] = ()


FACES = (
    CorsFace("AWS JSON APIs", re.compile(r"/"), ("POST",), AWS_EXPOSED),
    CorsFace("well-known documents", re.compile(r"(/[^/]+)?/\.well-known/[^/]+"), ("GET", "HEAD")),
    CorsFace("OAuth2 token and revoke", re.compile(r"(/_domain)?/[^/]+/oauth2/(token|revoke)"), ("POST",)),
    CorsFace("OAuth2 userInfo", re.compile(r"(/_domain)?/[^/]+/oauth2/user[Ii]nfo"), ("GET", "HEAD", "POST")),
)


def face_of(path: str) -> CorsFace | None:
    """The cross-origin face ``path`` belongs to (None: same-origin only)."""
    if path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/"):
        return None
    return next((face for face in FACES if face.path.fullmatch(path)), None)


def allowed_headers(requested: str) -> str:
    """The preflight's Access-Control-Request-Headers echoed (field names only), or the SDKs' list."""
    names: list[str] = []
    for part in requested.split(","):
        name = part.strip().lower()
        if _HEADER_NAME.fullmatch(name) and name not in names:
            names.append(name)
    return ", ".join(names[:MAX_ECHOED_HEADERS] or SDK_HEADERS)


def preflight(face: CorsFace, request: Request) -> Response:
    return Response(200, b"", {
        "Access-Control-Allow-Origin": ALLOW_ORIGIN,
        "Access-Control-Allow-Methods": ", ".join((*face.methods, "OPTIONS")),
        "Access-Control-Allow-Headers": allowed_headers(request.header("access-control-request-headers")),
        "Access-Control-Max-Age": str(MAX_AGE_SECONDS),
    })


class CrossOrigin:
    """Wraps a dispatcher: answers preflights of the cross-origin faces and marks their answers."""

    def __init__(self, inner: Dispatcher) -> None:
        self.inner = inner

    def dispatch(self, request: Request) -> Response:
        face = face_of(request.path)
        if face is None:
            return self.inner.dispatch(request)
        if request.method == "OPTIONS":
            return preflight(face, request)
        response = self.inner.dispatch(request)
        response.headers["Access-Control-Allow-Origin"] = ALLOW_ORIGIN
        if face.exposed:
            response.headers["Access-Control-Expose-Headers"] = ",".join(face.exposed)
        return response


__all__ = ["FACES", "CorsFace", "CrossOrigin", "face_of"]
