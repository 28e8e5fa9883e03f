"""Reading target spec files: TOML, ``extends`` (a base spec merged under), paths anchored at the
file, the SHA-256 of what was read, then every section parsed (harness.runner.spec_sections).

The shape the files are read into lives in :mod:`harness.runner.spec_model`.
"""

from __future__ import annotations

import hashlib
import shlex
import tomllib
from pathlib import Path
from typing import Any, Iterable

from harness.runner.spec_model import SpecError, TargetSpec
from harness.runner.spec_sections import (
    SpecTable,
    check_login_steps,
    parse_auth,
    parse_aws,
    parse_checks,
    parse_evidence,
    parse_hosted_ui,
    parse_limits,
    parse_pool,
    parse_request,
    parse_target,
    parse_tenancy,
)
from harness.runner.spec_triggers import anchor_handlers, parse_triggers


def validate_check_ids(spec: TargetSpec, known: Iterable[str]) -> None:
    """Refuse ``[checks."ID"]`` tables naming no check (a typo would silently change nothing)."""
    known = set(known)
    for check_id in spec.checks:
        if check_id not in known:
            raise SpecError(spec.path, f'[checks."{check_id}"]', "the id of a check in the catalogue "
                            "(see cognito-harness list)", check_id)


def parse_data(data: dict[str, Any], path: str | Path, sha256: str = "") -> TargetSpec:
    """Build a :class:`TargetSpec` from decoded TOML (errors name ``path``)."""
    path = Path(path)
    top = SpecTable(path, "", data, {"target", "auth", "requests", "tenancy", "limits", "pool", "evidence", "extends",
                                   "hosted_ui", "aws", "checks", "triggers", "legacy", "custom_auth"})
    if "target" not in data:
        raise SpecError(path, "[target]", "a [target] table with at least name and command or base_url",
                        has_got=False)
    requests_raw = top.table.get("requests", {})
    if not isinstance(requests_raw, dict):
        raise SpecError(path, "[requests]", "a table of named requests", requests_raw)
    target = parse_target(path, data["target"])
    requests = {name: parse_request(path, name, raw) for name, raw in requests_raw.items()}
    check_login_steps(path, requests)
    return TargetSpec(
        path=path,
        sha256=sha256,
        target=target,
        auth=parse_auth(path, data.get("auth", {})),
        requests=requests,
        tenancy=parse_tenancy(path, data.get("tenancy", {})),
        limits=parse_limits(path, data.get("limits", {})),
        pool=parse_pool(path, data.get("pool", {})),
        hosted_ui=parse_hosted_ui(path, data.get("hosted_ui", {})),
        evidence=parse_evidence(path, data.get("evidence", {})),
        aws=parse_aws(path, data.get("aws", {}), target),
        checks=parse_checks(path, data.get("checks", {}), requests),
        triggers=parse_triggers(path, data),
    )


def _read_toml(path: Path) -> tuple[dict[str, Any], bytes]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise SpecError(path, "", "an existing target spec file", has_got=False) from None
    except OSError as exc:
        raise SpecError(path, "", f"a readable file ({exc.strerror})", has_got=False) from None
    try:
        return tomllib.loads(raw.decode("utf-8")), raw
    except UnicodeDecodeError:
        raise SpecError(path, "", "UTF-8 text", has_got=False) from None
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(path, "", f"valid TOML ({exc})", has_got=False) from None


def _anchor_paths(data: dict[str, Any], base_dir: Path) -> dict[str, Any]:
    """Make a base spec's relative paths absolute, so they keep meaning in the extending file."""
    target = dict(data.get("target") or {})
    command = target.get("command")
    if isinstance(command, list):
        target["command"] = [c.replace("{spec_dir}", str(base_dir)) if isinstance(c, str) else c for c in command]
    elif isinstance(command, str):
        target["command"] = command.replace("{spec_dir}", shlex.quote(str(base_dir)))
    if isinstance(target.get("cwd"), str):
        target["cwd"] = str((base_dir / target["cwd"]).resolve())
    elif "command" in target:
        target.setdefault("cwd", str(base_dir))
    out = dict(data)
    if target:
        out["target"] = target
    out = anchor_handlers(out, base_dir)
    pool = data.get("pool")
    if isinstance(pool, dict) and isinstance(pool.get("definition"), str):
        out["pool"] = {**pool, "definition": str((base_dir / pool["definition"]).resolve())}
    return out


def _merge(base: dict[str, Any], child: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in child.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict) and key not in ("json", "form"):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _load_data(path: Path, depth: int = 0) -> tuple[dict[str, Any], str]:
    """The spec's TOML with ``extends`` resolved; the hash covers every file in the chain."""
    data, raw = _read_toml(path)
    digest = hashlib.sha256(raw)
    parent = data.pop("extends", None)
    if parent is None:
        return data, digest.hexdigest()
    if not isinstance(parent, str) or not parent:
        raise SpecError(path, "extends", "the path of another target spec (relative to this file)", parent)
    if depth >= 5:
        raise SpecError(path, "extends", "at most 5 levels of extends", parent)
    base_path = (path.parent / parent).resolve()
    base, base_hash = _load_data(base_path, depth + 1)
    digest.update(base_hash.encode())
    return _merge(_anchor_paths(base, base_path.parent), data), digest.hexdigest()


def load_file(path: str | Path) -> TargetSpec:
    """Read, hash and validate a spec file (``extends = "base.toml"`` merges a base spec under it)."""
    path = Path(path).resolve()
    data, sha = _load_data(path)
    return parse_data(data, path, sha)


__all__ = ["load_file", "parse_data", "validate_check_ids"]
