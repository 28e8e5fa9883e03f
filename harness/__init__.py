"""cognito-harness: a faithful local Amazon Cognito User Pool with a control plane,
and a runner that tests applications against it."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def start(**kwargs: Any) -> Any:
    """Start an in-process emulator on a free loopback port (one line in a test).

    >>> emu = harness.start(seed=1)
    """
    from harness.server import Emulator

    return Emulator.start(**kwargs)


__all__ = ["__version__", "start"]
