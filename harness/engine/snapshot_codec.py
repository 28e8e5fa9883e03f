"""The generic codec of snapshots: copy, encode and strictly decode model dataclasses by their type hints.

Three walks over the same type hints, so a field another module adds to
``models.py`` is carried (copied, written, checked, read back) without
touching this file:

* :func:`detached_copy`: a copy no later operation can change, cheap enough to
  take under the store lock (scalars are shared, containers and dataclasses
  are copied; frozen dataclasses, e.g. events, are shared as values);
* :func:`encode` / :func:`iter_json`: the JSON form, whole or as a stream of
  text pieces (taken outside the lock, from a detached copy);
* :func:`decode`: the JSON form back to typed values, refusing anything whose
  type does not fit (``null`` where the field is not optional, a string for a
  set, a member the class does not have), with the path of the member.

Fields whose metadata says ``secret`` (``harness.engine.models.SECRET``) and
private keys are written only when asked (``secrets=True``).
Integers too large for a JSON double (SRP verifiers) are written as
``"0x..."`` strings and read back as ints where the field is typed ``int``.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import functools
import gc
import json
import math
import operator
import sys
import types
import typing
from collections.abc import Callable, Iterator
from typing import Any, Union

from cryptography.hazmat.primitives import serialization

from harness.engine.keys import KeyRing

SAFE_INT = 2**53
STREAM_PIECE = 64 * 1024  # bytes per streamed piece
_ATOMS = (str, int, float, bool, type(None))
_ATOM_HINTS = (str, int, float, bool, type(None), typing.Any)


class SnapshotError(ValueError):
    """A snapshot that cannot be restored; ``field`` names the offending member (a path)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@functools.lru_cache(maxsize=None)
def hints(cls: type) -> dict[str, Any]:
    module = sys.modules[cls.__module__]
    return typing.get_type_hints(cls, vars(module))


def is_secret(f: dataclasses.Field[Any]) -> bool:
    return bool(f.metadata.get("secret"))


# --- detached copies (under the lock) ----------------------------------------------------------


def _atomic_hint(hint: Any) -> bool:
    """Whether every value of ``hint`` is immutable (shared, not copied)."""
    if hint in _ATOM_HINTS:
        return True
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        return all(_atomic_hint(a) for a in typing.get_args(hint))
    return origin is typing.Literal


class Detached(typing.NamedTuple):
    """A dataclass instance's field values, read under the lock: what the snapshot writes later.

    Cheaper than a copy of the instance (no ``__init__``, no rules of the class run)."""

    cls: type
    values: tuple[Any, ...]

    def members(self) -> Iterator[tuple[dataclasses.Field[Any], Any]]:
        return zip(dataclasses.fields(self.cls), self.values)


def _detached(pair: tuple[type, tuple[Any, ...]]) -> Detached:
    """``Detached(cls, values)`` without the Python-level ``__new__`` of a NamedTuple (hot path)."""
    return tuple.__new__(Detached, pair)  # type: ignore[type-var]


Copier = Callable[[Any], Any]
_SHALLOW: dict[Any, Copier] = {list: list, set: set, frozenset: frozenset, tuple: tuple, dict: dict}


def _field_copier(hint: Any) -> Copier:
    """A container of scalars (``list[str]``, ``dict[str, float] | None``) needs only a shallow copy,
    at C speed; anything else goes through :func:`detached_copy`."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        return _field_copier(options[0]) if len(options) == 1 else detached_copy
    if origin in _SHALLOW and args and all(_atomic_hint(a) for a in args if a is not Ellipsis):
        return _SHALLOW[origin]
    return detached_copy



@functools.lru_cache(maxsize=None)
def _copier(cls: type) -> Copier:
    """How to detach one instance of a dataclass, made once per class: every field read at C speed
    (``attrgetter``), only the fields whose type is not a scalar copied further. A frozen dataclass
    (events) is a value and is shared."""
    if cls.__dataclass_params__.frozen:  # type: ignore[attr-defined]
        return lambda value: value
    fields = dataclasses.fields(cls)
    types_of = hints(cls)
    deep = [(i, _field_copier(types_of.get(f.name, Any))) for i, f in enumerate(fields)
            if not _atomic_hint(types_of.get(f.name, Any))]
    read = operator.attrgetter(*(f.name for f in fields))
    if len(fields) == 1:
        return lambda value: _detached((cls, (detached_copy(read(value)),)))
    if not deep:
        return lambda value: _detached((cls, read(value)))

    def detach(value: Any) -> Detached:
        got = list(read(value))
        for i, copy_field in deep:
            item = got[i]
            if item is not None:
                got[i] = copy_field(item)
        return _detached((cls, tuple(got)))

    return detach


_RECORD_COPIERS: dict[type, Copier] = {}


def detached_copy(value: Any) -> Any:
    """A copy of model state that later mutations of the original cannot reach (dataclasses become
    :class:`Detached` values, which :func:`encode` and :func:`iter_json` write like the originals)."""
    known = _RECORD_COPIERS.get(type(value))  # the hot path: a session, a user
    if known is not None:
        return known(value)
    if isinstance(value, _ATOMS):
        return value
    if isinstance(value, dict):
        return {k: v if isinstance(v, _ATOMS) else detached_copy(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [v if isinstance(v, _ATOMS) else detached_copy(v) for v in value]
        return items if isinstance(value, list) else type(value)(items)
    if isinstance(value, KeyRing):
        ring = object.__new__(KeyRing)
        ring.__dict__.update(value.__dict__)
        ring.keys = [copy.copy(k) for k in value.keys]  # a key's fields are scalars and an immutable key
        return ring
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        made = _RECORD_COPIERS[type(value)] = _copier(type(value))
        return made(value)
    return value  # key objects and other immutable leaves


_PLAIN = (str, bool, float, type(None))


def _plain_hint(hint: Any) -> bool:
    """Whether values of ``hint`` are written as they are (no big-int or container handling)."""
    if hint in _PLAIN:
        return True
    if typing.get_origin(hint) in (Union, types.UnionType):
        return all(_plain_hint(a) for a in typing.get_args(hint))
    return typing.get_origin(hint) is typing.Literal


@functools.lru_cache(maxsize=None)
def _record_plan(cls: type, secrets: bool) -> tuple[tuple[int, str, bool], ...]:
    """(position, name, written as is) of the fields a snapshot writes, once per class."""
    types_of = hints(cls)
    return tuple((i, f.name, _plain_hint(types_of.get(f.name, Any))) for i, f in enumerate(dataclasses.fields(cls))
                 if secrets or not is_secret(f))


def _encode_detached(value: Detached, secrets: bool) -> dict[str, Any]:
    """The hot path of writing a snapshot: one session, one user."""
    values = value.values
    return {name: values[i] if plain else encode(values[i], secrets)
            for i, name, plain in _record_plan(value.cls, secrets)}


def _members(value: Any, secrets: bool) -> list[tuple[str, Any]]:
    """(name, value) of a dataclass instance or a Detached one, secrets only when asked."""
    pairs = value.members() if isinstance(value, Detached) else (
        (f, getattr(value, f.name)) for f in dataclasses.fields(value))
    return [(f.name, item) for f, item in pairs if secrets or not is_secret(f)]


def _is_record(value: Any) -> bool:
    return isinstance(value, Detached) or (dataclasses.is_dataclass(value) and not isinstance(value, type))


# --- encoding (outside the lock) --------------------------------------------------------------------


def encode(value: Any, secrets: bool = True) -> Any:
    """JSON-able form of model state (dataclasses, sets, dicts, lists, big ints)."""
    if isinstance(value, Detached):
        return _encode_detached(value, secrets)
    if isinstance(value, KeyRing):
        return _encode_keyring(value, secrets)
    if _is_record(value):
        return {name: encode(item, secrets) for name, item in _members(value, secrets)}
    if isinstance(value, bool) or value is None or isinstance(value, (str, float)):
        return value
    if isinstance(value, int):
        return hex(value) if abs(value) >= SAFE_INT else value
    if isinstance(value, dict):
        return {str(k): encode(v, secrets) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        return sorted((encode(v, secrets) for v in value), key=repr)
    if isinstance(value, (list, tuple)):
        return [encode(v, secrets) for v in value]
    raise TypeError(f"cannot snapshot a {type(value).__name__}")


def _encode_keyring(ring: KeyRing, secrets: bool) -> dict[str, Any]:
    keys = []
    for key in ring.keys:
        record = {f.name: encode(getattr(key, f.name)) for f in dataclasses.fields(key) if f.name != "private_key"}
        if secrets:
            record["private_key_pem"] = key.private_key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ).decode()
        else:
            record["public_key_pem"] = key.public_pem().decode()
        keys.append(record)
    return {"generation": ring.generation, "keys": keys}


_JSON = json.JSONEncoder(separators=(",", ":"))  # one encoder: json.dumps with options builds one per call


def _dumps(value: Any) -> str:
    return _JSON.encode(value)


STREAM_DEPTH = 4  # document > pools > pool > sessions > one session (written whole)


def _pieces(value: Any, secrets: bool, depth: int = 0) -> Iterator[str]:
    """JSON text of ``value`` in pieces: containers member by member down to STREAM_DEPTH, so no piece
    is a whole pool (or the whole event log); below that depth each value is written whole."""
    if depth >= STREAM_DEPTH or isinstance(value, (KeyRing, *_ATOMS)):
        yield _dumps(encode(value, secrets))
    elif _is_record(value):
        yield from _object_pieces(_members(value, secrets), secrets, depth)
    elif isinstance(value, dict):
        yield from _object_pieces([(str(k), v) for k, v in value.items()], secrets, depth)
    elif isinstance(value, (list, tuple)):
        yield "["
        for i, item in enumerate(value):
            if i:
                yield ","
            yield from _pieces(item, secrets, depth + 1)
        yield "]"
    else:
        yield _dumps(encode(value, secrets))


def _object_pieces(members: list[tuple[str, Any]], secrets: bool, depth: int) -> Iterator[str]:
    yield "{"
    for i, (name, item) in enumerate(members):
        yield ("," if i else "") + _dumps(name) + ":"
        yield from _pieces(item, secrets, depth + 1)
    yield "}"


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Hold the cyclic garbage collector off for a burst of allocation: copying or writing 100k
    sessions makes 100k short-lived tuples and dicts, and the collections they trigger walk the whole
    heap each time (2-3x the work itself). Nothing here makes cycles; the collector resumes after."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def iter_json(value: Any, secrets: bool = True) -> Iterator[bytes]:
    """UTF-8 JSON of ``value`` (the same document as ``json.dumps(encode(value))``) in ~64 KB pieces.
    The collector is held off while a piece is made, never across a ``yield``."""
    pieces = _pieces(value, secrets)
    while True:
        with gc_paused():
            buffer: list[str] = []
            size = 0
            for piece in pieces:
                buffer.append(piece)
                size += len(piece)
                if size >= STREAM_PIECE:
                    break
            chunk = "".join(buffer).encode()
        if not chunk:
            return
        yield chunk


# --- strict decoding ------------------------------------------------------------------------------------


def _optional(hint: Any) -> bool:
    return hint is Any or (typing.get_origin(hint) in (Union, types.UnionType) and type(None) in typing.get_args(hint))


def _kind(raw: Any) -> str:
    return "null" if raw is None else {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}.get(
        type(raw), "a number")


def decode(hint: Any, raw: Any, where: str) -> Any:
    """Rebuild a value of type ``hint`` from its :func:`encode` form, or SnapshotError at ``where``."""
    if hint is Any:
        return raw
    if raw is None:
        if _optional(hint):
            return None
        raise SnapshotError(where, "null where a value is required")
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        errors = []
        for option in options:  # the first option whose shape fits
            try:
                return decode(option, raw, where)
            except SnapshotError as exc:
                errors.append(exc.message)
        raise SnapshotError(where, " or ".join(errors))
    if origin is typing.Literal:
        if raw not in args:
            raise SnapshotError(where, f"expected one of {', '.join(map(repr, args))}")
        return raw
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        if not isinstance(raw, dict):
            raise SnapshotError(where, f"expected an object for {hint.__name__}, got {_kind(raw)}")
        return decode_dataclass(hint, raw, where)
    if origin is dict or hint is dict:
        if not isinstance(raw, dict):
            raise SnapshotError(where, f"expected an object, got {_kind(raw)}")
        value_hint = args[1] if args else Any
        return {k: decode(value_hint, v, f"{where}.{k}") for k, v in raw.items()}
    if origin in (set, frozenset, list, tuple) or hint in (set, frozenset, list, tuple):
        if not isinstance(raw, list):
            raise SnapshotError(where, f"expected an array, got {_kind(raw)}")
        item = args[0] if args else Any
        items = [decode(item, v, f"{where}[{i}]") for i, v in enumerate(raw)]
        kind = origin or hint
        try:
            return items if kind is list else kind(items)
        except TypeError:  # an unhashable member of a set
            raise SnapshotError(where, "expected an array of distinct values") from None
    return _decode_scalar(hint, raw, where)


def _decode_scalar(hint: Any, raw: Any, where: str) -> Any:
    if hint is int:
        if isinstance(raw, str) and raw.lstrip("-").startswith("0x"):
            try:
                return int(raw, 16)
            except ValueError:
                raise SnapshotError(where, "expected an integer or a 0x... string") from None
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise SnapshotError(where, f"expected an integer, got {_kind(raw)}")
        return raw
    if hint is float:
        if isinstance(raw, bool) or not isinstance(raw, (int, float)) or not math.isfinite(raw):
            raise SnapshotError(where, f"expected a finite number, got {_kind(raw)}")
        return float(raw)
    if hint in (str, bool):
        if not isinstance(raw, hint):
            raise SnapshotError(where, f"expected a {'string' if hint is str else 'boolean'}, got {_kind(raw)}")
        return raw
    raise SnapshotError(where, f"cannot restore a {getattr(hint, '__name__', hint)}")


def decode_dataclass(cls: type, raw: dict[str, Any], where: str) -> Any:
    """An instance of ``cls`` from its members (see :func:`dataclass_members`)."""
    members = dataclass_members(cls, raw, where)
    try:
        return cls(**members)
    except (TypeError, ValueError, KeyError) as exc:  # a rule of the class's own (__post_init__) refused it
        raise SnapshotError(where, f"not a valid {cls.__name__} ({exc})") from None


def dataclass_members(cls: type, raw: dict[str, Any], where: str, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """The decoded init members of ``cls`` (but ``skip``); unknown and missing required members are named."""
    types_of = hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init and f.name not in skip}
    for name in raw:
        if name not in fields and name not in skip:
            raise SnapshotError(f"{where}.{name}", f"{cls.__name__} has no such member")
    kwargs = {}
    for name, f in fields.items():
        if name in raw:
            kwargs[name] = decode(types_of.get(name, Any), raw[name], f"{where}.{name}")
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise SnapshotError(f"{where}.{name}", "required member is missing")
    return kwargs


__all__ = [
    "Detached",
    "SnapshotError",
    "dataclass_members",
    "decode",
    "decode_dataclass",
    "detached_copy",
    "encode",
    "gc_paused",
    "hints",
    "is_secret",
    "iter_json",
]
