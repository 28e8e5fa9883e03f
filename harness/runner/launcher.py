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

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

from harness.coordinates import PoolCoordinates
from harness.results import Evidence
from harness.runner.processes import (
    LOG_LINES,
    LaunchError,
    StreamTail,
    describe_exit,
    free_port,
    probe,
    signal_group,
    wait_port,
    wait_ready,
)
from harness.runner.spec import TargetSpec


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
        self._tails: list[StreamTail] = []
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
        self._tails = [StreamTail(self.proc.stdout, "stdout"), StreamTail(self.proc.stderr, "stderr")]
        ready = _ready_url(self.spec, self.base_url, self.port)
        try:
            if ready:
                wait_ready(ready, self.spec.target.ready_timeout, alive=lambda: self.proc.poll() is None)
            else:
                wait_port(self.port, self.spec.target.ready_timeout, alive=lambda: self.proc.poll() is None)
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
            signal_group(proc.pid, signal.SIGTERM)
            try:
                proc.wait(self.spec.target.stop_timeout)
            except subprocess.TimeoutExpired:
                signal_group(proc.pid, signal.SIGKILL)
                proc.wait(5)
        # children that ignored SIGTERM while the leader exited
        signal_group(proc.pid, signal.SIGKILL)
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
                wait_port(self.port, self.spec.target.ready_timeout, alive=self._alive)
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
