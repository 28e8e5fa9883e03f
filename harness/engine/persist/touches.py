"""Which records each request touched, so a commit compares those and not the whole state.

Only the records of a backend that has a state file take part: when the tracker first sees a
record (a pool, a user, a session...) it gives that one object a subclass of its own class
(``obj.__class__ = ...``, same layout, same name, same fields) whose attribute hooks note the
object in the calling thread's window before doing what the base class does. Every change to a
record, or to anything inside it (its dicts, lists, nested dataclasses), starts with reading or
setting one of the record's attributes, so a thread's window holds every record it may have
changed. The request's commit (same thread, harness.server) takes its window and compares just
those. Objects of the in-memory emulator are never given the subclass: nothing here is on its path.

A record made during a request is still of the plain class until the commit that first sees it
(through its parent's collection, whose parent *was* noted); a thread that reached it meanwhile
cannot have noted it, so that commit adds it to every open window (:meth:`Touches.spread`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

_ident = threading.get_ident
ALL = "__dict__"  # a parent's names holding this: all of its attributes count as touched


class Window:
    """What one thread touched since its last commit: records by id (kept alive, so ids are not
    reused meanwhile) and, for parents (a pool), the names of the attributes it used."""

    __slots__ = ("records", "names")

    def __init__(self) -> None:
        self.records: dict[int, Any] = {}
        self.names: dict[int, set[str]] = {}

    def update(self, other: Window) -> None:
        self.records.update(other.records)
        for key, names in other.names.items():
            self.names.setdefault(key, set()).update(names)


class Touches:
    """Per-thread windows of noted records, and the tracked subclasses that fill them."""

    def __init__(self) -> None:
        self.windows: dict[int, Window] = {}  # thread ident -> its window (atomic dict operations only)
        self._classes: dict[type, type] = {}  # plain class -> its tracked subclass
        self._tracked: set[type] = set()

    def _window(self) -> Window:
        ident = _ident()
        window = self.windows.get(ident)
        if window is None:
            window = self.windows[ident] = Window()
        return window

    def note(self, record: Any, name: str) -> None:
        """A member record's attribute was read or set (the hot path of a tracked backend)."""
        window = self.windows.get(_ident()) or self._window()
        window.records[id(record)] = record

    def note_name(self, record: Any, name: str) -> None:
        window = self.windows.get(_ident()) or self._window()
        key = id(record)
        window.records[key] = record
        names = window.names.get(key)
        if names is None:
            window.names[key] = {name}
        else:
            names.add(name)

    def take(self) -> Window:
        """The calling thread's window, closed (its next note opens a new one)."""
        return self.windows.pop(_ident(), None) or Window()

    def merge(self, window: Window) -> None:
        """Give the calling thread back a window it took (its commit failed: compare those again)."""
        self._window().update(window)

    def spread(self, records: Iterable[Any], parents: Iterable[Any]) -> None:
        """Add records that were not tracked until now to every open window (parents with all names)."""
        fresh = Window()
        parents = list(parents)
        fresh.records = {id(r): r for r in [*records, *parents]}
        fresh.names = {id(p): {ALL} for p in parents}
        if fresh.records:
            for window in list(self.windows.values()):
                window.update(fresh)

    def track(self, record: Any, parent: bool = False) -> None:
        """Give ``record`` the tracked subclass of its class (once); a parent's notes name attributes."""
        cls = type(record)
        if cls in self._tracked:
            return
        tracked = self._classes.get(cls)
        if tracked is None:
            tracked = self._classes[cls] = _subclass(cls, self.note_name if parent else self.note)
            self._tracked.add(tracked)
        record.__class__ = tracked

    def is_tracked(self, record: Any) -> bool:
        return type(record) in self._tracked


def _subclass(base: type, note: Any) -> type:
    """``base`` with attribute hooks that note the instance; it passes for ``base`` everywhere (same
    name, module and fields; ``dataclasses``, the snapshot codec and reprs see no difference)."""
    get, set_, delete = base.__getattribute__, base.__setattr__, base.__delattr__

    def __getattribute__(self: Any, name: str) -> Any:
        note(self, name)
        return get(self, name)

    def __setattr__(self: Any, name: str, value: Any) -> None:
        note(self, name)
        set_(self, name, value)

    def __delattr__(self: Any, name: str) -> None:
        note(self, name)
        delete(self, name)

    namespace: dict[str, Any] = {"__getattribute__": __getattribute__, "__setattr__": __setattr__,
                                 "__delattr__": __delattr__, "__module__": base.__module__,
                                 "__qualname__": base.__qualname__, "__doc__": base.__doc__}
    if "__slots__" in base.__dict__:
        namespace["__slots__"] = ()  # the same layout as the slotted base, or __class__ cannot change
    return type(base.__name__, (base,), namespace)


__all__ = ["ALL", "Touches", "Window"]
