"""The control plane of a served emulator over HTTP, and small per-concern views.

:class:`RemoteControl` speaks ``/_harness/`` (see harness.control.face) with the
same method names, arguments and results as :class:`harness.control.Control`;
the views (:class:`ClockControl`, :class:`MailboxControl`,
:class:`FaultControl`) wrap either one for the pytest fixtures.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable
from urllib.parse import quote

import requests

from harness.control.api import Control
from harness.control.checks import ControlError, check_int, check_str
from harness.control.guard import READ_METHODS, auth_headers, token_from_env
from harness.engine.keys import KEY_USES


# --- the same over HTTP ------------------------------------------------------------------------


class RemoteControl:
    """The control plane of a served emulator (``cognito-harness serve``), over HTTP.

    Same methods, arguments and results as :class:`Control`; errors come
    back as :class:`ControlError` with the field the server named.
    ``token``: the server's control token, sent on every call; None takes
    ``$COGNITO_HARNESS_CONTROL_TOKEN`` (what ``serve`` reads), ``""`` sends none.
    Writes always go as ``application/json`` (the server refuses other types).
    """

    def __init__(self, base_url: str, timeout: float = 10.0, session: Any = None, token: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.http = session or requests.Session()
        self._headers = auth_headers(token_from_env() if token is None else token)

    # --- transport ----------------------------------------------------------------------------------

    def _call(self, method: str, path: str, *, params: dict[str, Any] | None = None, body: Any = None) -> Any:
        query = {k: _query_value(v) for k, v in (params or {}).items() if v is not None}
        headers = dict(self._headers)
        if method not in READ_METHODS:
            headers["Content-Type"] = "application/json"
        response = self.http.request(
            method, f"{self.base_url}/_harness{path}", params=query, headers=headers,
            json=body if body is not None else None, timeout=self.timeout,
        )
        try:
            data = response.json()
        except ValueError:
            data = None
        if response.status_code >= 400:
            if isinstance(data, dict) and "field" in data:
                raise ControlError(data["field"], data.get("message", ""), response.status_code)
            raise ControlError("request", f"HTTP {response.status_code} from {method} {path}: {response.text[:200]}",
                               response.status_code)
        return data

    @staticmethod
    def _kid(kid: str) -> str:
        check_str("kid", kid)
        return quote(kid, safe="")

    # --- lifecycle ------------------------------------------------------------------------------------

    def info(self) -> dict[str, Any]:
        return self._call("GET", "")

    def coordinates(self, pool_id: str | None = None, client: str | None = None) -> dict[str, Any]:
        return self._call("GET", "/coordinates", params={"pool_id": pool_id, "client": client})

    def reset(self, seed: int | None = None) -> dict[str, Any]:
        return self._call("POST", "/reset", body={"seed": seed})

    def load_pool(self, path: str | None = None, definition: dict[str, Any] | None = None,
                  toml: str | None = None, issuer: str | None = None) -> dict[str, Any]:
        """As :meth:`Control.load_pool`; a ``path`` is read here and sent as TOML text."""
        if path is not None:
            if definition is not None or toml is not None:
                raise ControlError("definition", "give one of path, definition or toml")
            toml = Path(path).read_text()
        body = {"definition": definition, "toml": toml, "issuer": issuer}
        return self._call("POST", "/pools", body={k: v for k, v in body.items() if v is not None})

    # --- clock ----------------------------------------------------------------------------------------

    def clock(self) -> dict[str, Any]:
        return self._call("GET", "/clock")

    def now(self) -> float:
        return float(self.clock()["now"])

    def freeze(self, at: float | str | None = None) -> dict[str, Any]:
        return self._call("POST", "/clock", body={"action": "freeze", "at": at})

    def unfreeze(self) -> dict[str, Any]:
        return self._call("POST", "/clock", body={"action": "unfreeze"})

    def advance(self, seconds: float) -> dict[str, Any]:
        return self._call("POST", "/clock", body={"action": "advance", "seconds": seconds})

    def set(self, at: float | str) -> dict[str, Any]:
        return self._call("POST", "/clock", body={"action": "set", "at": at})

    # --- mailbox --------------------------------------------------------------------------------------

    def messages(self, to: str | None = None, purpose: str | None = None, include_failed: bool = False,
                 pool_id: str | None = None) -> list[dict[str, Any]]:
        params = {"to": to, "purpose": purpose, "include_failed": include_failed, "pool_id": pool_id}
        return self._call("GET", "/mailbox", params=params)["messages"]

    def feedback_token(self, pool_id: str, username: str, event_id: str) -> str:
        path = f"/pools/{quote(pool_id, safe='')}/feedback-token"
        return self._call("GET", path, params={"username": username, "event_id": event_id})["feedback_token"]

    def latest_code(self, to: str | None, purpose: str | None = None) -> str | None:
        return self._call("GET", "/mailbox/latest-code", params={"to": to, "purpose": purpose})["code"]

    def clear_mailbox(self) -> int:
        return self._call("DELETE", "/mailbox")["cleared"]

    # --- faults ---------------------------------------------------------------------------------------

    def arm_fault(self, kind: str, operation: str | None = None, recipient: str | None = None,
                  channel: str | None = None, count: int | None = None, trigger: str | None = None,
                  message: str | None = None) -> dict[str, Any]:
        body = {"kind": kind, "operation": operation, "recipient": recipient, "channel": channel, "count": count,
                "trigger": trigger, "message": message}
        return self._call("POST", "/faults", body={k: v for k, v in body.items() if v is not None})

    def faults(self) -> list[dict[str, Any]]:
        return self._call("GET", "/faults")["faults"]

    def clear_faults(self, id: int | None = None) -> int:  # noqa: A002
        path = "/faults" if id is None else f"/faults/{check_int('id', id)}"
        return self._call("DELETE", path)["cleared"]

    # --- keys -----------------------------------------------------------------------------------------

    def keys(self, pool_id: str) -> list[dict[str, Any]]:
        return self._call("GET", f"/pools/{pool_id}/keys")["keys"]

    def rotate_keys(self, pool_id: str, uses: Iterable[str] = KEY_USES, unpublish_old: bool = False) -> dict[str, Any]:
        uses_list = [uses] if isinstance(uses, str) else list(uses)
        return self._call("POST", f"/pools/{pool_id}/keys/rotate",
                          body={"uses": uses_list, "unpublish_old": unpublish_old})

    def retire_key(self, pool_id: str, kid: str) -> dict[str, Any]:
        return self._call("POST", f"/pools/{pool_id}/keys/{self._kid(kid)}/retire")

    def publish_key(self, pool_id: str, kid: str) -> dict[str, Any]:
        return self._call("POST", f"/pools/{pool_id}/keys/{self._kid(kid)}/publish")

    def unpublish_key(self, pool_id: str, kid: str) -> dict[str, Any]:
        return self._call("POST", f"/pools/{pool_id}/keys/{self._kid(kid)}/unpublish")

    def foreign_jwk(self, kid: str = "foreign") -> dict[str, str]:
        return self._call("GET", "/foreign-jwk", params={"kid": kid})

    # --- minting and token status -------------------------------------------------------------------

    def mint(self, pool_id: str, username: str, token_use: str = "access", client_id: str | None = None,
             claims: dict[str, Any] | None = None, header: dict[str, Any] | None = None, sign_with: str = "pool",
             expires_in: float | None = None, issued_at: float | str | None = None) -> str:
        body = {
            "username": username, "token_use": token_use, "client_id": client_id, "claims": claims,
            "header": header, "sign_with": sign_with, "expires_in": expires_in, "issued_at": issued_at,
        }
        # claims/header keep their None members (they mean "delete"); other None members are omitted
        body = {k: v for k, v in body.items() if v is not None}
        return self._call("POST", f"/pools/{pool_id}/mint", body=body)["token"]

    def token_status(self, token: str) -> dict[str, Any]:
        return self._call("POST", "/tokens/status", body={"token": token})

    # --- events -----------------------------------------------------------------------------------------

    def events(self, type: str | None = None, since: int = 0, pool_id: str | None = None,  # noqa: A002
               **match: Any) -> list[dict[str, Any]]:
        return self.event_page(type, since, pool_id, **match)["events"]

    def event_page(self, type: str | None = None, since: int = 0, pool_id: str | None = None,  # noqa: A002
                   **match: Any) -> dict[str, Any]:
        params = {"type": type, "since": since, "pool_id": pool_id, **match}
        return self._call("GET", "/events", params=params)

    def event_log(self, since: int = 0) -> dict[str, Any]:
        page = self._call("GET", "/events", params={"since": since, "count_only": True})
        return {k: v for k, v in page.items() if k != "count"}

    def event_count(self, type: str | None = None, since: int = 0, pool_id: str | None = None,  # noqa: A002
                    **match: Any) -> int:
        params = {"type": type, "since": since, "pool_id": pool_id, **match}
        return int(self._call("GET", "/events", params={**params, "count_only": True})["count"])

    def last_event(self) -> int:
        return int(self.info()["last_event"])

    # --- identity-pool credentials ----------------------------------------------------------------------

    def identity_credentials(self, identity_pool_id: str | None = None,
                             identity_id: str | None = None) -> list[dict[str, Any]]:
        params = {"identity_pool_id": identity_pool_id, "identity_id": identity_id}
        return self._call("GET", "/identity/credentials", params=params)["credentials"]

    def identity_credential(self, access_key_id: str) -> dict[str, Any]:
        check_str("access_key_id", access_key_id)
        return self._call("GET", f"/identity/credentials/{quote(access_key_id, safe='')}")

    def expire_identity_credentials(self, access_key_id: str | None = None,
                                    identity_pool_id: str | None = None) -> dict[str, int]:
        body = {"access_key_id": access_key_id, "identity_pool_id": identity_pool_id}
        return self._call("POST", "/identity/credentials/expire", body={k: v for k, v in body.items() if v is not None})

    # --- snapshot ---------------------------------------------------------------------------------------

    def snapshot(self, include_secrets: bool = False) -> dict[str, Any]:
        return self._call("GET", "/snapshot", params={"secrets": True} if include_secrets else None)

    def restore(self, snapshot: dict[str, Any]) -> dict[str, Any]:
        return self._call("POST", "/restore", body=snapshot)


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# --- small views by concern (what the pytest fixtures hand out) ------------------------------------


class ClockControl:
    """The virtual clock alone: ``cognito_clock.advance(3600)``."""

    def __init__(self, control: Control | RemoteControl) -> None:
        self.control = control

    def state(self) -> dict[str, Any]:
        return self.control.clock()

    def now(self) -> float:
        return self.control.now()

    def freeze(self, at: float | str | None = None) -> dict[str, Any]:
        return self.control.freeze(at)

    def unfreeze(self) -> dict[str, Any]:
        return self.control.unfreeze()

    def advance(self, seconds: float) -> dict[str, Any]:
        return self.control.advance(seconds)

    def set(self, at: float | str) -> dict[str, Any]:
        return self.control.set(at)


class MailboxControl:
    """The mailbox alone: ``cognito_mailbox.latest_code("ana@example.com")``."""

    def __init__(self, control: Control | RemoteControl) -> None:
        self.control = control

    def messages(self, to: str | None = None, purpose: str | None = None,
                 include_failed: bool = False) -> list[dict[str, Any]]:
        return self.control.messages(to, purpose, include_failed)

    def latest(self, to: str | None = None, purpose: str | None = None) -> dict[str, Any] | None:
        found = self.control.messages(to, purpose)
        return found[-1] if found else None

    def latest_code(self, to: str | None = None, purpose: str | None = None) -> str | None:
        return self.control.latest_code(to, purpose)

    def clear(self) -> int:
        return self.control.clear_mailbox()

    def __len__(self) -> int:
        return len(self.control.messages())


class FaultControl:
    """Fault injection alone: ``cognito_faults.arm("delivery_failure", operation="SignUp")``."""

    def __init__(self, control: Control | RemoteControl) -> None:
        self.control = control

    def arm(self, kind: str, operation: str | None = None, recipient: str | None = None,
            channel: str | None = None, count: int | None = None, trigger: str | None = None,
            message: str | None = None) -> dict[str, Any]:
        return self.control.arm_fault(kind, operation, recipient, channel, count, trigger, message)

    def list(self) -> list[dict[str, Any]]:
        return self.control.faults()

    def clear(self, id: int | None = None) -> int:  # noqa: A002
        return self.control.clear_faults(id)


__all__ = ["ClockControl", "FaultControl", "MailboxControl", "RemoteControl"]
