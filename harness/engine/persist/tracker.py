"""What changed since the last commit: the records a request touched, compared with what was written.

Each commit (under the store lock) looks at:

* the small things, every time: settings, clock, id generator, counters, signing keys, armed
  faults, and the mailbox and event log (which only grow at their end: the new messages and events);
* the pools (``backend.pools``) and the identity-pool state: which are new, replaced or gone;
* the records the committing thread touched (:mod:`.touches`): a touched pool has its own record
  compared and its collections checked for members added, replaced or removed (a C-speed
  comparison of keys and object identities); a touched member has its record compared.

A record is compared by its view (:mod:`.views`) with the frozen view written last; only the ones
that differ are encoded and put in the :class:`~harness.engine.persist.records.Batch`. With
``everything`` (attach, close) every record is compared. The bookkeeping is applied only once the
batch is committed, so a failed write is tried again by the next commit.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from itertools import compress
from typing import TYPE_CHECKING, Any

from harness.engine.events import Event, EventLog
from harness.engine.identity.models import IdentityPool
from harness.engine.messaging import Mailbox, Message
from harness.engine.models import UserPool
from harness.engine.persist.records import (IDENTITY_POOL_SKIP, MISSING, POOL_SKIP, SETTINGS_SKIP, Batch, Members,
                                            Row, body, members_of, pack_ids, parent_body)
from harness.engine.persist.touches import ALL, Touches, Window
from harness.engine.persist.views import freeze, keyring_view, view_of

if TYPE_CHECKING:  # pragma: no cover
    from harness.engine.store import Backend

Member = tuple[str, str, str, Any]  # (kind, scope, key, the object)


@dataclass
class _EventsWritten:
    first: int  # the oldest event stored
    last: int  # the newest event stored
    newest: Event


class _Commit:
    """One diff in progress: the batch, and what it has already handled."""

    def __init__(self, everything: bool) -> None:
        self.batch = Batch()
        self.everything = everything
        self.done: set[int] = set()  # ids of member records compared (or gone) in this diff
        self.scanned: set[int] = set()  # ids of pools whose collections were checked in this diff
        self.fresh: list[Any] = []  # member records this diff started tracking
        self.fresh_parents: list[Any] = []  # pools (and the identity state) it started tracking


ROW_SKIP = {"pool": POOL_SKIP, "identity_pool": IDENTITY_POOL_SKIP}  # parents' records leave their members out


class _Positions:
    """The known positions and the ones appended, read as one mapping without copying the known ones."""

    __slots__ = ("known", "added")

    def __init__(self, known: dict[str, int], added: dict[str, int]) -> None:
        self.known = known
        self.added = added

    def __getitem__(self, key: str) -> int:
        found = self.added.get(key)
        return self.known[key] if found is None else found


def _positions(keys: list[str], known: Members) -> tuple[_Positions | dict[str, int], int, list[str]]:
    """Positions of ``keys`` in their live order: the known ones keep theirs and new keys go after
    them; all are renumbered only when a known key moved (a member deleted and made again)."""
    found = list(map(known.pos.get, keys))
    added = found.count(None)
    cut = len(found) - added
    kept = found[:cut]
    if None not in kept and kept == sorted(kept):  # new keys only at the end, the known ones in order
        fresh = dict(zip(keys[cut:], range(known.next, known.next + added)))
        return _Positions(known.pos, fresh), known.next + added, []
    pos = dict(zip(keys, range(len(keys))))
    return pos, len(keys), [k for k, p in zip(keys, found) if p is not None and p != pos[k]]


def _seen(kind: str, record: Any) -> Any:
    skip = ROW_SKIP.get(kind)
    return view_of(type(record), skip)(record) if skip is not None else view_of(type(record))(record)


def _body(kind: str, record: Any) -> str:
    skip = ROW_SKIP.get(kind)
    return parent_body(record, skip) if skip is not None else body(record)


class Tracker:
    """The records last written, and which ones each thread touched since (see the module docstring)."""

    def __init__(self) -> None:
        self.touches = Touches()
        self.members: dict[tuple[str, str], Members] = {}
        self.singles: dict[Row, Any] = {}
        self.owner: dict[int, Member] = {}  # id(member record) -> where it is
        self.messages: list[Message] = []
        self.events: _EventsWritten | None = None
        self._taken = Window()

    def diff(self, backend: Backend, everything: bool = False) -> Batch:
        """The records to write (call it under the store lock); ``batch.apply()`` once they are
        written, :meth:`retry` if they could not be."""
        window = self._taken = self.touches.take()
        commit = _Commit(everything)
        self._small(commit.batch, backend)
        for pool_id in self._collection(commit, "pool", "", backend.pools):
            self._forget_scope(commit.batch, "pool", pool_id)
        identity = backend.identity
        touched = window.names.get(id(identity))
        if everything or touched is not None or not self.touches.is_tracked(identity):
            self._track(commit, identity, parent=True)
            if everything or touched is None or {"pools", ALL} & touched:
                for pool_id in self._collection(commit, "identity_pool", "", identity.pools):
                    self._forget_scope(commit.batch, "identity_pool", pool_id)
            if everything or touched is None or {"credentials", ALL} & touched:
                self._collection(commit, "identity.credentials", "", identity.credentials)
        for parent in [*backend.pools.values(), *identity.pools.values()]:
            names = window.names.get(id(parent))
            if everything or names is not None:
                self._parent(commit, parent, None if everything else names)
        for oid, record in window.records.items():
            member = self.owner.get(oid)
            if member is not None and member[3] is record and oid not in commit.done:
                self._compare(commit.batch, *member)
        self.touches.take()  # what this diff itself read
        self.touches.spread(commit.fresh, commit.fresh_parents)
        return commit.batch

    def retry(self) -> None:
        """The last diff's batch was not written: its touches are compared again by the next commit."""
        self.touches.merge(self._taken)

    # --- pools and their collections ---------------------------------------------------------------

    def _parent(self, commit: _Commit, parent: Any, names: set[str] | None = None) -> None:
        """A touched or new pool: its keys, and its collections (the ones it used, ``names``; None: all)
        checked for members added, replaced or gone."""
        if id(parent) in commit.scanned:
            return
        commit.scanned.add(id(parent))
        every = names is None or ALL in names
        if isinstance(parent, UserPool):
            prefix, cls = "pool", UserPool
            if every or "keyring" in names:  # type: ignore[operator]
                self._single(commit.batch, ("pool.keyring", parent.pool_id, ""), keyring_view(parent.keyring),
                             lambda: body(parent.keyring))
        else:
            prefix, cls = "identity_pool", IdentityPool
        for name, _ in members_of(cls):
            if every or name in names:  # type: ignore[operator]
                self._collection(commit, f"{prefix}.{name}", parent.pool_id, getattr(parent, name))

    def _collection(self, commit: _Commit, kind: str, scope: str, live: Mapping[str, Any],
                    track: bool = True) -> list[str]:
        """Compare the members added or replaced since the last commit (all of them with
        ``everything``), delete the ones gone; returns the keys that are gone."""
        known = self.members.get((kind, scope)) or Members()
        keys, objs = list(live), list(live.values())
        n = len(known.order)
        if len(keys) == n:
            appended = keys == known.order and all(map(operator.is_, objs, known.objs))
        else:  # map() stops at the shorter: the first n of the live ones against the n known ones
            appended = len(keys) > n and all(map(operator.eq, keys, known.order)) and all(
                map(operator.is_, objs, known.objs))
        if appended and len(keys) == n and not commit.everything:
            return []  # the same members, in the same order (the C-speed check of every commit)
        if appended:  # positions after the known ones, added to known.pos once written (not copied)
            new = list(zip(keys[n:], objs[n:]))
            gone: list[str] = []
            dropped: list[Any] = []
            nxt, moved = known.next + len(new), []
            pos: _Positions | dict[str, int] = _Positions(known.pos, dict(zip(keys[n:], range(known.next, nxt))))
        else:  # set operations and C-level iteration: no Python loop over the members
            pairs = list(zip(keys, map(id, objs)))
            before = set(zip(known.order, map(id, known.objs)))
            after = set(pairs)
            new = list(compress(zip(keys, objs), map(operator.not_, map(before.__contains__, pairs))))
            gone = list(known.pos.keys() - live.keys())
            dropped = list(compress(known.objs, map(operator.not_, map(after.__contains__, zip(
                known.order, map(id, known.objs))))))
            pos, nxt, moved = _positions(keys, known)
        views: dict[str, Any] = {}
        for key, obj in (zip(keys, objs) if commit.everything else new):
            self._compare_into(commit.batch, kind, scope, key, obj, pos[key], known, views)
            commit.done.add(id(obj))
            parent = isinstance(obj, (UserPool, IdentityPool))
            if track:
                self._track(commit, obj, parent)
            if parent:
                self._parent(commit, obj)
        for key in moved:
            commit.batch.moves[(kind, scope, key)] = pos[key]
        commit.batch.deletes.update((kind, scope, key) for key in gone)
        commit.done.update(id(o) for o in dropped)

        def update() -> None:
            written = self.members.setdefault((kind, scope), known)
            written.views.update(views)
            for key in gone:
                del written.views[key]
            for obj in dropped:
                self.owner.pop(id(obj), None)
            if track:
                for key, obj in (zip(keys, objs) if commit.everything else new):
                    self.owner[id(obj)] = (kind, scope, key, obj)
            if isinstance(pos, _Positions):
                for key in gone:
                    del written.pos[key]
                written.pos.update(pos.added)
            else:
                written.pos = pos
            written.order, written.objs, written.next = keys, objs, nxt

        commit.batch.updates.append(update)
        return gone

    def _compare(self, batch: Batch, kind: str, scope: str, key: str, record: Any) -> None:
        """A touched member: its record is written if its view changed."""
        known = self.members[(kind, scope)]
        views: dict[str, Any] = {}
        self._compare_into(batch, kind, scope, key, record, known.pos[key], known, views)
        if views:
            batch.updates.append(lambda: known.views.update(views))

    @staticmethod
    def _compare_into(batch: Batch, kind: str, scope: str, key: str, record: Any, pos: int, known: Members,
                      views: dict[str, Any]) -> None:
        seen = _seen(kind, record)
        if known.views.get(key, MISSING) != seen:
            batch.upserts[(kind, scope, key)] = (pos, _body(kind, record))
            views[key] = freeze(seen)

    def _track(self, commit: _Commit, record: Any, parent: bool = False) -> None:
        if not self.touches.is_tracked(record):
            self.touches.track(record, parent)
            (commit.fresh_parents if parent else commit.fresh).append(record)

    def _forget_scope(self, batch: Batch, prefix: str, scope: str) -> None:
        """A pool is gone: delete the records of its members and keys too."""
        cls = UserPool if prefix == "pool" else IdentityPool
        kinds = [f"{prefix}.{name}" for name, _ in members_of(cls)]
        for kind in kinds:
            batch.deletes.update((kind, scope, key) for key in self.members.get((kind, scope), Members()).order)
        keyring = (f"{prefix}.keyring", scope, "")
        if keyring in self.singles:
            batch.deletes.add(keyring)

        def update() -> None:
            for kind in kinds:
                for obj in self.members.pop((kind, scope), Members()).objs:
                    self.owner.pop(id(obj), None)
            self.singles.pop(keyring, None)

        batch.updates.append(update)

    # --- the small things ---------------------------------------------------------------------------

    def _small(self, batch: Batch, backend: Backend) -> None:
        settings = backend.settings
        self._single(batch, ("settings", "", ""), view_of(type(settings), SETTINGS_SKIP)(settings),
                     lambda: parent_body(settings, SETTINGS_SKIP))
        clock = backend.clock.state()
        self._single(batch, ("clock", "", ""), (clock.mode, clock.now if clock.mode == "frozen" else None,
                                                clock.offset),
                     lambda: body({"mode": clock.mode, "now": clock.now, "offset": clock.offset}))
        seed, rng = backend.ids.seed, backend.ids.state()  # a fresh copy already: kept as it is
        self._single(batch, ("ids", "", ""), (seed, rng), lambda: pack_ids(seed, rng), fresh=True)
        keyring = backend.identity.keyring
        self._single(batch, ("identity.keyring", "", ""), keyring_view(keyring), lambda: body(keyring))
        self._single(batch, ("mailbox", "", ""), backend.mailbox.next_id, lambda: body(backend.mailbox.next_id))
        self._messages(batch, backend.mailbox)
        self._single(batch, ("faults", "", ""), backend.faults.next_id, lambda: body(backend.faults.next_id))
        faults = _Commit(everything=True)  # a few records, all compared every time, never tracked
        faults.batch = batch
        self._collection(faults, "faults.armed", "", {str(f.id): f for f in backend.faults.list()}, track=False)
        self._events(batch, backend.events)

    def _single(self, batch: Batch, row: Row, seen: Any, make_body: Callable[[], str], fresh: bool = False) -> None:
        if self.singles.get(row, MISSING) != seen:
            batch.upserts[row] = (0, make_body())
            frozen = seen if fresh else freeze(seen)
            batch.updates.append(lambda: self.singles.__setitem__(row, frozen))

    def _messages(self, batch: Batch, mailbox: Mailbox) -> None:
        """Messages are written once (the mailbox adds, clears and restores, it never edits one): new
        ones are appended; a mailbox cleared or restored since is written again whole."""
        # The mailbox's own list, copied (a C-speed copy of references): Mailbox.list() would filter
        # every message in Python at each commit. Nothing here changes it.
        live = mailbox.everything()
        known = self.messages
        n = len(known)
        if n and (len(live) < n or live[0] is not known[0] or live[n - 1] is not known[-1]):
            batch.deletes.update(("mailbox.messages", "", str(m.id)) for m in known)
            new = live
        else:
            new = live[n:]
        if not new and len(live) == n:
            return
        for message in new:
            batch.upserts[("mailbox.messages", "", str(message.id))] = (message.id, body(message))
        batch.updates.append(lambda: setattr(self, "messages", live))

    def _events(self, batch: Batch, log: EventLog) -> None:
        """The log only grows at its end and drops its oldest; a cleared or restored log (the newest
        event written is gone or different) is written again whole."""
        known = self.events
        events, window = log.read(since=known.last - 1 if known else 0)
        appended = known is not None and bool(events) and events[0].seq == known.last and events[0] == known.newest
        if known is not None and appended:
            new, stale = events[1:], range(known.first, window.oldest_seq or known.first)
        elif known is not None:
            (new, window), stale = log.read(), range(known.first, known.last + 1)
        else:  # the first commit
            new, stale = events, range(0)
        self._single(batch, ("events", "", ""), window.last_seq, lambda: body(window.last_seq))
        if not new and not stale:
            return
        batch.deletes.update(("events.log", "", str(seq)) for seq in stale)
        for event in new:
            batch.upserts[("events.log", "", str(event.seq))] = (event.seq, body(event))
        newest = new[-1] if new else (known.newest if known is not None and appended else None)
        written = (_EventsWritten(window.oldest_seq, newest.seq, newest)
                   if newest is not None and window.oldest_seq is not None else None)
        batch.updates.append(lambda: setattr(self, "events", written))


__all__ = ["Tracker"]
