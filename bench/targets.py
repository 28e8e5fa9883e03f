"""The two servers under comparison, each run as a real subprocess on loopback.

A :class:`Target` knows how to spawn its server on a free 127.0.0.1 port,
measures spawn -> first successful cognito-idp call (``ListUserPools``,
polled over fresh connections), reads its RSS from ``/proc/<pid>/status``
and always stops it, even when the bench fails half-way.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from loadgen import call_once

HOST = "127.0.0.1"
REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A currently free loopback port (the OS picks; tiny race accepted)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def harness_start_mode(mode: str = "auto") -> str:
    """``cli`` or ``python``: ``auto`` picks the CLI when ``harness.cli`` and its serve command exist."""
    if mode != "auto":
        return mode
    try:
        has_serve = importlib.util.find_spec("harness.cli.serve") is not None
    except ModuleNotFoundError:
        has_serve = False
    return "cli" if has_serve and importlib.util.find_spec("harness.cli") is not None else "python"


def harness_command(port: int, mode: str = "auto") -> list[str]:
    """How to start cognito-harness: ``cognito-harness serve`` (the CLI, which also loads
    fixtures/pools/default.toml) or the bare :class:`harness.server.Emulator` in one line."""
    mode = harness_start_mode(mode)
    if mode == "cli":
        return [sys.executable, "-m", "harness.cli", "serve", "--port", str(port), "--seed", "1"]
    if mode == "python":
        code = ("from harness.server import Emulator; "
                f"Emulator(host={HOST!r}, port={port}, seed=1).serve_forever()")
        return [sys.executable, "-c", code]
    raise ValueError(f"unknown harness start mode {mode!r}")


def moto_command(port: int) -> list[str]:
    # ``python -m moto.server`` is what the ``moto_server`` script runs, minus the shell shim,
    # so the pid we watch is the server itself.
    return [sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(port)]


def rss_kib(pid: int) -> int | None:
    """Resident set size (VmRSS) of ``pid`` in KiB, or None if unreadable."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time ``pid`` has used so far (all its threads), or None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime
    except (OSError, ValueError, IndexError):
        return None


def machine_busy_seconds() -> float | None:
    """CPU seconds all CPUs have spent busy (not idle or waiting on I/O) since boot."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
        user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
        return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


@dataclass
class Target:
    """One server: its name, how to start it, and the live process."""

    name: str
    command_for: Callable[[int], list[str]]  # port -> argv
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def spawn(self) -> float:
        """Start the server; return the monotonic spawn time."""
        self.stop()
        self._drop_log()
        self.port = free_port()
        command = self.command_for(self.port)
        log = tempfile.NamedTemporaryFile(prefix="bench-server-", suffix=".log", delete=False)
        self.log_path = Path(log.name)
        env = dict(os.environ)
        # make ``import harness`` work from a checkout even when not installed
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
        env.setdefault("PYTHONUNBUFFERED", "1")
        started = time.perf_counter()
        self.proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     env=env, cwd=str(REPO), start_new_session=True)
        log.close()
        return started

    def wait_ready(self, started: float, timeout: float = 60.0) -> float:
        """Poll ListUserPools until it answers 200; return seconds since ``started``."""
        deadline = started + timeout
        body = b'{"MaxResults": 1}'
        last = "no answer"
        while True:
            if self.proc is None or self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited during startup (code "
                                   f"{None if self.proc is None else self.proc.returncode}); log:\n{self.log_tail()}")
            try:
                status, answer = call_once(HOST, self.port, "ListUserPools", body, timeout=2.0)
                if status == 200:
                    return time.perf_counter() - started
                last = f"{status} {answer[:200]!r}"
            except OSError as exc:
                last = repr(exc)
            if time.perf_counter() > deadline:
                raise RuntimeError(f"{self.name} did not answer ListUserPools with 200 within {timeout:.0f}s "
                                   f"(last: {last}); log:\n{self.log_tail()}")
            time.sleep(0.005)

    def start(self, timeout: float = 60.0) -> float:
        """Spawn and wait; return startup seconds (spawn -> first answered call)."""
        return self.wait_ready(self.spawn(), timeout)

    def rss_kib(self) -> int | None:
        return rss_kib(self.proc.pid) if self.proc is not None else None

    def cpu_seconds(self) -> float | None:
        return cpu_seconds(self.proc.pid) if self.proc is not None else None

    def log_tail(self, lines: int = 30) -> str:
        if self.log_path is None or not self.log_path.exists():
            return "(no log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        """Terminate the server (and anything it spawned); kill it if it lingers."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait(timeout=5)

    def cleanup(self) -> None:
        self.stop()
        self._drop_log()

    def _drop_log(self) -> None:
        if self.log_path is not None:
            self.log_path.unlink(missing_ok=True)
            self.log_path = None
