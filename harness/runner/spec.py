"""Target specs: the shape (harness.runner.spec_model) and the loader (harness.runner.specfile), in one import.

``load_spec(path)`` reads, hashes and validates a spec file; the format is docs/target-spec.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.bundled import fixture
from harness.runner.spec_model import (
    AuthSection,
    AwsSection,
    CheckSection,
    EvidenceSection,
    HostedUiSection,
    LimitsSection,
    PLACEHOLDERS,
    PoolSection,
    REQUEST_NAMES,
    RequestSpec,
    SpecError,
    StatusOverride,
    TargetSection,
    TargetSpec,
    TenancySection,
)
from harness.runner.specfile import load_file, parse_data


def parse_spec(data: dict[str, Any], path: str | Path, sha256: str = "") -> TargetSpec:
    """Build a :class:`TargetSpec` from decoded TOML (errors name ``path``)."""
    return parse_data(data, path, sha256)


def load_spec(path: str | Path) -> TargetSpec:
    """Read, hash and validate a spec file (``extends = "base.toml"`` merges a base spec under it)."""
    return load_file(path)


def bundled_spec_path() -> Path:
    """The reference app's spec, used when ``run`` gets no ``--target``."""
    return fixture("targets", "reference.toml")


__all__ = [
    "AuthSection",
    "AwsSection",
    "CheckSection",
    "EvidenceSection",
    "HostedUiSection",
    "LimitsSection",
    "PLACEHOLDERS",
    "PoolSection",
    "REQUEST_NAMES",
    "RequestSpec",
    "SpecError",
    "StatusOverride",
    "TargetSection",
    "TargetSpec",
    "TenancySection",
    "bundled_spec_path",
    "load_spec",
    "parse_spec",
]
