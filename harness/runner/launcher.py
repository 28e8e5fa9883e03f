"""Start, watch and stop the target app.

Three ways to reach a target, chosen by the spec's [target] table:

* ``command``: a subprocess in its own process group, given the env contract
  (free ``PORT``, pool coordinates, endpoint, test credentials) plus the spec's
  ``env``; its stdout/stderr are captured for the evidence; it is stopped with
  SIGTERM then SIGKILL to the whole group so no child outlives the run.
* ``image``: a container through the Docker SDK (the optional ``docker``
  extra) with the same environment, on the host network so loopback URLs work.
* ``base_url``: an app already running; nothing is started or stopped.
"""

from __future__ import annotations

import collections
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import requests

from harness.results import Evidence
from harness.coordinates import PoolCoordinates
from harness.runner.spec import TargetSpec

LOG_LINES = 400  # lines of stdout/stderr kept per stream


class LaunchError(RuntimeError):
    """The target could not be started or reached; the run reports ERROR with this message."""

    def __init__(self, message: str, address: str = "", output: str = "") -> None:
        super().__init__(message)
        self.address = address
        self.output = output


@dataclass(frozen=True)
class LaunchOverlay:
    """What a run mode adds to a launched command (AWS endpoint mode: CA, proxy and AWS URLs; a
    private-hosts-file wrapper): ``env`` over the contract (the spec's own env still wins), and a
    ``command_prefix`` that execs the app (so its pid and process group stay the app's)."""

    env: dict[str, str] = field(default_factory=dict)
    command_prefix: list[str] = field(default_factory=list)


def contract_env(coords: PoolCoordinates, port: int) -> dict[str, str]:
    """The variables every launched target receives: the pool's coordinates plus its PORT."""
    return {"PORT": str(port), **coords.env()}


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


class _StreamTail:
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


class Target(Protocol):
    """What the engine needs from a running target."""

    base_url: str
    address: str

    def start(self) -> None: ...
    def stop(self) -> None: ...
    def restart(self) -> None: ...
    def logs(self) -> list[Evidence]: ...
    def probe(self, timeout: float) -> str | None: ...
    def fate(self, grace: float = 1.0) -> str: ...


def _ready_url(spec: TargetSpec, base_url: str, port: int) -> str | None:
    ready = spec.target.ready_url
    if not ready:
        return None
    ready = ready.replace("{port}", str(port))
    return base_url + ready if ready.startswith("/") else ready


class _LaunchedTarget:
    """What every target the harness starts has: its spec, the pool's coordinates, a loopback port."""

    def __init__(self, spec: TargetSpec, coords: PoolCoordinates, port: int | None = None) -> None:
        self.spec = spec
        self.coords = coords
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.address = self.base_url


class ProcessTarget(_LaunchedTarget):
    """A target started as a subprocess (in its own process group) on a free port."""

    def __init__(self, spec: TargetSpec, coords: PoolCoordinates, port: int | None = None,
                 overlay: LaunchOverlay | None = None) -> None:
        super().__init__(spec, coords, port)
        self.overlay = overlay or LaunchOverlay()
        self.proc: subprocess.Popen[bytes] | None = None
        self._tails: list[_StreamTail] = []
        self.starts = 0
        self._history: list[Evidence] = []

    def command(self) -> list[str]:
        subst = {"python": sys.executable, "spec_dir": str(self.spec.spec_dir), "port": str(self.port)}
        out = []
        for part in self.spec.target.command or []:
            for key, value in subst.items():
                part = part.replace("{" + key + "}", value)
            out.append(part)
        return [*self.overlay.command_prefix, *out]

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(contract_env(self.coords, self.port))
        env.update(self.overlay.env)
        env.update({k: v.replace("{port}", str(self.port)) for k, v in self.spec.target.env.items()})
        env.setdefault("PYTHONUNBUFFERED", "1")
        return env

    def cwd(self) -> str:
        return str(self.spec.resolve(self.spec.target.cwd)) if self.spec.target.cwd else str(self.spec.spec_dir)

    def start(self) -> None:
        command = self.command()
        try:
            self.proc = subprocess.Popen(
                command,
                cwd=self.cwd(),
                env=self.environment(),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,  # its own process group: stop() reaches its children
            )
        except OSError as exc:
            raise LaunchError(f"could not start target command {command[0]!r}: {exc.strerror or exc}",
                              address=self.base_url) from None
        self.starts += 1
        self._tails = [_StreamTail(self.proc.stdout, "stdout"), _StreamTail(self.proc.stderr, "stderr")]
        ready = _ready_url(self.spec, self.base_url, self.port)
        try:
            if ready:
                wait_ready(ready, self.spec.target.ready_timeout, alive=lambda: self.proc.poll() is None)
            else:
                _wait_port(self.port, self.spec.target.ready_timeout, alive=lambda: self.proc.poll() is None)
            if self.proc.poll() is not None:  # something else answered on its port, and it died
                raise LaunchError(f"target exited right after {self.base_url} answered (port taken by "
                                  f"another process?)", address=self.base_url)
        except LaunchError as exc:
            proc = self.proc
            self.stop()
            code = proc.returncode if proc is not None else None
            raise LaunchError(f"{exc} (exit code {code}); last output:\n{self.output_tail()}",
                              address=exc.address, output=self.output_tail()) from None

    def output_tail(self, lines: int = 20) -> str:
        text = []
        for tail in self._tails:
            text.extend(f"[{tail.name}] {line}" for line in list(tail.lines)[-lines:])
        return "\n".join(text)

    def mark(self) -> tuple[int, ...]:
        """Line counts per stream now (see :meth:`output_since`)."""
        return tuple(t.total for t in self._tails)

    def output_since(self, mark: tuple[int, ...]) -> list[Evidence]:
        """``log`` evidence with what the target printed since ``mark`` (for one scenario)."""
        out = []
        if len(mark) != len(self._tails):
            return out
        for tail, before in zip(self._tails, mark):
            new = tail.total - before
            if new > 0:
                lines = list(tail.lines)[-min(new, len(tail.lines)):]
                out.append(Evidence("log", f"target {tail.name} during the check", {"stream": tail.name,
                                                                                   "lines": lines}))
        return out

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def probe(self, timeout: float) -> str | None:
        """None when the process runs and answers (see :func:`probe`), else why not."""
        if self.proc is None:
            return "the target process is not started"
        if self.proc.poll() is not None:
            return f"the target process {describe_exit(self.proc.returncode)}"
        return probe(_ready_url(self.spec, self.base_url, self.port), self.port, timeout=timeout)

    def fate(self, grace: float = 1.0) -> str:
        """What became of the process after a request got no answer: its exit, or that it still runs.

        A crash closes the connection a moment before the process is reaped,
        hence the short wait.
        """
        if self.proc is None:
            return "the target process is not started"
        try:
            self.proc.wait(grace)
        except subprocess.TimeoutExpired:
            return "the process is still running"
        for tail in self._tails:  # its last words: the pipes close when it exits
            tail.join(0.5)
        return f"the process {describe_exit(self.proc.returncode)}"

    def stop(self) -> None:
        """SIGTERM to the group, SIGKILL after ``stop_timeout``; keep the output for the evidence."""
        proc = self.proc
        if proc is None:
            return
        if proc.poll() is None:
            _signal_group(proc.pid, signal.SIGTERM)
            try:
                proc.wait(self.spec.target.stop_timeout)
            except subprocess.TimeoutExpired:
                _signal_group(proc.pid, signal.SIGKILL)
                proc.wait(5)
        # children that ignored SIGTERM while the leader exited
        _signal_group(proc.pid, signal.SIGKILL)
        for tail in self._tails:
            tail.join()
        self._history.extend(self._log_evidence(proc.returncode))
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def _log_evidence(self, returncode: int | None = None) -> list[Evidence]:
        out = []
        for tail in self._tails:
            out.append(Evidence("log", f"target {tail.name} (start #{self.starts})",
                                {"stream": tail.name, "lines": list(tail.lines), "total_lines": tail.total,
                                 "returncode": returncode, "command": self.command()}))
        return out

    def logs(self) -> list[Evidence]:
        """Output captured so far: earlier (stopped) starts, then the running one."""
        return [*self._history, *(self._log_evidence() if self.proc is not None else [])]


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _wait_port(port: int, timeout: float, alive: Any = None) -> None:
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


class ExternalTarget:
    """An app already running at ``base_url``: checked for reachability, never started or stopped."""

    def __init__(self, spec: TargetSpec) -> None:
        self.spec = spec
        self.base_url = spec.target.base_url or ""
        self.address = self.base_url

    def start(self) -> None:
        split = urlsplit(self.base_url)
        ready = _ready_url(self.spec, self.base_url, split.port or 80)
        if ready:
            wait_ready(ready, self.spec.target.ready_timeout)
            return
        host, port = split.hostname or "127.0.0.1", split.port or (443 if split.scheme == "https" else 80)
        try:
            with socket.create_connection((host, port), timeout=min(self.spec.target.ready_timeout, 5.0)):
                return
        except OSError as exc:
            raise LaunchError(f"target unreachable at {self.base_url} ({exc.strerror or exc})",
                              address=self.base_url) from None

    def stop(self) -> None:
        return None

    def restart(self) -> None:
        raise LaunchError(f"cannot restart a target that runs outside the harness ({self.base_url})",
                          address=self.base_url)

    def probe(self, timeout: float) -> str | None:
        split = urlsplit(self.base_url)
        port = split.port or (443 if split.scheme == "https" else 80)
        return probe(_ready_url(self.spec, self.base_url, port), port, split.hostname or "127.0.0.1", timeout)

    def fate(self, grace: float = 1.0) -> str:
        return f"the harness cannot see the process of a target it did not launch (base_url {self.base_url})"

    def logs(self) -> list[Evidence]:
        return []


class ContainerTarget(_LaunchedTarget):
    """A target started from a container image through the Docker SDK, on the host network."""

    def __init__(self, spec: TargetSpec, coords: PoolCoordinates, port: int | None = None) -> None:
        super().__init__(spec, coords, port)
        self.container: Any = None
        self._history: list[Evidence] = []

    def container_config(self) -> dict[str, Any]:
        """Keyword arguments for ``docker.containers.run`` (testable without an engine).

        Host networking lets the container reach the emulator on 127.0.0.1 and
        the harness reach the app on ``PORT``, exactly as for a subprocess.
        """
        env = contract_env(self.coords, self.port)
        env.update({k: v.replace("{port}", str(self.port)) for k, v in self.spec.target.env.items()})
        config: dict[str, Any] = {
            "image": self.spec.target.image,
            "environment": env,
            "network_mode": "host",
            "detach": True,
            "auto_remove": False,
            "labels": {"cognito-harness.target": self.spec.name},
        }
        if self.spec.target.command:
            config["command"] = list(self.spec.target.command)
        return config

    def _client(self) -> Any:
        try:
            import docker  # type: ignore[import-not-found]  # deliberately lazy: an optional extra ([docker])
        except ImportError:
            raise LaunchError(
                f"target {self.spec.name!r} names image {self.spec.target.image!r} but the Docker SDK is not "
                "installed: pip install 'cognito-harness[docker]'", address=self.base_url) from None
        try:
            client = docker.from_env()
            client.ping()
            return client
        except Exception as exc:  # docker.errors.DockerException and connection errors
            raise LaunchError(
                f"target {self.spec.name!r} names image {self.spec.target.image!r} but no Docker engine is "
                f"reachable ({type(exc).__name__}: {exc})", address=self.base_url) from None

    def start(self) -> None:
        client = self._client()
        try:
            self.container = client.containers.run(**self.container_config())
        except Exception as exc:
            raise LaunchError(f"could not start image {self.spec.target.image!r}: {exc}",
                              address=self.base_url) from None
        ready = _ready_url(self.spec, self.base_url, self.port)
        try:
            if ready:
                wait_ready(ready, self.spec.target.ready_timeout, alive=self._alive)
            else:
                _wait_port(self.port, self.spec.target.ready_timeout, alive=self._alive)
        except LaunchError:
            self.stop()
            raise

    def running(self) -> bool:
        return self.container is not None and self._alive()

    def probe(self, timeout: float) -> str | None:
        if not self.running():
            return "the target container is not running"
        return probe(_ready_url(self.spec, self.base_url, self.port), self.port, timeout=timeout)

    def fate(self, grace: float = 1.0) -> str:
        deadline = time.monotonic() + grace
        while self.running() and time.monotonic() < deadline:
            time.sleep(0.05)
        return "the container is still running" if self.running() else "the container stopped"

    def _alive(self) -> bool:
        try:
            self.container.reload()
            return self.container.status in ("created", "running")
        except Exception:
            return False

    def stop(self) -> None:
        if self.container is None:
            return
        try:
            self.container.stop(timeout=int(self.spec.target.stop_timeout))
            logs = self.container.logs(stdout=True, stderr=True).decode("utf-8", errors="replace")
            self._history.append(Evidence("log", "container output",
                                          {"lines": logs.splitlines()[-LOG_LINES:], "image": self.spec.target.image}))
            self.container.remove(force=True)
        except Exception:
            pass
        self.container = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def logs(self) -> list[Evidence]:
        return list(self._history)


def make_target(spec: TargetSpec, coords: PoolCoordinates,
                overlay: LaunchOverlay | None = None) -> ProcessTarget | ContainerTarget | ExternalTarget:
    mode = spec.target.mode
    if mode == "base_url":
        return ExternalTarget(spec)
    if mode == "image":
        return ContainerTarget(spec, coords)
    return ProcessTarget(spec, coords, overlay=overlay)


__all__ = [
    "ContainerTarget", "ExternalTarget", "LaunchError", "LaunchOverlay", "PoolCoordinates", "ProcessTarget", "Target",
    "contract_env", "describe_exit", "free_port", "make_target", "probe", "wait_ready",
]
