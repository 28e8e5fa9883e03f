"""A value -> keys map that holds a lone key inline, several in an insertion-ordered dict.

Most indexed values (an email, a user's sessions) have one holder; a container
per entry would cost ~200 bytes each at 100k entries. Several holders live in a
dict used as an ordered set: O(1) add and remove however many there are (one
user with 100k sessions), and a deterministic order (the order they came in).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Union

Keys = Union[str, dict[str, None]]


class MultiMap:
    """value -> keys, in the order they were added."""

    __slots__ = ("_map",)

    def __init__(self) -> None:
        self._map: dict[str, Keys] = {}

    def add(self, value: str, key: str) -> None:
        held = self._map.get(value)
        if held is None:
            self._map[value] = key
        elif isinstance(held, str):
            if held != key:
                self._map[value] = {held: None, key: None}
        else:
            held[key] = None

    def discard(self, value: str, key: str) -> None:
        held = self._map.get(value)
        if held is None:
            return
        if isinstance(held, str):
            if held == key:
                del self._map[value]
            return
        held.pop(key, None)
        if len(held) == 1:
            self._map[value] = next(iter(held))
        elif not held:
            del self._map[value]

    def get(self, value: str) -> tuple[str, ...]:
        held = self._map.get(value)
        if held is None:
            return ()
        return (held,) if isinstance(held, str) else tuple(held)

    def compact(self) -> None:
        """Copy the map (a dict keeps its peak size after deletions)."""
        self._map = dict(self._map)

    def __len__(self) -> int:
        return len(self._map)

    def items(self) -> Iterator[tuple[str, tuple[str, ...]]]:
        for value in self._map:
            yield value, self.get(value)


__all__ = ["MultiMap"]
