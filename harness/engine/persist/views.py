"""Cheap comparable views of model state: how a commit finds what changed since the last one.

A view of a dataclass instance is a tuple of its field values read at C speed (``attrgetter``):
scalars and containers of plain data are *referenced*, not copied; only nested dataclasses
(``User.lockout``, ``User.codes``) are viewed in turn. Comparing a live view with the copy kept at
the last commit (:func:`freeze`, which copies the containers) is then a C-level tuple comparison,
a few microseconds for a user, where encoding the user would take ~50: a commit compares every
record and encodes only the ones that differ. Views are built from the models' type hints, so a
field another module adds to ``models.py`` is compared without touching this file.
"""

from __future__ import annotations

import dataclasses
import functools
import operator
import types
import typing
from collections.abc import Callable
from typing import Any, Union

from harness.engine.keys import KeyRing
from harness.engine.snapshot_codec import detached_copy, hints

View = Callable[[Any], Any]


def keyring_view(ring: KeyRing | None) -> Any:
    """A key ring by what a snapshot writes of it: the generation and each key's fields. The private
    key object is compared as it is (key objects are immutable: a new key is a new object)."""
    if ring is None:
        return None
    return ring.generation, tuple((k.kid, k.use, k.created_at, k.active, k.published, k.retired_at, k.private_key)
                                  for k in ring.keys)


def _optional(inner: View) -> View:
    return lambda value: None if value is None else inner(value)


def _mapping(inner: View) -> View:
    return lambda value: tuple((k, inner(v)) for k, v in value.items()) if value else ()


def _sequence(inner: View) -> View:
    return lambda value: tuple(map(inner, value)) if value else ()


def hint_view(hint: Any) -> View | None:
    """How to view a value of type ``hint``; None: compare it as it is (no dataclass inside)."""
    if hint is KeyRing:
        return keyring_view
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return view_of(hint)
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        inner = [hint_view(a) for a in options]
        if all(v is None for v in inner):
            return None
        if len(options) == 1 and inner[0] is not None:
            return _optional(inner[0])
        return lambda value: detached_copy(value)  # a union of shapes: compared as a detached copy
    if origin is not None and issubclass(origin, dict) and len(args) == 2:
        inner_view = hint_view(args[1])
        return None if inner_view is None else _mapping(inner_view)
    if origin in (list, tuple, set, frozenset) and args:
        inner_view = hint_view(args[0])
        return None if inner_view is None else _sequence(inner_view)
    return None


def _reader(cls: type, names: list[str]) -> View:
    """Reads the fields ``names`` of an instance as stored, past any ``__getattribute__`` of the class
    (a tracked record's hooks, harness.engine.persist.touches: the commit's own reads are no touches)."""
    if "__slots__" not in vars(cls) and not any("__slots__" in vars(base) for base in cls.__mro__[1:-1]):
        pick = operator.itemgetter(*names)
        stored = object.__getattribute__
        return lambda value: pick(stored(value, "__dict__"))
    slots = [getattr(cls, name).__get__ for name in names]  # member descriptors: no instance hook
    if len(names) == 1:
        return lambda value: slots[0](value)
    return lambda value: tuple([get(value) for get in slots])


@functools.lru_cache(maxsize=None)
def view_of(cls: type, skip: frozenset[str] = frozenset()) -> View:
    """The view of instances of the dataclass ``cls`` (but the fields in ``skip``), made once per class."""
    names = [f.name for f in dataclasses.fields(cls) if f.name not in skip]
    types_of = hints(cls)
    read = _reader(cls, names)
    nested = [(i, v) for i, name in enumerate(names) if (v := hint_view(types_of.get(name, Any))) is not None]
    if len(names) == 1:
        only = nested[0][1] if nested else None
        return (lambda value: (only(read(value)),)) if only else (lambda value: (read(value),))
    if not nested:
        return read

    def view(value: Any) -> tuple[Any, ...]:
        got = list(read(value))
        for i, inner in nested:
            item = got[i]
            if item is not None:
                got[i] = inner(item)
        return tuple(got)

    return view


def freeze(view: Any) -> Any:
    """A copy of a view that later changes to the state cannot reach (containers copied, scalars and
    key objects shared): what a commit keeps to compare the next views with."""
    return detached_copy(view)


__all__ = ["View", "freeze", "hint_view", "keyring_view", "view_of"]
