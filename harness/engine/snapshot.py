"""Snapshot and restore of a whole Backend as plain JSON.

A snapshot captures everything that decides what the emulator answers next:
pools with their clients, users, codes, lockout, groups, sessions and
revocations, signing keys, the clock, the mailbox, armed faults, the event log,
the identity pools (cognito-identity: pools, identities, roles, issued credentials,
the OpenID token key) and the id generator's state (so the ids handed out after a restore are the
ones that would have come).

Secrets stay out unless asked for (``secrets=True``): the pools' private keys,
password material (hashes, salts, history, SRP salts, x and verifiers), app
client secrets and pending SRP challenges' private values (every model field
marked ``SECRET``). A snapshot without them says ``"secrets": false`` and is
refused by :func:`load`: restoring it would bring back users who cannot sign
in, confidential clients whose secret hash no one can compute and tokens no
key verifies, which is a different emulator than the one snapshotted.

Taking a snapshot holds the store lock only while it makes a detached copy of
the state (:func:`capture`); the JSON is written from that copy afterwards,
whole (:func:`to_dict`) or streamed (:func:`stream`). :func:`load` checks the
whole document (every member's type, by the models' type hints) before it
swaps pools, mailbox, faults, events, clock and ids in one step under the
lock, so a refused snapshot leaves the emulator exactly as it was. Pools are
rebuilt through their constructors, so derived indexes are made anew.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from harness.clock import ClockRangeError, ClockState, check_state
from harness.engine.events import Event
from harness.engine.faults import Fault
from harness.engine.identity.models import IdentityPool, IssuedCredentials
from harness.engine.keys import KeyRing, SigningKey
from harness.engine.messaging import Message
from harness.engine.models import UserPool
from harness.engine.snapshot_codec import (
    Detached,
    SnapshotError,
    dataclass_members,
    decode,
    detached_copy,
    encode,
    gc_paused,
    iter_json,
)
from harness.version import __version__

if TYPE_CHECKING:  # pragma: no cover
    from harness.engine.store import Backend

FORMAT = "cognito-harness/snapshot"
FORMAT_VERSION = 1
LOCAL_SETTINGS = ("public_url", "outbound_ca")
"""Settings of this machine and process (where it listens, which CA it trusts): never in a snapshot."""
TOP_LEVEL = ("format", "format_version", "harness_version", "secrets", "settings", "clock", "ids", "pools",
             "mailbox", "faults", "events", "identity")
IDENTITY_KEYRING = "cognito-identity"  # the identity service's keyring label (Backend.new_keyring)
NO_IDENTITY = {"pools": [], "credentials": [], "keyring": None}  # a snapshot from before identity pools


@dataclass
class Capture:
    """A consistent picture of a Backend, detached from it (later operations cannot change it)."""

    secrets: bool
    settings: Detached
    clock: ClockState
    seed: int
    rng: tuple[int, list[int], float | None]
    pools: list[Detached]  # UserPool values
    mailbox_next_id: int
    messages: list[Detached]  # Message values
    faults_next_id: int
    faults: list[Detached]  # Fault values
    events_seq: int
    events: list[Event]
    identity_pools: list[Detached]  # IdentityPool values
    identity_credentials: list[Detached]  # IssuedCredentials values, oldest first
    identity_keyring: KeyRing | None


def capture(backend: Backend, secrets: bool = False) -> Capture:
    """Copy the state under the store lock: containers and mutable dataclasses are copied, nothing is
    encoded (that happens after, from the copy)."""
    with backend.transaction(), gc_paused():  # see gc_paused: 3x faster under the lock
        return Capture(
            secrets=secrets,
            settings=detached_copy(backend.settings),
            clock=backend.clock.state(),
            seed=backend.ids.seed,
            rng=backend.ids.state(),
            pools=[detached_copy(p) for p in backend.pools.values()],
            mailbox_next_id=backend.mailbox.next_id,
            messages=detached_copy(backend.mailbox.list(include_failed=True)),
            faults_next_id=backend.faults.next_id,
            faults=detached_copy(backend.faults.list()),
            events_seq=backend.events.last_seq,
            events=backend.events.list(),  # events are frozen values: shared, not copied
            identity_pools=[detached_copy(p) for p in backend.identity.pools.values()],
            identity_credentials=[detached_copy(c) for c in backend.identity.credentials.values()],
            identity_keyring=detached_copy(backend.identity.keyring),
        )


def _document(c: Capture) -> dict[str, Any]:
    """The snapshot's members, pools and event log still as model objects (encoded by the caller)."""
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "harness_version": __version__,
        "secrets": c.secrets,
        "settings": {k: v for k, v in encode(c.settings).items() if k not in LOCAL_SETTINGS},
        "clock": {"mode": c.clock.mode, "now": c.clock.now, "offset": c.clock.offset},
        "ids": {"seed": c.seed, "rng": list(c.rng)},
        "pools": c.pools,
        "mailbox": {"next_id": c.mailbox_next_id, "messages": c.messages},
        "faults": {"next_id": c.faults_next_id, "armed": c.faults},
        "events": {"seq": c.events_seq, "log": c.events},
        "identity": {"pools": c.identity_pools, "credentials": c.identity_credentials, "keyring": c.identity_keyring},
    }


def to_dict(c: Capture) -> dict[str, Any]:
    """The snapshot as one JSON-able dict."""
    return encode(_document(c), c.secrets)


def stream(c: Capture) -> Iterator[bytes]:
    """The snapshot's JSON text in pieces (the same document as ``json.dumps(to_dict(c))``)."""
    return iter_json(_document(c), c.secrets)


def dump(backend: Backend, secrets: bool = False) -> dict[str, Any]:
    """The whole backend as a JSON-able dict (see the module docstring)."""
    return to_dict(capture(backend, secrets))


# --- undoing an additive change -------------------------------------------------------------------


@dataclass
class Checkpoint:
    """What adding a pool (from a pool definition) touches, to undo it when it fails half-way: the
    pools (by id), the id generator, the mailbox and the event log. Cheap: no pool is copied."""

    pool_ids: frozenset[str]
    identity_pool_ids: frozenset[str]
    seed: int
    rng: tuple[int, list[int], float | None]
    messages: list[Message]
    mailbox_next_id: int
    events: list[Event]
    events_seq: int


def checkpoint(backend: Backend) -> Checkpoint:
    with backend.transaction():
        return Checkpoint(frozenset(backend.pools), frozenset(backend.identity.pools), backend.ids.seed,
                          backend.ids.state(),
                          backend.mailbox.list(include_failed=True), backend.mailbox.next_id,
                          backend.events.list(), backend.events.last_seq)


def roll_back(backend: Backend, mark: Checkpoint) -> None:
    """Forget the pools made since ``mark`` and what they added to the mailbox, events and ids. Call it
    inside the same :meth:`Backend.transaction` as :func:`checkpoint`: pools that existed are kept as
    they are (the change being undone only added)."""
    with backend.transaction():
        for pool_id in [p for p in backend.pools if p not in mark.pool_ids]:
            del backend.pools[pool_id]
        for pool_id in [p for p in backend.identity.pools if p not in mark.identity_pool_ids]:
            del backend.identity.pools[pool_id]
        backend.ids.set_state(mark.seed, mark.rng)
        backend.mailbox.restore(list(mark.messages), mark.mailbox_next_id)
        backend.events.restore(mark.events, mark.events_seq)


# --- restore: check everything, then swap ----------------------------------------------------


@dataclass
class _Restored:
    settings: dict[str, Any]
    clock: ClockState
    seed: int
    rng: tuple[int, tuple[int, ...], float | None]
    pools: dict[str, UserPool]
    messages: list[Message]
    mailbox_next_id: int
    faults: list[Fault]
    faults_next_id: int
    events: list[Event]
    events_seq: int
    identity_pools: dict[str, IdentityPool]
    identity_credentials: list[IssuedCredentials]
    identity_keyring: KeyRing | None


def _member(data: dict[str, Any], name: str, kind: type, where: str) -> Any:
    value = data.get(name)
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        shown = {dict: "an object", list: "an array", int: "an integer"}.get(kind, kind.__name__)
        raise SnapshotError(f"{where}{name}", f"missing or not {shown}")
    return value


def _counter(data: dict[str, Any], name: str, where: str, at_least: int) -> int:
    value = _member(data, name, int, where)
    if value < at_least:
        raise SnapshotError(f"{where}{name}", f"expected an integer >= {at_least}, got {value}")
    return value


@functools.lru_cache(maxsize=512)
def _private_key(pem: str) -> rsa.RSAPrivateKey:
    """PEM -> key object, memoised: restoring a snapshot per scenario must not re-parse (and
    re-validate, ~30 ms for RSA) the same keys every time; key objects are immutable."""
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError(f"an RSA key is needed, not {type(key).__name__}")
    return key


def _decode_keyring(backend: Backend, pool_id: str, raw: Any, where: str) -> KeyRing:
    if not isinstance(raw, dict):
        raise SnapshotError(where, "expected an object with generation and keys")
    ring = backend.new_keyring(pool_id)
    ring.generation = _counter(raw, "generation", f"{where}.", 0)
    for i, record in enumerate(_member(raw, "keys", list, f"{where}.")):
        here = f"{where}.keys[{i}]"
        if not isinstance(record, dict):
            raise SnapshotError(here, "expected a key object")
        pem = record.get("private_key_pem")
        if not isinstance(pem, str):
            raise SnapshotError(f"{here}.private_key_pem", "missing: the snapshot was taken without secrets")
        try:
            private = _private_key(pem)
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
            raise SnapshotError(f"{here}.private_key_pem", f"not an RSA private key in PEM ({exc})") from None
        fields = {k: v for k, v in record.items() if k != "private_key_pem"}
        ring.keys.append(SigningKey(private_key=private,
                                    **dataclass_members(SigningKey, fields, here, skip=("private_key",))))
    return ring


def _decode_pools(backend: Backend, raw: list[Any]) -> dict[str, UserPool]:
    pools: dict[str, UserPool] = {}
    for i, item in enumerate(raw):
        if not isinstance(item, dict) or not isinstance(item.get("pool_id"), str):
            raise SnapshotError(f"pools[{i}]", "expected a pool object with a pool_id")
        pool_id = item["pool_id"]
        where = f"pools.{pool_id}"
        if pool_id in pools:
            raise SnapshotError(where, "a second pool with this id")
        members = dataclass_members(UserPool, item, where, skip=("keyring",))
        members["keyring"] = _decode_keyring(backend, pool_id, item.get("keyring", {"generation": 0, "keys": []}),
                                             f"{where}.keyring")
        try:
            pools[pool_id] = UserPool(**members)
        except (TypeError, ValueError, KeyError, AttributeError) as exc:  # a derived index refused the data
            raise SnapshotError(where, f"not a valid pool ({exc})") from None
    return pools


def _decode_identity(backend: Backend, raw: Any) -> tuple[dict[str, IdentityPool], list[IssuedCredentials],
                                                         KeyRing | None]:
    """The ``identity`` member: identity pools by id, issued credentials (oldest first), the OpenID key."""
    if not isinstance(raw, dict):
        raise SnapshotError("identity", "expected an object with pools, credentials and keyring")
    for name in raw:
        if name not in NO_IDENTITY:
            raise SnapshotError(f"identity.{name}", "unknown member; expected pools, credentials, keyring")
    pools: dict[str, IdentityPool] = {}
    for pool in _items(IdentityPool, raw.get("pools"), "identity.pools"):
        if pool.pool_id in pools:
            raise SnapshotError(f"identity.pools.{pool.pool_id}", "a second identity pool with this id")
        pools[pool.pool_id] = pool
    credentials = _items(IssuedCredentials, raw.get("credentials"), "identity.credentials")
    keyring = raw.get("keyring")
    ring = _decode_keyring(backend, IDENTITY_KEYRING, keyring, "identity.keyring") if keyring is not None else None
    return pools, credentials, ring


def _decode_rng(raw: Any) -> tuple[int, tuple[int, ...], float | None]:
    try:
        version, internal, gauss = raw
        state = (version, tuple(internal), gauss)
        random.Random().setstate(state)  # on a scratch generator: the check that it is one
    except (TypeError, ValueError, OverflowError):
        raise SnapshotError("ids.rng", "not a random generator state (version, 625 integers, gauss)") from None
    return state


def _items(cls: type, raw: Any, where: str) -> list[Any]:
    if not isinstance(raw, list):
        raise SnapshotError(where, "missing or not an array")
    return [decode(cls, item, f"{where}[{i}]") for i, item in enumerate(raw)]


def _check(backend: Backend, data: Any) -> _Restored:
    """Every member of a snapshot decoded and checked, or SnapshotError naming the first bad one."""
    if not isinstance(data, dict):
        raise SnapshotError("snapshot", "expected a JSON object")
    if data.get("format") != FORMAT:
        raise SnapshotError("format", f"expected {FORMAT!r}")
    if data.get("format_version") != FORMAT_VERSION or isinstance(data.get("format_version"), bool):
        raise SnapshotError("format_version", f"expected {FORMAT_VERSION}")
    for name in data:
        if name not in TOP_LEVEL:
            raise SnapshotError(name, f"unknown member; expected {', '.join(TOP_LEVEL)}")
    if data.get("secrets", True) is not True:
        raise SnapshotError("secrets", "this snapshot was taken without secrets (private keys, password hashes, "
                                       "client secrets), so it cannot be restored: take it with "
                                       "GET /_harness/snapshot?secrets=true (Control.snapshot(include_secrets=True))")
    clock_raw = _member(data, "clock", dict, "")
    mode = clock_raw.get("mode")
    if mode not in ("real", "frozen", "offset"):
        raise SnapshotError("clock.mode", "expected real, frozen or offset")
    clock = ClockState(mode, decode(float, clock_raw.get("now"), "clock.now"),
                       decode(float, clock_raw.get("offset", 0.0), "clock.offset"))
    try:
        check_state(clock)
    except ClockRangeError as exc:
        raise SnapshotError("clock", str(exc)) from None
    ids_raw = _member(data, "ids", dict, "")
    settings_raw = {k: v for k, v in _member(data, "settings", dict, "").items() if k not in LOCAL_SETTINGS}
    mailbox_raw = _member(data, "mailbox", dict, "")
    faults_raw = _member(data, "faults", dict, "")
    events_raw = _member(data, "events", dict, "")
    messages = _items(Message, mailbox_raw.get("messages"), "mailbox.messages")
    faults = _items(Fault, faults_raw.get("armed"), "faults.armed")
    events = _items(Event, events_raw.get("log"), "events.log")
    identity_pools, identity_credentials, identity_keyring = _decode_identity(backend, data.get("identity", NO_IDENTITY))
    return _Restored(
        settings=dataclass_members(type(backend.settings), settings_raw, "settings", skip=LOCAL_SETTINGS),
        clock=clock,
        seed=_counter(ids_raw, "seed", "ids.", 0),
        rng=_decode_rng(ids_raw.get("rng")),
        pools=_decode_pools(backend, _member(data, "pools", list, "")),
        messages=messages,
        mailbox_next_id=_counter(mailbox_raw, "next_id", "mailbox.", max((m.id for m in messages), default=0) + 1),
        faults=faults,
        faults_next_id=_counter(faults_raw, "next_id", "faults.", max((f.id for f in faults), default=0) + 1),
        events=events,
        events_seq=_counter(events_raw, "seq", "events.", max((e.seq for e in events), default=0)),
        identity_pools=identity_pools,
        identity_credentials=identity_credentials,
        identity_keyring=identity_keyring,
    )


def load(backend: Backend, data: Any) -> None:
    """Replace the backend's state with a snapshot from :func:`dump` (taken with secrets).

    Everything is decoded and checked before anything is replaced, then the
    parts are swapped in one step under the store lock: a bad snapshot
    raises SnapshotError and leaves the backend as it was.
    """
    restored = _check(backend, data)
    with backend.transaction():
        for name, value in restored.settings.items():
            setattr(backend.settings, name, value)
        backend.ids.set_state(restored.seed, restored.rng)
        backend.clock.restore(restored.clock)
        backend.pools.clear()
        backend.pools.update(restored.pools)
        backend.mailbox.restore(restored.messages, restored.mailbox_next_id)
        backend.faults.restore(restored.faults, restored.faults_next_id)
        backend.events.restore(restored.events, restored.events_seq)
        backend.identity.clear()
        backend.identity.pools.update(restored.identity_pools)
        for issued in restored.identity_credentials:
            backend.identity.remember(issued)
        backend.identity.keyring = restored.identity_keyring


__all__ = ["FORMAT", "FORMAT_VERSION", "Capture", "Checkpoint", "SnapshotError", "capture", "checkpoint", "decode",
           "dump", "encode", "load", "roll_back", "stream", "to_dict"]
