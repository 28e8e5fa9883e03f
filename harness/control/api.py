"""The control plane: what no real user pool offers, on demand, from Python.

``Control(backend)`` drives an in-process emulator; ``RemoteControl(url)``
drives a served one over ``/_harness/`` with the same method names, the same
arguments and the same JSON-shaped results, so a scenario does not care
which it holds::

    control = Control(emu.backend)            # or RemoteControl(emu.url)
    control.freeze(); control.advance(3600)   # virtual clock
    code = control.latest_code("ana@example.com", purpose="SIGN_UP")
    control.arm_fault("delivery_failure", operation="SignUp", count=1)
    control.rotate_keys(pool_id)              # old kids stay published
    bad = control.mint(pool_id, "ana", sign_with="none")

Concerns: lifecycle (info, reset), clock, mailbox, faults, keys, minting and
token status, events, snapshot/restore, identity-pool credentials
(:class:`~harness.control.identity_controls.IdentityControls`), a pool's coordinates
(:class:`~harness.control.pool_coordinates.CoordinateControls`). Bad arguments raise
:class:`ControlError` naming the argument (the HTTP face turns it into a 400,
or a 404 for an unknown pool, key, user or fault).
"""

from __future__ import annotations

import contextlib
import dataclasses
import tomllib
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Iterator

from harness.clock import ClockRangeError
from harness.control.checks import (
    ControlError,
    check_bool,
    check_choice,
    check_instant,
    check_int,
    check_number,
    check_object,
    check_str,
)
from harness.control.identity_controls import IdentityControls
from harness.control.keys import KeyControls
from harness.control.pool_coordinates import CoordinateControls
from harness.engine import auth_events
from harness.engine import snapshot as snap
from harness.engine import tokens
from harness.engine.common import find_user
from harness.engine.sessions import note_token, sweep_all
from harness.engine.events import TOKEN_MINTED
from harness.engine.faults import FAULT_KINDS
from harness.engine.models import AppClient, UserPool
from harness.engine.signing import SIGN_MODES, Signer, foreign_key, signer_for, with_overrides
from harness.engine.triggers import TRIGGER_NAMES
from harness.errors import CognitoError
from harness.pooldef import build as pooldef
from harness.protocol import service_model
from harness.version import __version__

if TYPE_CHECKING:  # pragma: no cover
    from harness.engine.store import Backend


CHANNELS = ("EMAIL", "SMS")

SIGN_WITH_HELP = SIGN_MODES
"""How :meth:`Control.mint` signs (see its docstring)."""


def _matches(actual: Any, wanted: Any) -> bool:
    """Event-data equality that also accepts the text form (HTTP query values)."""
    if actual == wanted:
        return True
    if isinstance(wanted, str) and not isinstance(actual, str) and actual is not None:
        text = str(actual).lower() if isinstance(actual, bool) else str(actual)
        return text == wanted
    return False


@contextlib.contextmanager
def _clock_field(field: str) -> Iterator[None]:
    """A clock change the clock refuses (out of its range) as a 400 naming ``field``; the clock is unchanged."""
    try:
        yield
    except ClockRangeError as exc:
        raise ControlError(field, str(exc)) from None


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).isoformat().replace("+00:00", "Z")


# --- the control plane ------------------------------------------------------------------------


class Control(KeyControls, IdentityControls, CoordinateControls):
    """The control plane over an in-process :class:`~harness.engine.store.Backend`."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    # --- lifecycle ----------------------------------------------------------------------------

    def info(self) -> dict[str, Any]:
        """Version, seed, region, clock and a summary of every pool."""
        b = self.backend
        with b.transaction():
            pools = [
                {
                    "pool_id": p.pool_id,
                    "name": p.name,
                    "issuer": b.issuer(p),
                    "jwks_url": b.jwks_url(p),
                    "clients": [
                        {"client_id": c.client_id, "name": c.name, "has_secret": c.secret is not None}
                        for c in p.clients.values()
                    ],
                    "users": len(p.users),
                    "groups": sorted(p.groups),
                }
                for p in b.pools.values()
            ]
            return {
                "service": "cognito-harness",
                "version": __version__,
                "seed": b.seed,
                "region": b.settings.region,
                "public_url": b.settings.public_url,
                "clock": self.clock(),
                "pools": pools,
                "messages": len(b.mailbox.list(include_failed=True)),
                "faults": len(b.faults.list()),
                "last_event": b.events.last_seq,
                "event_log": b.events.window().to_dict(),
            }

    def reset(self, seed: int | None = None) -> dict[str, Any]:
        """Forget every pool, message, fault and event; back to real time; ids restart from the seed."""
        if seed is not None:
            check_int("seed", seed, minimum=0)
        self.backend.reset(seed)
        self.backend.clock.reset()
        return self.info()

    def load_pool(
        self,
        path: str | None = None,
        definition: dict[str, Any] | None = None,
        toml: str | None = None,
        issuer: str | None = None,
    ) -> dict[str, Any]:
        """Create a pool from a definition (harness.pooldef): a file ``path``, a parsed
        ``definition`` dict or ``toml`` text; none of them = fixtures/pools/default.toml.
        Returns the handle (ids, client secrets, users with passwords) as a dict."""
        given = [name for name, value in (("path", path), ("definition", definition), ("toml", toml))
                 if value is not None]
        if len(given) > 1:
            raise ControlError(given[1], f"give one of path, definition or toml, not {' and '.join(given)}")
        check_choice("issuer", issuer, pooldef.ISSUER_MODES, optional=True)
        with self.backend.transaction():  # a definition refused half-way leaves nothing behind
            before = snap.checkpoint(self.backend)
            try:
                return self._build_pool(path, definition, toml, issuer, given)
            except ControlError:
                snap.roll_back(self.backend, before)
                raise

    def _build_pool(self, path: str | None, definition: dict[str, Any] | None, toml: str | None,
                    issuer: str | None, given: list[str]) -> dict[str, Any]:
        try:
            if toml is not None:
                check_str("toml", toml)
                try:
                    definition = tomllib.loads(toml)
                except tomllib.TOMLDecodeError as exc:
                    raise ControlError("toml", f"not valid TOML: {exc}") from None
            if definition is not None:
                handle = pooldef.build_pool(self.backend, check_object("definition", definition),
                                            "<definition>", issuer=issuer)
            else:
                handle = pooldef.load_pool(self.backend, check_str("path", path, optional=True), issuer=issuer)
        except pooldef.PoolDefinitionError as exc:
            raise ControlError(f"definition.{exc.key}" if exc.key else given[0] if given else "definition",
                               str(exc)) from None
        return dataclasses.asdict(handle)

    # --- clock ------------------------------------------------------------------------------------

    def clock(self) -> dict[str, Any]:
        """The clock's mode ("real", "frozen", "offset"), now (epoch seconds and ISO) and offset."""
        state = self.backend.clock.state()
        return {"mode": state.mode, "now": state.now, "iso": _iso(state.now), "offset": state.offset}

    def now(self) -> float:
        return self.backend.clock.now()

    def freeze(self, at: float | str | None = None) -> dict[str, Any]:
        """Stop time at ``at`` (epoch seconds or ISO-8601; default: now)."""
        instant = None if at is None else check_instant("at", at)
        with _clock_field("at"):
            self.backend.clock.freeze(instant)
        return self.clock()

    def unfreeze(self) -> dict[str, Any]:
        """Let time run again from where it stands."""
        self.backend.clock.unfreeze()
        return self.clock()

    def advance(self, seconds: float) -> dict[str, Any]:
        """Move time forward (negative: back) by ``seconds``, frozen or not."""
        step = check_number("seconds", seconds)
        with _clock_field("seconds"):
            self.backend.clock.advance(step)
        sweep_all(self.backend)  # drop the sessions, codes, challenges the new time made useless
        return self.clock()

    def set(self, at: float | str) -> dict[str, Any]:
        """Jump to an absolute instant, keeping the mode."""
        instant = check_instant("at", at)
        with _clock_field("at"):
            self.backend.clock.set(instant)
        sweep_all(self.backend)
        return self.clock()

    # --- mailbox ----------------------------------------------------------------------------------

    def messages(
        self,
        to: str | None = None,
        purpose: str | None = None,
        include_failed: bool = False,
        pool_id: str | None = None,
    ) -> list[dict[str, Any]]:
        """Emails and SMS the pools sent, oldest first (failed ones only with ``include_failed``)."""
        check_str("to", to, optional=True)
        check_str("purpose", purpose, optional=True)
        check_str("pool_id", pool_id, optional=True)
        check_bool("include_failed", include_failed)
        return [m.to_dict() for m in self.backend.mailbox.list(to, purpose, pool_id, include_failed)]

    def latest_code(self, to: str | None, purpose: str | None = None) -> str | None:
        """The code in the newest delivered message to ``to`` (and of ``purpose``), or None."""
        check_str("to", to, optional=True)
        check_str("purpose", purpose, optional=True)
        return self.backend.mailbox.latest_code(to, purpose)

    def clear_mailbox(self) -> int:
        """Empty the mailbox; returns how many messages were dropped."""
        return self.backend.mailbox.clear()

    # --- faults -----------------------------------------------------------------------------------

    def arm_fault(
        self,
        kind: str,
        operation: str | None = None,
        recipient: str | None = None,
        channel: str | None = None,
        count: int | None = None,
        trigger: str | None = None,
        message: str | None = None,
    ) -> dict[str, Any]:
        """Arm a fault (see harness.engine.faults for kinds); ``count`` None = until cleared.

        Trigger faults (trigger_timeout, trigger_error, trigger_garbage) take ``trigger`` (a LambdaConfig
        trigger name; None = any) and, for trigger_error, the function's error ``message``.
        """
        check_choice("kind", kind, FAULT_KINDS)
        check_choice("trigger", trigger, TRIGGER_NAMES, optional=True)
        check_str("message", message, optional=True)
        if operation is not None:
            check_str("operation", operation)
            if operation not in service_model().operation_names:
                raise ControlError("operation", f"{operation!r} is not a cognito-idp operation name (e.g. SignUp)")
        check_str("recipient", recipient, optional=True)
        check_choice("channel", channel, CHANNELS, optional=True)
        if count is not None:
            check_int("count", count, minimum=1)
        return self.backend.faults.arm(kind, operation, recipient, channel, count, trigger, message).to_dict()

    def faults(self) -> list[dict[str, Any]]:
        return [f.to_dict() for f in self.backend.faults.list()]

    def clear_faults(self, id: int | None = None) -> int:  # noqa: A002 - the fault's id
        """Disarm one fault (by id) or all; returns how many were disarmed."""
        if id is None:
            return self.backend.faults.clear()
        check_int("id", id)
        cleared = self.backend.faults.clear(id)
        if not cleared:
            raise ControlError("id", f"no armed fault with id {id}", 404)
        return cleared

    # --- minting and token status --------------------------------------------------------------

    def _client(self, pool: UserPool, client_id: Any) -> AppClient:
        if client_id is None:
            if not pool.clients:
                raise ControlError("client_id", f"pool {pool.pool_id} has no app client", 404)
            return next(iter(pool.clients.values()))
        check_str("client_id", client_id)
        client = pool.clients.get(client_id)
        if client is None:
            raise ControlError("client_id", f"pool {pool.pool_id} has no app client {client_id!r}", 404)
        return client

    def mint(
        self,
        pool_id: str,
        username: str,
        token_use: str = "access",
        client_id: str | None = None,
        claims: dict[str, Any] | None = None,
        header: dict[str, Any] | None = None,
        sign_with: str = "pool",
        expires_in: float | None = None,
        issued_at: float | str | None = None,
    ) -> str:
        """A token for a user, as the pool would issue it, then bent as asked.

        The claims are Cognito's exactly (a new session is opened, so the
        token carries ``origin_jti`` and a global sign-out revokes it);
        ``issued_at`` sets ``iat``/``auth_time`` (default: the virtual now),
        ``expires_in`` sets ``exp = iat + expires_in`` (negative: already
        expired; default: the client's validity). ``claims`` and ``header``
        override members, ``None`` deletes one (e.g. ``{"exp": None}``,
        ``{"kid": None}``; header extras such as ``jku``, ``jwk``, ``x5u``
        or ``alg`` land verbatim).

        ``sign_with``:

        * ``"pool"``: RS256 with the pool's active key for ``token_use`` (a real token).
        * ``"foreign"``: RS256 with a key the pool never published (derived
          from the seed, see :meth:`foreign_jwk`); the header keeps the
          pool's kid, so it looks right and only the signature is wrong.
        * ``"none"``: ``alg: none`` and an empty signature (override
          ``header={"alg": "NoNe"}`` for other spellings).
        * ``"hs256-public-key"``: HS256 keyed with the pool key's public PEM
          (SubjectPublicKeyInfo, as in the JWKS): algorithm confusion.
        * ``"hs256:<secret>"``: HS256 with that secret (``"hs256:"`` = empty key).
        * ``"retired:<kid>"``: RS256 with that pool key, whatever its state
          (retired, unpublished or active), kid in the header.
        """
        check_choice("token_use", token_use, ("access", "id"))
        check_str("username", username)
        overrides = check_object("claims", claims)
        header_overrides = check_object("header", header)
        check_str("sign_with", sign_with)
        if expires_in is not None:
            check_number("expires_in", expires_in)
        iat = None if issued_at is None else int(check_instant("issued_at", issued_at))
        b = self.backend
        with b.transaction():
            pool = self._pool(pool_id)
            client = self._client(pool, client_id)
            user = find_user(pool, username)
            if user is None:
                raise ControlError("username", f"pool {pool.pool_id} has no user {username!r}", 404)
            signer = self._signer(pool, token_use, sign_with)
            now = b.clock.now_int() if iat is None else iat
            session, _ = tokens.open_session(b, pool, client, user, [tokens.ADMIN_SCOPE], auth_time=now)
            if token_use == "access":
                built = tokens.access_token_claims(b, pool, client, user, session, now, now, session.scopes)
            else:
                built = tokens.id_token_claims(b, pool, client, user, session, now, now)
            if expires_in is not None:
                built["exp"] = now + int(expires_in)
            final = with_overrides(built, overrides)
            note_token(pool, session, final)  # its family (even with origin_jti overridden) and expiry
            b.events.emit(
                TOKEN_MINTED, pool.pool_id, username=user.username, sub=user.sub, client_id=client.client_id,
                token_use=token_use, sign_with=sign_with, jti=final.get("jti"), origin_jti=session.origin_jti,
            )
        return signer(final, header_overrides)  # claims built under the lock, signed after it

    def _signer(self, pool: UserPool, token_use: str, sign_with: str) -> Signer:
        """The signing function for one ``sign_with`` mode (rules in harness.engine.signing)."""
        try:
            return signer_for(
                sign_with,
                pool.keyring.active(token_use),  # type: ignore[arg-type]
                lambda: foreign_key(self.backend.seed),
                lambda kid: self._key(pool, kid, field="sign_with"),
            )
        except ControlError:
            raise  # an unknown retired:<kid> (404), already named
        except ValueError as exc:
            raise ControlError("sign_with", str(exc)) from None

    def feedback_token(self, pool_id: str, username: str, event_id: str) -> str:
        """The FeedbackToken of an auth event, as the one-click links of Cognito's risk-notification
        email carry it (the emulator sends no such email): for UpdateAuthEventFeedback."""
        check_str("username", username)
        check_str("event_id", event_id)
        with self.backend.transaction():
            pool = self._pool(pool_id)
            user = find_user(pool, username)
            if user is None:
                raise ControlError("username", f"pool {pool.pool_id} has no user {username!r}", 404)
            try:
                auth_events.find(self.backend, pool, user, event_id)
            except CognitoError as error:
                raise ControlError("event_id", error.message, 404) from None
            return auth_events.feedback_token(self.backend, pool, user, event_id)

    def token_status(self, token: str) -> dict[str, Any]:
        """Known? Which pool, user, session; revoked (and why), expired, active."""
        check_str("token", token)
        return tokens.token_status(self.backend, token)

    # --- events -----------------------------------------------------------------------------------

    def events(
        self,
        type: str | None = None,  # noqa: A002 - the event's type
        since: int = 0,
        pool_id: str | None = None,
        **match: Any,
    ) -> list[dict[str, Any]]:
        """Events after sequence number ``since``; ``type`` may end in ``*`` ("token.*");
        other keyword arguments must equal members of the event's data."""
        return self.event_page(type, since, pool_id, **match)["events"]

    def event_page(
        self,
        type: str | None = None,  # noqa: A002
        since: int = 0,
        pool_id: str | None = None,
        *,
        count_only: bool = False,
        **match: Any,
    ) -> dict[str, Any]:
        """``{"events", "count"}`` (only ``count`` if ``count_only``) plus, read at the same instant, what
        the ring holds (see :meth:`event_log`): ``missed`` > 0 means events after ``since`` were pushed out."""
        check_str("type", type, optional=True)
        check_int("since", since, minimum=0)
        check_str("pool_id", pool_id, optional=True)
        found, window = self.backend.events.read(type, pool_id=pool_id, since=since)
        kept = [e for e in found if all(_matches(e.data.get(k), v) for k, v in match.items())]
        page: dict[str, Any] = {"count": len(kept), **window.to_dict()}
        if not count_only:
            page["events"] = [e.to_dict() for e in kept]
        return page

    def event_log(self, since: int = 0) -> dict[str, Any]:
        """The event ring: ``max_events`` (its size), ``held``, ``oldest_seq`` (the oldest event still
        held), ``last_seq``, ``dropped`` (pushed out since the last reset) and ``missed`` (how many of
        those came after ``since``: the history a reader asking from ``since`` lost)."""
        check_int("since", since, minimum=0)
        return self.backend.events.window(since).to_dict()

    def event_count(
        self,
        type: str | None = None,  # noqa: A002
        since: int = 0,
        pool_id: str | None = None,
        **match: Any,
    ) -> int:
        return int(self.event_page(type, since, pool_id, count_only=True, **match)["count"])

    def last_event(self) -> int:
        """The sequence number of the newest event (use as ``since`` later)."""
        return self.backend.events.last_seq

    # --- snapshot ---------------------------------------------------------------------------------

    def snapshot(self, include_secrets: bool = False) -> dict[str, Any]:
        """The whole emulator state as a JSON-able dict.

        Private keys, password material and client secrets are left out unless
        ``include_secrets``; only a snapshot with them can be restored."""
        return snap.dump(self.backend, check_bool("include_secrets", include_secrets))

    def snapshot_capture(self, include_secrets: bool = False) -> snap.Capture:
        """A consistent copy of the state (taken under the store lock, nothing encoded yet), for
        streaming the snapshot with :func:`harness.engine.snapshot.stream` outside the lock."""
        return snap.capture(self.backend, check_bool("include_secrets", include_secrets))

    def restore(self, snapshot: dict[str, Any]) -> dict[str, Any]:
        """Bring back a :meth:`snapshot` (taken with secrets) exactly; returns :meth:`info`.

        The whole snapshot is checked first: a bad one raises ControlError naming the member
        (``snapshot.pools.<pool id>.users.<name>.groups``) and changes nothing."""
        try:
            snap.load(self.backend, snapshot)
        except snap.SnapshotError as exc:
            raise ControlError(f"snapshot.{exc.field}" if exc.field != "snapshot" else "snapshot", exc.message) from None
        return self.info()


__all__ = ["Control", "ControlError", "SIGN_WITH_HELP"]
