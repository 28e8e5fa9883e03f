"""``serve --state`` / ``Emulator(state=...)``: the state survives restarts and ``kill -9``.

Real parts only: ``cognito-harness serve`` subprocesses killed with SIGKILL and started again on
the same file, real boto3 against them, PyJWT verifying pre-restart tokens against the JWKS
served after, SQLite's own ``PRAGMA integrity_check``. In process, a "crash" is a copy of the
state file (and its write-ahead log) taken right after an HTTP answer came back: what the copy
restores is exactly what had been committed when the answer was sent.
"""

from __future__ import annotations

import hashlib
import os
import queue
import re
import shlex
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import boto3
import jwt
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

import harness
from harness.cli import main as cli_main
from harness.control import RemoteControl
from harness.control.guard import TOKEN_ENV
from harness.engine import snapshot
from harness.engine.persist import FILE_NAME, StateFile, StateFileError
from harness.engine.persist.database import SCHEMA_VERSION
from harness.engine.store import Backend
from harness.fake_idps import IdPRegistry
from harness.server import Emulator

PASSWORD = "Passw0rd!state"
CALLBACK = "http://localhost:3000/callback"
ONE_ATTEMPT = Config(retries={"total_max_attempts": 1, "mode": "standard"})


# --- a served emulator as a subprocess ---------------------------------------------------------------


class Served:
    """``cognito-harness serve --state ...`` with its exports parsed from stdout."""

    def __init__(self, *args: str) -> None:
        env = {k: v for k, v in os.environ.items() if k != TOKEN_ENV}
        self.proc = subprocess.Popen([sys.executable, "-m", "harness.cli", "serve", *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=env)
        lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, args=(lines,), daemon=True).start()
        self.env: dict[str, str] = {}
        self.err = ""
        while "COGNITO_CLIENT_SECRET_SERVER" not in self.env:  # the last client's: every export is out
            line = lines.get(timeout=60)
            if line is None:
                pytest.fail(f"serve exited with {self.proc.wait()}: {self.proc.stderr.read()}")  # type: ignore[union-attr]
            name, _, value = shlex.split(line)[1].partition("=")
            self.env[name] = value

    def _pump(self, lines: queue.Queue[str | None]) -> None:
        for line in self.proc.stdout:  # type: ignore[union-attr]
            lines.put(line)
        lines.put(None)

    @property
    def url(self) -> str:
        return self.env["COGNITO_ENDPOINT"]

    @property
    def port(self) -> str:
        return self.url.rsplit(":", 1)[1]

    def idp(self) -> Any:
        return boto3.client("cognito-idp", endpoint_url=self.url, region_name="us-east-1",
                            aws_access_key_id="testing", aws_secret_access_key="testing", config=ONE_ATTEMPT)

    def stop(self, sig: int = signal.SIGTERM) -> tuple[int, str]:
        """(exit code, stderr) once it ended; the same again on a second call."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        code = self.proc.wait(timeout=30)
        if self.proc.stderr and not self.proc.stderr.closed:
            self.err = self.proc.stderr.read()
            self.proc.stderr.close()
        return code, self.err


@pytest.fixture()
def servers() -> Iterator[list[Served]]:
    started: list[Served] = []
    yield started
    for server in started:
        server.stop(signal.SIGKILL)


def serve(servers: list[Served], *args: str) -> Served:
    server = Served(*args)
    servers.append(server)
    return server


def crash_copy(state: Path, to: Path) -> Path:
    """The state file as a crash would leave it now: the database and its write-ahead log."""
    to.mkdir()
    for name in (FILE_NAME, f"{FILE_NAME}-wal"):
        if (state / name).exists():
            shutil.copyfile(state / name, to / name)
    return to


def integrity(path: Path) -> list[str]:
    db = sqlite3.connect(path)
    try:
        return [row[0] for row in db.execute("PRAGMA integrity_check")]
    finally:
        db.close()


# --- restarts -----------------------------------------------------------------------------------------


def test_kill_9_and_restart_keeps_users_groups_clients_keys_sessions_and_mailbox(
        tmp_path: Path, servers: list[Served]) -> None:
    state = tmp_path / "state"
    state.mkdir()
    first = serve(servers, "--port", "0", "--state", str(state), "--seed", "7")
    pool_id, web = first.env["COGNITO_USER_POOL_ID"], first.env["COGNITO_CLIENT_ID"]
    idp = first.idp()
    idp.sign_up(ClientId=web, Username="pat", Password=PASSWORD,
                UserAttributes=[{"Name": "email", "Value": "pat@example.com"}])
    code = RemoteControl(first.url).latest_code("pat@example.com", purpose="SIGN_UP")
    tokens = idp.initiate_auth(ClientId=web, AuthFlow="USER_PASSWORD_AUTH",
                               AuthParameters={"USERNAME": "alice", "PASSWORD": "Alice-Passw0rd!"})["AuthenticationResult"]
    idp.create_group(UserPoolId=pool_id, GroupName="kept")
    idp.admin_add_user_to_group(UserPoolId=pool_id, Username="alice", GroupName="kept")
    later = idp.create_user_pool_client(UserPoolId=pool_id, ClientName="later", GenerateSecret=True)["UserPoolClient"]
    jwks = requests.get(first.env["COGNITO_JWKS_URL"], timeout=10).json()

    second_server = subprocess.run([sys.executable, "-m", "harness.cli", "serve", "--port", "0", "--state", str(state)],
                                   capture_output=True, text=True, timeout=60)
    assert second_server.returncode == 2 and "in use" in second_server.stderr
    assert "Traceback" not in second_server.stderr

    first.stop(signal.SIGKILL)
    again = serve(servers, "--port", first.port, "--state", str(state), "--seed", "99")
    assert again.env["COGNITO_USER_POOL_ID"] == pool_id and again.env["COGNITO_CLIENT_ID"] == web
    assert again.env["COGNITO_ISSUER"] == first.env["COGNITO_ISSUER"]
    idp = again.idp()

    assert requests.get(again.env["COGNITO_JWKS_URL"], timeout=10).json() == jwks  # the same keys
    key = jwt.PyJWKClient(again.env["COGNITO_JWKS_URL"]).get_signing_key_from_jwt(tokens["IdToken"]).key
    claims = jwt.decode(tokens["IdToken"], key, algorithms=["RS256"], audience=web, issuer=again.env["COGNITO_ISSUER"])
    assert claims["cognito:username"] == "alice"
    assert idp.get_user(AccessToken=tokens["AccessToken"])["Username"] == "alice"  # the session is still live
    refreshed = idp.initiate_auth(ClientId=web, AuthFlow="REFRESH_TOKEN_AUTH",
                                  AuthParameters={"REFRESH_TOKEN": tokens["RefreshToken"]})["AuthenticationResult"]
    assert idp.get_user(AccessToken=refreshed["AccessToken"])["Username"] == "alice"

    assert RemoteControl(again.url).latest_code("pat@example.com", purpose="SIGN_UP") == code
    assert idp.admin_get_user(UserPoolId=pool_id, Username="pat")["UserStatus"] == "UNCONFIRMED"
    idp.confirm_sign_up(ClientId=web, Username="pat", ConfirmationCode=code)
    assert idp.admin_get_user(UserPoolId=pool_id, Username="pat")["UserStatus"] == "CONFIRMED"
    groups = idp.admin_list_groups_for_user(UserPoolId=pool_id, Username="alice")["Groups"]
    assert "kept" in {g["GroupName"] for g in groups}
    described = idp.describe_user_pool_client(UserPoolId=pool_id, ClientId=later["ClientId"])["UserPoolClient"]
    assert described["ClientSecret"] == later["ClientSecret"]

    code_, err = again.stop()
    assert code_ == 0
    assert "restored" in err and "not applied to a saved state: --seed" in err


def test_sigkill_during_a_burst_of_sign_ups_loses_no_acknowledged_user(tmp_path: Path, servers: list[Served]) -> None:
    state = tmp_path / "state"
    state.mkdir()
    server = serve(servers, "--port", "0", "--state", str(state))
    web = server.env["COGNITO_CLIENT_ID"]
    acked: list[str] = []
    enough = threading.Event()
    lock = threading.Lock()

    def sign_up_until_killed(n: int, client: Any) -> None:
        for i in range(10_000):
            username = f"burst-{n}-{i}"
            try:
                client.sign_up(ClientId=web, Username=username, Password=PASSWORD,
                               UserAttributes=[{"Name": "email", "Value": f"{username}@example.com"}])
            except Exception:  # the server was killed: this one was not acknowledged
                return
            with lock:
                acked.append(username)
                if len(acked) >= 80:
                    enough.set()

    clients = [server.idp() for _ in range(6)]
    threads = [threading.Thread(target=sign_up_until_killed, args=(n, c), daemon=True) for n, c in enumerate(clients)]
    for thread in threads:
        thread.start()
    assert enough.wait(timeout=120), f"only {len(acked)} sign-ups in 120 s"
    server.stop(signal.SIGKILL)  # calls are in flight: some are being committed right now
    for thread in threads:
        thread.join(timeout=30)
    with lock:
        acknowledged = list(acked)

    as_crashed = crash_copy(state, tmp_path / "as-crashed")
    assert integrity(as_crashed / FILE_NAME) == ["ok"]

    again = serve(servers, "--port", "0", "--state", str(state))
    idp, pool_id = again.idp(), again.env["COGNITO_USER_POOL_ID"]
    missing = []
    for username in acknowledged:
        try:
            user = idp.admin_get_user(UserPoolId=pool_id, Username=username)
        except ClientError:
            missing.append(username)
            continue
        assert {"Name": "email", "Value": f"{username}@example.com"} in user["UserAttributes"]
        assert user["UserStatus"] == "UNCONFIRMED"
    assert not missing, f"{len(missing)} of {len(acknowledged)} acknowledged sign-ups lost: {missing[:5]}"
    codes = RemoteControl(again.url).messages(purpose="SIGN_UP")
    assert {f"{u}@example.com" for u in acknowledged} <= {m["to"] for m in codes}  # each one's code kept
    assert again.stop()[0] == 0
    assert integrity(state / FILE_NAME) == ["ok"]


# --- files that are not a state file ------------------------------------------------------------------


def _damaged(path: Path) -> None:
    StateFile.open(path).close()
    data = bytearray(path.read_bytes())
    data[4096:4160] = b"\x55" * 64  # the second page (a table's b-tree) overwritten
    path.write_bytes(bytes(data))


def _foreign(path: Path) -> None:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE notes (body TEXT)")
    db.execute("INSERT INTO notes VALUES ('mine')")
    db.commit()
    db.close()


def _newer(path: Path) -> None:
    StateFile.open(path).close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    db.commit()
    db.close()


BAD_FILES = {
    "not sqlite": (lambda path: path.write_text("name=value\n"), "not an SQLite database"),
    "foreign sqlite": (_foreign, "another application"),
    "newer schema": (_newer, f"reads schema {SCHEMA_VERSION}"),
    "damaged": (_damaged, "malformed"),
}


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_damaged_state_file_stops_serve_with_exit_2_and_is_left_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    _damaged(path)
    before = _digest(path)
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "serve", "--port", "0", "--state", str(path)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert f"cognito-harness serve: --state: {path}: not a usable cognito-harness state file" in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    assert _digest(path) == before and sorted(os.listdir(tmp_path)) == ["state.sqlite3"]


@pytest.mark.parametrize("kind", list(BAD_FILES))
def test_files_that_are_not_a_state_this_version_reads_are_refused_untouched(
        kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make, reason = BAD_FILES[kind]
    path = tmp_path / "state.sqlite3"
    make(path)
    before = _digest(path)
    assert cli_main(["serve", "--port", "0", "--state", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"cognito-harness serve: --state: {path}: ") and reason in err, err
    assert "left as it is" in err
    assert _digest(path) == before and sorted(os.listdir(tmp_path)) == ["state.sqlite3"]


def test_state_paths_a_directory_holds_the_file_and_a_missing_directory_is_an_error(tmp_path: Path) -> None:
    state = StateFile.open(tmp_path)
    try:
        assert state.path == tmp_path / FILE_NAME
        assert (state.path.stat().st_mode & 0o777) == 0o600  # private keys and password hashes inside
    finally:
        state.close()
    made = StateFile.open(f"{tmp_path}/new-dir/")
    made.close()
    assert made.path == tmp_path / "new-dir" / FILE_NAME
    with pytest.raises(StateFileError, match="does not exist"):
        StateFile.open(tmp_path / "absent" / "state.sqlite3")


# --- in process: every face commits before it answers -----------------------------------------------------


def _copy_restored(state: Path, to: Path) -> Emulator:
    return harness.start(state=crash_copy(state, to))


def _login_code(emu: Emulator, pool_id: str, client_id: str) -> str:
    session = requests.Session()
    params = {"response_type": "code", "client_id": client_id, "redirect_uri": CALLBACK, "state": "s",
              "scope": "openid email"}
    url = f"{emu.url}/{pool_id}/login?{urlencode(params)}"
    form = session.get(url, timeout=10)
    csrf = re.search(r'name="_csrf" value="([^"]+)"', form.text)
    assert form.status_code == 200 and csrf, form.text
    answer = session.post(url, data={"username": "bob", "password": "Bob-Passw0rd!", "_csrf": csrf.group(1)},
                          allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    return parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]


def test_hosted_ui_control_plane_and_identity_changes_are_committed_before_the_answer(tmp_path: Path) -> None:
    state = tmp_path / "live"
    state.mkdir()
    emu = harness.start(seed=11, state=state)
    try:
        assert emu.restored is False and emu.pool is not None
        pool_id, web = emu.pool.pool_id, emu.pool.client_id
        code = _login_code(emu, pool_id, web)  # an authorization code, kept by the hosted UI
        control = emu.remote_control()
        frozen_at = control.freeze()["now"]  # the clock (which takes no store lock)
        fault = control.arm_fault("throttle", operation="ListUsers", count=2)
        identity = emu.identity_client()
        identity_pool = identity.create_identity_pool(IdentityPoolName="kept", AllowUnauthenticatedIdentities=True)
        identity_id = identity.get_id(IdentityPoolId=identity_pool["IdentityPoolId"])["IdentityId"]
        copy = _copy_restored(state, tmp_path / "copy")  # the live server never stopped: nothing was flushed
    finally:
        emu.stop()
    try:
        assert copy.restored and copy.pool is not None and copy.pool.pool_id == pool_id
        token = requests.post(f"{copy.url}/{pool_id}/oauth2/token", timeout=10, data={
            "grant_type": "authorization_code", "code": code, "client_id": web, "redirect_uri": CALLBACK})
        assert token.status_code == 200, token.text
        key = jwt.PyJWKClient(f"{copy.url}/{pool_id}/.well-known/jwks.json").get_signing_key_from_jwt(
            token.json()["id_token"]).key
        claims = jwt.decode(token.json()["id_token"], key, algorithms=["RS256"], audience=web,
                            options={"verify_exp": False})
        assert claims["cognito:username"] == "bob"
        again = copy.remote_control()
        assert again.clock()["mode"] == "frozen" and again.clock()["now"] == frozen_at
        assert [f["id"] for f in again.faults()] == [fault["id"]]
        described = copy.identity_client().describe_identity(IdentityId=identity_id)
        assert described["IdentityId"] == identity_id
    finally:
        copy.stop()


def _comparable(dump: dict[str, Any]) -> dict[str, Any]:
    if dump["clock"]["mode"] != "frozen":
        del dump["clock"]["now"]  # a running clock's reading is not state
    return dump


def _restored_dump(state: Path, to: Path) -> dict[str, Any]:
    restored = StateFile.open(crash_copy(state, to))
    backend = Backend(external_idps=IdPRegistry)
    try:
        restored.attach(backend)
        return _comparable(snapshot.dump(backend, secrets=True))
    finally:
        restored.close()


def test_the_file_restores_exactly_the_live_state_through_creates_updates_and_deletes(tmp_path: Path) -> None:
    state = tmp_path / "live"
    state.mkdir()
    emu = harness.start(seed=5, state=state)
    try:
        assert emu.pool is not None
        control = emu.remote_control()
        control.freeze()
        idp = emu.boto3_client()
        pool_id, web = emu.pool.pool_id, emu.pool.client_id
        second = idp.create_user_pool(PoolName="second")["UserPool"]["Id"]
        steps = [
            lambda: idp.sign_up(ClientId=web, Username="sam", Password=PASSWORD,
                                UserAttributes=[{"Name": "email", "Value": "sam@example.com"}]),
            lambda: idp.admin_create_user(UserPoolId=second, Username="tmp", TemporaryPassword=PASSWORD),
            lambda: idp.initiate_auth(ClientId=web, AuthFlow="USER_PASSWORD_AUTH",
                                      AuthParameters={"USERNAME": "bob", "PASSWORD": "Bob-Passw0rd!"}),
            lambda: idp.admin_update_user_attributes(UserPoolId=pool_id, Username="bob",
                                                     UserAttributes=[{"Name": "custom:role", "Value": "lead"}]),
            lambda: idp.delete_group(UserPoolId=pool_id, GroupName="admins"),
            lambda: idp.admin_delete_user(UserPoolId=pool_id, Username="carol"),
            lambda: idp.admin_user_global_sign_out(UserPoolId=pool_id, Username="bob"),
            lambda: idp.confirm_sign_up(ClientId=web, Username="sam", ConfirmationCode=control.latest_code(
                "sam@example.com", purpose="SIGN_UP")),
            lambda: _refused(lambda: idp.initiate_auth(ClientId=web, AuthFlow="USER_PASSWORD_AUTH", AuthParameters={
                "USERNAME": "sam", "PASSWORD": "wrong-Passw0rd!"})),  # the lockout counters, in place
            lambda: idp.admin_add_user_to_group(UserPoolId=pool_id, Username="sam", GroupName="tenant-acme-member"),
            lambda: idp.forgot_password(ClientId=web, Username="sam"),
            lambda: idp.update_user_pool_client(UserPoolId=pool_id, ClientId=web, ClientName="web",
                                                AccessTokenValidity=30, TokenValidityUnits={"AccessToken": "minutes"}),
            lambda: control.rotate_keys(pool_id),
            lambda: control.clear_mailbox(),
            lambda: idp.delete_user_pool(UserPoolId=second),
            lambda: idp.admin_create_user(UserPoolId=pool_id, Username="carol", TemporaryPassword=PASSWORD),
            lambda: control.reset(),
        ]
        for i, step in enumerate(steps):
            step()
            live = _comparable(snapshot.dump(emu.backend, secrets=True))
            assert _restored_dump(state, tmp_path / f"copy-{i}") == live, f"step {i}"
    finally:
        emu.stop()


def test_concurrent_requests_leave_the_file_restoring_exactly_the_live_state(tmp_path: Path) -> None:
    state = tmp_path / "live"
    state.mkdir()
    emu = harness.start(seed=9, state=state)
    try:
        assert emu.pool is not None
        emu.remote_control().freeze()
        web = emu.pool.client_id
        errors: list[BaseException] = []

        def client_work(n: int) -> None:
            idp = emu.boto3_client()
            try:
                for i in range(12):
                    name = f"c{n}-{i}"
                    idp.sign_up(ClientId=web, Username=name, Password=PASSWORD,
                                UserAttributes=[{"Name": "email", "Value": f"{name}@example.com"}])
                    idp.initiate_auth(ClientId=web, AuthFlow="USER_PASSWORD_AUTH",
                                      AuthParameters={"USERNAME": "bob", "PASSWORD": "Bob-Passw0rd!"})
                    idp.admin_update_user_attributes(UserPoolId=emu.pool.pool_id, Username=name,  # type: ignore
                                                     UserAttributes=[{"Name": "custom:role", "Value": f"r{i}"}])
            except BaseException as exc:  # reported below, with the thread's own traceback
                errors.append(exc)

        threads = [threading.Thread(target=client_work, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not errors, errors
        assert len(emu.backend.pools[emu.pool.pool_id].users) >= 48
        live = _comparable(snapshot.dump(emu.backend, secrets=True))
        assert _restored_dump(state, tmp_path / "copy") == live
    finally:
        emu.stop()


def test_a_record_reached_before_it_was_tracked_is_compared_by_the_thread_that_reached_it(tmp_path: Path) -> None:
    """Thread B holds a new user's attribute dict from before thread A's commit first saw (and began
    tracking) that user, and changes it after: B's own commit must still write the change."""
    state = tmp_path / "live"
    state.mkdir()
    emu = harness.start(seed=3, state=state)
    try:
        assert emu.pool is not None and emu.state is not None
        pool_id, backend, tracked = emu.pool.pool_id, emu.backend, emu.state
        backend.call("AdminCreateUser", {"UserPoolId": pool_id, "Username": "late", "MessageAction": "SUPPRESS"})
        held: dict[str, Any] = {}
        a_committed, b_holds = threading.Event(), threading.Event()

        def thread_b() -> None:
            with backend.transaction():
                held["attributes"] = backend.pools[pool_id].users["late"].attributes  # still the plain class
            b_holds.set()
            a_committed.wait(30)
            held["attributes"]["custom:role"] = "set-after"  # through the reference: no attribute of the user read
            tracked.commit()  # B's request ends

        b = threading.Thread(target=thread_b)
        b.start()
        b_holds.wait(30)
        tracked.commit()  # A's request ends: its commit finds the new user and starts tracking it
        a_committed.set()
        b.join(30)
        live = _comparable(snapshot.dump(backend, secrets=True))
        assert _restored_dump(state, tmp_path / "copy") == live
    finally:
        emu.stop()


def _refused(call: Any) -> None:
    with pytest.raises(ClientError):
        call()


def test_without_a_state_file_nothing_of_persistence_is_on_the_path() -> None:
    with Emulator.start() as emu:
        assert emu.state is None and emu.restored is False
        assert emu.http.router is emu.guard  # no commit wrapper between the server and the faces


def test_the_overhead_bench_runs_and_prints_its_ratios() -> None:
    """Plumbing only (tiny counts, no speed asserted): bench/state_overhead.py measures both emulators."""
    bench = Path(__file__).resolve().parents[1] / "bench" / "state_overhead.py"
    proc = subprocess.run([sys.executable, str(bench), "--calls", "4", "--rounds", "2", "--users", "2"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    rows = [line.split() for line in proc.stdout.splitlines() if line.split()[:1] == ["2"]]
    assert [row[1] for row in rows] == ["SignUp", "InitiateAuth", "GetUser"]
    assert all(len(row) == 8 and float(row[4]) > 0 and float(row[7]) > 0 for row in rows), proc.stdout

