"""The emulator's own outbound HTTP calls, held to loopback on every hop.

The engine calls out to external IdPs (discovery, JWKS, token, userinfo) and to
Lambda-trigger URLs. Each URL must be http(s) on a loopback name; a redirect
could otherwise take the call anywhere (in cloud CI, to 169.254.169.254), so:

* GETs follow at most :data:`MAX_REDIRECTS` redirects by hand, each target
  checked against the same allow-list *before* it is contacted;
* POSTs never follow a redirect (the body holds client secrets or a user's
  sign-up event): a 3xx answer is a failure that names the redirect.

The environment's proxy settings and ``.netrc`` are ignored (``trust_env`` off):
a proxy would take loopback traffic off the machine and ``.netrc`` would attach
someone's credentials.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
MAX_REDIRECTS = 5
_REDIRECTS = (301, 302, 303, 307, 308)


@dataclass(frozen=True)
class Reach:
    """How an outbound call is made: how long it may take, and what TLS trusts (``requests``' ``verify``:
    True for the public CAs, or a CA bundle path: under ``serve --tls`` the emulator's own https endpoints,
    the fake IdPs among them, are signed by the machine CA)."""

    timeout: float
    verify: str | bool = True


class OutboundRefused(Exception):
    """An outbound call the emulator will not make (or not continue); the message says why.

    Not a ``requests.RequestException``: callers that turn transport errors
    into a generic message must still show this one.
    """


def is_loopback_url(url: str) -> bool:
    """Whether ``url`` is http(s) on one of :data:`LOOPBACK_HOSTS`."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and host in LOOPBACK_HOSTS


def check_loopback(url: str, what: str = "URL") -> None:
    """Raise :class:`OutboundRefused` unless ``url`` is an allowed loopback URL."""
    if not is_loopback_url(url):
        raise OutboundRefused(f"{what} {url} is not reachable from the harness (loopback only)")


def _session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    return session


def _location(answer: requests.Response) -> str | None:
    if answer.status_code not in _REDIRECTS:
        return None
    target = answer.headers.get("Location")
    return urljoin(answer.url, target) if target else None


def get(url: str, timeout: float, headers: dict[str, str] | None = None, verify: str | bool = True
        ) -> requests.Response:
    """GET ``url``, following up to :data:`MAX_REDIRECTS` redirects that stay on loopback."""
    check_loopback(url)
    with _session() as session:
        for _ in range(MAX_REDIRECTS + 1):
            answer = session.get(url, headers=headers, timeout=timeout, allow_redirects=False, verify=verify)
            target = _location(answer)
            if target is None:
                return answer
            answer.close()
            if not is_loopback_url(target):
                raise OutboundRefused(f"{url} redirected (HTTP {answer.status_code}) to {target}, "
                                      "which is not on loopback; the redirect was not followed")
            url = target
    raise OutboundRefused(f"{url}: more than {MAX_REDIRECTS} redirects")


def post(url: str, timeout: float, verify: str | bool = True, **kwargs: Any) -> requests.Response:
    """POST to ``url``; a redirect answer is refused, never followed (it would re-send the body)."""
    check_loopback(url)
    with _session() as session:
        answer = session.post(url, timeout=timeout, allow_redirects=False, verify=verify, **kwargs)
    target = _location(answer)
    if target is not None:
        raise OutboundRefused(f"{url} answered a redirect (HTTP {answer.status_code}) to {target}; "
                              "outbound POSTs do not follow redirects")
    return answer


__all__ = ["LOOPBACK_HOSTS", "MAX_REDIRECTS", "OutboundRefused", "Reach", "check_loopback", "get", "is_loopback_url", "post"]
