"""A private ``/etc/hosts`` for a launched app that ignores ``HTTPS_PROXY``.

Where the machine allows it (root, ``unshare`` and ``mount`` present, mount
namespaces permitted), the app runs in its own mount namespace in which
``/etc/hosts`` is bind-mounted over by a copy that maps the AWS host names to
the TLS front's per-run loopback address (127.x.y.z, port 443). Only the
app's view of that one file changes: it shares the machine's network, so it
still reaches the emulator and the harness still reaches it. Whether this is
possible is probed once per process and the reason it is not is reported.
"""

from __future__ import annotations

import functools
import os
import random
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

HOSTS_FILE = Path("/etc/hosts")
PROBE_NAME = "cognito-harness-probe.invalid"
PROBE_TIMEOUT = 10.0
# $0 is the hosts file, "$@" the app's command: exec keeps the app's pid (and process group)
_BIND_AND_EXEC = 'mount --bind "$0" /etc/hosts && exec "$@"'


@dataclass(frozen=True)
class HostsIsolation:
    """Whether a launched app can be given a private /etc/hosts, and if not, why."""

    available: bool
    reason: str


def wrapper(hosts_file: Path) -> list[str]:
    """The command prefix that runs the app in a private mount namespace with ``hosts_file``."""
    return ["unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c", _BIND_AND_EXEC, str(hosts_file)]


def write_hosts_file(directory: Path, address: str, names: list[str]) -> Path:
    """The machine's hosts file plus one line sending ``names`` to ``address`` (a loopback address)."""
    if not address.startswith("127."):
        raise ValueError(f"the private hosts file maps to loopback only, not {address!r}")
    try:
        base = HOSTS_FILE.read_text(encoding="utf-8", errors="replace")
    except OSError:
        base = "127.0.0.1 localhost\n"
    path = Path(directory) / "hosts"
    path.write_text(base.rstrip("\n") + f"\n# cognito-harness AWS endpoint mode\n{address} {' '.join(names)}\n",
                    encoding="utf-8")
    return path


@functools.lru_cache(maxsize=1)
def probe() -> HostsIsolation:
    """Can this process give a child a private /etc/hosts? Tried for real, once per process."""
    if not sys.platform.startswith("linux"):
        return HostsIsolation(False, f"private mount namespaces need Linux (this is {sys.platform})")
    if os.geteuid() != 0:
        return HostsIsolation(False, "a private mount namespace needs root (the harness runs as uid "
                                     f"{os.geteuid()})")
    missing = [tool for tool in ("unshare", "mount") if shutil.which(tool) is None]
    if missing:
        return HostsIsolation(False, f"{' and '.join(missing)} not found on PATH (util-linux)")
    with tempfile.TemporaryDirectory(prefix="cognito-harness-probe-") as tmp:
        hosts = write_hosts_file(Path(tmp), "127.0.0.1", [PROBE_NAME])
        try:
            done = subprocess.run([*wrapper(hosts), "cat", str(HOSTS_FILE)], capture_output=True,
                                  timeout=PROBE_TIMEOUT, stdin=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return HostsIsolation(False, f"unshare --mount failed to run ({exc})")
    if done.returncode != 0 or PROBE_NAME.encode() not in done.stdout:
        detail = done.stderr.decode("utf-8", errors="replace").strip().splitlines()
        return HostsIsolation(False, "unshare --mount or mount --bind was refused here "
                                     f"({detail[-1] if detail else f'exit {done.returncode}'})")
    return HostsIsolation(True, "private mount namespace with its own /etc/hosts")


def loopback_candidates(count: int = 20, rng: random.Random | None = None) -> list[str]:
    """Per-run loopback addresses (127.a.b.c, never 127.0.x.x) so concurrent runs do not clash on port 443."""
    pick = rng or random.SystemRandom()
    return [f"127.{pick.randint(1, 254)}.{pick.randint(0, 255)}.{pick.randint(1, 254)}" for _ in range(count)]


__all__ = ["HostsIsolation", "loopback_candidates", "probe", "wrapper", "write_hosts_file"]
