"""Reading a pool definition table by table, with errors that name file and key.

Every read is type-checked and recorded (harness.tomltable, the reader target
specs use too), so a key nobody read (a typo) is reported as unknown with the
keys that were expected.
"""

from __future__ import annotations

from typing import Any

from harness.tomltable import MISSING, TomlTable


class PoolDefinitionError(ValueError):
    """A pool definition that cannot be loaded: names the file, the key and what was expected."""

    def __init__(self, file: str, key: str, message: str) -> None:
        super().__init__(f"{file}: {key}: {message}" if key else f"{file}: {message}")
        self.file = file
        self.key = key
        self.message = message


# --- tables ---------------------------------------------------------------


class DefinitionTable(TomlTable):
    """One table of a pool definition (harness.tomltable does the typed reads)."""

    def __init__(self, file: str, path: str, data: Any) -> None:
        if not isinstance(data, dict):
            raise PoolDefinitionError(file, path, f"expected a table, got {type(data).__name__}")
        super().__init__(file, path, data)

    def fail(self, name: str, message: str) -> PoolDefinitionError:
        return PoolDefinitionError(self.file, self.key(name), message)

    def wrong(self, name: str, expected: str, value: Any) -> PoolDefinitionError:
        return self.fail(name, f"expected {expected}, got {value!r}")

    def missing(self, name: str, expected: str) -> PoolDefinitionError:
        return self.fail(name, f"required key is missing (expected {expected})")

    def get(self, name: str, kind: type | tuple[type, ...], default: Any = MISSING,
            choices: tuple[str, ...] | None = None, what: str | None = None) -> Any:
        return self.read(name, kind, default, expected=what, choices=choices)

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
        unknown = self.unread()
        if unknown:
            raise self.fail(unknown[0], f"unknown key; expected one of {', '.join(sorted(self.used))}")


__all__ = ["DefinitionTable", "PoolDefinitionError"]
