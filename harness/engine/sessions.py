"""Where sign-in sessions live, how they are found, and when they are forgotten.

Memory must not grow with use, so every per-sign-in record is dropped once
nothing can use it any more, on the virtual clock:

* a refresh session when its refresh token has expired *and* every ID/access
  token minted for it has expired (until then a revoked session must still
  refuse those tokens as revoked);
* a challenge (auth) session an hour after it expired (the caller hears
  "session is expired" rather than "invalid" meanwhile), a managed-login
  session, a pending /oauth2/authorize request and an authorization code when
  they expire.

Sweeping is lazy and amortised: each new record drops a few due ones
(:data:`SWEEP_BUDGET`), and the control plane sweeps everything due when it
moves the clock. Deadlines sit in per-kind :class:`ExpiryWheel` buckets
(a list entry per record, a heap of minute buckets), not in a heap of tuples.

A refresh token is not stored: the session keeps its last segment (the
``tag``, a MAC over the rest of the token and the client id), and the token
carries its session id (masked), so no map from tokens to sessions is kept.
The token also carries its expiry, so one whose session was forgotten is still
answered "Refresh Token has expired", as before.

The indexes here (``pool.session_index``) are derived, like the user index:
:meth:`SessionIndex.of` rebuilds them from the pool's state.
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import math
import struct
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from harness.encoding import b64url, b64url_decode
from harness.engine import heap
from harness.engine.multimap import MultiMap

if TYPE_CHECKING:  # pragma: no cover
    from harness.engine.models import RefreshSession, UserPool
    from harness.engine.store import Backend

WHEEL_SECONDS = 60
COMPACT_AFTER = 1024  # a sweep dropping more sessions than this (and than are left) compacts the maps
SWEEP_BUDGET = 8  # due records dropped per new record: garbage goes out faster than it comes in
KEEP_EXPIRED_CHALLENGES = 3600.0
REFRESH_BLOB_BYTES = 420
FAR_FUTURE = 1e15  # deadlines beyond (minted tokens with an absurd exp) are filed here: never swept
_HEADER = b64url(b'{"cty":"JWT","enc":"A256GCM","alg":"RSA-OAEP"}')


# --- expiry wheel ----------------------------------------------------------------------------


class ExpiryWheel:
    """Keys by deadline, in minute buckets; :meth:`due` hands back keys whose bucket has passed."""

    __slots__ = ("_buckets", "_heap")

    def __init__(self) -> None:
        self._buckets: dict[int, list[str]] = {}
        self._heap: list[int] = []

    def add(self, key: str, deadline: float) -> None:
        bucket = math.floor(deadline / WHEEL_SECONDS) if deadline < FAR_FUTURE else math.floor(FAR_FUTURE / WHEEL_SECONDS)
        keys = self._buckets.get(bucket)
        if keys is None:
            keys = self._buckets[bucket] = []
            heapq.heappush(self._heap, bucket)
        keys.append(key)

    def due(self, now: float, budget: int | None) -> list[str]:
        """Up to ``budget`` (None: all) keys whose deadline bucket ended by ``now``."""
        out: list[str] = []
        while self._heap and (self._heap[0] + 1) * WHEEL_SECONDS <= now:
            if budget is not None and len(out) >= budget:
                break
            bucket = self._heap[0]
            keys = self._buckets[bucket]
            take = len(keys) if budget is None else min(len(keys), budget - len(out))
            out.extend(keys[len(keys) - take:])
            del keys[len(keys) - take:]
            if not keys:
                heapq.heappop(self._heap)
                del self._buckets[bucket]
        return out

    def __len__(self) -> int:
        return sum(len(keys) for keys in self._buckets.values())


# --- the index --------------------------------------------------------------------------------


class SessionIndex:
    """Sessions by user sub, jtis of tokens without ``origin_jti``, deadlines (a refresh token names its
    session itself, see :func:`new_refresh_token`)."""

    __slots__ = ("by_sub", "by_jti", "refresh", "challenges", "hosted", "requests", "codes")

    def __init__(self) -> None:
        self.by_sub = MultiMap()  # user sub -> origin_jtis
        self.by_jti: dict[str, str] = {}  # jti of a token that carries no origin_jti -> origin_jti
        self.refresh = ExpiryWheel()
        self.challenges = ExpiryWheel()
        self.hosted = ExpiryWheel()
        self.requests = ExpiryWheel()
        self.codes = ExpiryWheel()

    @classmethod
    def of(cls, pool: UserPool) -> SessionIndex:
        """The index of a pool's current state (pool creation, snapshot restore)."""
        index = cls()
        for session in pool.sessions.values():
            index._put(session)
        for key, challenge in pool.auth_sessions.items():
            index.challenges.add(key, challenge.expires_at + KEEP_EXPIRED_CHALLENGES)
        for key, hosted in pool.hosted_sessions.items():
            index.hosted.add(key, hosted.expires_at)
        for key, request in pool.oauth_requests.items():
            index.requests.add(key, request.expires_at)
        for key, code in pool.oauth_codes.items():
            index.codes.add(key, code.expires_at)
        return index

    def _put(self, session: RefreshSession) -> None:
        origin = session.origin_jti
        for jti in session.jtis or ():
            self.by_jti[jti] = origin
        self.by_sub.add(session.sub, origin)
        self.refresh.add(origin, deadline(session))


def deadline(session: RefreshSession) -> float:
    """When nothing can use a session any more: its refresh token and its tokens have all expired."""
    return max(session.expires_at, session.tokens_expire_at)


# --- refresh tokens --------------------------------------------------------------------------


def _refresh_key(backend: Backend, pool: UserPool) -> bytes:
    """The pool's refresh-token MAC key: from the seed and pool id, so snapshots need not carry it."""
    return hashlib.sha256(f"refresh-token:{backend.ids.seed}:{pool.pool_id}".encode()).digest()


def _tag(key: bytes, client_id: str, body: str) -> str:
    return b64url(hmac.new(key, f"{client_id}.{body}".encode(), hashlib.sha256).digest()[:16])


def _keystream(key: bytes, iv: bytes, n: int) -> bytes:
    return hashlib.shake_256(b"origin:" + key + iv).digest(n)


def _sealed_origin(key: bytes, iv: bytes, origin: str, filler: bytes) -> bytes:
    """The session id, length-prefixed and masked, then random filler: the token's "ciphertext"."""
    plain = struct.pack(">H", len(raw := origin.encode())) + raw
    return bytes(a ^ b for a, b in zip(plain, _keystream(key, iv, len(plain)))) + filler[len(plain):]


def _origin_of(key: bytes, body: str) -> str | None:
    """The session id a refresh token's body carries (None: not one of ours)."""
    try:
        _, _, iv_text, sealed_text = body.split(".")
        iv, sealed = b64url_decode(iv_text), b64url_decode(sealed_text)
        plain = bytes(a ^ b for a, b in zip(sealed, _keystream(key, iv, len(sealed))))
        (size,) = struct.unpack_from(">H", plain)
        if size > len(plain) - 2:
            return None
        return plain[2:2 + size].decode()
    except (ValueError, struct.error):
        return None


def new_refresh_token(backend: Backend, pool: UserPool, client_id: str, origin: str,
                      expires_at: float) -> tuple[str, str]:
    """A JWE-shaped refresh token carrying its expiry, its session id (masked) and a MAC tag: (token, tag).
    The session is found from the token itself: no tag -> session map for 100k sessions."""
    blob = backend.ids.token_blob(REFRESH_BLOB_BYTES)
    key = _refresh_key(backend, pool)
    iv_bytes = struct.pack(">Q", math.ceil(expires_at)) + b64url_decode(blob[342:358])[8:12]
    sealed = _sealed_origin(key, iv_bytes, origin, b64url_decode(blob[358:-22]))
    body = f"{_HEADER}.{blob[:342]}.{b64url(iv_bytes)}.{b64url(sealed)}"
    tag = _tag(key, client_id, body)
    return f"{body}.{tag}", tag


def _split(token: str) -> tuple[str, str] | None:
    """(body, tag) of a refresh-shaped token, or None."""
    body, dot, tag = token.rpartition(".")
    if not dot or body.count(".") != 3 or not tag.isascii():
        return None
    return body, tag


def _genuine(backend: Backend, pool: UserPool, client_id: str, body: str, tag: str) -> bool:
    expected = _tag(_refresh_key(backend, pool), client_id, body)
    return hmac.compare_digest(expected.encode(), tag.encode())


def find_refresh(backend: Backend, pool: UserPool, token: str) -> RefreshSession | None:
    """The session a refresh token (current or rotated out) of this pool belongs to, if still kept."""
    parts = _split(token)
    if parts is None:
        return None
    body, tag = parts
    origin = _origin_of(_refresh_key(backend, pool), body)
    session = pool.sessions.get(origin) if origin is not None else None
    if session is None or (tag != session.refresh_tag and tag not in (session.rotated_out or ())):
        return None
    if not _genuine(backend, pool, session.client_id, body, tag):
        return None
    return session


def forgotten_expiry(backend: Backend, pool: UserPool, client_id: str, token: str) -> float | None:
    """For a genuine refresh token of ``client_id`` whose session was dropped: its expiry."""
    parts = _split(token)
    if parts is None:
        return None
    body, tag = parts
    if not _genuine(backend, pool, client_id, body, tag):
        return None
    try:
        (expires_at,) = struct.unpack(">Q", b64url_decode(body.split(".")[2])[:8])
    except (ValueError, struct.error):
        return None
    return float(expires_at)


_SCOPE_LISTS: dict[tuple[str, ...], list[str]] = {}


def shared_scopes(scopes: list[str]) -> list[str]:
    """One list object per distinct scope set, shared by the sessions that have it (never mutated):
    100k sessions of the same client would otherwise hold 100k equal lists."""
    key = tuple(scopes)
    shared = _SCOPE_LISTS.get(key)
    if shared is None:
        if len(_SCOPE_LISTS) >= 256:  # requested scope sets are few; never let this grow with use
            return list(scopes)
        shared = _SCOPE_LISTS[key] = list(scopes)
    return shared


_Number = TypeVar("_Number", int, float)
_RECENT_NUMBERS: dict[float, float] = {}


def shared_number(value: _Number) -> _Number:
    """One object per recent instant: sessions opened in the same second (or at a frozen instant) hold
    the same ``auth_time``/expiry objects instead of 32 bytes each. A few dozen recent values kept."""
    kept = _RECENT_NUMBERS.get(value)
    if kept is not None and type(kept) is type(value):
        return kept  # type: ignore[return-value]
    if len(_RECENT_NUMBERS) >= 64:
        _RECENT_NUMBERS.clear()
    _RECENT_NUMBERS[value] = value
    return value


# --- registering --------------------------------------------------------------------------------


def register(backend: Backend, pool: UserPool, session: RefreshSession) -> None:
    """Keep a new refresh session (its tag already set) and drop a few due records."""
    session.auth_time = shared_number(session.auth_time)
    session.issued_at = shared_number(session.issued_at)
    session.expires_at = shared_number(session.expires_at)
    pool.sessions[session.origin_jti] = session
    pool.session_index._put(session)
    sweep(pool, backend.clock.now(), SWEEP_BUDGET)


def rotate(backend: Backend, pool: UserPool, session: RefreshSession, grace_seconds: int) -> str:
    """A new refresh token for a session; the old one stays usable for the grace period."""
    rotated = dict(session.rotated_out or {})  # every rotated-out tag stays: past its grace it is "reused"
    rotated[session.refresh_tag] = backend.clock.now() + grace_seconds
    token, tag = new_refresh_token(backend, pool, session.client_id, session.origin_jti, session.expires_at)
    session.rotated_out = rotated
    session.refresh_tag = tag
    return token


def note_token(pool: UserPool, session: RefreshSession, claims: dict[str, Any]) -> None:
    """A token was minted for a session: keep the session until it expires; index its jti if it
    carries no ``origin_jti`` (clients without token revocation, overridden control-plane claims)."""
    exp = claims.get("exp")
    if isinstance(exp, (int, float)) and not isinstance(exp, bool) and exp > session.tokens_expire_at:
        session.tokens_expire_at = shared_number(float(min(exp, FAR_FUTURE)))  # the sweep refiles it when due
    jti = claims.get("jti")
    if isinstance(jti, str) and claims.get("origin_jti") != session.origin_jti:
        session.jtis = [*(session.jtis or ()), jti]
        pool.session_index.by_jti[jti] = session.origin_jti


def origin_of_jti(pool: UserPool, jti: str) -> str | None:
    return pool.session_index.by_jti.get(jti)


def of_user(pool: UserPool, sub: str) -> list[RefreshSession]:
    """The kept sessions of one user (global sign-out, disable, delete): no scan of the pool."""
    found = (pool.sessions.get(origin) for origin in pool.session_index.by_sub.get(sub))
    return [s for s in found if s is not None and s.sub == sub]


def track_challenge(backend: Backend, pool: UserPool, key: str, expires_at: float) -> None:
    pool.session_index.challenges.add(key, expires_at + KEEP_EXPIRED_CHALLENGES)
    sweep(pool, backend.clock.now(), SWEEP_BUDGET)


def track_hosted(backend: Backend, pool: UserPool, key: str, expires_at: float) -> None:
    pool.session_index.hosted.add(key, expires_at)
    sweep(pool, backend.clock.now(), SWEEP_BUDGET)


def track_request(backend: Backend, pool: UserPool, key: str, expires_at: float) -> None:
    pool.session_index.requests.add(key, expires_at)
    sweep(pool, backend.clock.now(), SWEEP_BUDGET)


def track_code(backend: Backend, pool: UserPool, key: str, expires_at: float) -> None:
    pool.session_index.codes.add(key, expires_at)
    sweep(pool, backend.clock.now(), SWEEP_BUDGET)


# --- sweeping -----------------------------------------------------------------------------------


def drop_session(pool: UserPool, session: RefreshSession) -> None:
    index = pool.session_index
    pool.sessions.pop(session.origin_jti, None)
    for jti in session.jtis or ():
        if index.by_jti.get(jti) == session.origin_jti:
            del index.by_jti[jti]
    index.by_sub.discard(session.sub, session.origin_jti)


def _compact(pool: UserPool) -> None:
    """Copy the session maps after a mass expiry: a dict never shrinks on deletion, so 100k swept
    sessions would otherwise leave their ~10 MB of hash tables behind."""
    index = pool.session_index
    pool.sessions = dict(pool.sessions)
    index.by_jti = dict(index.by_jti)
    index.by_sub.compact()


def _sweep_map(wheel: ExpiryWheel, records: dict[str, Any], until: Callable[[Any], float], drop: Callable[[Any], None],
               now: float, budget: int | None) -> int:
    dropped = 0
    for key in wheel.due(now, budget):
        record = records.get(key)
        if record is None:
            continue
        ends = until(record)
        if ends <= now:
            drop(record)
            dropped += 1
        else:  # extended since it was filed (a token minted later): file it again
            wheel.add(key, ends)
    return dropped


def sweep(pool: UserPool, now: float, budget: int | None = None) -> int:
    """Drop records nothing can use any more; ``budget`` caps the work per kind (None: all due)."""
    index = pool.session_index
    dropped = _sweep_map(index.refresh, pool.sessions, deadline, lambda s: drop_session(pool, s), now, budget)
    if dropped >= COMPACT_AFTER and dropped > len(pool.sessions):
        _compact(pool)
    dropped += _sweep_map(index.challenges, pool.auth_sessions, lambda c: c.expires_at + KEEP_EXPIRED_CHALLENGES,
                          lambda c: pool.auth_sessions.pop(c.session, None), now, budget)
    dropped += _sweep_map(index.hosted, pool.hosted_sessions, lambda h: h.expires_at,
                          lambda h: pool.hosted_sessions.pop(h.id, None), now, budget)
    dropped += _sweep_map(index.requests, pool.oauth_requests, lambda r: r.expires_at,
                          lambda r: pool.oauth_requests.pop(r.id, None), now, budget)
    dropped += _sweep_map(index.codes, pool.oauth_codes, lambda c: c.expires_at,
                          lambda c: pool.oauth_codes.pop(c.code, None), now, budget)
    return dropped


def sweep_all(backend: Backend) -> int:
    """Everything due in every pool (the control plane calls this when it moves the clock); after a
    mass expiry the freed memory goes back to the OS (outside the store lock: calls go on)."""
    with backend.transaction():
        now = backend.clock.now()
        dropped = sum(sweep(pool, now) for pool in backend.pools.values())
    if dropped >= COMPACT_AFTER:
        backend.events.seal()
        heap.give_back()
    return dropped


def records(pool: UserPool) -> Iterator[tuple[str, int]]:
    """How many per-sign-in records a pool keeps, by kind (tests, benchmarks)."""
    index = pool.session_index
    yield "sessions", len(pool.sessions)
    yield "session_users", len(index.by_sub)
    yield "jtis", len(index.by_jti)
    yield "auth_sessions", len(pool.auth_sessions)
    yield "hosted_sessions", len(pool.hosted_sessions)
    yield "oauth_requests", len(pool.oauth_requests)
    yield "oauth_codes", len(pool.oauth_codes)


__all__ = [
    "ExpiryWheel", "KEEP_EXPIRED_CHALLENGES", "SessionIndex", "deadline", "drop_session", "find_refresh",
    "forgotten_expiry", "new_refresh_token", "note_token", "of_user", "origin_of_jti", "records", "register",
    "rotate", "shared_number", "shared_scopes", "sweep", "sweep_all", "track_challenge", "track_code", "track_hosted", "track_request",
]
