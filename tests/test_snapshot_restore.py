"""Snapshots: secrets only when asked, restore checks everything first, streaming outside the lock.

A refused restore must leave the emulator exactly as it was (compared
snapshot to snapshot), and every refusal names the member at fault by path.
"""

from __future__ import annotations

import copy
import json
import socket
from collections.abc import Callable
from typing import Any

import pytest
import requests

from harness.control import Control, ControlError
from harness.control.client import RemoteControl
from harness.server import Emulator

PASSWORD = "Alice-Passw0rd!"


@pytest.fixture()
def world(emulator: Emulator) -> tuple[Emulator, Control, dict[str, Any]]:
    control = Control(emulator.backend)
    handle = control.load_pool()
    control.freeze(1_900_000_000)  # a frozen clock: two snapshots of an unchanged emulator are equal
    idp = emulator.boto3_client()
    idp.initiate_auth(ClientId=handle["clients"]["web"]["client_id"], AuthFlow="USER_PASSWORD_AUTH",
                      AuthParameters={"USERNAME": "alice", "PASSWORD": PASSWORD})
    control.arm_fault("throttle", operation="DeleteGroup")
    return emulator, control, handle


SECRET_USER_FIELDS = ("password_hash", "password_salt", "srp_salt", "srp_x", "srp_verifier", "password_history")


def _assert_secretless(snapshot: dict[str, Any]) -> None:
    assert snapshot["secrets"] is False
    text = json.dumps(snapshot)
    assert "PRIVATE KEY" not in text
    for pool in snapshot["pools"]:
        for user in pool["users"].values():
            assert not set(SECRET_USER_FIELDS) & set(user), user
        assert all("secret" not in client for client in pool["clients"].values())
        assert all("public_key_pem" in key for key in pool["keyring"]["keys"])


def test_snapshots_leave_secrets_out_unless_asked(world: tuple[Emulator, Control, dict[str, Any]]) -> None:
    emu, control, handle = world
    remote = RemoteControl(emu.url)
    secret = handle["clients"]["server"]["client_secret"]
    for snapshot in (control.snapshot(), remote.snapshot(), requests.get(emu.url + "/_harness/snapshot", timeout=30).json()):
        _assert_secretless(snapshot)
        assert secret not in json.dumps(snapshot)
    full = remote.snapshot(include_secrets=True)
    assert full == control.snapshot(include_secrets=True)
    assert full == requests.get(emu.url + "/_harness/snapshot?secrets=true", timeout=30).json()
    assert full["secrets"] is True and secret in json.dumps(full)
    alice = full["pools"][0]["users"]["alice"]
    assert alice["password_hash"] and alice["srp_x"]
    assert all("BEGIN PRIVATE KEY" in k["private_key_pem"] for k in full["pools"][0]["keyring"]["keys"])


def test_a_snapshot_without_secrets_is_refused_whole(world: tuple[Emulator, Control, dict[str, Any]]) -> None:
    emu, control, _ = world
    before = control.snapshot(include_secrets=True)
    answer = requests.post(emu.url + "/_harness/restore", json=control.snapshot(), timeout=30)
    assert answer.status_code == 400
    assert answer.json()["field"] == "snapshot.secrets"
    assert "secrets=true" in answer.json()["message"]
    stripped = copy.deepcopy(before)
    stripped["secrets"] = True  # claims secrets but a key has none
    del stripped["pools"][0]["keyring"]["keys"][0]["private_key_pem"]
    answer = requests.post(emu.url + "/_harness/restore", json=stripped, timeout=30)
    assert answer.status_code == 400
    assert answer.json()["field"] == "snapshot.pools.{}.keyring.keys[0].private_key_pem".format(before["pools"][0]["pool_id"])
    assert control.snapshot(include_secrets=True) == before


Mutation = Callable[[dict[str, Any]], None]


def _set(path: tuple[Any, ...], value: Any) -> Mutation:
    def mutate(snapshot: dict[str, Any]) -> None:
        target = snapshot
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value

    return mutate


def _first_user(snapshot: dict[str, Any]) -> str:
    return next(iter(snapshot["pools"][0]["users"]))


BAD_SNAPSHOTS: list[tuple[str, Mutation, str]] = [
    ("groups null", lambda s: _set(("pools", 0, "users", "alice", "groups"), None)(s),
     "snapshot.pools.{pool}.users.alice.groups"),
    ("groups a string", lambda s: _set(("pools", 0, "users", "alice", "groups"), "admins")(s),
     "snapshot.pools.{pool}.users.alice.groups"),
    ("event seq null", lambda s: _set(("events", "log", 0, "seq"), None)(s), "snapshot.events.log[0].seq"),
    ("key pem garbage", lambda s: _set(("pools", 0, "keyring", "keys", 0, "private_key_pem"),
                                       "-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n")(s),
     "snapshot.pools.{pool}.keyring.keys[0].private_key_pem"),
    ("key use unknown", lambda s: _set(("pools", 0, "keyring", "keys", 0, "use"), "both")(s),
     "snapshot.pools.{pool}.keyring.keys[0].use"),
    ("unknown format version", lambda s: _set(("format_version",), 99)(s), "snapshot.format_version"),
    ("unknown format", lambda s: _set(("format",), "other/thing")(s), "snapshot.format"),
    ("unknown user member", lambda s: _set(("pools", 0, "users", "alice", "colour"), "red")(s),
     "snapshot.pools.{pool}.users.alice.colour"),
    ("user missing its sub", lambda s: s["pools"][0]["users"]["alice"].pop("sub"),
     "snapshot.pools.{pool}.users.alice.sub"),
    ("enabled a string", lambda s: _set(("pools", 0, "users", "alice", "enabled"), "yes")(s),
     "snapshot.pools.{pool}.users.alice.enabled"),
    ("lockout failures a float", lambda s: _set(("pools", 0, "users", "alice", "lockout", "failures"), 1.5)(s),
     "snapshot.pools.{pool}.users.alice.lockout.failures"),
    ("a session's expiry a string", lambda s: _set(
        ("pools", 0, "sessions", next(iter(s["pools"][0]["sessions"])), "expires_at"), "soon")(s),
     "snapshot.pools.{pool}.sessions.{session}.expires_at"),
    ("clock out of range", lambda s: _set(("clock", "now"), 1e300)(s), "snapshot.clock"),
    ("clock NaN", lambda s: _set(("clock", "now"), float("nan"))(s), "snapshot.clock.now"),
    ("rng not a state", lambda s: _set(("ids", "rng"), [3, [1, 2], None])(s), "snapshot.ids.rng"),
    ("seed negative", lambda s: _set(("ids", "seed"), -4)(s), "snapshot.ids.seed"),
    # the last members read: an old restore had swapped the pools in already when these failed
    ("mailbox next_id null", lambda s: _set(("mailbox", "next_id"), None)(s), "snapshot.mailbox.next_id"),
    ("fault remaining a string", lambda s: _set(("faults", "armed", 0, "remaining"), "x")(s),
     "snapshot.faults.armed[0].remaining"),
    ("events seq behind the log", lambda s: _set(("events", "seq"), 0)(s), "snapshot.events.seq"),
    ("message without a body", lambda s: s["mailbox"]["messages"].append({"id": 999}),
     "snapshot.mailbox.messages[0].pool_id"),
    ("a second pool with the same id", lambda s: s["pools"].append(copy.deepcopy(s["pools"][0])),
     "snapshot.pools.{pool}"),
    ("unknown top-level member", lambda s: _set(("extra",), {})(s), "snapshot.extra"),
]


@pytest.mark.parametrize("mutate, field", [(m, f) for _, m, f in BAD_SNAPSHOTS], ids=[n for n, _, _ in BAD_SNAPSHOTS])
def test_a_bad_snapshot_is_refused_naming_the_member_and_changes_nothing(
        world: tuple[Emulator, Control, dict[str, Any]], mutate: Mutation, field: str) -> None:
    emu, control, handle = world
    good = control.snapshot(include_secrets=True)
    bad = copy.deepcopy(good)
    mutate(bad)
    # a restore would change the emulator: move on from the snapshot first
    idp = emu.boto3_client()
    idp.admin_create_user(UserPoolId=handle["pool_id"], Username="later", MessageAction="SUPPRESS")
    control.advance(60)
    before = control.snapshot(include_secrets=True)
    body = json.dumps(bad, allow_nan=True)
    answer = requests.post(emu.url + "/_harness/restore", data=body, timeout=30,
                           headers={"Content-Type": "application/json"})
    assert answer.status_code == 400, answer.text
    session = next(iter(good["pools"][0]["sessions"]), "")
    expected = field.format(pool=handle["pool_id"], session=session)
    got = answer.json()["field"]
    assert got == expected or (expected.startswith("snapshot.mailbox.messages") and
                               got.startswith("snapshot.mailbox.messages")), answer.json()
    assert answer.json()["error"] == "bad_request"
    assert control.snapshot(include_secrets=True) == before  # nothing changed, not even half
    control.restore(good)  # and the good one still restores
    assert control.snapshot(include_secrets=True) == good


def test_restore_rebuilds_what_lookups_use(world: tuple[Emulator, Control, dict[str, Any]]) -> None:
    """After a restore, sign-in by alias, by sub and GlobalSignOut see the restored users and sessions."""
    emu, control, handle = world
    idp = emu.boto3_client()
    web = handle["clients"]["web"]["client_id"]
    good = control.snapshot(include_secrets=True)
    idp.admin_delete_user(UserPoolId=handle["pool_id"], Username="alice")
    control.restore(good)
    signed = idp.initiate_auth(ClientId=web, AuthFlow="USER_PASSWORD_AUTH",
                               AuthParameters={"USERNAME": "alice@acme.example", "PASSWORD": PASSWORD})
    access = signed["AuthenticationResult"]["AccessToken"]
    sub = next(a["Value"] for a in idp.get_user(AccessToken=access)["UserAttributes"] if a["Name"] == "sub")
    assert idp.admin_get_user(UserPoolId=handle["pool_id"], Username=sub)["Username"] == "alice"
    idp.global_sign_out(AccessToken=access)
    with pytest.raises(idp.exceptions.NotAuthorizedException):
        idp.get_user(AccessToken=access)


def test_snapshot_is_streamed_from_a_consistent_copy_while_calls_go_on(
        world: tuple[Emulator, Control, dict[str, Any]]) -> None:
    """The snapshot is written from a copy taken under the lock: with the reader paused after the
    head, other calls complete and change the emulator, and the rest of the stream still shows the
    state at the moment of the snapshot."""
    emu, control, handle = world
    for _ in range(20_000):  # ~20 MB of event log: far more than the socket buffers hold
        emu.backend.events.emit("test.filler", None, blob="x" * 1000)
    expected = control.snapshot(include_secrets=True)
    host, port = emu.url.removeprefix("http://").split(":")
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connecting: a small window
        sock.settimeout(60)
        sock.connect((host, int(port)))
        sock.sendall(f"GET /_harness/snapshot?secrets=true HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
        received = bytearray()
        while b"\r\n\r\n" not in received:
            received.extend(sock.recv(4096))
        head, _, _ = bytes(received).partition(b"\r\n\r\n")
        assert b"transfer-encoding: chunked" in head.lower(), head
        # the reader is paused mid-stream; other calls go on, and change things
        idp = emu.boto3_client()
        signed = idp.initiate_auth(ClientId=handle["clients"]["web"]["client_id"], AuthFlow="USER_PASSWORD_AUTH",
                                   AuthParameters={"USERNAME": "bob", "PASSWORD": "Bob-Passw0rd!"})
        assert idp.get_user(AccessToken=signed["AuthenticationResult"]["AccessToken"])["Username"] == "bob"
        idp.admin_delete_user(UserPoolId=handle["pool_id"], Username="alice")
        while not received.endswith(b"\r\n0\r\n\r\n"):
            chunk = sock.recv(1 << 20)
            assert chunk, "the server closed the stream early"
            received.extend(chunk)
    streamed = json.loads(_unchunk(bytes(received).partition(b"\r\n\r\n")[2]))
    assert streamed == expected  # alice is there: the copy predates her deletion
    assert "alice" not in control.snapshot()["pools"][0]["users"]


def _unchunk(data: bytes) -> bytes:
    out = bytearray()
    while True:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            return bytes(out)
        out.extend(data[:size])
        data = data[size + 2:]


def test_the_secrets_switch_is_checked(world: tuple[Emulator, Control, dict[str, Any]]) -> None:
    emu, control, _ = world
    answer = requests.get(emu.url + "/_harness/snapshot?secrets=perhaps", timeout=30)
    assert answer.status_code == 400 and answer.json()["field"] == "secrets"
    with pytest.raises(ControlError) as info:
        control.snapshot(include_secrets="yes")  # type: ignore[arg-type]
    assert info.value.field == "include_secrets"
