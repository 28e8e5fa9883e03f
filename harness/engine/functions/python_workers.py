"""Python handlers in worker processes (``cognito-harness serve``): a handler cannot crash or block the server.

Each handler path (with its environment) has its own idle workers (like a Lambda function's warm
containers: module state survives between invocations of the same function,
never across functions). A call takes an idle worker or starts one; a worker
that times out is killed (as Lambda stops a timed-out function) and one that
exits is a ``Runtime.ExitError`` function error. Workers inherit the server's
``sys.path`` and environment, so ``python:app.triggers:pre_sign_up`` imports
what it would import in-process; they end with the server (their stdin closes).
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from typing import IO, Any

from harness.engine.functions.context import LambdaContext
from harness.engine.functions.outcomes import BadAnswer, FunctionFailed, FunctionTimedOut, Invocation
from harness.engine.functions.python_handlers import HandlerPath

WORKER_MODULE = "harness.engine.functions.python_worker"
MAX_IDLE = 4  # warm workers kept per handler
START_GRACE = 10.0  # seconds a new worker may take to start Python (Lambda's init phase has 10 s too)


class Worker:
    """One worker process and the thread that reads its answers."""

    def __init__(self, path: HandlerPath) -> None:
        env = dict(os.environ)
        extra = dict(path.environment)
        search = [p or os.getcwd() for p in sys.path]
        env.update(extra)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (extra.get("PYTHONPATH", ""), *search) if p)
        log = open(path.log, "ab") if path.log else None  # noqa: SIM115 - the child's stderr, closed below
        try:
            self.proc = subprocess.Popen([sys.executable, "-m", WORKER_MODULE], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=log, env=env, cwd=path.cwd or None,
                                         text=True, encoding="utf-8")
        finally:
            if log is not None:
                log.close()
        self.answers: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, args=(self.proc.stdout,), daemon=True, name="python-worker").start()
        try:
            ready = self.answers.get(timeout=START_GRACE)
        except queue.Empty:
            ready = None
        if ready is None:
            self.kill()
            raise FunctionFailed("Runtime exited with error: the Python worker did not start", "Runtime.ExitError")

    def _read(self, stream: IO[str] | None) -> None:
        assert stream is not None
        for line in stream:
            self.answers.put(line)
        self.answers.put(None)

    def call(self, path: HandlerPath, call: Invocation) -> Any:
        assert self.proc.stdin is not None
        request = {"module": path.module, "function": path.function, "event": call.event,
                   "context": LambdaContext.of(call).to_wire()}
        try:
            self.proc.stdin.write(json.dumps(request) + "\n")
            self.proc.stdin.flush()
        except OSError:
            self.kill()
            raise FunctionFailed(f"Runtime exited with error: exit status {self.proc.poll()}",
                                 "Runtime.ExitError") from None
        try:
            line = self.answers.get(timeout=call.timeout)
        except queue.Empty:
            self.kill()
            raise FunctionTimedOut() from None
        if line is None:
            self.kill()
            raise FunctionFailed(f"Runtime exited with error: exit status {self.proc.wait()}", "Runtime.ExitError")
        try:
            answer = json.loads(line)
        except ValueError:
            self.kill()
            raise BadAnswer() from None
        if "error" in answer:
            error = answer["error"]
            raise FunctionFailed(str(error.get("errorMessage")), str(error.get("errorType")))
        return answer["result"]

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        if self.alive():
            self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    pass


class PythonWorkers:
    """The idle workers of every handler path."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: dict[HandlerPath, list[Worker]] = {}

    def run(self, path: HandlerPath, call: Invocation) -> Any:
        with self._lock:
            idle = self._idle.get(path, [])
            worker = idle.pop() if idle else None
        worker = worker if worker is not None and worker.alive() else Worker(path)
        try:
            return worker.call(path, call)
        finally:
            self._give_back(path, worker)  # a worker that was killed (timeout, bad answer) is not kept

    def _give_back(self, path: HandlerPath, worker: Worker) -> None:
        with self._lock:
            idle = self._idle.setdefault(path, [])
            if worker.alive() and len(idle) < MAX_IDLE:
                idle.append(worker)
                return
        worker.kill()

    def close(self) -> None:
        with self._lock:
            workers = [w for idle in self._idle.values() for w in idle]
            self._idle.clear()
        for worker in workers:
            worker.kill()


__all__ = ["PythonWorkers", "Worker"]
