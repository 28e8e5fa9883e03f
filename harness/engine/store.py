"""The engine's store: every pool plus the clock, ids, events, mailbox and faults.

This is the one place mutable emulator state lives, and :class:`Backend` is the
one door into it: cognito-idp operations enter through :meth:`Backend.call`;
the hosted UI, pool definitions and the control plane enter through
:meth:`Backend.transaction`; the well-known endpoints through their lookups
(:meth:`Backend.jwks`, :meth:`Backend.discovery`). Both take the
store lock (:class:`~harness.engine.storelock.StoreLock`), so concurrent HTTP
requests see a consistent pool and events come out in one order.
The external IdPs the pool federates with are injected (:class:`ExternalIdPs`):
the engine knows nothing of the fake ones.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa

from harness.clock import Clock
from harness.engine.common import find_domain
from harness.engine.discovery import discovery_document
from harness.engine.events import DEFAULT_MAX_EVENTS, DISCOVERY_FETCH, FAULT_TRIGGERED, JWKS_FETCH, EventLog
from harness.engine.external_idps import ExternalIdPs, NoFakeIdPs
from harness.engine.faults import Faults
from harness.engine.identity import load_identity_operations
from harness.engine.identity.models import IdentityState
from harness.engine.keys import KeyRing
from harness.engine.messaging import Mailbox
from harness.engine.models import UserPool
from harness.engine import outbound
from harness.engine.passwords import ProvenPasswords
from harness.engine.ops import load_operations
from harness.engine.rsakeys import rsa_key_from_seed
from harness.engine.storelock import StoreLock
from harness.engine.triggers import TriggerRegistry
from harness.errors import CognitoError, Err
from harness.ids import IdFactory
from harness.protocol import COGNITO_IDENTITY, COGNITO_IDP, Service, modeled_errors, service_model


@dataclass
class Settings:
    region: str = "us-east-1"
    account_id: str = "123456789012"
    public_url: str = "http://127.0.0.1:9229"  # where this emulator is reachable (issuer, JWKS)
    outbound_ca: str | None = None  # a CA bundle the outbound calls trust (serve --tls: the machine CA + public)
    daily_email_limit: int | None = None  # COGNITO_DEFAULT quota; None = unlimited
    seeded_keys: bool = False  # derive RSA keys from the seed (reproducible tokens)


class Backend:
    """All emulator state. One per emulator instance (server or in-process)."""

    def __init__(
        self,
        seed: int | None = None,
        region: str = "us-east-1",
        clock: Clock | None = None,
        public_url: str = "http://127.0.0.1:9229",
        external_idps: Callable[[Backend], ExternalIdPs] | None = None,
        max_events: int = DEFAULT_MAX_EVENTS,  # the event log's ring size (harness.engine.events)
    ) -> None:
        self._lock = StoreLock()
        self.settings = Settings(region=region, public_url=public_url, seeded_keys=seed is not None)
        self.clock = clock or Clock()
        self.ids = IdFactory(seed)
        self.events = EventLog(self.clock.now, max_events)
        self.mailbox = Mailbox()
        self.faults = Faults()
        self.pools: dict[str, UserPool] = {}
        self.identity = IdentityState()  # identity pools, identities, issued credentials (cognito-identity)
        # federation: the external IdPs (injected; the fake ones come from harness.fake_idps) and triggers
        self.idps: ExternalIdPs = external_idps(self) if external_idps is not None else NoFakeIdPs()
        self.triggers = TriggerRegistry()
        self.proven_passwords = ProvenPasswords()  # in memory only: never in a snapshot
        self.operations = load_operations()
        self.identity_operations = load_identity_operations()
        self._tables = {COGNITO_IDP: self.operations, COGNITO_IDENTITY: self.identity_operations}
        self.unmodeled_errors: list[tuple[str, str, str]] = []

    # --- lifecycle ------------------------------------------------------------

    @property
    def seed(self) -> int:
        return self.ids.seed

    def reset(self, seed: int | None = None) -> None:
        """Forget every pool, message, event and fault; restart ids from the seed."""
        with self._lock:
            if seed is not None:
                self.settings.seeded_keys = True
            self.ids.reseed(seed)
            self.pools.clear()
            self.identity.clear()
            self.mailbox.clear()
            self.events.clear()
            self.faults.clear()
            self.idps.clear()
            self.triggers.clear()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Backend]:
        """The store lock, for compound work from outside the engine (control plane, hosted UI, pool
        definitions): everything inside sees one consistent state. Re-entrant."""
        with self._lock:
            yield self

    def lock_released(self) -> contextlib.AbstractContextManager[None]:
        """Inside an operation: set the store lock down for pure work (RSA signing, a trigger that may
        call back into the emulator), then take it up again."""
        return self._lock.released()

    # --- dispatch -------------------------------------------------------------

    def call(self, operation: str, params: dict[str, Any] | None = None,
             service: Service = COGNITO_IDP) -> dict[str, Any]:
        """Run one operation of ``service`` (cognito-idp unless told) with API-shaped members;
        raise CognitoError."""
        fault = self.faults.on_call(operation)
        if fault is not None:
            self.events.emit(FAULT_TRIGGERED, None, kind=fault.kind, operation=operation, fault_id=fault.id)
            raise (Err.THROTTLED if fault.kind == "throttle" else Err.INTERNAL_ERROR).error()
        handler = self._tables[service].get(operation)
        if handler is None:
            if operation in service_model(service).operation_names:
                raise Err.NOT_EMULATED.error(operation=operation)
            raise Err.UNKNOWN_OPERATION.error(detail=f"Unknown operation {operation}")
        with self._lock:
            try:
                return handler(self, dict(params or {}))
            except CognitoError as error:
                self._check_modeled(operation, error, service)
                raise

    def _check_modeled(self, operation: str, error: CognitoError, service: Service) -> None:
        """Record an error type the botocore model does not list for the operation.

        A real pool only sends modeled errors; the harness's own tests assert
        this list stays empty, so every rule's error is checked against the model.
        """
        if error.type not in modeled_errors(operation, service):
            self.unmodeled_errors.append((operation, error.type, error.message))

    # --- lookups shared by operations ------------------------------------------

    def jwks(self, pool_id: str, **requester: str) -> dict[str, Any] | None:
        """The pool's published keys (None: no such pool), recorded as a JWKS fetch by ``requester``."""
        with self._lock:
            pool = self.pools.get(pool_id)
            if pool is None:
                return None
            keys = pool.keyring.jwks()
            self.events.emit(JWKS_FETCH, pool_id, **requester)
            return keys

    def discovery(self, pool_id: str, **requester: str) -> dict[str, Any] | None:
        """The pool's OpenID discovery document (None: no such pool), recorded as a fetch by ``requester``."""
        with self._lock:
            pool = self.pools.get(pool_id)
            if pool is None:
                return None
            doc = discovery_document(pool_id, self.issuer(pool), self.jwks_url(pool), self.settings.public_url)
            self.events.emit(DISCOVERY_FETCH, pool_id, **requester)
            return doc

    def pool_of_domain(self, domain: str) -> str | None:
        """The id of the pool whose hosted-UI domain prefix is ``domain``, if any."""
        with self._lock:
            found = find_domain(self, domain)
            return found.pool_id if found is not None else None

    def pool(self, pool_id: str) -> UserPool:
        pool = self.pools.get(pool_id)
        if pool is None:
            raise Err.POOL_NOT_FOUND.error(pool_id=pool_id)
        return pool

    def new_keyring(self, pool_id: str) -> KeyRing:
        return KeyRing(pool_id=pool_id, make_key=self._make_key, make_kid=self.ids.kid, now=self.clock.now)

    def _make_key(self, label: str) -> rsa.RSAPrivateKey:
        if self.settings.seeded_keys:
            return rsa_key_from_seed(f"{self.seed}:{label}")
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def outbound_reach(self) -> outbound.Reach:
        """How the pool calls external IdPs: their timeout, and the CAs it trusts."""
        return outbound.Reach(self.idps.client_timeout, self.settings.outbound_ca or True)

    def issuer(self, pool: UserPool) -> str:
        if pool.issuer_mode == "aws":
            return f"https://cognito-idp.{pool.region}.amazonaws.com/{pool.pool_id}"
        return f"{self.settings.public_url.rstrip('/')}/{pool.pool_id}"

    def jwks_url(self, pool: UserPool) -> str:
        return f"{self.settings.public_url.rstrip('/')}/{pool.pool_id}/.well-known/jwks.json"


__all__ = ["Backend", "CognitoError", "ExternalIdPs", "Settings"]
