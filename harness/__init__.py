"""cognito-harness: a faithful local Amazon Cognito User Pool with a control plane,
and a runner that tests applications against it."""

from __future__ import annotations

from typing import Any

from harness.version import __version__


def start(**kwargs: Any) -> Any:
    """Start an in-process emulator on a free loopback port (one line in a test).

    >>> emu = harness.start(seed=1)
    """
    # Deliberately lazy: ``import harness.<module>`` must stay cheap (the emulator pulls in boto3,
    # faker and the whole engine, about a second); nothing below the top of the package imports this.
    from harness.server import Emulator

    return Emulator.start(**kwargs)


__all__ = ["__version__", "start"]
