"""Argument checks of the control plane and the error they raise.

Shared by :class:`harness.control.Control` and the HTTP face, so a bad
argument names the same field whether it came from Python or from JSON.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any, Iterable

from harness.clock import EARLIEST, LATEST

MAX_INT = 2**63 - 1
"""The largest integer a control-plane field takes (seeds, counts, ids): what an int64 holds."""
MAX_SECONDS = LATEST - EARLIEST
"""The largest duration: the clock's whole range."""


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


def _shown(value: Any) -> str:
    """A value for an error message, cut short (a 10,000-digit integer must not come back whole)."""
    text = repr(value) if not isinstance(value, int) or abs(value) < 10**30 else f"an integer of {len(str(value))} digits"
    return text if len(text) <= 80 else text[:77] + "..."


def check_number(field: str, value: Any, minimum: float = -MAX_SECONDS, maximum: float = MAX_SECONDS) -> float:
    """A finite JSON number (not a bool) within ``minimum .. maximum``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ControlError(field, f"expected a number, got {_shown(value)}")
    if isinstance(value, int) and not minimum <= value <= maximum:  # before float(): 10**400 overflows it
        raise ControlError(field, f"expected a number from {minimum:.15g} to {maximum:.15g}, got {_shown(value)}")
    if not math.isfinite(value) or not minimum <= value <= maximum:
        raise ControlError(field, f"expected a finite number from {minimum:.15g} to {maximum:.15g}, got {_shown(value)}")
    return float(value)


def check_int(field: str, value: Any, minimum: int | None = None, maximum: int = MAX_INT) -> int:
    """A JSON integer (not a bool, not 1.0) within ``minimum .. maximum``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ControlError(field, f"expected an integer, got {_shown(value)}")
    if minimum is not None and value < minimum:
        raise ControlError(field, f"expected an integer >= {minimum}, got {_shown(value)}")
    if value > maximum:
        raise ControlError(field, f"expected an integer <= {maximum}, got {_shown(value)}")
    return value


def check_bool(field: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ControlError(field, f"expected true or false, got {_shown(value)}")
    return value


def check_str(field: str, value: Any, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value:
        raise ControlError(field, f"expected a non-empty string, got {_shown(value)}")
    return value


def check_choice(field: str, value: Any, choices: Iterable[str], *, optional: bool = False) -> str | None:
    options = tuple(choices)
    if value is None and optional:
        return None
    if not isinstance(value, str) or value not in options:
        raise ControlError(field, f"expected one of {', '.join(options)}, got {_shown(value)}")
    return str(value)


def check_object(field: str, value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ControlError(field, f"expected an object, got {type(value).__name__}")
    return value


def check_instant(field: str, value: Any) -> float:
    """Epoch seconds (a number) or an ISO-8601 string ("2030-01-01T00:00:00Z"), within what the
    clock can show (1970-01-01 .. 9999-12-31T23:59:59Z)."""
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=timezone.utc)
            instant = parsed.timestamp()
        except (ValueError, OverflowError):
            raise ControlError(field, f"expected epoch seconds or an ISO-8601 time, got {_shown(value)}") from None
        if not EARLIEST <= instant <= LATEST:
            raise ControlError(field, f"expected an instant from 1970-01-01 to 9999-12-31T23:59:59Z, got {value!r}")
        return instant
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ControlError(field, f"expected epoch seconds or an ISO-8601 time, got {_shown(value)}")
    return check_number(field, value, EARLIEST, LATEST)


__all__ = [
    "MAX_INT",
    "MAX_SECONDS",
    "ControlError",
    "check_bool",
    "check_choice",
    "check_instant",
    "check_int",
    "check_number",
    "check_object",
    "check_str",
]
