"""Snapshot and restore of a whole Backend as plain JSON.

A snapshot captures everything that decides what the emulator answers next:
pools with their clients, users (password hashes, SRP salts and verifiers,
codes, lockout), groups, sessions and revocations, signing keys (private keys
as PEM, so tokens minted before the snapshot verify after a restore), the
clock, the mailbox, armed faults, the event log and the id generator's state
(so the ids handed out after a restore are the ones that would have come).

Model dataclasses are encoded generically from their type hints, so a field
another module adds to ``models.py`` is carried without touching this file.
Integers too large for a JSON double (SRP verifiers) are written as
``"0x..."`` strings and read back as ints where the field is typed ``int``.
"""

from __future__ import annotations

import dataclasses
import functools
import sys
import types
import typing
from typing import TYPE_CHECKING, Any, Union

from cryptography.hazmat.primitives import serialization

from harness.engine.events import Event
from harness.engine.faults import Fault
from harness.engine.keys import KeyRing, SigningKey
from harness.engine.messaging import Message
from harness.engine.models import UserPool
from harness.version import __version__

if TYPE_CHECKING:  # pragma: no cover
    from harness.engine.store import Backend

FORMAT = "cognito-harness/snapshot"
FORMAT_VERSION = 1
_SAFE_INT = 2**53


class SnapshotError(ValueError):
    """A snapshot that cannot be restored; ``field`` names the offending member."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


# --- generic dataclass codec ---------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def _hints(cls: type) -> dict[str, Any]:
    module = sys.modules[cls.__module__]
    return typing.get_type_hints(cls, vars(module))


def encode(value: Any) -> Any:
    """JSON-able form of model state (dataclasses, sets, dicts, lists, big ints)."""
    if isinstance(value, KeyRing):
        return _encode_keyring(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, bool) or value is None or isinstance(value, (str, float)):
        return value
    if isinstance(value, int):
        return hex(value) if abs(value) >= _SAFE_INT else value
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        return sorted((encode(v) for v in value), key=repr)
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    raise TypeError(f"cannot snapshot a {type(value).__name__}")


def decode(hint: Any, raw: Any, where: str) -> Any:
    """Rebuild a value of type ``hint`` from its :func:`encode` form."""
    if hint is Any or raw is None:
        return raw
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        if len(options) == 1:
            return decode(options[0], raw, where)
        for option in options:  # first option whose shape fits
            try:
                return decode(option, raw, where)
            except (SnapshotError, TypeError, ValueError):
                continue
        return raw
    if origin is typing.Literal:
        return raw
    if hint is KeyRing:
        raise SnapshotError(where, "key rings are restored by their pool")
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        if not isinstance(raw, dict):
            raise SnapshotError(where, f"expected an object for {hint.__name__}")
        return _decode_dataclass(hint, raw, where)
    if origin is dict:
        if not isinstance(raw, dict):
            raise SnapshotError(where, "expected an object")
        value_hint = args[1] if args else Any
        return {k: decode(value_hint, v, f"{where}.{k}") for k, v in raw.items()}
    if origin in (set, frozenset, list, tuple):
        if not isinstance(raw, list):
            raise SnapshotError(where, "expected an array")
        item = args[0] if args else Any
        items = [decode(item, v, f"{where}[{i}]") for i, v in enumerate(raw)]
        return origin(items) if origin is not list else items
    if hint is int:
        if isinstance(raw, str) and raw.lstrip("-").startswith("0x"):
            return int(raw, 16)
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise SnapshotError(where, "expected an integer")
        return raw
    if hint is float:
        if isinstance(raw, bool) or not isinstance(raw, (int, float)):
            raise SnapshotError(where, "expected a number")
        return float(raw)
    if hint in (str, bool) and not isinstance(raw, hint):
        raise SnapshotError(where, f"expected a {hint.__name__}")
    return raw


def _decode_dataclass(cls: type, raw: dict[str, Any], where: str) -> Any:
    hints = _hints(cls)
    kwargs = {}
    for f in dataclasses.fields(cls):
        if f.name in raw and f.init:
            kwargs[f.name] = decode(hints.get(f.name, Any), raw[f.name], f"{where}.{f.name}")
    return cls(**kwargs)


# --- keys ---------------------------------------------------------------------------------------


def _encode_keyring(ring: KeyRing) -> dict[str, Any]:
    keys = []
    for key in ring.keys:
        pem = key.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        record = {f.name: encode(getattr(key, f.name)) for f in dataclasses.fields(key) if f.name != "private_key"}
        record["private_key_pem"] = pem
        keys.append(record)
    return {"generation": ring.generation, "keys": keys}


@functools.lru_cache(maxsize=512)
def _private_key(pem: str) -> Any:
    """PEM -> key object, memoised: restoring a snapshot per scenario must not re-parse (and
    re-validate, ~30 ms for RSA) the same keys every time; key objects are immutable."""
    return serialization.load_pem_private_key(pem.encode(), password=None)


def _decode_keyring(backend: Backend, pool_id: str, raw: dict[str, Any], where: str) -> KeyRing:
    ring = backend.new_keyring(pool_id)
    ring.generation = int(raw.get("generation", 0))
    hints = _hints(SigningKey)
    for i, record in enumerate(raw.get("keys", [])):
        here = f"{where}.keys[{i}]"
        try:
            private = _private_key(record["private_key_pem"])
        except (KeyError, ValueError, TypeError, AttributeError) as exc:
            raise SnapshotError(f"{here}.private_key_pem", f"not a PEM private key ({exc})") from None
        fields = {
            f.name: decode(hints[f.name], record[f.name], f"{here}.{f.name}")
            for f in dataclasses.fields(SigningKey)
            if f.name != "private_key" and f.name in record
        }
        ring.keys.append(SigningKey(private_key=private, **fields))  # type: ignore[arg-type]
    return ring


# --- whole backend ------------------------------------------------------------------------------


def _decode_pool(backend: Backend, raw: dict[str, Any], where: str) -> UserPool:
    if not isinstance(raw, dict) or not isinstance(raw.get("pool_id"), str):
        raise SnapshotError(where, "expected a pool object with a pool_id")
    pool_raw = dict(raw)
    keyring_raw = pool_raw.pop("keyring", None) or {"keys": []}
    hints = _hints(UserPool)
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(UserPool):
        if f.name == "keyring":
            kwargs["keyring"] = _decode_keyring(backend, raw["pool_id"], keyring_raw, f"{where}.keyring")
        elif f.name in pool_raw:
            kwargs[f.name] = decode(hints[f.name], pool_raw[f.name], f"{where}.{f.name}")
    return UserPool(**kwargs)


def dump(backend: Backend) -> dict[str, Any]:
    """The whole backend as a JSON-able dict (see the module docstring)."""
    with backend.transaction():
        clock = backend.clock.state()
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "harness_version": __version__,
            "settings": {k: v for k, v in encode(backend.settings).items() if k != "public_url"},
            "clock": {"mode": clock.mode, "now": clock.now, "offset": clock.offset},
            "ids": {"seed": backend.ids.seed, "rng": list(backend.ids.state())},
            "pools": [encode(p) for p in backend.pools.values()],
            "mailbox": {
                "next_id": backend.mailbox.next_id,
                "messages": [m.to_dict() for m in backend.mailbox.list(include_failed=True)],
            },
            "faults": {
                "next_id": backend.faults.next_id,
                "armed": [f.to_dict() for f in backend.faults.list()],
            },
            "events": {
                "seq": backend.events.last_seq,
                "log": [encode(e.to_dict()) for e in backend.events.list()],
            },
        }


def _require(data: dict[str, Any], name: str, kind: type) -> Any:
    value = data.get(name)
    if not isinstance(value, kind):
        raise SnapshotError(name, f"missing or not a{'n' if kind is dict else ''} {kind.__name__}")
    return value


def load(backend: Backend, data: Any) -> None:
    """Replace the backend's state with a snapshot from :func:`dump`.

    Everything is decoded before anything is replaced, so a bad snapshot
    leaves the backend as it was.
    """
    if not isinstance(data, dict):
        raise SnapshotError("snapshot", "expected a JSON object")
    if data.get("format") != FORMAT:
        raise SnapshotError("format", f"expected {FORMAT!r}")
    if data.get("format_version") != FORMAT_VERSION:
        raise SnapshotError("format_version", f"expected {FORMAT_VERSION}")
    settings_raw = _require(data, "settings", dict)
    clock_raw = _require(data, "clock", dict)
    ids_raw = _require(data, "ids", dict)
    pools_raw = _require(data, "pools", list)
    mailbox_raw = _require(data, "mailbox", dict)
    faults_raw = _require(data, "faults", dict)
    events_raw = _require(data, "events", dict)

    pools = [_decode_pool(backend, p, f"pools[{i}]") for i, p in enumerate(pools_raw)]
    try:
        messages = [Message(**m) for m in mailbox_raw.get("messages", [])]
        faults = [Fault(**f) for f in faults_raw.get("armed", [])]
        log = [Event(**e) for e in events_raw.get("log", [])]
        rng_version, rng_internal, rng_gauss = ids_raw["rng"]
        rng_state = (rng_version, tuple(rng_internal), rng_gauss)
        seed = int(ids_raw["seed"])
        mode = clock_raw["mode"]
        clock_now = float(clock_raw["now"])
        clock_offset = float(clock_raw.get("offset", 0.0))
    except (TypeError, KeyError, ValueError) as exc:
        raise SnapshotError("snapshot", f"malformed member ({exc})") from None
    if mode not in ("real", "frozen", "offset"):
        raise SnapshotError("clock.mode", "expected real, frozen or offset")
    settings = {
        k: decode(hint, settings_raw[k], f"settings.{k}")
        for k, hint in _hints(type(backend.settings)).items()
        if k in settings_raw and k != "public_url"
    }

    with backend.transaction():
        for name, value in settings.items():
            setattr(backend.settings, name, value)
        backend.ids.set_state(seed, rng_state)
        backend.clock.reset()
        if mode == "frozen":
            backend.clock.freeze(clock_now)
        elif clock_offset:
            backend.clock.advance(clock_offset)
        backend.pools.clear()
        backend.pools.update({p.pool_id: p for p in pools})
        backend.mailbox.restore(messages, int(mailbox_raw.get("next_id", len(messages) + 1)))
        backend.faults.restore(faults, int(faults_raw.get("next_id", len(faults) + 1)))
        backend.events.restore(log, int(events_raw.get("seq", log[-1].seq if log else 0)))


__all__ = ["FORMAT", "FORMAT_VERSION", "SnapshotError", "decode", "dump", "encode", "load"]
