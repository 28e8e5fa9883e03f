"""``serve --state DIR|FILE``: what ``serve`` keeps with the state to start again on it.

The first start (a state file that holds no user pool) loads ``--pool`` as usual and keeps, with
the state, which pool that was, its clients' names and the definition's users and passwords
(:func:`remember`). A later start restores the state (harness.engine.persist) and prints the same
exports for that pool as it stands now (:func:`restored_handle`): ``--pool``, ``--issuer``,
``--seed``, ``--region`` and ``--frozen-clock`` describe a first state and are not applied again.
"""

from __future__ import annotations

import argparse
from typing import Any

from harness.engine.common import find_user
from harness.engine.persist import StateFile
from harness.engine.store import Backend
from harness.pooldef import PoolHandle
from harness.pooldef.build import ClientHandle
from harness.pooldef.users import UserHandle

KEPT = "serve.pool"  # the state file's meta row: {"pool_id", "source", "clients": {name: id}, "users": {name: pw}}
FIRST_STATE_FLAGS = {"pool": None, "issuer": None, "seed": None, "region": "us-east-1", "frozen_clock": False}
"""The flags that describe a first state, with serve's defaults: given on a later start, they are ignored."""

HELP = ("keep pools, users, groups, clients, keys, sessions, the mailbox, the clock and the event log across "
        "restarts in the SQLite file FILE, or DIR/cognito-harness.sqlite3 (made mode 0600: it holds private keys "
        "and password hashes). The first start loads --pool into it; later starts serve what it holds and "
        "ignore --pool, --issuer, --seed, --region and --frozen-clock")


def remember(state: StateFile, handle: PoolHandle) -> None:
    """Keep what a later start needs of the pool ``serve`` loaded, and commit it with the pool."""
    state.set_meta(KEPT, {
        "pool_id": handle.pool_id,
        "source": handle.source,
        "clients": {name: client.client_id for name, client in handle.clients.items()},
        "users": {u.username: u.password for u in handle.users.values() if not u.generated and u.password},
    })
    state.commit()


def restored_handle(backend: Backend, state: StateFile) -> PoolHandle:
    """The pool ``serve`` loaded first, as the restored state holds it now (the state's first pool if
    that one was deleted); its clients and users are the ones still there."""
    kept = state.meta(KEPT)
    kept = kept if isinstance(kept, dict) else {}
    with backend.transaction():
        pool = backend.pools.get(str(kept.get("pool_id"))) or next(iter(backend.pools.values()))
        names = {client_id: name for name, client_id in _strings(kept.get("clients")).items()}
        clients = {names.get(c.client_id, c.name): ClientHandle(names.get(c.client_id, c.name), c.client_id, c.secret)
                   for c in pool.clients.values()}
        users = {}
        for username, password in _strings(kept.get("users")).items():
            user = find_user(pool, username)
            if user is not None:
                users[username] = UserHandle(username=username, password=password, sub=user.sub,
                                             status=user.status, pool_username=user.username)
        return PoolHandle(pool_id=pool.pool_id, name=pool.name, region=pool.region, issuer=backend.issuer(pool),
                          jwks_url=backend.jwks_url(pool), clients=clients, users=users,
                          source=f"the state file (first loaded from {kept.get('source', 'a pool definition')})")


def ignored(args: argparse.Namespace) -> list[str]:
    """The first-state flags given on a start that restored a state (they are not applied)."""
    return [f"--{name.replace('_', '-')}" for name, default in FIRST_STATE_FLAGS.items()
            if getattr(args, name, default) != default]


def note(state: StateFile, args: argparse.Namespace) -> str:
    """serve's line about its state file."""
    line = (f"# state: {state.path} ({'restored' if state.loaded else 'new'}; each change is committed before "
            "its answer is sent)")
    skipped = ignored(args) if state.loaded else []
    return line + (f"; not applied to a saved state: {' '.join(skipped)}" if skipped else "")


def _strings(raw: Any) -> dict[str, str]:
    return {k: v for k, v in raw.items() if isinstance(k, str) and isinstance(v, str)} if isinstance(raw, dict) else {}


__all__ = ["HELP", "KEPT", "ignored", "note", "remember", "restored_handle"]
