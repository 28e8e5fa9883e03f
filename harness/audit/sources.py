"""Where the audit finds an identity-pool setup: a pool definition file, or a target spec's pool.

A spec names its pool by a definition file, inline ``[pool]`` keys, or both
(inline over the file, as the runner builds it); the identity pool is that
definition's ``[identity_pool]``. Relative role-document paths of a file are
relative to that file, those of an inline table to the spec's folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.audit.checks import AuditReport, audit_identity_pool
from harness.pooldef.build import inline_layout, layered, read_definition
from harness.pooldef.identity import IDENTITY_KEY, IdentityPoolDefinition, read_identity_pool
from harness.pooldef.reader import DefinitionTable


def identity_definition(data: dict[str, Any], file: str, base: Path | None, *,
                        inline: bool = False) -> IdentityPoolDefinition | None:
    """The checked ``[identity_pool]`` of a definition (file layout, or inline when ``inline``), or None."""
    root = DefinitionTable(file, "pool" if inline else "", data)
    table = root.table(IDENTITY_KEY)
    if table is None:
        return None
    clients = root.get("clients", dict, {}) or {}
    return read_identity_pool(table, list(clients), base)


def definition_of_file(path: str | Path) -> IdentityPoolDefinition | None:
    p = Path(path)
    return identity_definition(read_definition(p), str(p), p.resolve().parent)


def definition_of_spec_pool(spec_path: Path, definition: Path | None,
                            inline: dict[str, Any] | None) -> IdentityPoolDefinition | None:
    """The identity pool of a spec's ``[pool]``: its definition file, its inline keys over it, or neither."""
    if inline is None:
        return definition_of_file(definition) if definition is not None else None
    base = inline_layout(read_definition(definition)) if definition is not None else {}
    merged = layered(base, inline)
    return identity_definition(merged, str(spec_path), spec_path.resolve().parent, inline=True)


def audit_file(path: str | Path, allow: tuple[str, ...] | list[str] = ()) -> AuditReport | None:
    """The audit of a pool definition file's identity pool (None: it declares none)."""
    found = definition_of_file(path)
    return audit_identity_pool(found, allow, str(path)) if found is not None else None


__all__ = ["audit_file", "definition_of_file", "definition_of_spec_pool", "identity_definition"]
