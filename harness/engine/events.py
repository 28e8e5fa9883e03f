"""The event log: what happened inside the emulator, in order.

Scenarios read it as evidence (a JWKS refetch proves an app handled key
rotation; a ``token.revoked`` proves the app called RevokeToken). Sequence
numbers, not wall time, order the log, so it is deterministic per seed.

The log is a ring: it keeps the newest ``max_events`` (default
:data:`DEFAULT_MAX_EVENTS`), so a long-running ``serve`` stays bounded in
memory. A reader is told when history was cut (:class:`EventWindow`: the
oldest event still held, how many were pushed out, and how many of those came
after the reader's ``since``). A check reads the events of its own few
seconds, far fewer than the ring holds.

Events are stored compactly: the newest as flat tuples (data members as values
under a shared tuple of member names), older ones pickled :data:`BLOCK_EVENTS`
at a time into one ``bytes`` each (see :func:`_seal`; ~100 bytes an event);
:class:`Event` values are built when read.
"""

from __future__ import annotations

import bisect
import pickle
import struct
import threading
from array import array
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterable, Sequence

DEFAULT_MAX_EVENTS = 10_000
"""About 1 MB of events: many times what one check emits (the runner reads within a check), small
for a long-running ``serve`` (``serve --max-events N`` / ``Backend(max_events=N)`` to change it)."""


@dataclass(frozen=True, slots=True)
class Event:
    seq: int
    time: float  # virtual clock
    type: str  # e.g. "auth.success", "token.issued", "jwks.fetch"
    pool_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class EventWindow:
    """What the ring holds: a reader whose ``since`` is older than ``oldest_seq - 1`` missed events."""

    max_events: int
    held: int
    oldest_seq: int | None  # the oldest event still held (None: the log is empty)
    last_seq: int
    dropped: int  # pushed out by the cap since the log was last cleared or restored
    missed: int = 0  # of the events after the reader's ``since``, how many were pushed out

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
MFA_CHALLENGE = "mfa.challenge"  # a second factor (or its setup / choice) was asked for
MFA_PASSED = "mfa.passed"
MFA_FAILED = "mfa.failed"  # reason: wrong_code | code_expired | attempts_exceeded
MFA_ENROLLED = "mfa.enrolled"  # a factor became usable: how = preference | setup | admin
MFA_REMOVED = "mfa.removed"  # an authenticator deleted by an administrator
MFA_PREFERENCE = "mfa.preference"  # the user's enabled factors / preferred factor changed
DEVICE_NEW = "device.new"  # a sign-in was handed a new device key (NewDeviceMetadata)
DEVICE_CONFIRMED = "device.confirmed"  # ConfirmDevice registered the device's SRP verifier
DEVICE_STATUS = "device.status"  # (Admin)UpdateDeviceStatus: remembered / not_remembered
DEVICE_FORGOTTEN = "device.forgotten"  # (Admin)ForgetDevice
IDENTITY_CREDENTIALS = "identity.credentials"  # temporary AWS credentials issued (role, identity; never the secret)
IDENTITY_CREDENTIALS_EXPIRED = "identity.credentials_expired"  # the control plane expired issued credentials
IDENTITY_DENIED = "identity.denied"  # no credentials: the role mapping denied or no role is configured
IDENTITY_CREATED = "identity.created"  # GetId (or a developer token) made a new identity id
IDENTITY_LINKED = "identity.linked"  # a login (provider, subject) joined an identity
IDENTITY_MERGED = "identity.merged"  # a login already linked elsewhere merged that identity into this one
IDENTITY_UNLINKED = "identity.unlinked"  # UnlinkIdentity removed a login from an identity
IDENTITY_OPENID_TOKEN = "identity.openid_token"  # GetOpenIdToken(ForDeveloperIdentity) issued a token
IDENTITY_STS_ASSUMED = "identity.sts_assumed"  # STS AssumeRoleWithWebIdentity took a cognito-identity token


Record = tuple[Any, ...]
"""One event, flat: (seq, time, type, pool_id, member names (one shared tuple), *member values)."""

MAX_SHAPES = 256  # distinct member-name tuples shared; the emitters in the code use a few dozen
BLOCK_EVENTS = 256  # events sealed (pickled) together into one block


def check_max_events(value: Any) -> int:
    """A ring size: a whole number >= 0 (0 keeps no events; sequence numbers still advance)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"max_events must be a whole number >= 0, not {value!r}")
    return value


def _event(record: Record) -> Event:
    return Event(record[0], record[1], record[2], record[3], dict(zip(record[4], record[5:])))


def _wanted(types: list[str]) -> Callable[[str], bool]:
    if not types:
        return lambda _: True
    exact = {t for t in types if not t.endswith("*")}
    prefixes = tuple(t[:-1] for t in types if t.endswith("*"))
    return lambda t: t in exact or t.startswith(prefixes)


_COUNT = struct.Struct("<Q")


def _seal(records: list[Record]) -> bytes | list[Record]:
    """:data:`BLOCK_EVENTS` older events as one ``bytes``: their sequence numbers, then the pickled records.

    One allocation per block instead of five small objects per event: ~100 bytes an event, and no
    long-lived small objects scattered among sign-ins' sessions to pin the allocator's arenas once
    those sessions are gone. A block with a member pickle refuses stays a list of records."""
    try:
        body = pickle.dumps(records, pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError):
        return records
    return _COUNT.pack(len(records)) + array("q", (r[0] for r in records)).tobytes() + body


def _seqs(block: bytes | list[Record]) -> Sequence[int]:
    if isinstance(block, list):
        return [r[0] for r in block]
    (count,) = _COUNT.unpack_from(block)
    return memoryview(block)[_COUNT.size:_COUNT.size + 8 * count].cast("q")


def _records(block: bytes | list[Record]) -> list[Record]:
    if isinstance(block, list):
        return block
    (count,) = _COUNT.unpack_from(block)
    return pickle.loads(memoryview(block)[_COUNT.size + 8 * count:])  # type: ignore[no-any-return]


class EventLog:
    """A bounded ring of the newest events; sequence numbers keep counting past what it drops.

    The newest (fewer than :data:`BLOCK_EVENTS`) are tuples in ``_open``; older ones sit in sealed
    blocks (:func:`_seal`), oldest first, the first ``_skip`` events of the oldest block already
    pushed out."""

    def __init__(self, now: Callable[[], float], max_events: int = DEFAULT_MAX_EVENTS) -> None:
        self._now = now
        self._lock = threading.Lock()
        self._max = check_max_events(max_events)
        self._open: list[Record] = []
        self._sealed: deque[bytes | list[Record]] = deque()
        self._skip = 0
        self._held = 0
        self._shapes: dict[tuple[str, ...], tuple[str, ...]] = {}
        self._seq = 0
        self._start = 0  # the last seq at the last clear/restore: what came before is not "dropped"
        self._cut = 0  # the newest seq the cap pushed out (<= _start: none since the clear/restore)
        self._dropped = 0
        self._last_time = 0.0

    @property
    def max_events(self) -> int:
        return self._max

    def emit(self, type_: str, pool_id: str | None = None, **data: Any) -> None:
        with self._lock:
            time = self._now()
            if time == self._last_time:
                time = self._last_time  # one float object for events of the same instant (a frozen clock)
            self._last_time = time
            self._seq += 1
            self._push((self._seq, time, type_, pool_id, self._shape(tuple(data)), *data.values()))

    def _push(self, record: Record) -> None:
        self._open.append(record)
        self._held += 1
        if len(self._open) >= BLOCK_EVENTS:
            self._sealed.append(_seal(self._open))
            self._open = []
        while self._held > self._max:
            self._drop_oldest()

    def _drop_oldest(self) -> None:
        if self._sealed:
            seqs = _seqs(self._sealed[0])
            self._cut = seqs[self._skip]
            self._skip += 1
            if self._skip == len(seqs):
                self._sealed.popleft()
                self._skip = 0
        else:
            self._cut = self._open.pop(0)[0]
        self._held -= 1
        self._dropped += 1

    def _oldest_seq(self) -> int | None:
        if self._sealed:
            return _seqs(self._sealed[0])[self._skip]
        return self._open[0][0] if self._open else None

    def _after(self, since: int) -> tuple[list[tuple[bytes | list[Record], int]], list[Record]]:
        """The sealed blocks (and where to start in each) and the open records after ``since``, taken
        from the newest back (checks ask for recent events); blocks are decoded outside the lock."""
        tail = [r for r in self._open if r[0] > since]
        blocks: list[tuple[bytes | list[Record], int]] = []
        oldest = self._sealed[0] if self._sealed else None
        for block in reversed(self._sealed):
            seqs = _seqs(block)
            if seqs[-1] <= since:
                break
            start = bisect.bisect_right(seqs, since)
            blocks.append((block, max(start, self._skip) if block is oldest else start))
        blocks.reverse()
        return blocks, tail

    def _window(self, since: int) -> EventWindow:
        return EventWindow(self._max, self._held, self._oldest_seq(), self._seq, self._dropped,
                           max(0, self._cut - max(since, self._start)))

    def read(
        self,
        type_: str | Iterable[str] | None = None,
        pool_id: str | None = None,
        since: int = 0,
        **match: Any,
    ) -> tuple[list[Event], EventWindow]:
        """The events :meth:`list` returns and, taken at the same instant, what the ring held."""
        with self._lock:
            blocks, tail = self._after(since)
            window = self._window(since)
        records = [r for block, start in blocks for r in _records(block)[start:]] + tail
        wanted = _wanted([type_] if isinstance(type_, str) else list(type_ or []))
        out = []
        for record in records:
            if pool_id is not None and record[3] != pool_id:
                continue
            if not wanted(record[2]):
                continue
            event = _event(record)
            if any(event.data.get(k) != v for k, v in match.items()):
                continue
            out.append(event)
        return out, window

    def list(
        self,
        type_: str | Iterable[str] | None = None,
        pool_id: str | None = None,
        since: int = 0,
        **match: Any,
    ) -> list[Event]:
        """Events after sequence number ``since`` still held, optionally filtered.

        ``type_`` may end with ``*`` to match a prefix ("token.*").
        Extra keyword arguments must equal fields in ``data``.
        """
        return self.read(type_, pool_id, since, **match)[0]

    def window(self, since: int = 0) -> EventWindow:
        """What the ring holds, and how many events after ``since`` it pushed out."""
        with self._lock:
            return self._window(since)

    def seal(self) -> None:
        """Seal the newest events into a block now (after a mass expiry): as tuples they are small
        objects scattered among the sessions just dropped, keeping the allocator's arenas."""
        with self._lock:
            if self._open:
                self._sealed.append(_seal(self._open))
                self._open = []

    def count(self, type_: str | None = None, **match: Any) -> int:
        return len(self.list(type_, **match))

    @property
    def last_seq(self) -> int:
        return self._seq

    def clear(self) -> None:
        """Forget every event (a reset); numbering goes on."""
        with self._lock:
            self._forget(self._seq)

    def _forget(self, start: int) -> None:
        self._open = []
        self._sealed.clear()
        self._skip = self._held = self._dropped = 0
        self._start = self._cut = start

    def restore(self, events: Iterable[Event], seq: int) -> None:
        """Replace the log (snapshot restore); numbering goes on after ``seq``. Beyond the cap, the
        newest are kept and the rest counted as dropped."""
        ordered = sorted(events, key=lambda e: e.seq)
        with self._lock:
            self._forget(ordered[0].seq - 1 if ordered else seq)
            for e in ordered:
                self._push((e.seq, e.time, e.type, e.pool_id, self._shape(tuple(e.data)), *e.data.values()))
            self._seq = seq

    def _shape(self, names: tuple[str, ...]) -> tuple[str, ...]:
        """One tuple object per distinct set of member names, shared by every event that has it."""
        shared = self._shapes.get(names)
        if shared is None and len(self._shapes) < MAX_SHAPES:
            shared = self._shapes[names] = names
        return shared or names
