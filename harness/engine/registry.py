"""Name -> handler table for the cognito-idp operations the engine emulates.

Operation modules (``harness/engine/ops/``, every one imported by that
package's ``__init__``) register with ``@operation("SignUp")``; a handler takes the
backend and the request members (API names, already shape-validated by the
caller) and returns the response members. Knowing nothing of HTTP, the same
handlers serve the HTTP face and Python callers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:  # pragma: no cover
    from harness.engine.store import Backend

Handler = Callable[["Backend", dict[str, Any]], dict[str, Any]]

OPERATIONS: dict[str, Handler] = {}


def operation(name: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        if name in OPERATIONS:
            raise RuntimeError(f"operation {name} registered twice")
        OPERATIONS[name] = fn
        return fn

    return register
