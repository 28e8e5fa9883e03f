"""Ports, readiness and process plumbing for the targets the harness launches.

Kept apart from harness.runner.launcher (which starts, watches and stops a
target) because the pieces here are also used alone: a free port for a test
server, a readiness wait, a one-shot liveness probe, an exit status in words.
"""

from __future__ import annotations

import collections
import os
import random
import signal
import socket
import threading
import time
from pathlib import Path
from typing import Any

import requests

LOG_LINES = 400  # lines of stdout/stderr kept per stream


class LaunchError(RuntimeError):
    """The target could not be started or reached; the run reports ERROR with this message."""

    def __init__(self, message: str, address: str = "", output: str = "") -> None:
        super().__init__(message)
        self.address = address
        self.output = output


_PORTS_HANDED_OUT: set[int] = set()
_PORTS_LOCK = threading.Lock()
_PORT_PICKER = random.SystemRandom()


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def free_port(host: str = "127.0.0.1") -> int:
    """A free loopback port for a target, chosen *below* the OS's ephemeral range.

    The emulator and other servers bind port 0, so the OS hands them ports
    from the ephemeral range; a target port picked from that range could be
    taken by such a server between this check and the target's own bind (and
    the readiness probe would then talk to the wrong server). Ports handed
    out here are never handed out again by this process.
    """
    first_ephemeral = _ephemeral_range()[0]
    low = max(1024, first_ephemeral - 22000)
    high = max(low + 1000, first_ephemeral - 1)
    with _PORTS_LOCK:
        for _ in range(200):
            port = _PORT_PICKER.randint(low, high)
            if port in _PORTS_HANDED_OUT:
                continue
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                try:
                    s.bind((host, port))
                except OSError:
                    continue
            _PORTS_HANDED_OUT.add(port)
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:  # a crowded machine: let the OS choose
        s.bind((host, 0))
        return int(s.getsockname()[1])


def wait_ready(url: str, timeout: float, alive: Any = None, interval: float = 0.05) -> None:
    """Poll ``url`` until it answers below 500, ``alive()`` turns false, or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    last = "no answer yet"
    while True:
        if alive is not None and not alive():
            raise LaunchError(f"target exited before it was ready at {url}", address=url)
        try:
            response = requests.get(url, timeout=min(2.0, max(timeout, 0.1)), allow_redirects=False)
            if response.status_code < 500:
                return
            last = f"HTTP {response.status_code}"
        except requests.RequestException as exc:
            last = type(exc).__name__
        if time.monotonic() >= deadline:
            raise LaunchError(f"target not ready at {url} after {timeout:g}s (last: {last})", address=url)
        time.sleep(interval)


def probe(url: str | None, port: int, host: str = "127.0.0.1", timeout: float = 2.0) -> str | None:
    """One look at a running target: None when it answers, else what was seen.

    With a readiness URL: any answer below 500. Without: the port accepts a
    connection (which cannot tell a hung app from a live one).
    """
    if url:
        try:
            status = requests.get(url, timeout=timeout, allow_redirects=False).status_code
        except requests.Timeout:
            return f"no answer from {url} within {timeout:g} s"
        except requests.RequestException as exc:
            return f"{url}: {type(exc).__name__}"
        return None if status < 500 else f"{url} answered HTTP {status}"
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except OSError as exc:
        return f"nothing accepts connections on {host}:{port} ({exc.strerror or exc})"


def describe_exit(returncode: int) -> str:
    """"exited with status 3" or "was killed by signal 11 (SIGSEGV)" (Popen's negative codes)."""
    if returncode >= 0:
        return f"exited with status {returncode}"
    try:
        name = signal.Signals(-returncode).name
    except ValueError:
        name = "unknown signal"
    return f"was killed by signal {-returncode} ({name})"


class StreamTail:
    """Reads a pipe on a thread, keeping the last lines (so a chatty app never blocks)."""

    def __init__(self, stream: Any, name: str) -> None:
        self.name = name
        self.lines: collections.deque[str] = collections.deque(maxlen=LOG_LINES)
        self.total = 0
        self._thread = threading.Thread(target=self._pump, args=(stream,), daemon=True, name=f"target-{name}")
        self._thread.start()

    def _pump(self, stream: Any) -> None:
        for raw in iter(stream.readline, b""):
            self.lines.append(raw.decode("utf-8", errors="replace").rstrip("\n"))
            self.total += 1
        stream.close()

    def join(self, timeout: float = 1.0) -> None:
        self._thread.join(timeout)

    def text(self) -> str:
        return "\n".join(self.lines)


def signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def wait_port(port: int, timeout: float, alive: Any = None) -> None:
    deadline = time.monotonic() + timeout
    address = f"http://127.0.0.1:{port}"
    while True:
        if alive is not None and not alive():
            raise LaunchError(f"target exited before it listened on {address}", address=address)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.settimeout(0.5)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        if time.monotonic() >= deadline:
            raise LaunchError(f"target did not listen on {address} within {timeout:g}s", address=address)
        time.sleep(0.05)


__all__ = ["LOG_LINES", "LaunchError", "StreamTail", "describe_exit", "free_port", "probe", "signal_group",
           "wait_port", "wait_ready"]
