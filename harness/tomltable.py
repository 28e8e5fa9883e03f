"""The one typed TOML reader: a table with its key path, typed reads, errors that name file and key.

Target specs (harness.runner.specfile) and pool definitions (harness.pooldef)
both read their files through :class:`TomlTable`; a subclass says only how an
error is worded and raised (:meth:`TomlTable.wrong`, :meth:`TomlTable.missing`),
so a wrong type, a missing key or an unknown one is checked the same way in both.
"""

from __future__ import annotations

from typing import Any

MISSING: Any = object()
"""``default=MISSING``: the key is required."""

KIND_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false", list: "a list",
              dict: "a table"}


def kind_name(kind: type | tuple[type, ...]) -> str:
    """How an expected type reads in an error (``an integer or a number``)."""
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(KIND_NAMES.get(k, k.__name__) for k in kinds)


def has_kind(value: Any, kind: type | tuple[type, ...]) -> bool:
    """``isinstance``, except that a TOML boolean is never a number."""
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, bool) and bool not in kinds:
        return False
    return isinstance(value, kind)


class TomlTable:
    """One TOML table; every key read is recorded in ``used``, so :meth:`unread` finds typos."""

    def __init__(self, file: str, path: str, data: dict[str, Any]) -> None:
        self.file = file
        self.path = path
        self.data = data
        self.used: set[str] = set()

    # --- what a subclass words ------------------------------------------------------------

    def key(self, name: str) -> str:
        """The full name of a key of this table, as errors show it."""
        return f"{self.path}.{name}" if self.path else name

    def wrong(self, name: str, expected: str, value: Any) -> Exception:
        """The error for a key whose value is not what was ``expected``."""
        raise NotImplementedError

    def missing(self, name: str, expected: str) -> Exception:
        """The error for a required key that is absent."""
        raise NotImplementedError

    def one_of(self, choices: tuple[str, ...]) -> str:
        """How a list of allowed values reads in an error."""
        return f"one of {', '.join(choices)}"

    # --- typed reads -------------------------------------------------------------------------

    def read(self, name: str, kind: type | tuple[type, ...], default: Any = MISSING, *,
             expected: str | None = None, choices: tuple[str, ...] | None = None) -> Any:
        """The value of ``name`` if it has type ``kind`` (and is one of ``choices``), else ``default``
        when absent; a wrong value (or an absent required one) raises the subclass's error."""
        self.used.add(name)
        what = expected or kind_name(kind)
        if name not in self.data:
            if default is MISSING:
                raise self.missing(name, what)
            return default
        value = self.data[name]
        if not has_kind(value, kind):
            raise self.wrong(name, what, value)
        if choices is not None and value not in choices:
            raise self.wrong(name, self.one_of(choices), value)
        return value

    def strings(self, name: str, default: Any = None, *, expected: str = "a list of strings") -> Any:
        """A list of strings (or ``default`` when absent)."""
        value = self.read(name, list, default, expected=expected)
        if value is not None and value is not default and not all(isinstance(v, str) for v in value):
            raise self.wrong(name, expected, value)
        return value

    def unread(self) -> list[str]:
        """Keys present in the table that no read asked for."""
        return [k for k in self.data if k not in self.used]


__all__ = ["MISSING", "TomlTable", "has_kind", "kind_name"]
