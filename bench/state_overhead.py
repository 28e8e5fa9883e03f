"""What ``serve --state`` costs per API call, against the in-memory emulator.

    python bench/state_overhead.py                     # ~1 minute on a 2-core machine
    python bench/state_overhead.py --calls 300 --users 1 1000 5000

Two emulators in this process, the same pool definition and seed: one in memory, one with a
state file in a temporary directory. For each size (users made before measuring, each with a
live session) it times, over one keep-alive HTTP connection each (no boto3: its own CPU would
hide the difference), in rounds that alternate which emulator goes first:

* SignUp: a new user per call (one user record, the mailbox and the event log written);
* InitiateAuth (USER_PASSWORD_AUTH): a new session per call, two RS256 signatures;
* GetUser: reads only (what is left is finding that nothing changed).

and prints the process CPU per call (client and server together: both run here, and the client's
share is the same for either emulator) and the median wall time, each with the ratio state /
memory. A commit compares the records its request touched with what it last wrote, checks the
touched collections for members added or removed (C-speed passes over their keys, so a pool's
size still shows a little) and writes the few records that differ in one SQLite transaction. No
test asserts these figures.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.server import Emulator  # noqa: E402

PASSWORD = "Bench-Passw0rd!"
OPERATIONS = ("SignUp", "InitiateAuth", "GetUser")


class Client:
    """One keep-alive connection speaking the cognito-idp JSON 1.1 protocol."""

    def __init__(self, emu: Emulator) -> None:
        self.conn = http.client.HTTPConnection(emu.http.host, emu.http.port, timeout=30)

    def call(self, operation: str, members: dict[str, Any]) -> dict[str, Any]:
        self.conn.request("POST", "/", json.dumps(members), {
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": f"AWSCognitoIdentityProviderService.{operation}"})
        response = self.conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"{operation}: {response.status} {body[:200]!r}")
        return json.loads(body)


def _fill(emu: Emulator, client_id: str, count: int, tag: str) -> str:
    """``count`` confirmed users, each signed in once (a live session); returns an access token."""
    assert emu.pool is not None
    token = ""
    for i in range(count):
        username = f"{tag}-{i}"
        emu.backend.call("AdminCreateUser", {"UserPoolId": emu.pool.pool_id, "Username": username,
                                             "MessageAction": "SUPPRESS"})
        emu.backend.call("AdminSetUserPassword", {"UserPoolId": emu.pool.pool_id, "Username": username,
                                                  "Password": PASSWORD, "Permanent": True})
        token = emu.backend.call("InitiateAuth", {"ClientId": client_id, "AuthFlow": "USER_PASSWORD_AUTH",
                                                  "AuthParameters": {"USERNAME": username, "PASSWORD": PASSWORD}}
                                 )["AuthenticationResult"]["AccessToken"]
    if emu.state is not None:
        emu.state.commit()  # the fill itself went around HTTP: written here, not measured
    return token


def _workloads(emu: Emulator, client_id: str, token: str, signed_up: list[int]) -> dict[str, Callable[[Client], Any]]:
    def sign_up(client: Client) -> Any:
        signed_up[0] += 1
        name = f"new-{signed_up[0]}"
        return client.call("SignUp", {"ClientId": client_id, "Username": name, "Password": PASSWORD,
                                      "UserAttributes": [{"Name": "email", "Value": f"{name}@example.com"}]})

    def sign_in(client: Client) -> Any:
        return client.call("InitiateAuth", {"ClientId": client_id, "AuthFlow": "USER_PASSWORD_AUTH",
                                            "AuthParameters": {"USERNAME": "fill-0", "PASSWORD": PASSWORD}})

    def get_user(client: Client) -> Any:
        return client.call("GetUser", {"AccessToken": token})

    return {"SignUp": sign_up, "InitiateAuth": sign_in, "GetUser": get_user}


def _time(work: Callable[[Client], Any], client: Client, calls: int) -> tuple[list[float], float]:
    """Wall seconds per call, and the process CPU seconds all of them took (client and server: both
    are in this process, and the client's share is the same for either emulator)."""
    times = []
    cpu = time.process_time()
    for _ in range(calls):
        start = time.perf_counter()
        work(client)
        times.append(time.perf_counter() - start)
    return times, time.process_time() - cpu


Times = dict[str, dict[str, tuple[list[float], float]]]


def measure(users: int, calls: int, rounds: int, directory: Path) -> Times:
    """By operation and mode ("memory", "state"): wall seconds per call and total CPU seconds."""
    state_dir = directory / f"state-{users}"
    state_dir.mkdir()
    emus = {"memory": Emulator.start(seed=1), "state": Emulator.start(seed=1, state=state_dir)}
    try:
        setups = {}
        for mode, emu in emus.items():
            emu.load_pool()
            assert emu.pool is not None
            token = _fill(emu, emu.pool.client_id, max(users, 1), "fill")
            setups[mode] = (Client(emu), _workloads(emu, emu.pool.client_id, token, [0]))
        times: Times = {op: {"memory": ([], 0.0), "state": ([], 0.0)} for op in OPERATIONS}
        for r in range(rounds):
            order = ["memory", "state"] if r % 2 == 0 else ["state", "memory"]
            for op in OPERATIONS:
                for mode in order:
                    client, work = setups[mode]
                    _time(work[op], client, 3)  # warm-up
                    walls, cpu = _time(work[op], client, calls // rounds)
                    kept = times[op][mode]
                    times[op][mode] = (kept[0] + walls, kept[1] + cpu)
        size = (state_dir / "cognito-harness.sqlite3").stat().st_size
        print(f"  (state file after the run: {size / 1024:.0f} KiB)")
        return times
    finally:
        for emu in emus.values():
            emu.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=200, help="calls per operation and mode (default 200)")
    parser.add_argument("--rounds", type=int, default=4, help="alternating rounds (default 4)")
    parser.add_argument("--users", type=int, nargs="+", default=[1, 1000], help="users held, at least 1 (default 1 1000)")
    args = parser.parse_args()
    print(f"{'users':>6}  {'operation':<13}{'CPU ms/call':>22}{'wall ms/call (median)':>30}")
    print(f"{'':>6}  {'':<13}{'memory  state  ratio':>22}{'memory   state  ratio':>30}")
    with tempfile.TemporaryDirectory() as tmp:
        for users in args.users:
            times = measure(users, args.calls, args.rounds, Path(tmp))
            for op in OPERATIONS:
                (mem, mem_cpu), (st, st_cpu) = times[op]["memory"], times[op]["state"]
                c = (mem_cpu / len(mem) * 1e3, st_cpu / len(st) * 1e3)
                w = (statistics.median(mem) * 1e3, statistics.median(st) * 1e3)
                print(f"{users:>6}  {op:<13}{c[0]:>8.3f}{c[1]:>7.3f}{c[1] / c[0]:>7.2f}"
                      f"{w[0]:>15.3f}{w[1]:>8.3f}{w[1] / w[0]:>7.2f}")


if __name__ == "__main__":
    main()
