"""Derived indexes over a pool's users, so lookups do not scan the pool.

An index is a view, not state: it is kept in a plain attribute of the pool
(``pool.user_index``), never in a dataclass field, so snapshots do not carry
it; :func:`rebuild_indexes` makes it from ``pool.users`` and ``pool.sessions``
whenever a pool is built (``UserPool.__post_init__``, hence snapshot restore
too). Every mutation path keeps it current:

* :func:`add_user` / :func:`remove_user` when a user is stored or deleted;
* ``with reindexing(pool, user):`` around any change of an indexed attribute
  (email, phone_number, preferred_username, identities).

The index answers *candidates*: the users holding a value under the
attribute's comparison (emails and preferred usernames case-folded, phones
exact, linked identities by provider and id). Callers still apply today's
rules (verified-only aliases, exact ListUsers compares) to those candidates,
so the semantics stay the ones the scans had; only the cost changes.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from harness.engine import sessions
from harness.engine.multimap import MultiMap

if TYPE_CHECKING:  # pragma: no cover
    from harness.engine.models import User, UserPool

INDEXED_ATTRIBUTES = ("email", "phone_number", "preferred_username")
FOLDED_ATTRIBUTES = ("email", "preferred_username")


def fold(attr: str, value: str) -> str:
    """The index form of a value: emails and preferred usernames compare case-insensitively."""
    return value.lower() if attr in FOLDED_ATTRIBUTES else value


class UserIndex:
    """Users by sub, by indexed attribute value and by linked identity; creation order for ties."""

    __slots__ = ("by_sub", "by_value", "by_identity", "position", "_next")

    def __init__(self) -> None:
        self.by_sub: dict[str, str] = {}  # sub -> user key
        self.by_value: dict[str, MultiMap] = {attr: MultiMap() for attr in INDEXED_ATTRIBUTES}
        self.by_identity = MultiMap()  # "<provider>\x00<user id>" -> user keys
        self.position: dict[str, int] = {}  # user key -> creation order (pool.users order)
        self._next = 0

    def entries(self, user: User) -> tuple[list[tuple[str, str]], list[str]]:
        """What the index holds for a user: (attribute, folded value) pairs and identity keys."""
        values = [(attr, fold(attr, user.attributes[attr])) for attr in INDEXED_ATTRIBUTES if user.attributes.get(attr)]
        return values, identity_keys(user)

    def put(self, key: str, user: User) -> None:
        values, identities = self.entries(user)
        for attr, value in values:
            self.by_value[attr].add(value, key)
        for ident in identities:
            self.by_identity.add(ident, key)

    def drop(self, key: str, entries: tuple[list[tuple[str, str]], list[str]]) -> None:
        values, identities = entries
        for attr, value in values:
            self.by_value[attr].discard(value, key)
        for ident in identities:
            self.by_identity.discard(ident, key)


def identity_key(provider_name: str, user_id: str) -> str:
    return f"{provider_name}\x00{user_id}"


def identities_of(user: User) -> list[dict[str, Any]]:
    """The entries of a user's ``identities`` attribute (JSON list of objects); anything else is none."""
    raw = user.attributes.get("identities")
    if not raw:
        return []
    try:
        value = json.loads(raw)
    except ValueError:
        return []
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def identity_keys(user: User) -> list[str]:
    """The (provider, user id) pairs of a user's ``identities`` attribute, as index keys."""
    return [identity_key(str(e.get("providerName")), str(e.get("userId"))) for e in identities_of(user)]


# --- maintenance -------------------------------------------------------------------------


def rebuild_indexes(pool: UserPool) -> None:
    """Make every derived index of a pool from its state (pool creation, snapshot restore)."""
    index = UserIndex()
    pool.user_index = index
    for key, user in pool.users.items():
        _store(index, key, user)
    pool.session_index = sessions.SessionIndex.of(pool)


def _store(index: UserIndex, key: str, user: User) -> None:
    index.by_sub[user.sub] = key
    index.position[key] = index._next
    index._next += 1
    index.put(key, user)


def add_user(pool: UserPool, user: User) -> None:
    """Store a new user in the pool and its indexes."""
    key = pool.user_key(user.username)
    pool.users[key] = user
    _store(pool.user_index, key, user)


def remove_user(pool: UserPool, user: User) -> None:
    """Remove a user from the pool and its indexes."""
    key = pool.user_key(user.username)
    if pool.users.get(key) is not user:
        return
    del pool.users[key]
    index = pool.user_index
    index.drop(key, index.entries(user))
    if index.by_sub.get(user.sub) == key:
        del index.by_sub[user.sub]
    index.position.pop(key, None)


@contextlib.contextmanager
def reindexing(pool: UserPool, user: User) -> Iterator[None]:
    """Around a change of a user's attributes: the index follows, even if the change fails half-way."""
    index = pool.user_index
    key = pool.user_key(user.username)
    before = index.entries(user)
    try:
        yield
    finally:
        if pool.users.get(key) is user:
            index.drop(key, before)
            index.put(key, user)


# --- lookups -------------------------------------------------------------------------------


def in_pool_order(pool: UserPool, keys: Iterable[str]) -> list[User]:
    """The users stored under ``keys``, in pool.users (creation) order."""
    position = pool.user_index.position
    found = [(position.get(k, 0), pool.users[k]) for k in set(keys) if k in pool.users]
    found.sort(key=lambda pair: pair[0])
    return [user for _, user in found]


def by_sub(pool: UserPool, sub: str) -> User | None:
    key = pool.user_index.by_sub.get(sub)
    user = pool.users.get(key) if key is not None else None
    return user if user is not None and user.sub == sub else None


def holding(pool: UserPool, attr: str, value: str) -> list[User]:
    """Users whose ``attr`` equals ``value`` under the attribute's folding, in pool order.

    ``attr`` must be one of :data:`INDEXED_ATTRIBUTES`.
    """
    wanted = fold(attr, value)
    keys = pool.user_index.by_value[attr].get(wanted)
    if not keys:
        return []
    users = in_pool_order(pool, keys)
    return [u for u in users if u.attributes.get(attr) is not None and fold(attr, u.attributes[attr]) == wanted]


def linked_to(pool: UserPool, provider_name: str, user_id: str) -> list[User]:
    """Users whose ``identities`` name this provider user, in pool order."""
    ident = identity_key(provider_name, user_id)
    keys = pool.user_index.by_identity.get(ident)
    return [u for u in in_pool_order(pool, keys) if ident in identity_keys(u)]


def consistent(pool: UserPool) -> bool:
    """Whether the live index equals one rebuilt from scratch (tests)."""
    live = pool.user_index
    fresh = UserIndex()
    for key, user in pool.users.items():
        _store(fresh, key, user)

    def norm(m: MultiMap) -> dict[str, set[str]]:
        return {v: set(k) for v, k in m.items()}

    return (
        live.by_sub == fresh.by_sub
        and all(norm(live.by_value[a]) == norm(fresh.by_value[a]) for a in INDEXED_ATTRIBUTES)
        and norm(live.by_identity) == norm(fresh.by_identity)
        and set(live.position) == set(fresh.position)
    )


__all__ = [
    "INDEXED_ATTRIBUTES", "UserIndex", "add_user", "by_sub", "consistent", "fold", "holding",
    "identity_key", "identity_keys", "in_pool_order", "linked_to", "rebuild_indexes", "reindexing", "remove_user",
]
