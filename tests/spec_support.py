"""What the spec-reading tests share: the fixtures folder, a minimal spec, a writer."""

from __future__ import annotations

from pathlib import Path

TARGETS = Path(__file__).resolve().parents[1] / "fixtures" / "targets"

MINIMAL = """
[target]
name = "app"
base_url = "http://127.0.0.1:8000"

[requests.protected]
path = "/api/protected"
"""


def write(tmp_path: Path, text: str, name: str = "spec.toml") -> Path:
    """``text`` as ``tmp_path/name``; its path."""
    path = tmp_path / name
    path.write_text(text)
    return path


__all__ = ["MINIMAL", "TARGETS", "write"]
