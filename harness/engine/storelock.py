"""The store lock: re-entrant, and able to be set down whole for a block of pure work.

Operations run under it so that concurrent requests see a consistent pool and
events come out in one order. A few steps inside an operation must not hold
it: RSA signing (long, and it releases the GIL, so sign-ins sign on every core)
and a Lambda trigger that may call back into the emulator. :meth:`released`
sets the lock down for such a block, whatever the nesting depth, and takes it
up again afterwards: a documented method of this class, not CPython internals.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator


class StoreLock:
    """A re-entrant lock with :meth:`released`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._owner: int | None = None
        self._depth = 0

    def acquire(self) -> None:
        me = threading.get_ident()
        if self._owner == me:
            self._depth += 1
            return
        self._lock.acquire()
        self._owner = me
        self._depth = 1

    def release(self) -> None:
        if self._owner != threading.get_ident():
            raise RuntimeError("release of a store lock this thread does not hold")
        self._depth -= 1
        if self._depth == 0:
            self._owner = None
            self._lock.release()

    def __enter__(self) -> StoreLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def held(self) -> bool:
        """Whether the calling thread holds the lock."""
        return self._owner == threading.get_ident()

    @contextlib.contextmanager
    def released(self) -> Iterator[None]:
        """Set the lock down entirely (if this thread holds it) for the block, then take it up again."""
        if not self.held():
            yield
            return
        depth = self._depth
        self._depth = 0
        self._owner = None
        self._lock.release()
        try:
            yield
        finally:
            self._lock.acquire()
            self._owner = threading.get_ident()
            self._depth = depth
