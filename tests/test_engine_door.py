"""The engine's one door: the store lock is private, can be set down whole without CPython
internals, and the external IdPs are injected (the engine knows nothing of the fake ones)."""

from __future__ import annotations

import threading

import pytest

from harness.engine.external_idps import NoFakeIdPs
from harness.engine.store import Backend
from harness.engine.storelock import StoreLock
from harness.fake_idps import FakeIdPs, IdPRegistry


def test_released_sets_the_lock_down_whole_and_takes_it_up_at_the_same_depth() -> None:
    lock = StoreLock()
    taken = threading.Event()

    def other() -> None:
        with lock:
            taken.set()

    with lock, lock, lock:  # three deep
        with lock.released():
            assert not lock.held()
            worker = threading.Thread(target=other)
            worker.start()
            assert taken.wait(5), "another thread could not take the lock while it was set down"
            worker.join(5)
        assert lock.held()
        lock.release()
        lock.release()
        assert lock.held()  # taken up at depth three: two releases leave the with statement's own
        lock.acquire()
        lock.acquire()
    assert not lock.held()


def test_released_without_holding_the_lock_is_a_plain_block() -> None:
    lock = StoreLock()
    with lock.released():
        assert not lock.held()
    with pytest.raises(RuntimeError):
        lock.release()


def test_the_backend_lock_is_not_public_and_transaction_enters_it() -> None:
    backend = Backend(seed=0)
    assert not hasattr(backend, "lock")
    with backend.transaction() as inside:
        assert inside is backend


def test_fake_idps_are_injected_not_imported_by_the_engine() -> None:
    plain = Backend(seed=0)
    assert isinstance(plain.idps, NoFakeIdPs)
    assert plain.idps.stand_in("google", None, None) is None
    with pytest.raises(TypeError, match="no fake IdPs"):
        FakeIdPs(plain)
    faked = Backend(seed=0, external_idps=IdPRegistry)
    google = FakeIdPs(faked).create("google", preset="google")
    doc = faked.idps.stand_in("google", google.client_id, None)
    assert doc is not None and doc["issuer"] == google.issuer
