"""Giving freed memory back to the operating system after a mass expiry.

Dropping 100k sessions frees their objects, but the process keeps the pages:
CPython's small-object allocator returns an arena only when it is wholly empty,
and glibc's ``malloc`` keeps freed heap pages until asked. After a big sweep
the store collects cycles and, on glibc, calls ``malloc_trim(0)``, so the
resident size of a long-running ``serve`` comes back down (measured in
``bench/scale.py``). ``serve`` also keeps glibc to one malloc arena
(:func:`one_malloc_arena`). Elsewhere (macOS, musl, Windows) both are no-ops.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import sys
from collections.abc import Mapping
from functools import cache


M_ARENA_MAX = -8  # glibc's mallopt parameter
ARENA_ENV = "MALLOC_ARENA_MAX"


@cache
def _glibc() -> ctypes.CDLL | None:
    """The C library if it is glibc (it has ``malloc_trim``), else None (macOS, musl, Windows)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
        libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    except (OSError, AttributeError):  # no libc by that name, or not glibc (musl has no malloc_trim)
        return None
    return libc


def one_malloc_arena(environ: Mapping[str, str]) -> bool:
    """For a long-running server, before its threads start: one glibc malloc arena instead of one per
    connection thread, whose freed pages otherwise stay resident (~5 MB after 50k sign-ins). The GIL
    serialises the allocating code anyway. A ``MALLOC_ARENA_MAX`` the user set is left alone."""
    libc = _glibc()
    if libc is None or ARENA_ENV in environ:
        return False
    return bool(libc.mallopt(M_ARENA_MAX, 1))


def give_back() -> bool:
    """Collect garbage cycles and return free heap pages to the OS; whether a trim was possible."""
    gc.collect()
    libc = _glibc()
    if libc is None:
        return False
    libc.malloc_trim(0)
    return True


__all__ = ["give_back", "one_malloc_arena"]
