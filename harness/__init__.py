"""cognito-harness: a faithful local Amazon Cognito User Pool with a control plane,
and a runner that tests applications against it."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from harness.version import __version__

if TYPE_CHECKING:  # pragma: no cover
    from harness.server import Emulator


def start(pool: str | os.PathLike[str] | bool | None = True, **kwargs: Any) -> Emulator:
    """Start an in-process emulator on a free loopback port, with a pool, as ``serve`` starts (one line in a test).

    ``pool``: True (the default) loads fixtures/pools/default.toml, a path loads that pool
    definition, None or False starts with no pool. ``emu.pool`` holds the pool's coordinates
    (:class:`harness.coordinates.PoolCoordinates`: ``pool_id``, ``client_id``, ``issuer``,
    ``jwks_url``, ``env()``...) and ``emu.pool_handle`` its users and passwords. Other keyword
    arguments go to :class:`harness.server.Emulator` (``seed``, ``control_token``, ``state``: a state file
    or directory kept across restarts, whose saved state, once there is one, is used instead of ``pool``).

    >>> emu = harness.start(seed=1)
    >>> client_id = emu.pool.client_id    # the default pool's public client
    """
    # Deliberately lazy: ``import harness.<module>`` must stay cheap (the emulator pulls in boto3,
    # faker and the whole engine, about a second); nothing below the top of the package imports this.
    from harness.server import Emulator

    emu = Emulator.start(**kwargs)
    if pool is None or pool is False or emu.pool is not None:  # a saved state (state=DIR|FILE) gave the pool
        return emu
    try:
        emu.load_pool(None if pool is True else pool)
    except BaseException:
        emu.stop()  # a bad definition leaves no server behind
        raise
    return emu


__all__ = ["__version__", "start"]
