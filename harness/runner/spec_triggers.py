"""The spec's trigger tables: ``[triggers.<Trigger>]``, ``[legacy]`` and ``[custom_auth]`` (docs/target-spec.md).

* ``[triggers.<Trigger>]``: the app's own Lambda function for one LambdaConfig
  trigger, bound to the run's pool (harness/runner/trigger_bindings.py):
  ``handler`` (``python:<file.py|module>:<function>`` or a loopback URL),
  ``environment`` (the function's environment variables; ``{spec_dir}`` and
  ``{run_dir}`` are replaced) and, for PreTokenGeneration, ``version``.
* ``[legacy]``: people only the app's legacy store knows (user migration):
  the harness signs them in through the app with these credentials.
* ``[custom_auth]``: how the app's custom challenges are answered: one user
  attribute per round holds the answer (a PIN, a memorable word), and how many
  wrong answers the app's trigger allows before it fails the sign-in.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.runner.spec_model import SpecError
from harness.runner.spec_sections import SpecTable
from harness.runner.spec_triggers_model import (CustomAuthSection, LegacyUser, PRE_TOKEN_VERSIONS, TRIGGER_KEYS,
                                                TriggerBinding, TriggersSpec)


def _handler(r: SpecTable, spec_dir: Path) -> str:
    handler = r.string("handler", required=True, nonempty=True)
    if handler.startswith("python:"):
        where, _, function = handler[len("python:"):].rpartition(":")
        if not where or not function.isidentifier():
            raise r.error("handler", "python:<file.py or module>:<function>")
        where = where.replace("{spec_dir}", str(spec_dir))
        if where.endswith(".py"):
            path = Path(where) if Path(where).is_absolute() else spec_dir / where
            if not path.is_file():
                raise r.error("handler", f"an existing Python file ({path} does not exist)")
            where = str(path.resolve())
        return f"python:{where}:{function}"
    if handler.startswith(("http://127.", "http://localhost", "https://127.", "https://localhost")):
        return handler
    raise r.error("handler", "python:<file.py or module>:<function>, or a loopback http(s) URL")


def parse_binding(path: Path, trigger: str, raw: Any) -> TriggerBinding:
    if trigger not in TRIGGER_KEYS:
        raise SpecError(path, f"[triggers.{trigger}]", f"a trigger named one of {', '.join(TRIGGER_KEYS)}", trigger)
    allowed = {"handler", "environment", *(("version",) if trigger == "PreTokenGeneration" else ())}
    r = SpecTable(path, f"triggers.{trigger}", raw, allowed)
    environment = r.str_table("environment")
    for key, value in environment.items():
        for name in ("port", "python"):
            if "{" + name + "}" in value:
                raise SpecError(path, f"[triggers.{trigger}].environment.{key}",
                                f"only the placeholders {{spec_dir}}, {{run_dir}} (unknown {{{name}}})", value)
    return TriggerBinding(trigger=trigger, handler=_handler(r, path.parent), environment=environment,
                          version=r.string("version", "", choices=PRE_TOKEN_VERSIONS) if "version" in r.table else "")


def parse_legacy(path: Path, raw: Any) -> list[LegacyUser]:
    r = SpecTable(path, "legacy", raw, {"users"})
    users = r.read("users", list, [], expected="a list of {username, password, email} tables")
    out = []
    for i, entry in enumerate(users):
        u = SpecTable(path, f"legacy.users[{i}]", entry, {"username", "password", "email"})
        out.append(LegacyUser(u.string("username", required=True, nonempty=True),
                              u.string("password", required=True, nonempty=True), u.string("email", "")))
    return out


def parse_custom_auth(path: Path, raw: Any) -> CustomAuthSection:
    r = SpecTable(path, "custom_auth", raw, {"answer_attributes", "max_attempts"})
    attributes = r.str_list("answer_attributes", [])
    if not attributes:
        raise r.error("answer_attributes", "a non-empty list of the user attributes that answer each round")
    return CustomAuthSection(answer_attributes=list(attributes),
                             max_attempts=r.number("max_attempts", 3, minimum=1, integer=True))


def parse_triggers(path: Path, data: dict[str, Any]) -> TriggersSpec:
    """``[triggers.*]``, ``[legacy]`` and ``[custom_auth]`` of a spec's decoded TOML."""
    raw = data.get("triggers", {})
    if not isinstance(raw, dict):
        raise SpecError(path, "[triggers]", "a table of [triggers.<Trigger>] tables", raw)
    return TriggersSpec(
        bindings={name: parse_binding(path, name, table) for name, table in raw.items()},
        legacy_users=parse_legacy(path, data.get("legacy", {})),
        custom_auth=parse_custom_auth(path, data["custom_auth"]) if "custom_auth" in data else None,
    )


def anchor_handlers(data: dict[str, Any], base_dir: Path) -> dict[str, Any]:
    """A base spec's ``{spec_dir}`` in trigger handlers and environments means the base's directory."""
    triggers = data.get("triggers")
    if not isinstance(triggers, dict):
        return data
    anchored: dict[str, Any] = {}
    for name, table in triggers.items():
        if isinstance(table, dict):
            table = dict(table)
            if isinstance(table.get("handler"), str):
                table["handler"] = table["handler"].replace("{spec_dir}", str(base_dir))
            if isinstance(table.get("environment"), dict):
                table["environment"] = {k: v.replace("{spec_dir}", str(base_dir)) if isinstance(v, str) else v
                                        for k, v in table["environment"].items()}
        anchored[name] = table
    return {**data, "triggers": anchored}


__all__ = ["CustomAuthSection", "LegacyUser", "PRE_TOKEN_VERSIONS", "TRIGGER_KEYS", "TriggerBinding",
           "TriggersSpec", "anchor_handlers", "parse_triggers"]
