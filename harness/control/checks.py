"""Argument checks of the control plane and the error they raise.

Shared by :class:`harness.control.Control` and the HTTP face, so a bad
argument names the same field whether it came from Python or from JSON.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any, Iterable


class ControlError(ValueError):
    """Bad control-plane input. ``field`` names the argument; ``status`` is 400 or 404."""

    def __init__(self, field: str, message: str, status: int = 400) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.status = status

    def to_dict(self) -> dict[str, Any]:
        return {
            "error": "not_found" if self.status == 404 else "bad_request",
            "field": self.field,
            "message": self.message,
        }


# --- argument checks (shared with the HTTP face) ------------------------------------------


def check_number(field: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ControlError(field, f"expected a number, got {value!r}")
    return float(value)


def check_int(field: str, value: Any, minimum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ControlError(field, f"expected an integer, got {value!r}")
    if minimum is not None and value < minimum:
        raise ControlError(field, f"expected an integer >= {minimum}, got {value}")
    return value


def check_str(field: str, value: Any, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value:
        raise ControlError(field, f"expected a non-empty string, got {value!r}")
    return value


def check_choice(field: str, value: Any, choices: Iterable[str], *, optional: bool = False) -> str | None:
    options = tuple(choices)
    if value is None and optional:
        return None
    if value not in options:
        raise ControlError(field, f"expected one of {', '.join(options)}, got {value!r}")
    return str(value)


def check_object(field: str, value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ControlError(field, f"expected an object, got {type(value).__name__}")
    return value


def check_instant(field: str, value: Any) -> float:
    """Epoch seconds (a number) or an ISO-8601 string ("2030-01-01T00:00:00Z")."""
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise ControlError(field, f"expected epoch seconds or an ISO-8601 time, got {value!r}") from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=timezone.utc)
        return parsed.timestamp()
    return check_number(field, value)


__all__ = [
    "ControlError",
    "check_choice",
    "check_instant",
    "check_int",
    "check_number",
    "check_object",
    "check_str",
]
