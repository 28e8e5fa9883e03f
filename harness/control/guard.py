"""Who may use the control plane: a guard in front of every ``/_harness`` request.

The control plane mints tokens, rewrites state and reads private keys and
passwords, so it answers only:

* callers that carry the control token, when the emulator has one
  (``Authorization: Bearer <token>`` or ``X-Harness-Control-Token: <token>``,
  compared in constant time) -> else 401 with ``WWW-Authenticate: Bearer``;
* requests whose ``Host`` names this server (the loopback names, the bound
  address, the public URL's host, the extra names it was given): a page that
  re-binds its own DNS name to 127.0.0.1 still sends its own name -> else 403;
* requests without a foreign ``Origin`` (or ``Sec-Fetch-Site``): a page in the
  developer's browser can send requests to loopback but never with this
  server's own origin -> else 403;
* writes (POST, PUT, PATCH, DELETE) with ``Content-Type: application/json``,
  even with an empty body: a browser sends that type cross-site only after a
  CORS preflight, which the Origin check refuses -> else 415.

Everything else (the cognito-idp API, OAuth2 and hosted UI, well-known, the
fake IdPs' protocol endpoints) passes through untouched: apps and AWS endpoint
mode reach those under any host name.
"""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
from collections.abc import Iterable, Mapping
from typing import Protocol
from urllib.parse import urlsplit

from harness.control.face import PREFIX
from harness.encoding import secrets_equal
from harness.web.http import Request, Response

TOKEN_ENV = "COGNITO_HARNESS_CONTROL_TOKEN"
"""The environment variable ``serve`` reads the token from and ``RemoteControl`` sends it from."""
TOKEN_HEADER = "X-Harness-Control-Token"
MIN_TOKEN_LENGTH = 16
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")
WILDCARD_HOSTS = ("", "0.0.0.0", "::")
READ_METHODS = ("GET", "HEAD", "OPTIONS")
TRUSTED_FETCH_SITES = ("same-origin", "none")  # "none": the user typed the URL or followed a bookmark
REALM = 'Bearer realm="cognito-harness control plane"'

_TOKEN_CHARS = re.compile(r"[\x21-\x7e]+")  # visible ASCII: it travels in an HTTP header
_HOST_NAME = re.compile(r"[a-z0-9._-]+|\[[0-9a-f:.]+\]")  # a DNS name, an IPv4 address or a bracketed IPv6 one
_HOST_HEADER = re.compile(r"(?P<name>\[[^\]]*\]|[^:\[\]]*)(?::(?P<port>[0-9]{1,5}))?")
_DEFAULT_PORTS = {"http": 80, "https": 443}


class Dispatcher(Protocol):
    def dispatch(self, request: Request) -> Response: ...


# --- the token -------------------------------------------------------------------------------------


class TokenError(ValueError):
    """A control token that cannot be used; the message never contains the token."""


def generate_token() -> str:
    """A fresh control token: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def checked_token(token: str) -> str:
    """The token if it is usable (long enough to resist guessing, sendable in a header)."""
    if len(token) < MIN_TOKEN_LENGTH:
        raise TokenError(f"the control token must be at least {MIN_TOKEN_LENGTH} characters "
                         f"(got {len(token)}); `--control-token generate` makes one")
    if not _TOKEN_CHARS.fullmatch(token):
        raise TokenError("the control token must be visible ASCII characters only (no spaces): it is sent "
                         "in an HTTP header")
    return token


def token_from_env(environ: Mapping[str, str] | None = None) -> str | None:
    """The token in ``COGNITO_HARNESS_CONTROL_TOKEN`` (None when unset or empty)."""
    value = (os.environ if environ is None else environ).get(TOKEN_ENV, "")
    return value or None


def auth_headers(token: str | None) -> dict[str, str]:
    """The header a control-plane client sends for ``token`` (none without one)."""
    return {"Authorization": f"Bearer {token}"} if token else {}


def presented_tokens(request: Request) -> list[str]:
    """The tokens a request carries: the Bearer credential and the X-Harness-Control-Token header."""
    found = []
    scheme, _, credential = request.header("authorization").strip().partition(" ")
    if scheme.lower() == "bearer" and credential.strip():
        found.append(credential.strip())
    header = request.header(TOKEN_HEADER).strip()
    if header:
        found.append(header)
    return found


# --- host names -----------------------------------------------------------------------------------


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and addresses in 127.0.0.0/8 or ::1 (what never leaves this machine)."""
    name = host.strip().lower().strip("[]")
    if name == "localhost":
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or bool(mapped and mapped.is_loopback)


def host_name(value: str) -> str:
    """The host name of a bare name, ``name:port``, an IPv6 address or a URL, lower-cased; IPv6 bracketed.

    Raises ValueError for anything that is not a host name.
    """
    value = value.strip().lower()
    if "://" in value:
        value = urlsplit(value).netloc.rpartition("@")[2]
    try:
        ipaddress.IPv6Address(value)
        value = f"[{value}]"
    except ValueError:
        pass
    authority = _authority(value)
    if authority is None:
        raise ValueError(f"not a host name: {value[:100]!r}")
    return authority[0]


def _authority(value: str) -> tuple[str, int | None] | None:
    """(host name, port or None) of a Host header value; None if it is not one."""
    match = _HOST_HEADER.fullmatch(value.strip().lower())
    if not match or not _HOST_NAME.fullmatch(match.group("name")):
        return None
    port = match.group("port")
    return match.group("name"), int(port) if port else None


# --- the guard ------------------------------------------------------------------------------------


def _refusal(status: int, error: str, field: str, message: str, headers: dict[str, str] | None = None) -> Response:
    return Response.json({"error": error, "field": field, "message": message}, status, headers=headers)


class ControlPlaneGuard:
    """Wraps a router: requests under ``/_harness`` pass only the checks above; others go straight through.

    ``token`` None: no token needed (loopback only; ``serve`` refuses other
    addresses without one). The token is kept for the comparison only: it is
    never part of an answer, a message or a log line.
    """

    def __init__(self, inner: Dispatcher, token: str | None = None, allowed_hosts: Iterable[str] = ()) -> None:
        self.inner = inner
        self._token = checked_token(token) if token is not None else None
        self.allowed_hosts: set[str] = set(LOOPBACK_NAMES)
        for name in allowed_hosts:
            self.allow_host(name)

    def allow_host(self, name: str) -> None:
        """Accept ``name`` (a host name, ``name:port`` or URL: the port does not matter) in ``Host``.

        Wildcard bind addresses name no host and are skipped.
        """
        if name.strip() in WILDCARD_HOSTS:
            return
        self.allowed_hosts.add(host_name(name))

    def dispatch(self, request: Request) -> Response:
        if not request.path.startswith(PREFIX):
            return self.inner.dispatch(request)
        refusal = self.refusal(request)
        response = refusal or self.inner.dispatch(request)
        response.headers.setdefault("Cache-Control", "no-store")  # snapshots and keys stay out of caches
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response

    def refusal(self, request: Request) -> Response | None:
        """Why this control-plane request is refused (None: it may pass)."""
        return (self._host_refusal(request) or self._browser_refusal(request) or self._token_refusal(request)
                or self._content_type_refusal(request))

    def _host_refusal(self, request: Request) -> Response | None:
        authority = _authority(request.header("host"))
        if authority is not None and authority[0] in self.allowed_hosts:
            return None
        return _refusal(403, "forbidden_host", "Host",
                        "the control plane answers only requests addressed to this server's own names "
                        f"({', '.join(sorted(self.allowed_hosts))}); `serve --allowed-host NAME` adds one")

    def _browser_refusal(self, request: Request) -> Response | None:
        origin = request.header("origin")
        if origin and not self._own_origin(origin, request.header("host")):
            return _refusal(403, "forbidden_origin", "Origin",
                            "the control plane does not answer requests from web pages of other origins")
        site = request.header("sec-fetch-site").strip().lower()
        if site and site not in TRUSTED_FETCH_SITES:
            return _refusal(403, "forbidden_origin", "Sec-Fetch-Site",
                            f"the control plane does not answer {site} requests from web pages")
        return None

    @staticmethod
    def _own_origin(origin: str, host: str) -> bool:
        """The Origin is this server's: http(s) with the same host and port the request was sent to."""
        try:
            parts = urlsplit(origin.strip().lower())
        except ValueError:  # "http://[::1": an unclosed IPv6 bracket
            return False
        if parts.scheme not in _DEFAULT_PORTS or parts.path or parts.query or parts.fragment:
            return False
        origin_authority, request_authority = _authority(parts.netloc), _authority(host)
        if origin_authority is None or request_authority is None or origin_authority[0] != request_authority[0]:
            return False
        origin_port = origin_authority[1] or _DEFAULT_PORTS[parts.scheme]
        return origin_port == (request_authority[1] or _DEFAULT_PORTS[parts.scheme])

    def _token_refusal(self, request: Request) -> Response | None:
        if self._token is None:
            return None
        presented = presented_tokens(request)
        if any(secrets_equal(candidate, self._token) for candidate in presented):
            return None
        if presented:
            return _refusal(401, "unauthorized", "Authorization", "the control token is not this server's",
                            {"WWW-Authenticate": f'{REALM}, error="invalid_token"'})
        return _refusal(401, "unauthorized", "Authorization",
                        f"the control plane needs the control token: Authorization: Bearer <token> "
                        f"(or {TOKEN_HEADER}); RemoteControl sends ${TOKEN_ENV}",
                        {"WWW-Authenticate": REALM})

    @staticmethod
    def _content_type_refusal(request: Request) -> Response | None:
        if request.method in READ_METHODS:
            return None
        media_type = request.header("content-type").partition(";")[0].strip().lower()
        if media_type == "application/json":
            return None
        return _refusal(415, "unsupported_media_type", "Content-Type",
                        f"control-plane writes take Content-Type: application/json (even with an empty body), "
                        f"got {media_type[:100] or 'none'}")


__all__ = ["ControlPlaneGuard", "TOKEN_ENV", "TOKEN_HEADER", "TokenError", "auth_headers", "checked_token",
           "generate_token", "host_name", "is_loopback_host", "token_from_env"]
