"""How long ``GET /_harness/snapshot`` holds the store lock, and what a concurrent call waits.

    python bench/snapshot_lock.py --sessions 100000

Builds N live sessions (copies of one real sign-in's session, so the setup
takes seconds, not an RSA signature each), then reports:

* lock hold: the time :func:`harness.engine.snapshot.capture` holds the store
  lock (the copy; encoding happens after, outside the lock);
* encode: writing the JSON from that copy (outside the lock);
* GetUser during a snapshot: the wall time of a GetUser sent 20 ms after a
  streamed ``GET /_harness/snapshot?secrets=true`` started, and of one sent
  once its first bytes arrived (the copy is done: only the GIL is shared);
* the snapshot's size and wall time over HTTP.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.control import Control  # noqa: E402
from harness.engine import snapshot as snap  # noqa: E402
from harness.server import Emulator  # noqa: E402


def _fill(emu: Emulator, pool_id: str, count: int) -> None:
    with emu.backend.transaction():
        pool = emu.backend.pools[pool_id]
        template = next(iter(pool.sessions.values()))
        for i in range(count):
            copy = dataclasses.replace(template, origin_jti=f"bench-{i:08d}", scopes=list(template.scopes))
            pool.sessions[copy.origin_jti] = copy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=100_000)
    args = parser.parse_args()
    with Emulator.start(seed=3) as emu:
        control = Control(emu.backend)
        handle = control.load_pool()
        control.freeze(1_900_000_000)
        idp = emu.boto3_client()
        signed = idp.initiate_auth(ClientId=handle["clients"]["web"]["client_id"], AuthFlow="USER_PASSWORD_AUTH",
                                   AuthParameters={"USERNAME": "bob", "PASSWORD": "Bob-Passw0rd!"})
        access = signed["AuthenticationResult"]["AccessToken"]
        _fill(emu, handle["pool_id"], args.sessions)

        started = time.perf_counter()
        view = snap.capture(emu.backend, secrets=True)
        hold = time.perf_counter() - started
        started = time.perf_counter()
        size = sum(len(piece) for piece in snap.stream(view))
        encode = time.perf_counter() - started

        first_bytes = threading.Event()
        wall: dict[str, float] = {}

        def fetch() -> None:
            t0 = time.perf_counter()
            with requests.get(emu.url + "/_harness/snapshot?secrets=true", stream=True, timeout=600) as answer:
                for i, _ in enumerate(answer.iter_content(1 << 16)):
                    if i == 0:
                        first_bytes.set()
            wall["snapshot"] = time.perf_counter() - t0

        def get_user() -> float:
            t0 = time.perf_counter()
            idp.get_user(AccessToken=access)
            return time.perf_counter() - t0

        reader = threading.Thread(target=fetch)
        reader.start()
        time.sleep(0.02)
        during_copy = get_user()
        first_bytes.wait(600)
        during_stream = get_user()
        reader.join()
        print(f"sessions: {args.sessions}")
        print(f"lock hold (capture):          {hold:.3f} s")
        print(f"encode outside the lock:      {encode:.3f} s ({size / 1e6:.1f} MB)")
        print(f"GetUser sent 20 ms in:        {during_copy:.3f} s")
        print(f"GetUser while streaming:      {during_stream:.3f} s")
        print(f"snapshot over HTTP:           {wall['snapshot']:.3f} s")


if __name__ == "__main__":
    main()
