"""The shape of the spec's trigger tables (parsed by harness/runner/spec_triggers.py; docs/target-spec.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harness.engine.triggers import TRIGGER_NAMES, VERSIONED

TRIGGER_KEYS = TRIGGER_NAMES
"""The LambdaConfig members a spec may bind (the engine's own list)."""
PRE_TOKEN_VERSIONS = VERSIONED["PreTokenGeneration"][1]


@dataclass(frozen=True)
class TriggerBinding:
    """One ``[triggers.<Trigger>]`` table: which handler answers the pool's trigger, with what environment."""

    trigger: str
    handler: str  # python:<path.py|module>:<function>, or a loopback http(s) URL
    environment: dict[str, str] = field(default_factory=dict)
    version: str = ""  # PreTokenGeneration: V1_0 (default), V2_0 or V3_0

    @property
    def is_python(self) -> bool:
        return self.handler.startswith("python:")

    def target(self) -> tuple[str, str]:
        """(file or module, function) of a python: handler."""
        where, _, function = self.handler[len("python:"):].rpartition(":")
        return where, function

    def describe(self) -> dict[str, Any]:
        return {"handler": self.handler, "environment": sorted(self.environment), "version": self.version or None}


@dataclass(frozen=True)
class LegacyUser:
    """A person the app's legacy store knows and the pool does not (yet)."""

    username: str
    password: str
    email: str = ""


@dataclass
class CustomAuthSection:
    """How the app's CUSTOM_AUTH sign-in is answered (the custom-auth checks SKIP without it)."""

    answer_attributes: list[str] = field(default_factory=list)  # round i is answered with attribute i
    max_attempts: int = 3  # wrong answers the app's DefineAuthChallenge allows before failAuthentication

    @property
    def rounds(self) -> int:
        return len(self.answer_attributes)


@dataclass
class TriggersSpec:
    """Everything the spec says about the app's triggers."""

    bindings: dict[str, TriggerBinding] = field(default_factory=dict)
    legacy_users: list[LegacyUser] = field(default_factory=list)
    custom_auth: CustomAuthSection | None = None

    def bound(self, trigger: str) -> bool:
        return trigger in self.bindings


__all__ = ["CustomAuthSection", "LegacyUser", "PRE_TOKEN_VERSIONS", "TRIGGER_KEYS", "TriggerBinding", "TriggersSpec"]
