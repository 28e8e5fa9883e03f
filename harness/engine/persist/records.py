"""The emulator's state as records: their names, bodies and order, and the way back to a snapshot.

A record is one entity, named ``(kind, scope, key)`` and held as ``(pos, body)``: ``body`` is the
entity's snapshot form (:func:`harness.engine.snapshot_codec.encode`, secrets included) as JSON,
``pos`` its place in the collection it belongs to (dict order is state too: the first app client
is ``serve``'s default, ``ListUsers`` pages in that order). The kinds:

* per user pool (``scope`` = its id): ``pool`` (the settings, no members), ``pool.keyring``, and one
  kind per ``dict[str, <dataclass>]`` field of :class:`UserPool` (``pool.users``, ``pool.clients``,
  ``pool.groups``, ``pool.sessions``, ...), found from the type hints;
* per identity pool: ``identity_pool`` and ``identity_pool.identities`` (and the other such fields);
  ``identity.credentials``, ``identity.keyring``;
* ``mailbox.messages``, ``faults.armed``, ``events.log`` (``pos`` = the message id, fault id, event
  sequence number) and the singletons ``settings``, ``clock``, ``ids``, ``mailbox``, ``faults``,
  ``events`` (counters).

:class:`harness.engine.persist.tracker.Tracker` finds the records that changed and puts them in a
:class:`Batch`; :func:`document` turns stored records back into a snapshot document for
:func:`harness.engine.snapshot.load`.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import json
import struct
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from harness.engine.identity.models import IdentityPool
from harness.engine.models import UserPool
from harness.engine.snapshot import LOCAL_SETTINGS
from harness.engine.snapshot_codec import encode, hints

Row = tuple[str, str, str]  # (kind, scope, key)
MISSING = object()
_JSON = json.JSONEncoder(separators=(",", ":"))


def body(value: Any) -> str:
    """A value's snapshot form (secrets included) as compact JSON."""
    return _JSON.encode(encode(value, True))


@functools.lru_cache(maxsize=None)
def members_of(cls: type) -> tuple[tuple[str, type], ...]:
    """The ``dict[str, <dataclass>]`` fields of ``cls``: kept as a record per member, not in the parent's."""
    found = []
    for f in dataclasses.fields(cls):
        hint = hints(cls).get(f.name)
        args = typing.get_args(hint)
        if typing.get_origin(hint) is dict and len(args) == 2 and dataclasses.is_dataclass(args[1]):
            found.append((f.name, args[1]))
    return tuple(found)


def _parent_fields(cls: type, skip: tuple[str, ...] = ()) -> frozenset[str]:
    """What a parent record leaves out: its member collections and ``skip``."""
    return frozenset(name for name, _ in members_of(cls)) | frozenset(skip)


POOL_SKIP = _parent_fields(UserPool, ("keyring",))
IDENTITY_POOL_SKIP = _parent_fields(IdentityPool)
SETTINGS_SKIP = frozenset(LOCAL_SETTINGS)  # this machine's and run's (where it listens...): not state


def parent_body(value: Any, skip: frozenset[str]) -> str:
    return body({f.name: getattr(value, f.name) for f in dataclasses.fields(value) if f.name not in skip})


# --- what was written --------------------------------------------------------------------------------


@dataclass
class Members:
    """What the last commit wrote of one keyed collection: its keys and member objects in order,
    their frozen views and positions."""

    views: dict[str, Any] = field(default_factory=dict)
    pos: dict[str, int] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    objs: list[Any] = field(default_factory=list)
    next: int = 0


@dataclass
class Batch:
    """The records one commit writes, and the tracker's bookkeeping to apply once it is committed."""

    upserts: dict[Row, tuple[int, str]] = field(default_factory=dict)
    moves: dict[Row, int] = field(default_factory=dict)  # unchanged records whose position changed
    deletes: set[Row] = field(default_factory=set)
    updates: list[Callable[[], None]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.upserts or self.moves or self.deletes)

    def apply(self) -> None:
        for update in self.updates:
            update()


# --- the id generator's state, compactly ------------------------------------------------------------


def pack_ids(seed: int, rng: tuple[int, list[int], float | None]) -> str:
    """The id generator's state: its 625 words packed (2.5 KB, not the 6.6 KB of a JSON list)."""
    version, internal, gauss = rng
    words = base64.b64encode(struct.pack(f"<{len(internal)}I", *internal)).decode()
    return body({"seed": seed, "version": version, "words": words, "gauss": gauss})


def unpack_ids(raw: Any) -> dict[str, Any]:
    """The snapshot's ``ids`` member from :func:`pack_ids` (ValueError when it is not one)."""
    if not isinstance(raw, dict) or not isinstance(raw.get("words"), str):
        raise ValueError("not an id generator state")
    packed = base64.b64decode(raw["words"], validate=True)
    if len(packed) % 4:
        raise ValueError("the generator's words are not whole")
    internal = list(struct.unpack(f"<{len(packed) // 4}I", packed))
    return {"seed": raw.get("seed"), "rng": [raw.get("version"), internal, raw.get("gauss")]}


# --- back to a snapshot document ----------------------------------------------------------------------


class RecordError(ValueError):
    """Stored records that do not make a state (``where`` names the record)."""


def document(rows: Iterable[tuple[str, str, str, str]], format_fields: dict[str, Any]) -> dict[str, Any]:
    """A snapshot document (for :func:`harness.engine.snapshot.load`) from ``(kind, scope, key, body)``
    rows in position order, or RecordError."""
    singles: dict[str, Any] = {}
    parents: dict[str, dict[str, Any]] = {"pool": {}, "identity_pool": {}}
    members: dict[tuple[str, str], dict[str, Any]] = {}
    for kind, scope, key, text in rows:
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise RecordError(f"record {kind}/{scope}/{key}: not JSON ({exc})") from None
        if kind in parents and not scope:
            parents[kind][key] = value
        elif kind.endswith(".keyring") or not key and kind in SINGLES:
            singles[f"{kind}/{scope}"] = value
        else:
            members.setdefault((kind, scope), {})[key] = value

    def single(name: str, default: Any = MISSING) -> Any:
        value = singles.pop(name, default)
        if value is MISSING:
            raise RecordError(f"record {name.rstrip('/')} is missing")
        return value

    def attach(prefix: str, scope: str, cls: type) -> dict[str, Any]:
        return {name: members.pop((f"{prefix}.{name}", scope), {}) for name, _ in members_of(cls)}

    pools = [{**raw, "keyring": single(f"pool.keyring/{pool_id}"), **attach("pool", pool_id, UserPool)}
             for pool_id, raw in parents["pool"].items()]
    identity_pools = [{**raw, **attach("identity_pool", pool_id, IdentityPool)}
                      for pool_id, raw in parents["identity_pool"].items()]
    try:
        ids = unpack_ids(single("ids/"))
    except ValueError as exc:
        raise RecordError(f"record ids: {exc}") from None
    doc = {
        **format_fields,
        "settings": single("settings/"),
        "clock": single("clock/"),
        "ids": ids,
        "pools": pools,
        "mailbox": {"next_id": single("mailbox/"),
                    "messages": list(members.pop(("mailbox.messages", ""), {}).values())},
        "faults": {"next_id": single("faults/"), "armed": list(members.pop(("faults.armed", ""), {}).values())},
        "events": {"seq": single("events/"), "log": list(members.pop(("events.log", ""), {}).values())},
        "identity": {"pools": identity_pools,
                     "credentials": list(members.pop(("identity.credentials", ""), {}).values()),
                     "keyring": single("identity.keyring/", None)},
    }
    left = [f"{kind}/{scope}" for kind, scope in members] + [name for name in singles]
    if left:
        raise RecordError(f"records that belong to nothing: {', '.join(sorted(left)[:5])}")
    return doc


SINGLES = frozenset({"settings", "clock", "ids", "mailbox", "faults", "events"})

__all__ = ["IDENTITY_POOL_SKIP", "MISSING", "POOL_SKIP", "SETTINGS_SKIP", "Batch", "Members", "RecordError", "Row",
           "body", "document", "members_of", "pack_ids", "parent_body", "unpack_ids"]
