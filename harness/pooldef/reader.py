"""Reading a pool definition table by table, with errors that name file and key.

Every read is type-checked and recorded, so a key nobody read (a typo) is
reported as unknown with the keys that were expected.
"""

from __future__ import annotations

from typing import Any

_MISSING = object()


class PoolDefinitionError(ValueError):
    """A pool definition that cannot be loaded: names the file, the key and what was expected."""

    def __init__(self, file: str, key: str, message: str) -> None:
        super().__init__(f"{file}: {key}: {message}" if key else f"{file}: {message}")
        self.file = file
        self.key = key
        self.message = message


# --- tables ---------------------------------------------------------------


class DefinitionTable:
    """One TOML table with its dotted path; every read is type-checked and recorded."""

    def __init__(self, file: str, path: str, data: Any) -> None:
        if not isinstance(data, dict):
            raise PoolDefinitionError(file, path, f"expected a table, got {type(data).__name__}")
        self.file, self.path, self.data = file, path, data
        self.used: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def fail(self, name: str, message: str) -> PoolDefinitionError:
        return PoolDefinitionError(self.file, self.key(name), message)

    def get(self, name: str, kind: type | tuple[type, ...], default: Any = _MISSING,
            choices: tuple[str, ...] | None = None, what: str | None = None) -> Any:
        self.used.add(name)
        if name not in self.data:
            if default is _MISSING:
                raise self.fail(name, f"required key is missing (expected {what or _kind_name(kind)})")
            return default
        value = self.data[name]
        if isinstance(value, bool) and kind in (int, float, (int, float)):
            raise self.fail(name, f"expected {what or _kind_name(kind)}, got {value!r}")
        if not isinstance(value, kind):
            raise self.fail(name, f"expected {what or _kind_name(kind)}, got {value!r}")
        if choices is not None and value not in choices:
            raise self.fail(name, f"expected one of {', '.join(choices)}, got {value!r}")
        return value

    def strings(self, name: str, default: list[str] | None = None) -> list[str] | None:
        value = self.get(name, list, default, what="a list of strings")
        if value is not None and not all(isinstance(v, str) for v in value):
            raise self.fail(name, f"expected a list of strings, got {value!r}")
        return value

    def table(self, name: str) -> DefinitionTable | None:
        self.used.add(name)
        if name not in self.data:
            return None
        return DefinitionTable(self.file, self.key(name), self.data[name])

    def tables(self, name: str) -> list[DefinitionTable]:
        self.used.add(name)
        value = self.data.get(name, [])
        if not isinstance(value, list):
            raise self.fail(name, f"expected an array of tables ([[{self.key(name)}]]), got {type(value).__name__}")
        return [DefinitionTable(self.file, f"{self.key(name)}[{i}]", item) for i, item in enumerate(value)]

    def done(self) -> None:
        unknown = [k for k in self.data if k not in self.used]
        if unknown:
            raise self.fail(unknown[0], f"unknown key; expected one of {', '.join(sorted(self.used))}")


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {str: "a string", int: "an integer", float: "a number", bool: "true or false", list: "a list",
             dict: "a table"}
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(names.get(k, k.__name__) for k in kinds)


__all__ = ["DefinitionTable", "PoolDefinitionError"]
