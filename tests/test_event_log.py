"""The event log is a bounded ring that says when history was cut, stores events compactly, and takes
its size from ``Backend(max_events=)`` / ``serve --max-events``."""

from __future__ import annotations

import subprocess
import threading
import tracemalloc
import uuid
from collections.abc import Iterator

import pytest
import requests

from harness.control import Control, RemoteControl
from harness.engine.events import BLOCK_EVENTS, DEFAULT_MAX_EVENTS, Event, EventLog
from harness.engine.store import Backend
from harness.fake_idps import IdPRegistry
from harness.server import Emulator
from tests.auth_support import App, make_app
from tests.serve_support import Served, cli_command, serve_environment


class Ticks:
    """A virtual clock for a bare log: one second per event."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        self.now += 1
        return self.now


def filled(max_events: int, count: int) -> EventLog:
    log = EventLog(Ticks(), max_events)
    for i in range(count):
        log.emit("auth.success" if i % 2 else "token.issued", "pool-1", n=i + 1, user=f"u{i % 3}")
    return log


# --- the ring ----------------------------------------------------------------------------------------


def test_the_ring_keeps_the_newest_and_says_how_many_it_dropped() -> None:
    log = filled(300, 1000)  # across several sealed blocks, the oldest partly pushed out
    assert [e.seq for e in log.list()] == list(range(701, 1001))
    assert [e.data["n"] for e in log.list()] == list(range(701, 1001))
    window = log.window()
    assert (window.max_events, window.held, window.oldest_seq, window.last_seq, window.dropped) == (
        300, 300, 701, 1000, 700)
    assert window.missed == 700  # a reader from the start lost these
    assert log.window(since=650).missed == 50  # from seq 650: 651..700 are gone
    assert log.window(since=700).missed == 0 and log.window(since=950).missed == 0
    found, seen = log.read("auth.success", since=990, user="u1")
    assert [e.seq for e in found] == [992, 998] and seen.missed == 0


def test_reads_filter_by_type_pool_and_data_inside_sealed_blocks() -> None:
    log = filled(5000, 2 * BLOCK_EVENTS + 10)
    assert len(log.list("token.*")) == BLOCK_EVENTS + 5
    assert [e.seq for e in log.list(since=BLOCK_EVENTS - 2, type_=["auth.success"])][:2] == [
        BLOCK_EVENTS, BLOCK_EVENTS + 2]
    assert log.list(pool_id="another") == []
    assert log.count("auth.success", user="u2") == len([e for e in log.list("auth.success") if e.data["user"] == "u2"])


def test_event_data_comes_back_as_emitted_even_when_it_cannot_be_pickled() -> None:
    log = EventLog(Ticks(), 1000)
    lock = threading.Lock()  # no pickle for this one: its block is kept as records
    log.emit("x.plain", None, flag=True, nothing=None, nested={"a": [1, 2]}, count=3)
    log.emit("x.odd", None, lock=lock)
    for i in range(BLOCK_EVENTS):
        log.emit("x.filler", None, i=i)
    first, odd = log.list("x.plain")[0], log.list("x.odd")[0]
    assert first.data == {"flag": True, "nothing": None, "nested": {"a": [1, 2]}, "count": 3}
    assert odd.data["lock"] is lock


def test_a_zero_sized_log_keeps_nothing_but_counts() -> None:
    log = filled(0, 5)
    assert log.list() == [] and log.last_seq == 5
    assert (log.window().held, log.window().dropped, log.window().oldest_seq) == (0, 5, None)


def test_clear_and_restore_start_the_count_again() -> None:
    log = filled(100, 400)
    log.clear()
    assert log.window().dropped == 0 and log.window(since=0).missed == 0 and log.last_seq == 400
    events = [Event(seq, 1.0, "a.b", None, {"n": seq}) for seq in range(50, 250)]
    log.restore(list(reversed(events)), 260)  # beyond the cap: the newest are kept, in order
    assert [e.seq for e in log.list()] == list(range(150, 250))
    assert (log.window().dropped, log.window(since=49).missed, log.last_seq) == (100, 100, 260)
    with pytest.raises(ValueError, match="max_events"):
        EventLog(Ticks(), -1)


def test_events_are_stored_compactly() -> None:
    """A sign-in's two events took ~940 bytes (a dataclass, a data dict, three uuid strings each);
    sealed into pickled blocks they take a fraction of that."""
    log = EventLog(Ticks(), 100_000)
    names = [f"user-{i}" for i in range(20)]
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for i in range(10 * BLOCK_EVENTS):
            origin = str(uuid.UUID(int=i))
            log.emit("auth.success", "us-east-1_pool", username=names[i % 20], client_id="client", flow="USER_PASSWORD_AUTH")
            log.emit("token.issued", "us-east-1_pool", username=names[i % 20], sub=names[i % 20], client_id="client",
                     origin_jti=origin, access_jti=str(uuid.UUID(int=i + 1 << 64)),
                     id_jti=str(uuid.UUID(int=i + 2 << 64)), refresh=True, flow="USER_PASSWORD_AUTH")
        per_sign_in = (tracemalloc.get_traced_memory()[0] - before) / (10 * BLOCK_EVENTS)
    finally:
        tracemalloc.stop()
    assert per_sign_in < 300, per_sign_in


# --- the control plane ----------------------------------------------------------------------------------


@pytest.fixture()
def small_log() -> Iterator[Emulator]:
    backend = Backend(seed=7, external_idps=IdPRegistry, max_events=40)
    with Emulator.start(backend=backend) as emu:
        yield emu


def test_the_control_plane_reports_what_the_ring_dropped(small_log: Emulator) -> None:
    app: App = make_app(small_log, None)
    app.confirmed_user("alice", email="alice@example.com")
    remote = RemoteControl(small_log.url)
    mark = remote.last_event()
    for _ in range(25):  # two events each (auth.success, token.issued): more than the ring holds
        app.password_auth("alice")
    page = remote.event_page(since=mark)
    assert page["max_events"] == 40 and page["held"] == 40 and page["count"] == 40
    assert page["missed"] == 10 and page["dropped"] >= 10
    assert page["oldest_seq"] == page["last_seq"] - 39 == page["events"][0]["seq"]
    assert remote.event_log(since=page["oldest_seq"] - 1)["missed"] == 0
    raw = requests.get(f"{small_log.url}/_harness/events", params={"since": mark, "count_only": "true"},
                       timeout=10).json()
    assert raw["count"] == 40 and raw["missed"] == 10 and "events" not in raw
    assert remote.info()["event_log"]["max_events"] == 40
    assert Control(small_log.backend).event_page(since=mark) == page  # the same answer in-process
    assert len(remote.events("token.issued", since=mark)) == 20  # readers still get what is held


def test_the_default_ring_is_the_documented_size(emulator: Emulator) -> None:
    assert RemoteControl(emulator.url).event_log()["max_events"] == DEFAULT_MAX_EVENTS


# --- serve --max-events -------------------------------------------------------------------------------


def test_serve_honours_max_events() -> None:
    server = Served("--port", "0", "--seed", "1", "--max-events", "5")
    try:
        jwks = server.env["COGNITO_JWKS_URL"]
        for _ in range(12):  # each fetch is a jwks.fetch event
            assert requests.get(jwks, timeout=10).status_code == 200
        page = requests.get(f"{server.env['COGNITO_ENDPOINT']}/_harness/events", timeout=10).json()
        assert page["max_events"] == 5 and page["held"] == 5 and page["count"] == 5
        assert page["dropped"] >= 7 and page["missed"] == page["dropped"]
        assert [e["type"] for e in page["events"]] == ["jwks.fetch"] * 5
    finally:
        assert server.stop() == 0


@pytest.mark.parametrize("value", ["-1", "many", "2.5"])
def test_serve_refuses_a_bad_max_events(value: str) -> None:
    done = subprocess.run([*cli_command(), "serve", "--port", "0", "--max-events", value], capture_output=True,
                          text=True, timeout=60, env=serve_environment())
    assert done.returncode == 2
    assert "--max-events" in done.stderr and "whole number >= 0" in done.stderr
