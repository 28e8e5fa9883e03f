"""The spec's ``[triggers]``: the app's own Lambda functions, bound to its pool for the run.

A team's trigger (pre token generation, user migration, custom auth...) is a
handler in its code that reads the same store as its app, reached through its
configuration (a Lambda's environment variables). For a run, the spec names
the handler and its environment; the emulator backend binds each to the pool
(``harness.engine.triggers.set_trigger``) after the pool is loaded:

* ``python:<file.py or module>:<function>``: the engine's Python handler
  (:class:`harness.engine.functions.python_handlers.HandlerPath`) with an
  environment of its own, so it runs in a worker process (a warm container:
  imported once, one invocation at a time) whose environment is the run's: the
  harness's, the pool's coordinates (``COGNITO_*``), ``COGNITO_HARNESS_RUN_DIR``
  (a directory of the run, which the launched app also receives) and the
  binding's ``environment``. Its prints go to ``<run dir>/<trigger>.log``.
* ``http(s)://127.0.0.1...``: a loopback URL that answers the event.

The engine applies Cognito's limits to both (5 s, three attempts; the errors
are Cognito's): see :mod:`harness.engine.triggers`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from harness.coordinates import PoolCoordinates
from harness.engine.functions.python_handlers import HandlerPath
from harness.engine.triggers import set_trigger
from harness.runner.spec_triggers_model import TriggerBinding

RUN_DIR_VARIABLE = "COGNITO_HARNESS_RUN_DIR"


class BoundTriggers:
    """The run's trigger workers and run directory (made once per run, stopped with the backend)."""

    def __init__(self, bindings: tuple[TriggerBinding, ...], spec_dir: Path) -> None:
        self.bindings = bindings
        self.spec_dir = spec_dir
        self._run_dir: Path | None = None
        self.logged: set[str] = set()  # triggers whose function writes a log in the run directory

    @property
    def run_dir(self) -> Path:
        """The run's directory, made on first use (a run without triggers makes none)."""
        if self._run_dir is None:
            self._run_dir = Path(tempfile.mkdtemp(prefix="cognito-harness-run-"))
        return self._run_dir

    def target_env(self) -> dict[str, str]:
        """What the launched app receives so it shares the run's store with its triggers."""
        return {RUN_DIR_VARIABLE: str(self.run_dir)}

    def _environment(self, binding: TriggerBinding, coords: PoolCoordinates) -> dict[str, str]:
        """The function's own variables on top of the emulator's: the pool's coordinates, the run directory,
        the binding's ``environment`` ({spec_dir} and {run_dir} filled in), the spec's folder importable."""
        env = dict(coords.env())
        env.update(self.target_env())
        values = {"spec_dir": str(self.spec_dir), "run_dir": str(self.run_dir)}
        for key, value in binding.environment.items():
            for name, replacement in values.items():
                value = value.replace("{" + name + "}", replacement)
            env[key] = value
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(self.spec_dir), os.environ.get("PYTHONPATH", "")) if p)
        return env

    def _handler(self, binding: TriggerBinding, coords: PoolCoordinates) -> HandlerPath | str:
        """A python: binding as the engine's worker-run handler (its environment, folder and log); a URL as is."""
        if not binding.is_python:
            return binding.handler
        where, function = binding.target()
        self.logged.add(binding.trigger)
        return HandlerPath(where, function, environment=tuple(sorted(self._environment(binding, coords).items())),
                           cwd=str(self.spec_dir), log=str(self.run_dir / f"{binding.trigger}.log"))

    def bind(self, backend: Any, coords: PoolCoordinates) -> None:
        """Point the pool's LambdaConfig at every binding (the engine backend, right after the pool is built)."""
        for binding in self.bindings:
            set_trigger(backend, coords.pool_id, binding.trigger, self._handler(binding, coords),
                        version=binding.version or None, base=self.spec_dir)

    def logs(self) -> dict[str, str]:
        """The functions' own output (what a Lambda writes to CloudWatch), for the run's evidence."""
        out = {}
        for trigger in sorted(self.logged):
            path = self.run_dir / f"{trigger}.log"
            if path.exists():
                out[trigger] = path.read_text(encoding="utf-8", errors="replace")[-4000:]
        return out

    def stop(self) -> None:
        """Drop the run directory (the functions' worker processes end with the emulator)."""
        if self._run_dir is not None:
            shutil.rmtree(self._run_dir, ignore_errors=True)


__all__ = ["BoundTriggers", "RUN_DIR_VARIABLE"]
