"""Python handlers: ``python:package.module:function`` and plain callables, run the way Lambda runs them.

In-process (pytest, :class:`harness.server.Emulator`): the handler runs in a
thread of the emulator's process so a timeout is real (the caller stops waiting
after the timeout; a handler that never returns leaves its thread behind, as an
in-process call cannot be killed). ``cognito-harness serve`` isolates them
instead (:mod:`harness.engine.functions.python_workers`): a handler that
crashes, leaks or blocks cannot take the server with it.

Failures map to Lambda's own: an import error is ``Runtime.ImportModuleError``,
a missing function ``Runtime.HandlerNotFound``, an answer that is not JSON
``Runtime.MarshalError``, an exception its type and message; all of them reach
Cognito as a function error.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import json
import queue
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, ClassVar

from harness.engine.functions.context import LambdaContext
from harness.engine.functions.outcomes import FunctionFailed, FunctionTimedOut, Invocation
from harness.errors import CognitoError

PYTHON_PREFIX = "python:"


@dataclass(frozen=True)
class HandlerPath:
    """``package.module:function`` (Lambda's ``module.function`` with the module path unambiguous), or
    ``path/to/file.py:function``.

    A handler with its own ``environment`` (a Lambda's environment variables), working directory or
    log file always runs in a worker process of its own (in-process code shares the emulator's
    environment); the target spec's ``[triggers]`` tables make such bindings.
    """

    module: str
    function: str
    environment: tuple[tuple[str, str], ...] = ()
    cwd: str = ""
    log: str = ""  # where the function's prints go (default: the emulator's stderr)
    kind: ClassVar[str] = "python"

    @classmethod
    def parse(cls, text: str) -> HandlerPath:
        spec = text.removeprefix(PYTHON_PREFIX)
        module, sep, function = spec.rpartition(":")
        is_file = module.endswith(".py")
        if not sep or not module or not function.isidentifier() or not (is_file or all(
                part.isidentifier() for part in module.split("."))):
            raise ValueError(f"a Python handler is 'python:package.module:function' or 'python:file.py:function', "
                             f"got {text!r}")
        return cls(module, function)

    @property
    def isolated(self) -> bool:
        """Whether it must run in a worker process (an environment, directory or log of its own)."""
        return bool(self.environment or self.cwd or self.log)

    def __str__(self) -> str:
        return f"{PYTHON_PREFIX}{self.module}:{self.function}"


def _import(module: str) -> Any:
    """A module by name, or a ``.py`` file imported under its stem (its folder on ``sys.path``, so its
    sibling modules import as they do in the app)."""
    if not module.endswith(".py"):
        return importlib.import_module(module)
    path = Path(module).resolve()
    loaded_before = sys.modules.get(path.stem)
    if loaded_before is not None and getattr(loaded_before, "__file__", None) == str(path):
        return loaded_before  # imported once, like a warm container: module state survives between calls
    if str(path.parent) not in sys.path:
        sys.path.insert(0, str(path.parent))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {module}")
    loaded = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = loaded
    spec.loader.exec_module(loaded)
    return loaded


def load_handler(path: HandlerPath) -> Callable[..., Any]:
    """Import the handler as the Lambda runtime does, with the runtime's error types."""
    try:
        module = _import(path.module)
    except Exception as exc:  # noqa: BLE001 - any import failure is the function's
        raise FunctionFailed(f"Unable to import module '{path.module}': {exc}", "Runtime.ImportModuleError") \
            from None
    handler = getattr(module, path.function, None)
    if not callable(handler):
        raise FunctionFailed(f"Handler '{path.function}' missing on module '{path.module}'",
                             "Runtime.HandlerNotFound")
    return handler


def takes_context(fn: Callable[..., Any]) -> bool:
    """Whether ``fn`` accepts ``(event, context)``; harness callables may take only the event."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return True
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 2 or any(p.kind == p.VAR_POSITIONAL for p in params)


def as_json(value: Any) -> Any:
    """The answer as Lambda would serialize it (a copy; a value JSON cannot hold is a MarshalError)."""
    try:
        return json.loads(json.dumps(value))
    except (TypeError, ValueError) as exc:
        raise FunctionFailed(f"Unable to marshal response: {exc}", "Runtime.MarshalError") from None


def call_handler(fn: Callable[..., Any], event: dict[str, Any], context: LambdaContext) -> Any:
    """Run a handler; its exception is the function's error. ``None`` answers the (possibly mutated) event,
    the convention of the harness's callables (a real Lambda handler returns the event)."""
    try:
        result = fn(event, context) if takes_context(fn) else fn(event)
    except (FunctionFailed, CognitoError):  # a harness callable may answer with Cognito's own error
        raise
    except Exception as exc:  # noqa: BLE001 - the handler's own error, as Lambda reports it
        raise FunctionFailed(str(exc) or type(exc).__name__, type(exc).__name__) from None
    return as_json(event if result is None else result)


def run_with_timeout(work: Callable[[], Any], timeout: float, name: str) -> Any:
    """Run ``work`` in a daemon thread; raise :class:`FunctionTimedOut` when it takes longer than ``timeout``."""
    box: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=1)

    def target() -> None:
        try:
            box.put((True, work()))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            box.put((False, exc))

    threading.Thread(target=target, name=f"trigger-{name}", daemon=True).start()
    try:
        ok, value = box.get(timeout=timeout)
    except queue.Empty:
        raise FunctionTimedOut() from None
    if not ok:
        raise value
    return value


def run_in_process(fn: Callable[..., Any] | HandlerPath, call: Invocation) -> Any:
    """A callable or a handler path, in this process, within the invocation's timeout."""
    context = LambdaContext.of(call)

    def work() -> Any:
        handler = load_handler(fn) if isinstance(fn, HandlerPath) else fn
        return call_handler(handler, call.event, context)

    return run_with_timeout(work, call.timeout, call.function_name)


__all__ = ["HandlerPath", "PYTHON_PREFIX", "as_json", "call_handler", "load_handler", "run_in_process",
           "run_with_timeout", "takes_context"]
