"""Memory does not grow with use: per-sign-in records go once nothing can use them.

Everything is virtual time: the clock is moved through the control plane over
HTTP (which sweeps everything due) or in-process (new sign-ins then sweep a few
due records each). What must survive is what still matters: a revoked
session's access token that outlives the refresh token is refused as revoked
until it expires, and an expired refresh token is still answered "Refresh
Token has expired" after its session was forgotten.
"""

from __future__ import annotations

import gc
import json
import types
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
import requests

from harness.engine import heap, sessions
from harness.engine.models import RefreshSession, UserPool
from harness.engine.store import Backend
from harness.fake_idps import IdPRegistry
from harness.server import Emulator
from tests.auth_support import App, add_client, make_app, raises
from tests.test_hosted_ui import CALLBACK, World, native_user, submit_login, world  # noqa: F401 - fixture

DAY = 86400


def pool_of(app: App) -> UserPool:
    return app.backend.pools[app.pool_id]


def counts(pool: UserPool) -> dict[str, int]:
    return dict(sessions.records(pool))


def refresh(app: App, token: str) -> dict[str, Any]:
    return app.idp.initiate_auth(ClientId=app.client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                                 AuthParameters={"REFRESH_TOKEN": token})["AuthenticationResult"]


@pytest.fixture()
def app(emulator: Emulator) -> App:
    emulator.backend.clock.freeze()
    return make_app(emulator, None)


@pytest.fixture()
def alice(app: App) -> str:
    return app.confirmed_user("alice", email="alice@example.com")


def test_sessions_are_dropped_once_their_refresh_tokens_expire(app: App, alice: str) -> None:
    issued = [app.sign_in("alice") for _ in range(25)]
    pool = pool_of(app)
    assert counts(pool)["sessions"] == 25
    app.emulator.remote_control().advance(30 * DAY + 120)  # past the 30-day refresh validity
    assert counts(pool) == dict.fromkeys(counts(pool), 0)
    with raises("NotAuthorizedException", "Refresh Token has expired"):  # still told apart from garbage
        refresh(app, issued[0]["RefreshToken"])
    tampered = issued[0]["RefreshToken"][:-3] + ("AAA" if not issued[0]["RefreshToken"].endswith("AAA") else "BBB")
    with raises("NotAuthorizedException", "Invalid Refresh Token"):
        refresh(app, tampered)
    with raises("NotAuthorizedException", "Invalid Refresh Token"):  # another client's token
        refresh(add_client(app), issued[1]["RefreshToken"])


def test_new_sign_ins_sweep_expired_sessions_without_the_control_plane(app: App, alice: str) -> None:
    for _ in range(30):
        app.sign_in("alice")
    app.clock.advance(30 * DAY + 120)  # in-process: nothing swept yet
    for _ in range(4):
        app.sign_in("alice")  # each new record drops up to SWEEP_BUDGET due ones
    assert counts(pool_of(app))["sessions"] == 4


def test_a_revoked_sessions_access_token_stays_revoked_until_it_expires(app: App, alice: str) -> None:
    short = add_client(app, RefreshTokenValidity=60, AccessTokenValidity=60, IdTokenValidity=60,
                       TokenValidityUnits={"RefreshToken": "minutes", "AccessToken": "minutes",
                                           "IdToken": "minutes"})
    first = short.sign_in("alice")
    app.clock.advance(59 * 60)
    late = refresh(short, first["RefreshToken"])  # its access token lives until minute 119
    app.idp.global_sign_out(AccessToken=late["AccessToken"])
    control = app.emulator.remote_control()
    control.advance(31 * 60)  # minute 90: the refresh token has expired, the access token has not
    assert counts(pool_of(app))["sessions"] == 1
    with raises("NotAuthorizedException", "Access Token has been revoked"):
        app.idp.get_user(AccessToken=late["AccessToken"])
    assert control.token_status(late["AccessToken"])["revoked"] is True
    control.advance(30 * 60 + 60)  # minute 121: nothing of that sign-in can be used any more
    assert counts(pool_of(app))["sessions"] == 0
    with raises("NotAuthorizedException", "Access Token has expired"):
        app.idp.get_user(AccessToken=late["AccessToken"])


def test_challenge_sessions_are_dropped_after_they_expire(app: App, alice: str) -> None:
    pool = pool_of(app)
    before = counts(pool)["auth_sessions"]  # sign-up left its own (the SIGN_UP_CONFIRMED session)
    for _ in range(5):
        _, answer = app.srp_start("alice")
        assert answer["ChallengeName"] == "PASSWORD_VERIFIER"
    assert counts(pool)["auth_sessions"] == before + 5
    app.emulator.remote_control().advance(3 * 60 + 60)
    assert counts(pool)["auth_sessions"] == before + 5  # kept an hour to answer "session is expired"
    app.emulator.remote_control().advance(3600)
    assert counts(pool)["auth_sessions"] == 0


def test_hosted_sessions_codes_and_pending_requests_are_dropped_when_they_expire(world: World) -> None:  # noqa: F811
    native_user(world)
    login = f"{world.base}/login?{urlencode(world.authorize_params())}"
    assert submit_login(login, {"username": "bob", "password": "Passw0rd!"}).status_code == 302
    to_idp = requests.get(f"{world.base}/oauth2/authorize?"
                          f"{urlencode(world.authorize_params(identity_provider='Google'))}",
                          allow_redirects=False, timeout=10)
    assert to_idp.status_code == 302
    pool = world.emu.backend.pools[world.pool_id]
    assert {k: v for k, v in counts(pool).items() if k in ("hosted_sessions", "oauth_codes", "oauth_requests")} == {
        "hosted_sessions": 1, "oauth_codes": 1, "oauth_requests": 1}
    world.emu.remote_control().advance(2 * 3600)
    assert counts(pool)["hosted_sessions"] == counts(pool)["oauth_codes"] == counts(pool)["oauth_requests"] == 0


def test_live_sessions_are_compact(app: App, alice: str) -> None:
    tokens = app.sign_in("alice")
    pool = pool_of(app)
    (session,) = pool.sessions.values()
    assert isinstance(session, RefreshSession) and not hasattr(session, "__dict__")  # slots
    assert pool.session_index.by_jti == {}  # tokens carry origin_jti: no jti -> origin map
    # the refresh token itself is kept nowhere: only its tag
    snapshot = json.dumps(app.emulator.remote_control().snapshot(include_secrets=True))
    assert tokens["RefreshToken"] not in snapshot
    assert tokens["RefreshToken"].rpartition(".")[2] in snapshot


def test_sessions_of_clients_without_revocation_still_sign_out(app: App, alice: str) -> None:
    plain = add_client(app, EnableTokenRevocation=False)
    tokens = plain.password_auth("alice")["AuthenticationResult"]
    pool = pool_of(app)
    assert len(pool.session_index.by_jti) == 1  # the access token has no origin_jti claim
    app.idp.admin_user_global_sign_out(UserPoolId=app.pool_id, Username="alice")
    with raises("NotAuthorizedException", "Access Token has been revoked"):
        app.idp.get_user(AccessToken=tokens["AccessToken"])
    app.emulator.remote_control().advance(30 * DAY + 120)
    assert pool.session_index.by_jti == {} and pool.sessions == {}


# --- nothing of a sign-in is left ---------------------------------------------------------------------

_NOT_STATE = (type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType, types.MethodType,
              types.CodeType, types.FrameType)


def reachable(backend: Backend) -> int:
    """How many objects the engine's state holds (pools with their users, sessions, indexes and keys;
    events; mailbox; faults), code and classes left out."""
    roots = [backend.pools, backend.events, backend.mailbox, backend.faults]
    seen: set[int] = set()
    while roots:
        obj = roots.pop()
        if id(obj) in seen or isinstance(obj, _NOT_STATE):
            continue
        seen.add(id(obj))
        roots.extend(gc.get_referents(obj))
    return len(seen)


@pytest.fixture()
def small_log() -> Iterator[Emulator]:
    """An emulator whose event ring is small, so it is full (at its steady size) from the start."""
    with Emulator.start(backend=Backend(seed=1234, external_idps=IdPRegistry, max_events=32)) as emu:
        emu.backend.clock.freeze()
        yield emu


def test_nothing_of_a_sign_in_survives_its_expiry(small_log: Emulator) -> None:
    """After sign-ins, refreshes, revocations and a clock move past their refresh validity, the engine
    holds as many objects as before them: no session, tag, jti, index entry, deadline or event."""
    app = make_app(small_log, None)
    app.confirmed_user("alice", email="alice@example.com")
    app.confirmed_user("bob", email="bob@example.com")
    control = small_log.remote_control()
    for _ in range(20):  # the ring fills up; the first sweep sizes what it keeps
        app.sign_in("alice")
    control.advance(30 * DAY + 120)
    before = reachable(small_log.backend)
    plain = add_client(app, EnableTokenRevocation=False)
    issued = [app.password_auth("alice" if i % 2 else "bob")["AuthenticationResult"] for i in range(300)]
    issued += [plain.password_auth("bob")["AuthenticationResult"] for _ in range(20)]
    for tokens in issued[:30]:
        refresh(app, tokens["RefreshToken"])
    app.idp.revoke_token(Token=issued[40]["RefreshToken"], ClientId=app.client_id)
    app.idp.global_sign_out(AccessToken=issued[41]["AccessToken"])
    live = reachable(small_log.backend)
    assert live - before > 300 * 2  # every live sign-in holds objects (its session, id, tag...)
    control.advance(30 * DAY + 120)
    pool = pool_of(app)
    assert counts(pool) == dict.fromkeys(counts(pool), 0)
    assert reachable(small_log.backend) - before <= 10  # the new client; nothing per sign-in
    with raises("NotAuthorizedException", "Refresh Token has expired"):
        refresh(app, issued[-21]["RefreshToken"])


def test_a_mass_expiry_gives_memory_back(app: App, alice: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A sweep that drops many sessions collects and trims (glibc's malloc_trim); small ones do not."""
    trims: list[bool] = []
    monkeypatch.setattr(heap, "give_back", lambda: trims.append(True) or True)
    monkeypatch.setattr(sessions, "COMPACT_AFTER", 10)
    for _ in range(5):
        app.password_auth("alice")
    control = app.emulator.remote_control()
    control.advance(30 * DAY + 120)
    assert trims == []  # 5 dropped: not worth a collection
    for _ in range(12):
        app.password_auth("alice")
    control.advance(30 * DAY + 120)
    assert trims == [True] and counts(pool_of(app))["sessions"] == 0
