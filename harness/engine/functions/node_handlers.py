"""Node.js handlers: ``node:path/to/index.handler``, run by a small bundled bootstrap with ``node``.

``path/to/index.handler`` is Lambda's handler string: the file ``path/to/index``
(``.js``, ``.mjs`` or ``.cjs``) and its export ``handler``; a relative path is
resolved when it is bound (against the pool definition's folder, or the
working directory). Each invocation runs ``node bootstrap.js`` once: the event
and context on stdin, the answer as one JSON line on stdout, the handler's
console output on stderr. A run past the timeout is killed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from harness.engine.functions.context import LambdaContext
from harness.engine.functions.outcomes import BadAnswer, FunctionFailed, FunctionTimedOut, FunctionUnreachable, Invocation

NODE_PREFIX = "node:"
BOOTSTRAP = Path(__file__).resolve().parent.parent / "node" / "bootstrap.js"
EXTENSIONS = (".js", ".mjs", ".cjs")


@dataclass(frozen=True)
class NodeHandler:
    """A handler file and the name it exports."""

    file: Path
    export: str
    kind: ClassVar[str] = "node"

    @classmethod
    def parse(cls, text: str, base: Path | None = None) -> NodeHandler:
        spec = text.removeprefix(NODE_PREFIX)
        stem, dot, export = spec.rpartition(".")
        if not dot or not stem or not export.isidentifier():
            raise ValueError(f"a Node handler is 'node:path/to/index.handler', got {text!r}")
        base_path = Path(stem) if Path(stem).is_absolute() else (base or Path.cwd()) / stem
        for candidate in (base_path, *(base_path.with_name(base_path.name + ext) for ext in EXTENSIONS)):
            if candidate.is_file():
                return cls(candidate.resolve(), export)
        raise ValueError(f"Node handler {text!r}: no file {base_path}{{{','.join(EXTENSIONS)}}}")

    def __str__(self) -> str:
        return f"{NODE_PREFIX}{self.file.with_suffix('')}.{self.export}"


def node_executable() -> str | None:
    return shutil.which("node")


def run_node(handler: NodeHandler, call: Invocation) -> Any:
    """One run of the handler in a fresh ``node`` process."""
    node = node_executable()
    if node is None:
        raise FunctionUnreachable("node is not installed (a node: handler needs Node.js on PATH)")
    request = {"file": str(handler.file), "export": handler.export, "event": call.event,
               "context": LambdaContext.of(call).to_wire()}
    proc = subprocess.Popen([node, str(BOOTSTRAP)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True, encoding="utf-8", cwd=str(handler.file.parent))
    try:
        stdout, _ = proc.communicate(json.dumps(request), timeout=call.timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise FunctionTimedOut() from None
    lines = [line for line in stdout.splitlines() if line.strip()]
    if not lines:
        raise FunctionFailed(f"Runtime exited with error: exit status {proc.returncode}", "Runtime.ExitError")
    try:
        answer = json.loads(lines[-1])
    except ValueError:
        raise BadAnswer() from None
    if "error" in answer:
        error = answer["error"]
        raise FunctionFailed(str(error.get("errorMessage")), str(error.get("errorType")))
    return answer.get("result")


__all__ = ["BOOTSTRAP", "NODE_PREFIX", "NodeHandler", "node_executable", "run_node"]
