"""The event log: what happened inside the emulator, in order.

Scenarios read it as evidence (a JWKS refetch proves an app handled key
rotation; a ``token.revoked`` proves the app called RevokeToken). Sequence
numbers, not wall time, order the log, so it is deterministic per seed.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterable


@dataclass(frozen=True, slots=True)
class Event:
    seq: int
    time: float  # virtual clock
    type: str  # e.g. "auth.success", "token.issued", "jwks.fetch"
    pool_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# Event types, named once so scenarios and the control plane agree on them.
AUTH_SUCCESS = "auth.success"
AUTH_FAILURE = "auth.failure"
TOKEN_ISSUED = "token.issued"
TOKEN_REFRESHED = "token.refreshed"
TOKEN_REVOKED = "token.revoked"
MESSAGE_SENT = "message.sent"
MESSAGE_FAILED = "message.failed"
JWKS_FETCH = "jwks.fetch"
DISCOVERY_FETCH = "discovery.fetch"
USER_CREATED = "user.created"
USER_DELETED = "user.deleted"
USER_DISABLED = "user.disabled"
USER_ENABLED = "user.enabled"
USER_CONFIRMED = "user.confirmed"
PASSWORD_CHANGED = "password.changed"
GROUP_MEMBERSHIP = "group.membership"
KEY_ROTATED = "key.rotated"
FAULT_TRIGGERED = "fault.triggered"
TOKEN_MINTED = "token.minted"
KEY_PUBLISHED = "key.published"
KEY_UNPUBLISHED = "key.unpublished"
KEY_RETIRED = "key.retired"
FEDERATED_SIGN_IN = "federation.sign_in"
FEDERATION_LINKED = "federation.linked"
FEDERATION_UNLINKED = "federation.unlinked"
FEDERATION_FAILURE = "federation.failure"
TRIGGER_INVOKED = "trigger.invoked"
TRIGGER_FAILED = "trigger.failed"
TRIGGER_UNBOUND = "trigger.unbound"


MAX_EVENTS = 100_000
"""The log keeps the newest events only, so a long-running ``serve`` stays bounded in memory."""


class EventLog:
    def __init__(self, now: Callable[[], float], max_events: int = MAX_EVENTS) -> None:
        self._now = now
        self._lock = threading.Lock()
        self._events: deque[Event] = deque(maxlen=max_events)
        self._seq = 0

    def emit(self, type_: str, pool_id: str | None = None, **data: Any) -> Event:
        with self._lock:
            self._seq += 1
            event = Event(seq=self._seq, time=self._now(), type=type_, pool_id=pool_id, data=data)
            self._events.append(event)
            return event

    def list(
        self,
        type_: str | Iterable[str] | None = None,
        pool_id: str | None = None,
        since: int = 0,
        **match: Any,
    ) -> list[Event]:
        """Events after sequence number ``since``, optionally filtered.

        ``type_`` may end with ``*`` to match a prefix ("token.*").
        Extra keyword arguments must equal fields in ``data``.
        """
        types = [type_] if isinstance(type_, str) else list(type_ or [])
        with self._lock:
            events = list(self._events)
        out = []
        for e in events:
            if e.seq <= since:
                continue
            if pool_id is not None and e.pool_id != pool_id:
                continue
            if types and not any(
                e.type.startswith(t[:-1]) if t.endswith("*") else e.type == t for t in types
            ):
                continue
            if any(e.data.get(k) != v for k, v in match.items()):
                continue
            out.append(e)
        return out

    def count(self, type_: str | None = None, **match: Any) -> int:
        return len(self.list(type_, **match))

    @property
    def last_seq(self) -> int:
        return self._seq

    def clear(self) -> None:
        with self._lock:
            self._events.clear()

    def restore(self, events: Iterable[Event], seq: int) -> None:
        """Replace the log (snapshot restore); numbering goes on after ``seq``."""
        with self._lock:
            self._events.clear()
            self._events.extend(events)
            self._seq = seq
