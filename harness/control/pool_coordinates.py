"""A pool's coordinates read from the emulator's state: what ``serve``, ``env`` and ``harness.start()`` hand over.

``cognito-harness serve`` prints them (and writes its ``--env-file``), ``GET /_harness/coordinates``
answers them to ``cognito-harness env`` for a server already running, and ``emu.pool`` carries
them in process: all three build them here, from the live state, so they cannot disagree (and a
server restarted on a saved state answers what it holds now).

A part of :class:`harness.control.Control` (which inherits it), kept apart to keep modules small;
:class:`harness.control.client.RemoteControl` has the same method over HTTP.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from harness.control.checks import ControlError, check_str
from harness.coordinates import PoolCoordinates, hosted_ui_url
from harness.engine.models import AppClient, UserPool

if TYPE_CHECKING:  # pragma: no cover
    from harness.engine.store import Backend


def _pick_pool(backend: Backend, pool_id: str | None) -> UserPool:
    if pool_id is None:
        if not backend.pools:
            raise ControlError("pool_id", "the emulator holds no user pool: load one (POST /_harness/pools, "
                                          "or `cognito-harness serve --pool FILE`)", 404)
        return next(iter(backend.pools.values()))  # the first created: the one `serve` loaded
    check_str("pool_id", pool_id)
    pool = backend.pools.get(pool_id)
    if pool is None:
        raise ControlError("pool_id", f"no user pool {pool_id!r} (have: {', '.join(backend.pools) or 'none'})", 404)
    return pool


def _pick_client(pool: UserPool, client: str | None) -> AppClient | None:
    """``client`` by id or by name; by default the first public client (else the first), as ``serve`` chooses."""
    clients = list(pool.clients.values())
    if client is None:
        return next((c for c in clients if c.secret is None), clients[0] if clients else None)
    check_str("client", client)
    found = pool.clients.get(client) or next((c for c in clients if c.name == client), None)
    if found is None:
        names = ", ".join(c.name for c in clients) or "none"
        raise ControlError("client", f"pool {pool.pool_id} has no app client named or with id {client!r} "
                                     f"(have: {names})", 404)
    return found


def pool_coordinates(backend: Backend, pool_id: str | None = None, client: str | None = None) -> PoolCoordinates:
    """The coordinates of ``pool_id`` (default: the first pool) for ``client`` (an id or a name)."""
    with backend.transaction():
        pool = _pick_pool(backend, pool_id)
        app = _pick_client(pool, client)
        endpoint = backend.settings.public_url
        identity_pool = next((ip.pool_id for ip in backend.identity.pools.values()
                              if any(p.provider_name.endswith(f"/{pool.pool_id}")
                                     for p in ip.cognito_identity_providers)), "")
        return PoolCoordinates(
            region=pool.region,
            pool_id=pool.pool_id,
            client_id=app.client_id if app else "",
            client_secret=(app.secret or "") if app else "",
            issuer=backend.issuer(pool),
            jwks_url=backend.jwks_url(pool),
            endpoint=endpoint,
            domain=hosted_ui_url(endpoint, pool.pool_id),
            identity_pool_id=identity_pool,
            clients=tuple((c.name, c.client_id, c.secret or "") for c in pool.clients.values()),
        )


class CoordinateControls:
    """``coordinates``: what :class:`~harness.control.Control` offers under ``/_harness/coordinates``."""

    backend: Backend

    def coordinates(self, pool_id: str | None = None, client: str | None = None) -> dict[str, Any]:
        """A pool's coordinates and the shell exports that carry them (client secrets included: the
        control plane is the server's own, guarded by its token)."""
        coords = pool_coordinates(self.backend, pool_id, client)
        return {"pool_id": coords.pool_id, "client_id": coords.client_id,
                "exports": [[name, value] for name, value in coords.exports()]}
