"""The worker process that runs Python handlers for ``cognito-harness serve``.

Started as ``python -m harness.engine.functions.python_worker``; reads one JSON
request a line on stdin (``{"module", "function", "event", "context"}``) and
writes one JSON answer a line (``{"result": ...}`` or ``{"error": {"errorMessage",
"errorType"}}``) on the stdout it was started with. Whatever the handler
prints goes to stderr (the server's log), as a Lambda's prints go to its log,
so it cannot garble the answers. Imports stay light: no emulator is loaded here.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any, TextIO

from harness.engine.functions.context import LambdaContext
from harness.engine.functions.outcomes import FunctionFailed
from harness.engine.functions.python_handlers import HandlerPath, call_handler, load_handler


def answer(request: dict[str, Any]) -> dict[str, Any]:
    try:
        handler = load_handler(HandlerPath(request["module"], request["function"]))
        return {"result": call_handler(handler, request["event"], LambdaContext.from_wire(request["context"]))}
    except FunctionFailed as exc:
        return {"error": {"errorMessage": exc.message, "errorType": exc.error_type}}


def serve(requests: TextIO, answers: TextIO) -> None:
    answers.write(json.dumps({"ready": True}) + "\n")
    answers.flush()
    for line in requests:
        if line.strip():
            answers.write(json.dumps(answer(json.loads(line))) + "\n")
            answers.flush()


def main() -> None:
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # prints (even from C code) go to the log
    serve(sys.stdin, answers)


if __name__ == "__main__":
    main()
