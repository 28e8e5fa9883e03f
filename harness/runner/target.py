"""The HTTP client for the target app: named requests, tokens per [auth], evidence.

Every call renders a named request of the spec with placeholder values,
presents a token the way the app expects (header or cookie, scheme), and
records the exchange as ``http`` evidence with bodies trimmed and, when the
spec's ``[evidence].mask_secrets`` is on, tokens, cookies and passwords masked.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import requests

from harness.results import Evidence
from harness.runner.scenario import Failure
from harness.runner.spec import RequestSpec, TargetSpec

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_JWT_LIKE = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*")
SECRET_FIELDS = re.compile(r"(pass(word)?|secret|token|code|cookie|authorization|session)", re.I)
DEFAULT_TIMEOUT = 10.0


class HarnessError(RuntimeError):
    """A problem of the harness or the target that stops a scenario: the verdict is ERROR."""


class TargetUnreachable(HarnessError):
    """No answer from a target not known to be up in this check: the check cannot run (ERROR)."""

    def __init__(self, address: str, reason: str) -> None:
        super().__init__(f"target unreachable at {address}: {reason}")
        self.address = address
        self.reason = reason


class TargetStoppedAnswering(Failure):
    """A target that was up in this check gave no answer to one of its requests: the check FAILs.

    The app crashed or hung because of what this check sent (a one-request
    denial of service). ``evidence`` is the request that got no answer; the
    engine adds what became of the process, and makes it an ERROR when the
    app merely dropped this connection and still answers (harness/runner/keeper.py).
    """

    def __init__(self, label: str, reason: str, evidence: Evidence, *, hung: bool) -> None:
        request = evidence.data["request"]
        super().__init__(f"the target stopped answering: the request {label!r} got no answer ({reason})",
                         expected="an answer to every request (a refusal is fine), the target still up",
                         actual=f"{request['method']} {urlsplit(request['url']).path} -> no answer ({reason})")
        self.label = label
        self.reason = reason
        self.evidence = evidence
        self.hung = hung


class MissingPlaceholder(HarnessError):
    pass


def mask_value(value: str) -> str:
    """A recognisable stand-in for a secret: length and a short hash, never the value."""
    digest = hashlib.sha256(value.encode()).hexdigest()[:10]
    return f"<masked {len(value)} chars sha256:{digest}>"


def mask_text(text: str) -> str:
    return _JWT_LIKE.sub(lambda m: mask_value(m.group(0)), text)


def mask_data(data: Any) -> Any:
    """Mask JWT-looking strings anywhere and every value under a secret-sounding key."""
    if isinstance(data, dict):
        return {k: (mask_value(v) if isinstance(v, str) and v and SECRET_FIELDS.search(str(k)) else mask_data(v))
                for k, v in data.items()}
    if isinstance(data, list):
        return [mask_data(v) for v in data]
    if isinstance(data, str):
        return mask_text(data)
    return data


def trim(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"... [{len(text) - limit} more chars]"


def render(template: Any, values: dict[str, Any], *, url: bool = False) -> Any:
    """Fill ``{name}`` placeholders recursively.

    A string that is exactly one placeholder takes the value as is (numbers and
    lists stay typed in JSON bodies); otherwise values are substituted as text
    (URL-quoted in paths and query strings).
    """
    if isinstance(template, dict):
        return {render(k, values): render(v, values, url=url) for k, v in template.items()}
    if isinstance(template, list):
        return [render(v, values, url=url) for v in template]
    if not isinstance(template, str):
        return template

    def value_of(name: str) -> Any:
        if name not in values or values[name] is None:
            raise MissingPlaceholder(f"no value for placeholder {{{name}}} (the scenario did not supply it)")
        return values[name]

    whole = _PLACEHOLDER.fullmatch(template)
    if whole and not url:
        return value_of(whole.group(1))
    return _PLACEHOLDER.sub(lambda m: quote(str(value_of(m.group(1))), safe="") if url else str(value_of(m.group(1))),
                            template)


def json_pointer(doc: Any, pointer: str) -> Any:
    """Resolve an RFC 6901 pointer; ``KeyError`` when it does not resolve."""
    if pointer == "":
        return doc
    current = doc
    for raw in pointer.lstrip("/").split("/"):
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(current, list):
            if not part.isdigit() or int(part) >= len(current):
                raise KeyError(pointer)
            current = current[int(part)]
        elif isinstance(current, dict):
            if part not in current:
                raise KeyError(pointer)
            current = current[part]
        else:
            raise KeyError(pointer)
    return current


@dataclass
class TargetResponse:
    """What the app answered to one named request."""

    name: str
    status: int
    headers: dict[str, str]
    text: str
    json: Any
    spec: RequestSpec
    evidence: Evidence
    cookies: dict[str, str] = field(default_factory=dict)

    @property
    def allowed(self) -> bool:
        return self.status in self.spec.allowed

    @property
    def denied(self) -> bool:
        return self.status in self.spec.denied

    @property
    def server_error(self) -> bool:
        return self.status >= 500

    def pointer(self, pointer: str) -> Any:
        """Value at a JSON pointer of the body, or ``None``."""
        if self.json is None:
            return None
        try:
            return json_pointer(self.json, pointer)
        except KeyError:
            return None

    def token(self, kind: str) -> str | None:
        """A token the app returned, via the spec's pointer for it (or a cookie of the same name)."""
        pointer = self.spec.pointers.get(kind)
        value = self.pointer(pointer) if pointer else None
        if value is None:
            value = self.cookies.get(kind)
        return value if isinstance(value, str) else None

    def summary(self) -> str:
        """One line for a FAIL's "actual": the URL really sent and the answer, masked as the evidence is."""
        request, response = self.evidence.data["request"], self.evidence.data["response"]
        target = urlsplit(request["url"])
        shown = response["body"]
        body = (shown if isinstance(shown, str) else json.dumps(shown)).strip().replace("\n", " ")
        where = target.path + (f"?{target.query}" if target.query else "")
        return f"{self.spec.method} {where} -> HTTP {self.status}" + (f" {trim(body, 160)}" if body else "")


def _direct_session() -> requests.Session:
    """A session that talks to the target directly: never through the proxies of the caller's environment
    (HTTP(S)_PROXY meant for the internet must not carry attack tokens, nor hide a refusal behind a 502)."""
    session = requests.Session()
    session.trust_env = False
    return session


class TargetClient:
    """Sends the spec's named requests to a running target."""

    def __init__(self, spec: TargetSpec, base_url: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.spec = spec
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = _direct_session()
        self.mask = spec.evidence.mask_secrets
        self.body_limit = spec.evidence.body_limit
        self.check_id: str | None = None  # whose [checks."ID"] statuses judge the answers
        self.up = False  # the target answered (or was ready) in the current check

    def close(self) -> None:
        self.session.close()

    def begin_check(self, check_id: str | None, *, ready: bool) -> None:
        """A check starts; ``ready``: the target was seen answering at its start.

        Decides what no answer means: from a target up in this check it is a
        FAIL of the check (:class:`TargetStoppedAnswering`); otherwise the check
        cannot run (:class:`TargetUnreachable`, an ERROR).
        """
        self.check_id = check_id
        self.up = ready

    def reconnect(self) -> None:
        """Drop pooled connections (after a restart the old process's sockets are dead)."""
        self.session.close()
        self.session = _direct_session()

    def call(
        self,
        name: str,
        values: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        authorization: str | None = None,
        headers: dict[str, str] | None = None,
        cookies: dict[str, str] | None = None,
        title: str | None = None,
        extra_query: dict[str, str] | None = None,
    ) -> TargetResponse:
        """Send request ``name``.

        ``token`` is presented per [auth] when the request authenticates;
        ``authorization`` replaces the whole credential value (for raw or
        malformed credentials) in the [auth] header or cookie.
        """
        req = self.spec.request(name, self.check_id)
        values = dict(values or {})
        path = render(req.path, values, url=True)
        query = render(req.query, values, url=False) if req.query else None
        if extra_query:  # e.g. the code/state or error of an OAuth2 redirect, forwarded as the browser would
            query = {**(query or {}), **extra_query}
        send_headers = render(req.headers, values) if req.headers else {}
        send_cookies: dict[str, str] = {}
        auth = self.spec.auth
        if authorization is not None:
            if auth.location == "cookie":
                send_cookies[auth.cookie] = authorization
            else:
                send_headers[auth.header] = authorization
        elif token is not None and req.auth:
            h, c = auth.present(token)
            send_headers.update(h)
            send_cookies.update(c)
        send_headers.update(headers or {})
        send_cookies.update(cookies or {})
        body_json = render(req.json, values) if req.json is not None else None
        body_form = render(req.form, values) if req.form is not None else None
        url = self.base_url + path
        sent_body = body_json if body_json is not None else body_form
        shown_request = {
            "name": name,
            "method": req.method,
            "url": url + ("?" + urlencode(mask_data(query) if self.mask else query) if query else ""),
            "headers": self._shown_headers(send_headers),
            "cookies": self._shown_mapping(send_cookies),
            "body": self._shown_body(sent_body),
        }
        started = time.monotonic()
        try:
            response = self.session.request(
                req.method, url, params=query, headers=send_headers, cookies=send_cookies or None,
                json=body_json, data=body_form, timeout=self.timeout, allow_redirects=False,
            )
        except requests.ConnectionError as exc:
            raise self._no_answer(title or name, url, shown_request, _reason(exc), started, hung=False) from None
        except requests.Timeout:
            raise self._no_answer(title or name, url, shown_request, f"no answer within {self.timeout:g} s",
                                  started, hung=True) from None
        except requests.RequestException as exc:
            raise HarnessError(f"request {name} to {url} failed: {exc}") from None
        self.up = True
        elapsed_ms = round((time.monotonic() - started) * 1000, 1)
        text = response.content.decode("utf-8", errors="replace")
        try:
            parsed = response.json() if text.strip() else None
        except ValueError:
            parsed = None
        evidence = Evidence("http", title or f"{name}: {req.method} {path} -> {response.status_code}", {
            "request": shown_request,
            "response": {
                "status": response.status_code,
                "headers": self._shown_headers(dict(response.headers)),
                "body": self._shown_text(text),
            },
            "elapsed_ms": elapsed_ms,
            "masked": self.mask,
        })
        return TargetResponse(name=name, status=response.status_code, headers=dict(response.headers), text=text,
                              json=parsed, spec=req, evidence=evidence, cookies=dict(response.cookies))

    def _no_answer(self, label: str, url: str, shown_request: dict[str, Any], reason: str, started: float,
                   *, hung: bool) -> HarnessError | TargetStoppedAnswering:
        """FAIL when the target was up in this check (the check took it down), else ERROR (it never was)."""
        if not self.up:
            return TargetUnreachable(url, reason)
        evidence = Evidence("http", f"{label}: {shown_request['method']} {urlsplit(url).path} -> no answer", {
            "request": shown_request,
            "response": None,
            "error": reason,
            "elapsed_ms": round((time.monotonic() - started) * 1000, 1),
            "masked": self.mask,
        })
        return TargetStoppedAnswering(label, reason, evidence, hung=hung)

    # --- evidence shaping -------------------------------------------------------------------

    def _shown_headers(self, headers: dict[str, str]) -> dict[str, str]:
        if not self.mask:
            return {k: trim(v, self.body_limit) for k, v in headers.items()}
        out = {}
        for k, v in headers.items():
            if k.lower() in ("authorization", "cookie", "set-cookie") or k.lower() == self.spec.auth.header.lower():
                scheme, _, rest = v.partition(" ")
                out[k] = f"{scheme} {mask_value(rest)}" if rest and k.lower() == "authorization" else mask_value(v)
            else:
                out[k] = mask_text(v)
        return out

    def _shown_mapping(self, mapping: dict[str, str]) -> dict[str, str]:
        return {k: (mask_value(v) if self.mask else trim(v, self.body_limit)) for k, v in mapping.items()}

    def _shown_body(self, body: Any) -> Any:
        if body is None:
            return None
        shown = mask_data(body) if self.mask else body
        return trim(json.dumps(shown, default=str), self.body_limit)

    def _shown_text(self, text: str) -> str:
        if self.mask:
            try:
                text = json.dumps(mask_data(json.loads(text)))
            except ValueError:
                text = mask_text(text)
        return trim(text, self.body_limit)


def _reason(exc: Exception) -> str:
    text = str(exc)
    for marker in ("Connection refused", "Name or service not known", "timed out", "No route to host",
                   "Connection reset", "Remote end closed"):
        if marker in text:
            return marker.lower()
    return type(exc).__name__


__all__ = ["HarnessError", "MissingPlaceholder", "TargetClient", "TargetResponse", "TargetStoppedAnswering",
           "TargetUnreachable",
           "json_pointer", "mask_data", "mask_value", "render"]
